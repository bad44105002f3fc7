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
courrier campaign create examples/campaigns/vaccination-75plus.toml
courrier campaign plan vaccination-75plus

step "Personal codes for wave 1 (running it again skips what is done)"
courrier codes issue vaccination-75plus --wave 1
courrier codes issue vaccination-75plus --wave 1
courrier campaign list

step "Compose wave 1 into presorted print jobs on a local Dask cluster (one worker per core)"
courrier compose vaccination-75plus --wave 1 --job-size 150 --out demo/print-jobs
courrier jobs list vaccination-75plus
first_job=$(courrier jobs list vaccination-75plus --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["name"])')

step "Print, then the inserter: simulated results with a few damaged, diverted and missing envelopes"
for job in $(courrier jobs list vaccination-75plus --json | python3 -c 'import json,sys; print(" ".join(j["name"] for j in json.load(sys.stdin)))'); do
    courrier jobs mark "$job" printed
    courrier inserter simulate "$job" --damage 0.015 --divert 0.01 --miss 0.01 --seed 7
    courrier inserter results "demo/print-jobs/vaccination-75plus/$job.results.csv"
done

step "Reconciliation: what every job expected against what the inserter reported"
courrier reconcile vaccination-75plus

step "Reprint exactly the pieces that did not reach their envelope, with the same codes"
courrier reprint vaccination-75plus --out demo/print-jobs ||
    echo "(more than 2% lost usually means a results file is missing; here we know it is not: confirming)"
courrier reprint vaccination-75plus --out demo/print-jobs --yes

step "Posting statement for the post office, and the operator's morning view"
courrier posting vaccination-75plus --wave 1
courrier status vaccination-75plus

step "Preflight of the print files, as the print room's intake runs it (PDF/X-4, PDF/VT-1)"
python bench/preflight.py demo/print-jobs

step "Booking: the example centres, a month of slots, and one appointment booked through the HTTP API"
courrier centres import examples/centres/centres.toml
courrier slots open vaccination-75plus --from "$(date -d tomorrow +%F)" --to "$(date -d '+45 days' +%F)"
courrier slots list vaccination-75plus > demo/slots.txt && head -n 5 demo/slots.txt
step "Hotel vouchers: the campaign's first wave of codes, the establishments (two bad rows rejected), their front desks"
courrier campaign create examples/campaigns/hotel-voucher.toml
courrier campaign plan hotel-voucher
courrier codes issue hotel-voucher --wave 1
courrier establishments import examples/vouchers/establishments.csv --rejects demo/establishments.rejects.csv
cat demo/establishments.rejects.csv
printf 'demo-establishment-password\n' | courrier users add parc-desk --role establishment --establishment H-0001 --password-stdin
printf 'demo-establishment-password\n' | courrier users add sure-desk --role establishment --establishment C-0002 --password-stdin
courrier serve --port 8765 --workers 1 --insecure-cookies 2>demo/serve.log &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
python scripts/demo_booking.py http://127.0.0.1:8765 | tee demo/booking.txt
step "Vouchers redeemed through the API: three at the hotel, one of them again at the campsite"
python scripts/demo_vouchers.py http://127.0.0.1:8765 | tee demo/vouchers.txt
kill $server 2>/dev/null || true
wait $server 2>/dev/null || true
trap - EXIT
demo_code=$(sed -n 's/^DEMO_CODE=//p' demo/booking.txt)

step "Reimbursement: today's statements of the vouchers redeemed (issued early, as at the campaign's end) and the SEPA file"
today=$(TZ=Europe/Luxembourg date +%F)
courrier vouchers statements --period "$today..$today" --early --payer examples/vouchers/payer-account.toml --out demo/statements
courrier vouchers statements --period "$today..$today" --early --payer examples/vouchers/payer-account.toml --out demo/statements
ls "demo/statements/$today..$today/"

step "Done"
echo "Print files: demo/print-jobs/vaccination-75plus/ (JOB.pdf, JOB.manifest.csv, JOB.ticket.json, JOB.inserter.csv)"
if command -v gs >/dev/null; then
    mkdir -p demo/preview
    gs -q -dNOPAUSE -dBATCH -dSAFER -sDEVICE=png16m -r100 -dFirstPage=1 -dLastPage=1 \
        -sOutputFile=demo/preview/J000001-page-1.png "demo/print-jobs/vaccination-75plus/$first_job.pdf"
    echo "Preview of the first letter: demo/preview/J000001-page-1.png"
else
    echo "(install ghostscript for a PNG preview of the first letter)"
fi
echo "Reimbursement statements and the SEPA file: demo/statements/$today..$today/"
echo "Web: run \`make serve\` and open http://127.0.0.1:8000/ (the booking pages; the API is described at"
echo "/api/openapi.json); a printed code to type: $demo_code (the first letter of the first print job; its QR"
echo "opens http://127.0.0.1:8000/c/$demo_code, dose 1 is booked, dose 2 is offered)"
