#!/usr/bin/env bash
# Makes sure a project-local Python venv with pinned tools exists, and prints its path.
#   tests/tools.sh moto    -> target/tools/moto   (tests/requirements.txt)
#   tests/tools.sh infra   -> target/tools/infra  (infra/requirements.txt)
#   tests/tools.sh fuzz    -> target/tools/fuzz   (tests/fuzzing/requirements.txt)
#   tests/tools.sh browser -> target/tools/browser (tests/browser/requirements.txt)
#   tests/tools.sh cdk     -> infra/cdk           (npm ci of infra/cdk/package-lock.json into its node_modules)
# A venv is rebuilt only when its requirements file changes; node_modules only when the lockfile does.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ "${1:-}" = cdk ]; then
  app="$root/infra/cdk"
  stamp="$app/node_modules/.package-lock.sha256"
  want="$(sha256sum "$app/package-lock.json" | cut -d' ' -f1)"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "Installing the pinned CDK app dependencies into infra/cdk/node_modules (once) ..." >&2
    # Exactly the lockfile's versions; none of them needs an install script.
    (cd "$app" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error >&2)
    echo "$want" > "$stamp"
  fi
  echo "$app"
  exit 0
fi
case "${1:-}" in
  moto) requirements="$root/tests/requirements.txt" ;;
  infra) requirements="$root/infra/requirements.txt" ;;
  fuzz) requirements="$root/tests/fuzzing/requirements.txt" ;;
  browser) requirements="$root/tests/browser/requirements.txt" ;;
  *) echo "usage: tests/tools.sh moto|infra|fuzz|browser|cdk" >&2; exit 2 ;;
esac
venv="$root/target/tools/$1"
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$requirements" | cut -d' ' -f1)"
if [ ! -x "$venv/bin/python" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  echo "Installing pinned $1 tools into ${venv#"$root"/} (once) ..." >&2
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements" >&2
  echo "$want" > "$stamp"
fi
echo "$venv"
