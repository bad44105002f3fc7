#!/usr/bin/env bash
# `make demo`: the main job end to end on the embedded defaults, in ./demo (a fresh database each run).
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf demo && mkdir -p demo
export COURRIER_DATABASE_URL="sqlite:///$PWD/demo/courrier.db"
export COURRIER_KEY_FILE="$PWD/demo/courrier.keys"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "Create the database"
courrier db upgrade
