#!/usr/bin/env bash
# Run the whole test suite: services up (PostgreSQL, Redis), then pytest on two cores.
# The browser tests run in their own pytest session: Playwright's sync API keeps an asyncio
# loop running in its worker, where pyHanko (which calls asyncio.run) cannot then run.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/services.sh
status=0
.venv/bin/pytest -q -n 2 --dist loadfile -p no:cacheprovider --ignore=tests/e2e "$@" || status=$?
.venv/bin/pytest -q -n 2 --dist loadfile -p no:cacheprovider tests/e2e "$@" || status=$?
exit $status
