#!/usr/bin/env bash
# Run the whole test suite: services up (PostgreSQL, Redis), then pytest on two cores.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/services.sh
exec .venv/bin/pytest -q -n 2 --dist loadfile -p no:cacheprovider "$@"
