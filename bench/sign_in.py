"""Sign-in against a real gunicorn with production password hashing (scrypt): timing and throttle.

Usage: .venv/bin/python -m bench.sign_in [--n 15] [--parallel 20]

Each phase serves the demo station from its own SQLite database and instance directory.
- timing: the median time of a wrong password for a real user name and for an unknown one (an
  attacker must not learn which user names exist); the throttle is raised out of the way.
- parallel: `--parallel` wrong guesses at one account at the same moment, from as many sessions;
  with the default limit of 5, exactly 5 may be checked against the password (422), the rest wait (429).
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, **env: str):
        self.dir = Path(tempfile.mkdtemp(prefix="beatbook-bench-signin-"))
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "DATABASE_URL": f"sqlite:///{self.dir / 'b.db'}",
                    "BEATBOOK_INSTANCE_PATH": str(self.dir), "SECRET_KEY": "bench", "REDIS_URL": "", **env}

    def __enter__(self) -> Server:
        for args in (("db", "upgrade"), ("demo", "load")):
            subprocess.run([BIN / "flask", "--app", "wsgi", *args], cwd=ROOT, env=self.env, check=True,
                           capture_output=True)
        self.process = subprocess.Popen(
            [BIN / "gunicorn", "--bind", f"127.0.0.1:{self.port}", "--workers", "2", "--threads", "8",
             "wsgi:app"], cwd=ROOT, env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            try:
                requests.get(self.url + "/login", timeout=5)
                return self
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        self.process.wait(10)

    def ready_session(self) -> tuple[requests.Session, str]:
        session = requests.Session()
        return session, TOKEN.search(session.get(self.url + "/login").text).group(1)

    def guess(self, session: requests.Session, token: str, username: str) -> tuple[int, float]:
        started = time.perf_counter()
        response = session.post(self.url + "/login", allow_redirects=False, data={
            "username": username, "password": "not the password", "csrf_token": token})
        return response.status_code, time.perf_counter() - started


def timing(n: int) -> None:
    with Server(BEATBOOK_LOGIN_MAX_FAILURES_PER_ACCOUNT="100000",
                BEATBOOK_LOGIN_MAX_FAILURES_PER_ADDRESS="100000") as server:
        session, token = server.ready_session()
        server.guess(session, token, "officer")  # warm up the worker
        results = {}
        for label, username in (("real user", "officer"), ("unknown user", "nobody-here")):
            times = [server.guess(session, token, username)[1] for _ in range(n)]
            results[label] = statistics.median(times) * 1000
        for label, ms in results.items():
            print(f"  wrong password, {label:<12}: median {ms:6.1f} ms over {n}")
        print(f"  unknown / real: {results['unknown user'] / results['real user']:.2f}")


def parallel(count: int) -> None:
    with Server() as server:
        ready = [server.ready_session() for _ in range(count)]
        start, statuses = threading.Barrier(count), []

        def go(session, token):
            start.wait()
            statuses.append(server.guess(session, token, "officer")[0])

        threads = [threading.Thread(target=go, args=pair) for pair in ready]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        tally = Counter(statuses)
        print(f"  {count} parallel wrong guesses at one account: {tally[422]} checked (422), "
              f"{tally[429]} refused (429), other {sum(v for k, v in tally.items() if k not in (422, 429))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=15)
    parser.add_argument("--parallel", type=int, default=20)
    args = parser.parse_args()
    print("Sign-in timing (scrypt, gunicorn, SQLite):")
    timing(args.n)
    print("Parallel guesses (default limits):")
    parallel(args.parallel)


if __name__ == "__main__":
    main()
