#!/usr/bin/env bash
# `make test`'s pytest, on both cores when PostgreSQL is in the run.
#
# Every engine-dependent test runs once per engine (tests/conftest.py). With TEST_DATABASE_URL set,
# the PostgreSQL runs (test ids with "postgresql") go to a second pytest process beside the rest
# (SQLite, browser, several nodes): the suite is CPU-bound on one core, and each process already has
# its own instance directory, SQLite files, PostgreSQL schema and claimed Redis database. The two
# selections are complements, so every test runs exactly once; the run fails if either half fails.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTEST=.venv/bin/pytest

if [[ -z "${TEST_DATABASE_URL:-}" ]]; then
  exec "$PYTEST" "$@"
fi

postgres_log=$(mktemp)
"$PYTEST" -p no:cacheprovider -k "postgresql" "$@" > "$postgres_log" 2>&1 &
postgres_pid=$!
"$PYTEST" -k "not postgresql" "$@"
rest=$?
wait "$postgres_pid"
postgres=$?
echo
echo "=== the PostgreSQL half (run beside the above) ==="
cat "$postgres_log"
rm -f "$postgres_log"
exit $(( rest != 0 || postgres != 0 ))
