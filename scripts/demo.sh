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


step "Keys for personal codes (HMAC, encryption, token signing), kept out of the database"
courrier keys create

step "A campaign: vaccination invitations to residents aged 75+, oldest first, in waves"
campaign_file=examples/campaigns/vaccination-75plus.toml
if [ ! -d examples/templates/vaccination ]; then
    echo "(examples/templates/vaccination does not exist yet: using a stand-in template folder)"
    mkdir -p demo/campaigns demo/templates/vaccination
    cp "$campaign_file" demo/campaigns/
    echo 'stand_in = true' > demo/templates/vaccination/template.toml
    campaign_file=demo/campaigns/vaccination-75plus.toml
fi
courrier campaign create "$campaign_file"
courrier campaign plan vaccination-75plus

step "Personal codes for wave 1 (running it again skips what is done)"
courrier codes issue vaccination-75plus --wave 1
courrier codes issue vaccination-75plus --wave 1
courrier campaign list
