#!/usr/bin/env bash
# The project's test command (`make test`, and `.ci/run`): system packages, a throw-away PostgreSQL on
# 127.0.0.1, then pytest. pytest's exit 5 ("no tests collected") is a failure here: a run that tests
# nothing must not look green.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh || exit 1
# shellcheck source=scripts/pg.sh
source scripts/pg.sh
pg_start || echo "test.sh: PostgreSQL did not start; its tests will be skipped" >&2
trap pg_stop EXIT
.venv/bin/ruff check pipeline flows tests bench testkit samples || exit 1
.venv/bin/ruff format --check pipeline flows tests bench testkit samples || exit 1
.venv/bin/python -m pytest -q -p no:cacheprovider "$@"
rc=$?
if [ $rc -eq 5 ]; then
  echo "test.sh: pytest collected no tests" >&2
  exit 1
fi
exit $rc
