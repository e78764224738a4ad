"""Sums up where moto's time went during a benchmark, per phase and per DynamoDB operation.

    ORGS_MOTO_TIMING=/tmp/moto.log cargo bench-busy --no-write
    python3 tests/bench/moto_timing.py /tmp/moto.log

The log is written by tests/moto_server.py (one line per request: start, operation, ms); the
benchmark appends a `# phase` line as each phase begins. For each phase it prints the
operations by total server-side time, and how busy moto was: the sum of those times over the
phase's wall time (near 100 % means requests queue on the single-threaded server), and the
CPU time moto's process spent, which a loaded machine disturbs less; the share is of CPU time.
To measure moto as it ships beside the benchmark's `--fast-items`, set ORGS_MOTO_STOCK_ITEMS=1.
"""

import sys
from collections import defaultdict


def main(path: str) -> None:
    phases: list[tuple[str, list[tuple[float, str, float, float]]]] = [
        ("before the first mark", [])
    ]
    with open(path) as log:
        for line in log:
            if line.startswith("#"):
                phases.append((line[1:].strip(), []))
                continue
            start, operation, ms, cpu = line.rstrip("\n").split("\t")
            phases[-1][1].append((float(start), operation, float(ms), float(cpu)))
    for name, requests in phases:
        if not requests:
            continue
        by_op: dict[str, list[tuple[float, float]]] = defaultdict(list)
        for _, operation, ms, cpu in requests:
            by_op[operation].append((ms, cpu))
        busy = sum(ms for _, _, ms, _ in requests)
        cpu_total = sum(cpu for _, _, _, cpu in requests)
        first = min(s for s, _, _, _ in requests)
        wall = (max(s + ms / 1000 for s, _, ms, _ in requests) - first) * 1000
        print(f"## {name}: {len(requests)} requests, {busy / 1000:.1f} s in moto "
              f"({cpu_total / 1000:.1f} s CPU) over {wall / 1000:.1f} s "
              f"({100 * busy / wall:.0f} % busy)")
        print(f"{'operation':<26} {'count':>6} {'mean ms':>8} {'max ms':>8} {'total s':>8} "
              f"{'CPU mean':>8} {'CPU s':>7} {'share':>6}")
        for operation, times in sorted(by_op.items(), key=lambda kv: -sum(t[1] for t in kv[1])):
            total = sum(t[0] for t in times)
            cpu = sum(t[1] for t in times)
            print(f"{operation:<26} {len(times):>6} {total / len(times):>8.1f} "
                  f"{max(t[0] for t in times):>8.1f} {total / 1000:>8.2f} "
                  f"{cpu / len(times):>8.1f} {cpu / 1000:>7.2f} {100 * cpu / cpu_total:>5.0f}%")
        print()


if __name__ == "__main__":
    main(sys.argv[1])
