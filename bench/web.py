"""Web load: the opening rush against `courrier serve`, measured with wrk, beside a bare FastAPI endpoint
served the same way in the same run (the baseline).

Scenarios (each with --connections open connections):
  baseline   GET /ping on a bare FastAPI app under uvicorn with the same workers: an ``async def``
             endpoint (the ratio is taken to this one) and a plain ``def`` one (run in the thread pool)
  sessions   code entry alone: POST /api/v1/sessions with a different valid code each request
  rush       the opening rush: each client enters its code (POST /api/v1/sessions), takes the token from
             the answer and books dose 1 with it (POST /api/v1/bookings) in a random slot with places left;
             every code is used by one client only
  checkin    reception desks (--desks connections, 100 by default) checking people in: POST
             /api/v1/checkins {"scan": "RDV1:REF", "nonce"} with a reception session, one booking per
             request (bookings made for a slot open now at LUX-VH; once all are checked in, the next
             scans are refused already_checked_in, which is counted apart)
  redeem     hotel front desks (--desks connections) redeeming vouchers: POST /api/v1/redemptions
             {"scan": TOKEN, "stay_from", "stay_to", "reference", "nonce"} with an establishment session,
             each request the signed QR token of the next voucher of its wrk thread (a voucher campaign's
             codes on the same register; once all are redeemed the next scans are refused
             already_redeemed, counted apart)
Afterwards the database is checked: no slot above capacity, no code with two active bookings of a dose,
and the bookings made in the rush are counted (completed bookings per second); after the check-in
scenario, no booking with two check-ins, and the check-ins made inside the run are counted; after the
redemption scenario, no voucher redeemed twice (two standing redemptions, or a code used twice).

Run: flock /tmp/courrier-bench.lock .venv/bin/python bench/web.py [--quick] [--database-url URL]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
# The example campaign's health questions, answered as someone who may book.
ANSWERS = '{"allergy": "no", "unwell": "no", "anticoagulant": "no"}'
BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
async def ping() -> dict[str, str]:
    return {"status": "ok"}
@app.get("/ping-sync")
def ping_sync() -> dict[str, str]:
    return {"status": "ok"}
"""
# Each wrk thread takes every n-th line of the file (its own codes), so no code is entered by two clients.
LUA_COMMON = """
local lines = {}
local threads = {}
local thread_count = %(threads)d
function setup(thread)
    thread:set("index", #threads)
    threads[#threads + 1] = thread
end
function init(args)
    local file = io.open("%(path)s")
    local n = 0
    for line in file:lines() do
        if n %% thread_count == index then lines[#lines + 1] = line end
        n = n + 1
    end
    file:close()
    next_line = 0
    booked = 0
    refused = 0
    sessions = 0
end
local function take_line()
    next_line = next_line + 1
    return lines[((next_line - 1) %% #lines) + 1]
end
local json_headers = {["Content-Type"] = "application/json"}
local think_ms = %(think_ms)d
if think_ms > 0 then
    -- a person reads and types between two requests: a random pause around think_ms
    delay = function() return math.random(think_ms / 2, think_ms * 3 / 2) end
end
"""
LUA_SESSIONS = (
    LUA_COMMON
    + """
request = function()
    local line = take_line()
    local tab = line:find("\\t")
    return wrk.format("POST", "/api/v1/sessions", json_headers, '{"code": "' .. line:sub(1, tab - 1) .. '"}')
end
"""
)
# wrk has one Lua state per thread, not per connection: a session's answer puts its token and slot on
# the thread's queue, and the next request the thread sends is that client's booking.
LUA_RUSH = (
    LUA_COMMON
    + """
local queue = {}
local head = 1
local pending_slot = {}
request = function()
    if head <= #queue then
        local item = queue[head]
        queue[head] = nil
        head = head + 1
        local h = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. item[1]}
        local body = '{"slot": ' .. item[2] .. ', "dose": 1, "answers": %(answers)s}'
        return wrk.format("POST", "/api/v1/bookings", h, body)
    end
    local line = take_line()
    local tab = line:find("\\t")
    pending_slot[#pending_slot + 1] = line:sub(tab + 1)
    return wrk.format("POST", "/api/v1/sessions", json_headers, '{"code": "' .. line:sub(1, tab - 1) .. '"}')
end
response = function(status, headers, body)
    local token = body:match('"token":%%s*"([^"]+)"')
    if token ~= nil then
        sessions = sessions + 1
        -- the slot of the oldest code still waiting for its answer (answers come back in any order;
        -- any free slot will do for a booking)
        local slot = table.remove(pending_slot, 1) or "1"
        queue[#queue + 1] = {token, slot}
    elseif body:match('"reference"') then
        booked = booked + 1
    elseif status >= 400 then
        refused = refused + 1
    end
end
done = function(summary, latency, requests)
    local b, s, r = 0, 0, 0
    for _, thread in ipairs(threads) do
        b = b + thread:get("booked")
        s = s + thread:get("sessions")
        r = r + thread:get("refused")
    end
    io.write(string.format("rush-counts sessions=%%d booked=%%d refused=%%d\\n", s, b, r))
end
"""
)

# A staff desk's answers: 201 done, 200 refused (already checked in, already redeemed...), counted apart.
LUA_OK_OR_REFUSED = """
response = function(status, headers, body)
    if status == 201 then
        booked = booked + 1
    elseif status == 200 then
        refused = refused + 1
    end
end
done = function(summary, latency, requests)
    local b, r = 0, 0
    for _, thread in ipairs(threads) do
        b = b + thread:get("booked")
        r = r + thread:get("refused")
    end
    io.write(string.format("rush-counts sessions=0 booked=%%d refused=%%d\\n", b, r))
end
"""

# Each request checks in the next booking of the thread's share, with a nonce of its own.
LUA_CHECKIN = (
    LUA_COMMON
    + """
local auth = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local sent = 0
request = function()
    sent = sent + 1
    local reference = take_line()
    local body = '{"scan": "RDV1:' .. reference .. '", "nonce": "' .. index .. '-' .. sent .. '"}'
    return wrk.format("POST", "/api/v1/checkins", auth, body)
end
"""
    + LUA_OK_OR_REFUSED
)

# Each request redeems the next voucher of the thread's share, with a nonce of its own.
LUA_REDEEM = (
    LUA_COMMON
    + """
local auth = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local sent = 0
request = function()
    sent = sent + 1
    local body = '{"scan": "' .. take_line() .. '", "stay_from": "2026-07-01", "stay_to": "2026-07-02",'
        .. ' "reference": "B-' .. index .. '-' .. sent .. '", "nonce": "' .. index .. '-' .. sent .. '"}'
    return wrk.format("POST", "/api/v1/redemptions", auth, body)
end
"""
    + LUA_OK_OR_REFUSED
)


def sh(*argv: str, env: dict[str, str]) -> str:
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def wait_up(url: str) -> None:
    deadline = time.monotonic() + 180  # workers start slowly on a busy machine
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, connections: int, duration: int, script: Path | None) -> dict[str, object]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    percentiles = {}
    for name in ("50", "99"):
        found = re.search(name + r"%\s+([\d.]+)(us|ms|s)", out)
        percentiles[name] = float(found.group(1)) * scale[found.group(2)] if found else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    counts = re.search(r"rush-counts sessions=(\d+) booked=(\d+) refused=(\d+)", out)
    return {
        "rate": rate,
        "p50_ms": percentiles["50"],
        "p99_ms": percentiles["99"],
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": errors.group(1) if errors else "none",
        "counts": tuple(int(n) for n in counts.groups()) if counts else None,
    }


def prepare(folder: Path, people: int, env: dict[str, str]) -> None:
    courrier = str(Path(sys.executable).parent / "courrier")
    sh(courrier, "db", "upgrade", env=env)
    sh(courrier, "keys", "create", env=env)
    sh(
        courrier,
        "register",
        "generate",
        "--people",
        str(people),
        "--cross-border",
        "0",
        "--seed",
        "3",
        "-o",
        str(folder / "register.csv"),
        env=env,
    )
    sh(courrier, "register", "import", str(folder / "register.csv"), env=env)
    campaign = (ROOT / "examples" / "campaigns" / "vaccination-75plus.toml").read_text()
    campaign = campaign.replace(
        '"../templates/vaccination"', json.dumps(str(ROOT / "examples/templates/vaccination"))
    )
    campaign = campaign.replace("min_age = 75", "min_age = 18").replace(
        "daily_capacity = 200", "daily_capacity = 1000000"
    )
    (folder / "campaign.toml").write_text(campaign)
    sh(courrier, "campaign", "create", str(folder / "campaign.toml"), env=env)
    sh(courrier, "campaign", "plan", "vaccination-75plus", env=env)
    sh(courrier, "codes", "issue", "vaccination-75plus", env=env)
    sh(courrier, "centres", "import", str(ROOT / "examples" / "centres" / "centres.toml"), env=env)
    first = dt.date.today() + dt.timedelta(days=1)
    sh(
        courrier,
        "slots",
        "open",
        "vaccination-75plus",
        "--from",
        first.isoformat(),
        "--to",
        (first + dt.timedelta(days=120)).isoformat(),
        env=env,
    )


def reset(env: dict[str, str]) -> None:
    """Undo an earlier run on a kept database: no bookings, every place free, no failure counted."""
    from courrier.db import make_engine
    from courrier.db.schema import (
        bookings,
        checkins,
        code_uses,
        codes,
        redemptions,
        slots,
        throttle_counters,
        vaccinations,
    )

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.begin() as connection:
        # The vouchers redeemed by an earlier run become redeemable again.
        redeemed = select(redemptions.c.code_id)
        connection.execute(code_uses.delete().where(code_uses.c.code_id.in_(redeemed)))
        connection.execute(codes.update().where(codes.c.id.in_(redeemed)).values(uses=0, status="active"))
        connection.execute(redemptions.delete())
        connection.execute(vaccinations.delete())
        connection.execute(checkins.delete())
        connection.execute(bookings.delete())
        connection.execute(slots.update().values(taken=0))
        connection.execute(throttle_counters.delete())
    engine.dispose()


def request_file(folder: Path, env: dict[str, str]) -> tuple[Path, int]:
    """One line per code: the code as printed, a tab, a slot for its booking (each place handed once)."""
    from courrier.codes.format import format_code
    from courrier.codes.keys import load_keys
    from courrier.codes.sealing import reveal_code
    from courrier.db import make_engine
    from courrier.db.schema import codes, slots

    keys = load_keys(env["COURRIER_KEY_FILE"])
    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        rows = connection.execute(select(codes.c.id, codes.c.ciphertext)).all()
        slot_ids = [
            row.id
            for row in connection.execute(select(slots.c.id, slots.c.capacity))
            for _ in range(row.capacity)
        ]
    engine.dispose()
    random.seed(5)
    random.shuffle(slot_ids)
    random.shuffle(rows)
    path = folder / "clients.tsv"
    path.write_text(
        "".join(
            f"{format_code(reveal_code(keys, r.ciphertext))}\t{slot}\n"
            for r, slot in zip(rows, slot_ids, strict=False)
        )
    )
    return path, len(rows)


def settle(env: dict[str, str]) -> None:
    """Wait until the server has finished the requests still in flight when wrk stopped (no booking made
    for a second): the next scenario's setup inserts bookings for the codes without one, and a rush
    booking committed meanwhile made that insert fail on PostgreSQL (two active bookings of a dose)."""
    from courrier.db import make_engine
    from courrier.db.schema import bookings

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    try:
        seen = -1
        for _ in range(120):
            with engine.connect() as connection:
                now = connection.execute(select(func.count()).select_from(bookings)).scalar_one()
            if now == seen:
                return
            seen = now
            time.sleep(1)
    finally:
        engine.dispose()


def drain(base: str) -> None:
    """Wait until the server has answered what the last wrk left queued: when wrk stops, its 2,000
    connections' requests are still in the workers' queues and are served anyway (a loaded run of the
    sessions scenario left seconds of them), so the next scenario's first seconds went to requests
    nobody waited for any more, and it measured 0 to 30 requests/s. Drained: /health answers within
    0.2 s three times in a row (it queues behind the others)."""
    fast = 0
    deadline = time.monotonic() + 120
    while fast < 3 and time.monotonic() < deadline:
        started = time.monotonic()
        try:
            urllib.request.urlopen(base + "/health", timeout=30).read()
            fast = fast + 1 if time.monotonic() - started < 0.2 else 0
        except OSError:
            fast = 0
        time.sleep(0.2)


def check(env: dict[str, str], window: tuple[dt.datetime, dt.datetime]) -> tuple[int, int, int]:
    """Slots over capacity, codes with two active bookings of a dose, and the rush's bookings: made
    through the API (``booked_by`` citizen) inside ``window`` (a request still in flight when wrk stopped
    does not count). Run right after the rush: the check-in scenario's bookings, inserted afterwards
    for its desks, are not the rush's (counting them once gave 1,466 "completed bookings/s" where wrk had
    seen 350 bookings a second)."""
    from courrier.db import make_engine
    from courrier.db.schema import bookings, slots

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        over = connection.execute(select(func.count()).where(slots.c.taken > slots.c.capacity)).scalar_one()
        doubled = connection.execute(
            select(func.count()).select_from(
                select(bookings.c.code_id)
                .where(bookings.c.state == "active")
                .group_by(bookings.c.code_id, bookings.c.dose)
                .having(func.count() > 1)
                .subquery()
            )
        ).scalar_one()
        total = connection.execute(select(func.count()).select_from(bookings)).scalar_one()
        taken = connection.execute(select(func.coalesce(func.sum(slots.c.taken), 0))).scalar_one()
        inside = connection.execute(
            select(func.count()).where(
                bookings.c.booked_by == "citizen",
                bookings.c.created_at >= window[0],
                bookings.c.created_at < window[1],
            )
        ).scalar_one()
    engine.dispose()
    if taken != total:
        raise SystemExit(f"places taken ({taken}) differ from bookings ({total})")
    return int(over), int(doubled), int(inside)


def prepare_checkins(folder: Path, env: dict[str, str], limit: int | None = None) -> tuple[Path, str]:
    """A slot at LUX-VH open now with a place for every code that has no booking, a dose-1 booking in it
    for each (inserted directly: the rush is not what is measured here), and a reception session;
    ``(file of booking references, Bearer token)``. ``limit``: for that many codes only (bench/soak.py
    keeps the others for its bookings)."""
    from courrier.accounts.sessions import open_session
    from courrier.accounts.users import add_user, get_user
    from courrier.booking.bookings import new_reference
    from courrier.db import make_engine, write_transaction
    from courrier.db.bulk import bulk_insert
    from courrier.db.schema import bookings, campaigns, codes, slots, staff_users

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with write_transaction(engine) as connection:
        campaign_id = connection.execute(select(campaigns.c.id)).scalars().first()
        booked = select(bookings.c.code_id)
        free = connection.execute(
            select(codes.c.id, codes.c.person_id)
            .where(codes.c.campaign_id == campaign_id, codes.c.id.not_in(booked))
            .order_by(codes.c.id)
            .limit(limit)
        ).all()
        inserted = connection.execute(
            slots.insert().values(
                campaign_id=campaign_id,
                centre_id="LUX-VH",
                starts_at=now - dt.timedelta(minutes=5),
                ends_at=now + dt.timedelta(hours=3),
                capacity=len(free),
                taken=len(free),
            )
        )
        slot_id = inserted.inserted_primary_key[0]  # type: ignore[index]
        references = [new_reference() for _ in free]
        rows = [
            {
                "reference": reference,
                "campaign_id": campaign_id,
                "code_id": row.id,
                "person_id": row.person_id,
                "dose": 1,
                "slot_id": slot_id,
                "state": "active",
                "active_dose": 1,
                "idempotency_key": None,
                "answers": "{}",
                "booked_by": "bench",
                "created_at": now,
                "updated_at": now,
                "checked_in_at": None,
                "done_at": None,
            }
            for row, reference in zip(free, references, strict=True)
        ]
        bulk_insert(connection, bookings, rows)
        if (
            connection.execute(select(staff_users.c.id).where(staff_users.c.username == "bench-desk")).first()
            is None
        ):
            add_user(
                connection, "bench-desk", "bench-desk-password", "reception", now=now, centre_id="LUX-VH"
            )
        token = open_session(connection, get_user(connection, "bench-desk"), now=now).token
    engine.dispose()
    random.seed(7)
    random.shuffle(references)
    path = folder / "checkins.tsv"
    path.write_text("".join(f"{reference}\n" for reference in references))
    return path, token


def _repeated(connection: Any, column: Any, where: Any) -> int:
    """How many values of ``column`` stand in more than one row matching ``where`` (the doubles the
    scenarios' checks count)."""
    grouped = select(column).where(where).group_by(column).having(func.count() > 1).subquery()
    return int(connection.execute(select(func.count()).select_from(grouped)).scalar_one())


def check_checkins(env: dict[str, str], window: tuple[dt.datetime, dt.datetime]) -> tuple[int, int]:
    """Bookings checked in more than once (must be 0), check-ins made inside ``window``."""
    from courrier.db import make_engine
    from courrier.db.schema import checkins

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        doubled = _repeated(connection, checkins.c.booking_id, checkins.c.booking_id.is_not(None))
        inside = connection.execute(
            select(func.count()).where(checkins.c.created_at >= window[0], checkins.c.created_at < window[1])
        ).scalar_one()
    engine.dispose()
    return int(doubled), int(inside)


def prepare_redemptions(folder: Path, env: dict[str, str], limit: int | None = None) -> tuple[Path, str]:
    """The example voucher campaign on the register (codes issued, QR tokens signed), the example
    establishments and a front-desk session at the hotel: ``(file of QR tokens, Bearer token)``.
    ``limit``: tokens for that many vouchers only, the first by id (bench/soak.py sends one voucher a
    redemption, a fifth of its requests, and need not sign the rest of the register's)."""
    from courrier.accounts.sessions import open_session
    from courrier.accounts.users import add_user, get_user
    from courrier.campaigns.store import get_campaign
    from courrier.codes.keys import load_keys
    from courrier.codes.sealing import reveal_code
    from courrier.codes.store import qr_content
    from courrier.db import make_engine, write_transaction
    from courrier.db.schema import codes, staff_users

    courrier = str(Path(sys.executable).parent / "courrier")
    campaign = (ROOT / "examples" / "campaigns" / "hotel-voucher.toml").read_text()
    campaign = campaign.replace(
        '"../templates/voucher"', json.dumps(str(ROOT / "examples/templates/voucher"))
    )
    (folder / "vouchers.toml").write_text(campaign)
    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        known = connection.execute(
            select(staff_users.c.id).where(staff_users.c.username == "bench-hotel")
        ).first()
    if known is None:
        sh(courrier, "campaign", "create", str(folder / "vouchers.toml"), env=env)
        sh(courrier, "campaign", "plan", "hotel-voucher", env=env)
        sh(courrier, "codes", "issue", "hotel-voucher", env=env)
        sh(
            courrier,
            "establishments",
            "import",
            str(ROOT / "examples/vouchers/establishments.csv"),
            "--rejects",
            str(folder / "rejects.csv"),
            env=env,
        )
    keys = load_keys(env["COURRIER_KEY_FILE"])
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with write_transaction(engine) as connection:
        found = get_campaign(connection, "hotel-voucher")
        rows = connection.execute(
            select(codes).where(codes.c.campaign_id == found.id).order_by(codes.c.id).limit(limit)
        ).all()
        if known is None:
            add_user(
                connection,
                "bench-hotel",
                "bench-hotel-password",
                "establishment",
                now=now,
                establishment_id="H-0001",
            )
        token = open_session(connection, get_user(connection, "bench-hotel"), now=now).token
    engine.dispose()
    tokens = [
        qr_content(
            found,
            reveal_code(keys, row.ciphertext),
            keys=keys,
            code_id=row.id,
            valid_from=row.valid_from,
            valid_until=row.valid_until,
        )
        for row in rows
    ]
    random.seed(11)
    random.shuffle(tokens)
    path = folder / "vouchers.tsv"
    path.write_text("".join(f"{token}\n" for token in tokens))
    return path, token


def check_redemptions(env: dict[str, str], window: tuple[dt.datetime, dt.datetime]) -> tuple[int, int]:
    """Vouchers redeemed twice (two standing redemptions of a code, or a voucher code used twice: must be
    0), redemptions made inside ``window``."""
    from courrier.db import make_engine
    from courrier.db.schema import code_uses, redemptions

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        twice = _repeated(connection, redemptions.c.code_id, redemptions.c.undone_at.is_(None))
        used_twice = _repeated(
            connection, code_uses.c.code_id, code_uses.c.code_id.in_(select(redemptions.c.code_id))
        )
        inside = connection.execute(
            select(func.count()).where(
                redemptions.c.redeemed_at >= window[0], redemptions.c.redeemed_at < window[1]
            )
        ).scalar_one()
    engine.dispose()
    return int(twice) + int(used_twice), int(inside)


def serve(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def lua(folder: Path, name: str, template: str, data: Path, think_ms: int = 0, token: str = "") -> Path:
    script = folder / f"{name}.lua"
    values = {"path": data, "threads": 2, "answers": ANSWERS, "think_ms": think_ms, "token": token}
    script.write_text(template % values)
    return script


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short run: 20,000 people, 10 s a scenario")
    parser.add_argument("--people", type=int, help="synthetic register size (codes ≈ 75%%); default 120,000")
    parser.add_argument("--duration", type=int, help="seconds of the sessions and rush scenarios (60)")
    parser.add_argument("--baseline-duration", type=int, help="seconds of each baseline (15)")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--desks", type=int, default=100, help="connections of the check-in scenario")
    parser.add_argument("--workers", type=int, help="server processes (default: courrier serve's)")
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database (default: SQLite)")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=0,
        help="each client's pause between its requests in the rush (0: as fast as answers come)",
    )
    parser.add_argument("--keep", type=Path, help="prepare into this folder once and reuse it afterwards")
    parser.add_argument(
        "--only",
        action="append",
        choices=["baseline", "sessions", "rush", "checkin", "redeem"],
        help="run only these scenarios",
    )
    args = parser.parse_args()
    people = args.people or (20_000 if args.quick else 120_000)
    duration = args.duration or (10 if args.quick else 60)
    baseline_duration = args.baseline_duration or (5 if args.quick else 15)
    scenarios = args.only or ["baseline", "sessions", "rush", "checkin", "redeem"]
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")
    folder = args.keep or Path(tempfile.mkdtemp(prefix="courrier-bench-web-"))
    folder.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env["COURRIER_DATABASE_URL"] = args.database_url or f"sqlite:///{folder / 'courrier.db'}"
    env["COURRIER_KEY_FILE"] = str(folder / "courrier.keys")
    env["COURRIER_ACTOR"] = "bench"
    database = env["COURRIER_DATABASE_URL"].split(":")[0]
    started = time.perf_counter()
    clients = folder / "clients.tsv"
    if args.keep is not None and clients.exists():
        sh(str(Path(sys.executable).parent / "courrier"), "db", "upgrade", env=env)
        reset(env)
        count = sum(1 for _ in clients.open())
    else:
        prepare(folder, people, env)
        clients, count = request_file(folder, env)
    print(f"prepared {count:,} codes in {time.perf_counter() - started:.0f} s ({database})", flush=True)
    (folder / "bare.py").write_text(BARE_APP)
    bin_dir = Path(sys.executable).parent
    workers = ["--workers", str(args.workers)] if args.workers else []
    results: dict[str, dict[str, object]] = {}
    port = 18400
    if "baseline" in scenarios:
        bare = serve(
            [
                str(bin_dir / "uvicorn"),
                "bare:app",
                "--port",
                str(port),
                "--workers",
                str(args.workers or 2),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            env,
            folder,
        )
        try:
            wait_up(f"http://127.0.0.1:{port}/ping")
            for name, path in (("baseline", "/ping"), ("baseline-sync", "/ping-sync")):
                url = f"http://127.0.0.1:{port}{path}"
                results[name] = wrk(url, args.connections, baseline_duration, None)
        finally:
            stop(bare)
    app = serve([str(bin_dir / "courrier"), "serve", "--port", str(port + 1), *workers], env, folder)
    window = (dt.datetime.now(dt.UTC), dt.datetime.now(dt.UTC))
    try:
        base = f"http://127.0.0.1:{port + 1}"
        wait_up(base + "/health")
        if "sessions" in scenarios:
            script = lua(folder, "sessions", LUA_SESSIONS, clients)
            results["sessions"] = wrk(base, args.connections, duration, script)
            drain(base)
        if "rush" in scenarios:
            script = lua(folder, "rush", LUA_RUSH, clients, args.think_ms)
            window_start = dt.datetime.now(dt.UTC)
            results["rush"] = wrk(base, args.connections, duration, script)
            window = (window_start, window_start + dt.timedelta(seconds=duration))
            settle(env)
            drain(base)
            rush_check = check(env, window)
        if "checkin" in scenarios:
            references, token = prepare_checkins(folder, env)
            script = lua(folder, "checkin", LUA_CHECKIN, references, token=token)
            checkin_start = dt.datetime.now(dt.UTC)
            results["checkin"] = wrk(base, args.desks, duration, script)
            drain(base)
            checkin_window = (checkin_start, checkin_start + dt.timedelta(seconds=duration))
        if "redeem" in scenarios:
            vouchers, token = prepare_redemptions(folder, env)
            script = lua(folder, "redeem", LUA_REDEEM, vouchers, token=token)
            redeem_start = dt.datetime.now(dt.UTC)
            results["redeem"] = wrk(base, args.desks, duration, script)
            redeem_window = (redeem_start, redeem_start + dt.timedelta(seconds=duration))
    finally:
        stop(app)
    over, doubled, _ = check(env, window)
    baseline = float(results["baseline"]["rate"]) if "baseline" in results else None  # type: ignore[arg-type]
    print(
        f"{args.connections} connections, {duration} s, workers {args.workers or 'default'}, {database},"
        f" think {args.think_ms} ms in the rush"
    )
    for name, result in results.items():
        rate = float(result["rate"])  # type: ignore[arg-type]
        ratio = f"  ratio to baseline {rate / baseline:.2f}" if baseline else ""
        print(
            f"{name:<13} {rate:>9,.0f} req/s  p50 {result['p50_ms']:>7.1f} ms"
            f"  p99 {result['p99_ms']:>7.1f} ms  non-2xx {result['non_2xx']:>7,}"
            f"  socket errors: {result['socket_errors']}{ratio}"
        )
    if "rush" in results:
        counts = results["rush"]["counts"]
        total = rush_check[2]
        booked_rate = total / duration
        ratio = f" ({booked_rate / baseline:.2f} of baseline requests/s)" if baseline else ""
        seen = f" ({counts[1] / duration:,.0f}/s)" if counts else ""
        print(
            f"rush: {total:,} bookings in {duration} s = {booked_rate:,.0f} completed bookings/s{ratio};"
            f" wrk saw sessions/booked/refused {counts}{seen}"
        )
    if "checkin" in results:
        twice, made = check_checkins(env, checkin_window)
        counts = results["checkin"]["counts"]
        rate = made / duration
        ratio = f" ({rate / baseline:.2f} of baseline requests/s)" if baseline else ""
        print(
            f"checkin ({args.desks} desks): {made:,} check-ins in {duration} s ="
            f" {rate:,.0f} check-ins/s{ratio};"
            f" wrk saw ok/refused {counts[1:] if counts else None}; bookings checked in twice: {twice}"
        )
    if "redeem" in results:
        twice, made = check_redemptions(env, redeem_window)
        counts = results["redeem"]["counts"]
        rate = made / duration
        ratio = f" ({rate / baseline:.2f} of baseline requests/s)" if baseline else ""
        print(
            f"redeem ({args.desks} desks): {made:,} redemptions in {duration} s ="
            f" {rate:,.0f} redemptions/s{ratio};"
            f" wrk saw ok/refused {counts[1:] if counts else None}; vouchers redeemed twice: {twice}"
        )
    print(f"slots over capacity: {over}; codes with two active bookings of a dose: {doubled}")
    if args.keep is None:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
