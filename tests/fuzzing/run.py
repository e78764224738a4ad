"""Runs Schemathesis against the local server, once per kind of caller (see tests/fuzz).

For each role it starts a single-threaded moto and the local server (the orgs-local binary) of
its own on free ports, builds the fixture through the API with dev tokens (stack.py), and runs
`schemathesis run` on the served /openapi.json with that role's bearer token, the settings in
schemathesis.toml and the hooks in hooks.py. Exits non-zero if any run failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from stack import PEOPLE, Api, build_fixture, build_people  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
ROLES = ["owner", "admin", "member", "invitee", "stranger"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited with status {process.returncode}")
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException:
            time.sleep(0.2)
    sys.exit(f"{what} did not answer at {url} within {seconds:.0f} s")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def mint(bin_dir: Path, sub: str, email: str) -> str:
    out = subprocess.run(
        [bin_dir / "orgs-token", "--sub", sub, "--email", email, "--ttl", "86400"],
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin-dir", type=Path, required=True, help="holds orgs-local and orgs-token")
    parser.add_argument("--moto-python", required=True, help="the moto venv's python")
    parser.add_argument("--roles", default=",".join(ROLES), help=f"comma-separated, of {', '.join(ROLES)}")
    parser.add_argument("--max-time", type=int, default=45, help="seconds of Schemathesis per role (45)")
    parser.add_argument("--max-examples", type=int, default=30, help="test cases per operation and round (30)")
    parser.add_argument("--seed", type=int, help="Schemathesis seed (reproduce a run)")
    parser.add_argument("--out", type=Path, default=ROOT / "target" / "fuzz", help="logs and reports")
    parser.add_argument("schemathesis_args", nargs="*", help="passed on to `schemathesis run` (after --)")
    args = parser.parse_args()
    roles = [r for r in args.roles.split(",") if r]
    unknown = set(roles) - set(ROLES)
    if unknown:
        parser.error(f"unknown roles: {', '.join(sorted(unknown))}")

    args.out.mkdir(parents=True, exist_ok=True)
    venv_bin = Path(sys.executable).parent
    tokens = {role: mint(args.bin_dir, sub, email) for role, (sub, email) in PEOPLE.items()}
    results: list[tuple[str, int, float]] = []
    for role in roles:
        started = time.monotonic()
        status = run_role(args, role, tokens, venv_bin)
        results.append((role, status, time.monotonic() - started))

    print(f"\nfuzz summary (tests/fuzz, Schemathesis up to {args.max_time} s a role):")
    for role, status, seconds in results:
        served, rebuilds = run_figures(args.out / role)
        verdict = "passed" if status == 0 else f"FAILED ({status})"
        print(
            f"  {role:<9} {verdict:<11} {seconds:4.0f} s  {served:5d} requests served, "
            f"fixture built {rebuilds + 1} time(s)"
        )
    print(f"  logs, JUnit and NDJSON reports: {args.out}/<role>/")
    return 0 if results and all(status == 0 for _, status, _ in results) else 1


def run_figures(out: Path) -> tuple[int, int]:
    """Requests the server answered (its log has a line for each) and fixture rebuilds."""
    try:
        served = sum(1 for line in (out / "server.log").open() if " -> " in line)
        rebuilds = json.loads((out / "context.json").read_text())["fixture"]["serial"] - 1
    except (OSError, ValueError, KeyError):
        return 0, 0
    return served, rebuilds


def run_role(args, role: str, tokens: dict, venv_bin: Path) -> int:
    """One role's run, on a moto and a server of its own: moto's transactions copy the table they
    write to, once per item, so a table that one run has grown would slow the next."""
    out = args.out / role
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    moto_port = free_port()
    moto = subprocess.Popen(
        [args.moto_python, ROOT / "tests" / "moto_server.py", str(moto_port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        aws_endpoint = f"http://127.0.0.1:{moto_port}"
        wait_for(aws_endpoint, moto, "moto")
        return run_server(args, role, tokens, venv_bin, out, aws_endpoint)
    finally:
        stop(moto)


def run_server(args, role: str, tokens: dict, venv_bin: Path, out: Path, aws_endpoint: str) -> int:
    port = free_port()
    table = f"orgs-fuzz-{role}"
    env = {
        **os.environ,
        "AWS_ENDPOINT_URL": aws_endpoint,
        "PORT": str(port),
        # The accept page's own port, so that runs side by side never collide on its default.
        "PAGE_PORT": str(free_port()),
        "ORGS_TABLE_NAME": table,
        "ORGS_EXPIRY_INTERVAL_SECONDS": "0",
        "ORGS_EVENT_BUS_NAME": f"orgs-fuzz-{role}",
        # The origin of the `redirect_url` example in infra/openapi.yaml, so that invitations
        # with their own page are made too, not only refused.
        "ORGS_INVITE_REDIRECT_ORIGINS": "https://app.example.com",
        # One owner creates an organization for every rebuild of the fixture and invites into
        # each: the per-person and first-day limits would otherwise stop the rebuilds, not the
        # requests under test. The per-organization limits stay as deployed.
        "ORGS_MAX_ORGS_PER_OWNER": "100000",
        "ORGS_MAX_INVITATION_EMAILS_PER_PERSON_PER_DAY": "1000000",
        "ORGS_MAX_INVITATION_EMAILS_NEW_ORG": "1000000",
    }
    log = open(out / "server.log", "w")
    server = subprocess.Popen([args.bin_dir / "orgs-local"], env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/openapi.json", server, "orgs-local")
        api = Api(base, tokens)
        build_people(api)
        fixture = build_fixture(api, 1)
        context_path = out / "context.json"
        context = {
            "base": base,
            "aws_endpoint": aws_endpoint,
            "table": table,
            "role": role,
            "tokens": tokens,
            "fixture": fixture,
        }
        context_path.write_text(json.dumps(context, indent=2))
        command = [
            str(venv_bin / "schemathesis"),
            "--config-file",
            str(HERE / "schemathesis.toml"),
            "run",
            f"{base}/openapi.json",
            "--header",
            f"Authorization: Bearer {tokens[role]}",
            "--max-examples",
            str(args.max_examples),
            "--max-time",
            str(args.max_time),
            "--report",
            "junit,ndjson",
            "--report-dir",
            str(out),
            "--no-color",
            *(["--seed", str(args.seed)] if args.seed is not None else []),
            *args.schemathesis_args,
        ]
        print(f"\n==> fuzz as {role} ({PEOPLE[role][0]}): schemathesis against {base}, table {table}", flush=True)
        fuzz_env = {
            **os.environ,
            "SCHEMATHESIS_HOOKS": str(HERE / "hooks.py"),
            "FUZZ_CONTEXT": str(context_path),
        }
        # In the run's directory, where Hypothesis keeps its own files.
        return subprocess.run(command, env=fuzz_env, cwd=out).returncode
    finally:
        stop(server)
        log.close()


if __name__ == "__main__":
    sys.exit(main())
