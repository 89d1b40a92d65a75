"""`make run`: the web server and the job worker together; Ctrl-C stops both."""

from __future__ import annotations

import argparse
import contextlib
import signal
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", default="5000")
    args = parser.parse_args()
    processes = [
        # Threads, not processes: the worker mostly waits on push services.
        # --max-delay: an idle worker on the SQLite queue polls at most every 0.5 s (default 10 s).
        subprocess.Popen([str(BIN / "huey_consumer"), "webapp.worker.huey", "--workers", "4", "--worker-type",
                          "thread", "--max-delay", "0.5", "--quiet"]),
        subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"{args.host}:{args.port}", "--workers", "2",
                          "--threads", "4", "--access-logfile", "-", "wsgi:app"]),
    ]

    def stop(*_):
        for process in processes:
            if process.poll() is None:
                process.terminate()

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        while all(process.poll() is None for process in processes):
            with contextlib.suppress(subprocess.TimeoutExpired):
                processes[1].wait(timeout=1)
    finally:
        stop()
        for process in processes:
            process.wait(timeout=15)
    return max(process.returncode or 0 for process in processes)


if __name__ == "__main__":
    sys.exit(main())
