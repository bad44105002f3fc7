"""Soak: mixed traffic at a fixed rate against `courrier serve --workers 2` on PostgreSQL, with one
worker killed (SIGKILL) halfway (issue 17).

Traffic, open loop (a request is sent on schedule whether or not earlier ones were answered; its latency
counts from its scheduled time, so a stalled server is not hidden by a load generator that waits):
  booking     60%  POST /api/v1/bookings: a code's dose 1 in a random slot, with a session token minted
                   for that code (code entry itself is measured by bench/web.py)
  check-in    20%  POST /api/v1/checkins {"scan": "RDV1:REF", "nonce"} with a reception session, one
                   booking of a slot open now per request
  redemption  20%  POST /api/v1/redemptions {"scan": TOKEN, "stay_from", "stay_to", "reference", "nonce"}
                   with a hotel front desk's session, the signed QR token of a different voucher each
                   request (the example voucher campaign on the same register: bench/web.py's redeem)
Reported: requests sent and answered per kind, errors (answers >= 400 other than the expected ones, and
connections lost, the kill's apart), refusals (200 refused) by their code, p50/p99/max latency over the
whole run and per minute, the server's RSS (parent and each worker) at the start and end, and the kill:
after the run every acknowledged booking (201 with its reference), check-in (201 with its nonce) and
redemption (201 with its nonce) is looked up in the database, and none may be missing; no code has two
active bookings of a dose, no booking two check-ins, no voucher two redemptions.

Run: flock /tmp/courrier-bench.lock .venv/bin/python bench/soak.py [--minutes 10] [--rate 500]
     [--admin-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
It creates (and drops at the end) a database of its own on that server.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from sqlalchemy import select, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
import web as web_bench

MIX = ("booking",) * 6 + ("checkin",) * 2 + ("redemption",) * 2  # per ten requests
KINDS = ("booking", "checkin", "redemption")
CONNECTIONS = 64
PORT = 18500


@dataclass
class Outcome:
    kind: str
    scheduled: float
    latency_s: float
    status: int  # 0: the connection was lost
    key: str = ""  # the booking's reference, the check-in's or the redemption's nonce, when acknowledged
    error: str = ""  # the error code of an answer >= 400, or the reason of a refusal (200 refused)


@dataclass
class Load:
    """What each kind of request sends next."""

    bookings: list[tuple[int, int]]  # (code id, slot id)
    references: list[str]
    desk_token: str
    keys: object
    vouchers: list[str] = field(default_factory=list)  # signed QR tokens, one a redemption
    hotel_token: str = ""  # the front desk's session
    sent: Counter[str] = field(default_factory=Counter)

    def request(self, kind: str) -> tuple[str, dict[str, str], dict[str, object], str]:
        """(path, headers, body, key) of the next request of ``kind``."""
        from courrier.booking.tokens import make_token

        n = self.sent[kind]
        self.sent[kind] += 1
        if kind == "booking":
            code_id, slot = self.bookings[n % len(self.bookings)]
            token = make_token(self.keys, code_id, dt.datetime.now(dt.UTC))  # type: ignore[arg-type]
            answers = json.loads(web_bench.ANSWERS)
            return (
                "/api/v1/bookings",
                {"Authorization": f"Bearer {token}"},
                {"slot": slot, "dose": 1, "answers": answers},
                "",
            )
        if kind == "checkin":
            nonce = f"soak-{n}"
            body = {"scan": f"RDV1:{self.references[n % len(self.references)]}", "nonce": nonce}
            return "/api/v1/checkins", {"Authorization": f"Bearer {self.desk_token}"}, body, nonce
        # A voucher is redeemed once: a second scan would be refused (already_redeemed), not measured.
        nonce = f"soak-r{n}"
        today = dt.date.today()
        body = {
            "scan": self.vouchers[n],
            "stay_from": today.isoformat(),
            "stay_to": (today + dt.timedelta(days=2)).isoformat(),
            "reference": f"SOAK-{n}",
            "nonce": nonce,
        }
        return "/api/v1/redemptions", {"Authorization": f"Bearer {self.hotel_token}"}, body, nonce


async def _send(
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None],
    path: str,
    headers: dict[str, str],
    body: dict[str, object],
) -> tuple[int, bytes]:
    """One HTTP/1.1 request on a keep-alive connection of the pool; (0, b"") when the connection is lost."""
    connection = await pool.get()
    try:
        if connection is None:
            connection = await asyncio.open_connection("127.0.0.1", PORT)
        reader, writer = connection
        payload = json.dumps(body).encode()
        head = f"POST {path} HTTP/1.1\r\nHost: soak\r\nContent-Type: application/json\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        head += f"Content-Length: {len(payload)}\r\n\r\n"
        writer.write(head.encode() + payload)
        await writer.drain()
        status_line = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        if not status_line:
            raise ConnectionError("closed")
        answer = await reader.readexactly(length)
        pool.put_nowait(connection)
        return int(status_line.split()[1]), answer
    except (OSError, asyncio.IncompleteReadError, ConnectionError, IndexError, ValueError):
        pool.put_nowait(None)  # a new connection next time
        return 0, b""


async def run_load(load: Load, rate: float, seconds: float, on_half: object) -> list[Outcome]:
    pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
    for _ in range(CONNECTIONS):
        pool.put_nowait(None)
    outcomes: list[Outcome] = []

    async def one(kind: str, scheduled: float) -> None:
        path, headers, body, key = load.request(kind)
        status, answer = await _send(pool, path, headers, body)
        latency = time.monotonic() - scheduled
        try:
            found = json.loads(answer) if status else {}
        except ValueError:  # not JSON (uvicorn's own plain-text 500)
            found = {}
        if kind == "booking" and status == 201:
            key = str(found.get("reference", ""))
        error = ""
        if status >= 400:
            error = str(found.get("error", {}).get("code", ""))
        elif found.get("status") == "refused":
            error = str(found.get("reason", {}).get("code", "refused"))
        outcomes.append(Outcome(kind, scheduled, latency, status, key, error if status != 201 else ""))

    tasks: set[asyncio.Task[None]] = set()
    start = time.monotonic()
    total = int(rate * seconds)
    killed = False
    for n in range(total):
        scheduled = start + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        if not killed and n >= total // 2:
            killed = True
            on_half()  # type: ignore[operator]
        task = asyncio.create_task(one(MIX[n % len(MIX)], scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    return outcomes


def _rss_mb(process: psutil.Process) -> dict[str, float]:
    found = {"parent": process.memory_info().rss / 2**20}
    for worker in _workers(process):
        with contextlib.suppress(psutil.NoSuchProcess):  # a worker restarting
            found[f"worker {worker.pid}"] = worker.memory_info().rss / 2**20
    return found


def _workers(process: psutil.Process) -> list[psutil.Process]:
    """uvicorn's worker processes (multiprocessing's spawn; not its resource tracker)."""
    return [child for child in process.children() if "spawn_main" in " ".join(child.cmdline())]


def _check(url: str, env: dict[str, str], outcomes: list[Outcome]) -> dict[str, int]:
    """Every acknowledged booking, check-in and redemption in the database; the web benchmark's checks
    besides."""
    from courrier.db import make_engine
    from courrier.db.schema import bookings, checkins, redemptions

    acknowledged = {kind: {o.key for o in outcomes if o.kind == kind and o.status == 201} for kind in KINDS}
    engine = make_engine(url)
    with engine.connect() as connection:
        stored = {
            "booking": set(
                connection.execute(select(bookings.c.reference).where(bookings.c.state == "active")).scalars()
            ),
            "checkin": set(connection.execute(select(checkins.c.nonce)).scalars()),
            "redemption": set(
                connection.execute(
                    select(redemptions.c.nonce).where(redemptions.c.undone_at.is_(None))
                ).scalars()
            ),
        }
    engine.dispose()
    always = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2100, 1, 1, tzinfo=dt.UTC))
    over, doubled_bookings, _ = web_bench.check(env, always)  # refuses when places and bookings differ
    doubled_checkins, _ = web_bench.check_checkins(env, always)
    doubled_vouchers, _ = web_bench.check_redemptions(env, always)
    found: dict[str, int] = {}
    for kind in KINDS:
        found[f"acknowledged_{kind}s"] = len(acknowledged[kind])
        found[f"acknowledged_{kind}s_missing"] = len(acknowledged[kind] - stored[kind])
    return found | {
        "slots_over_capacity": over,
        "codes_with_two_active_bookings": doubled_bookings,
        "bookings_checked_in_twice": doubled_checkins,
        "vouchers_redeemed_twice": doubled_vouchers,
    }


def _percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the soak (10)")
    parser.add_argument("--rate", type=float, default=500.0, help="requests per second (500)")
    parser.add_argument("--workers", type=int, default=2, help="server worker processes (2)")
    parser.add_argument(
        "--admin-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server on which the soak creates and drops a database of its own",
    )
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker halfway")
    args = parser.parse_args()
    seconds = args.minutes * 60
    folder = Path(tempfile.mkdtemp(prefix="courrier-soak-"))
    name = f"courrier_soak_{os.getpid()}"
    from courrier.db import make_engine

    admin = make_engine(args.admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(args.admin_url).set(database=name).render_as_string(hide_password=False)
    env = {**os.environ, "COURRIER_DATABASE_URL": url, "COURRIER_KEY_FILE": str(folder / "courrier.keys")}
    env["COURRIER_ACTOR"] = "soak"
    server = None
    try:
        bookings_needed = int(args.rate * seconds * 0.6) + 100
        checkins_needed = int(args.rate * seconds * 0.2) + 100
        redemptions_needed = checkins_needed
        # About 65% of the synthetic register is 18 or over (224,640 codes for 343,142 people): with
        # 0.7 the bookings ran out of codes and the last 15,560 booked a code again (409).
        people = int((bookings_needed + checkins_needed) / 0.6)
        started = time.perf_counter()
        web_bench.prepare(folder, people, env)
        # Slots for the bookings first: the check-ins' slot is full, a booking there would be refused.
        clients, _count = web_bench.request_file(folder, env)
        references_file, desk_token = web_bench.prepare_checkins(folder, env, limit=checkins_needed)
        load = _load(env, references_file, desk_token, clients)
        # After _load: the vouchers' codes are not the bookings'.
        vouchers_file, load.hotel_token = web_bench.prepare_redemptions(folder, env, redemptions_needed)
        load.vouchers = [line.strip() for line in vouchers_file.open() if line.strip()]
        if len(load.vouchers) < redemptions_needed:
            raise SystemExit(f"{len(load.vouchers):,} vouchers, {redemptions_needed:,} needed")
        print(
            f"prepared {people:,} people, {len(load.bookings):,} codes to book, {len(load.references):,}"
            f" bookings to check in, {len(load.vouchers):,} vouchers to redeem,"
            f" in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
        courrier = str(Path(sys.executable).parent / "courrier")
        server = web_bench.serve(
            [courrier, "serve", "--port", str(PORT), "--workers", str(args.workers), "--insecure-cookies"],
            env,
            folder,
        )
        web_bench.wait_up(f"http://127.0.0.1:{PORT}/health")
        process = psutil.Process(server.pid)
        while len(_workers(process)) < args.workers:
            time.sleep(0.5)
        rss_start = _rss_mb(process)
        killed: list[int] = []

        def kill_one() -> None:
            if args.no_kill:
                return
            victim = _workers(process)[0]
            killed.append(victim.pid)
            os.kill(victim.pid, signal.SIGKILL)

        print(
            f"soak: {args.rate:.0f} requests/s for {args.minutes:g} min, {args.workers} workers", flush=True
        )
        outcomes = asyncio.run(run_load(load, args.rate, seconds, kill_one))
        rss_end = _rss_mb(process)
        _report(args, outcomes, rss_start, rss_end, killed, _check(url, env, outcomes))
    finally:
        if server is not None:
            web_bench.stop(server)
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def _load(env: dict[str, str], references_file: Path, desk_token: str, clients: Path) -> Load:
    """Bookings for the codes that have none yet (those of the check-ins are booked already), in the
    random slots request_file handed out."""
    from courrier.codes.format import format_code
    from courrier.codes.keys import load_keys
    from courrier.codes.sealing import reveal_code
    from courrier.db import make_engine
    from courrier.db.schema import bookings, codes

    keys = load_keys(env["COURRIER_KEY_FILE"])
    engine = make_engine(env["COURRIER_DATABASE_URL"])
    with engine.connect() as connection:
        free = connection.execute(
            select(codes.c.id, codes.c.ciphertext).where(codes.c.id.not_in(select(bookings.c.code_id)))
        ).all()
    engine.dispose()
    slot_of = {}
    for line in clients.open():
        code, slot = line.rstrip("\n").split("\t")
        slot_of[code] = int(slot)
    pairs = []
    for row in free:
        code = format_code(reveal_code(keys, row.ciphertext))
        if code in slot_of:
            pairs.append((row.id, slot_of[code]))
    random.seed(11)
    random.shuffle(pairs)
    references = [line.strip() for line in references_file.open() if line.strip()]
    return Load(pairs, references, desk_token, keys)


def _report(
    args: argparse.Namespace,
    outcomes: list[Outcome],
    rss_start: dict[str, float],
    rss_end: dict[str, float],
    killed: list[int],
    checked: dict[str, int],
) -> None:
    start = min(o.scheduled for o in outcomes)
    kinds = Counter(o.kind for o in outcomes)
    expected = {201, 200} | {409}  # 409: a code booked already (dose 1 twice) is an expected refusal
    lost = [o for o in outcomes if o.status == 0]
    errors = [o for o in outcomes if o.status >= 400 and o.status not in expected]
    answered = [o for o in outcomes if o.status != 0]
    latencies = [o.latency_s * 1000 for o in answered]
    by_status = Counter((o.kind, o.status) for o in outcomes)
    print(f"requests: {len(outcomes):,} ({', '.join(f'{k} {n:,}' for k, n in sorted(kinds.items()))})")
    print("  by kind and status:", ", ".join(f"{k} {s}: {n:,}" for (k, s), n in sorted(by_status.items())))
    error_ids = {id(o) for o in errors}
    for kind in KINDS:
        mine = [o for o in outcomes if o.kind == kind]
        values = [o.latency_s * 1000 for o in mine if o.status != 0]
        print(
            f"  {kind}: sent {len(mine):,}, answered {len(values):,},"
            f" acknowledged (201) {sum(o.status == 201 for o in mine):,},"
            f" refused (200) {sum(o.status == 200 and bool(o.error) for o in mine):,},"
            f" errors {sum(id(o) in error_ids for o in mine):,}, lost {sum(o.status == 0 for o in mine):,},"
            f" missing from the database {checked[f'acknowledged_{kind}s_missing']:,};"
            f" p50 {_percentile(values, 0.5):.1f} ms, p99 {_percentile(values, 0.99):.1f} ms"
        )
    print(f"errors: {len(errors):,} answers >= 400 (not 409), {len(lost):,} connections lost (the kill's)")
    refusals = Counter((o.kind, o.error) for o in outcomes if o.error)
    print(
        "  refusals by code:",
        ", ".join(f"{k} {c}: {n:,}" for (k, c), n in sorted(refusals.items())) or "none",
    )
    print(
        f"latency: p50 {_percentile(latencies, 0.5):.1f} ms, p99 {_percentile(latencies, 0.99):.1f} ms,"
        f" max {max(latencies, default=float('nan')):.1f} ms (target p99 < 100 ms)"
    )
    end = start + args.minutes * 60
    last = max((o.scheduled + o.latency_s for o in answered), default=end)
    print(f"  last answer {last - end:.1f} s after the schedule ended")
    minutes: dict[int, list[float]] = {}
    for o in answered:
        minutes.setdefault(int((o.scheduled - start) // 60), []).append(o.latency_s * 1000)
    for minute, values in sorted(minutes.items()):
        print(f"  minute {minute + 1}: {len(values):,} answered, p99 {_percentile(values, 0.99):.1f} ms,"
              f" median {statistics.median(values):.1f} ms")  # fmt: skip
    print("RSS start (MB):", ", ".join(f"{k} {v:.0f}" for k, v in rss_start.items()))
    print("RSS end (MB):  ", ", ".join(f"{k} {v:.0f}" for k, v in rss_end.items()))
    print(f"killed worker: {killed or 'none'}; after it, the database: {json.dumps(checked)}")
    missing = sum(checked[f"acknowledged_{kind}s_missing"] for kind in KINDS)
    print("acknowledged requests lost:", missing)


if __name__ == "__main__":
    main()
