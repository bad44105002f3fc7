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

step "Generate a synthetic register (20,000 residents, 3,000 cross-border workers, 1% defective rows)"
courrier register generate --people 20000 --cross-border 3000 --seed 1 --bad-rows 0.01 -o demo/register.csv

step "Import it"
courrier register import demo/register.csv
echo "first rejects:"
head -n 6 demo/register.rejects.csv

step "The register at a glance"
courrier register stats

