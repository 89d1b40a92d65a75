"""`make bench`: every server-side figure with its reference from the same run, as one Markdown table.

    .venv/bin/python -m bench.run_all [--quick] [--output bench/results.md]

Runs each module's `figures(quick)` in order, prints the table and writes it to `--output` with the
commit, the time and the machine's load. A module that fails is reported with its error and the
others still run; the exit status is then 1. `--quick` is a smoke test (4 min at load 9): fewer requests,
a 2k-lead PostgreSQL city instead of 500k, 8 wrk clients instead of 64.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import bench.cpu_per_request
import bench.dashboard
import bench.latency
import bench.page_weight
import bench.sync_ingest
from bench.figures import Figure, table
from bench.serving import REPO_ROOT

MODULES: list[tuple[str, Callable[[bool], list[Figure]]]] = [
    ("bench.cpu_per_request", bench.cpu_per_request.figures),
    ("bench.latency", bench.latency.figures),
    ("bench.sync_ingest", bench.sync_ingest.figures),
    ("bench.dashboard", bench.dashboard.figures),
    ("bench.page_weight", lambda quick: bench.page_weight.figures(quick)),  # its author adds figures()
]


def _commit() -> str:
    result = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO_ROOT, capture_output=True,
                            text=True)
    return result.stdout.strip() or "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke test: small counts, 2k-lead city")
    parser.add_argument("--output", type=Path, default=REPO_ROOT / "bench" / "results.md")
    args = parser.parse_args(argv)
    # A stopped run still stops its gunicorns (they run in sessions of their own): SIGTERM unwinds
    # the `with` blocks that started them.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))

    started, load_before = time.monotonic(), os.getloadavg()
    figures: list[Figure] = []
    failures: list[str] = []
    for name, measure in MODULES:
        module_started = time.monotonic()
        print(f"{name} …", flush=True)
        try:
            figures += measure(args.quick)
        except Exception as error:  # one broken module must not hide the others' figures
            traceback.print_exc()
            first_line = next(iter(str(error).splitlines()), "")
            failures.append(f"{name}: {type(error).__name__}: {first_line}")
        print(f"{name}: {time.monotonic() - module_started:.0f} s", flush=True)
    minutes = (time.monotonic() - started) / 60
    load_after = os.getloadavg()
    heading = (f"# make bench{' --quick' if args.quick else ''}: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
               f"commit {_commit()}\n\n"
               f"{os.cpu_count()} cores; load average {load_before[0]:.1f} before, {load_after[0]:.1f} after "
               f"(shared machine: read the ratios, each reference was measured in the same run); "
               f"{minutes:.1f} min in all.\n")
    lines = [heading, table(figures)]
    if failures:
        lines += ["", "Not measured:", *(f"- {failure}" for failure in failures)]
    text = "\n".join(lines) + "\n"
    print("\n" + text)
    args.output.write_text(text)
    print(f"written to {args.output}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
