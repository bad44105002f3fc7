"""Per-request cost of the web write paths, in-process (no HTTP server, no wrk): the requests go straight
into the ASGI app as ``courrier serve`` builds it (writer lock included), so what is measured is the
app's own work, with no load generator on the same cores.

For each request it counts the SQL statements sent (a ``before_cursor_execute`` listener) and the
process's CPU time (all threads: the thread pool's too); ``--concurrency`` requests are in flight at
once on one event loop, as in a server worker. For instruction counts, run it under callgrind with
instrumentation off at the start; it is turned on for the measured requests only (the preparation runs
in a child process, which callgrind does not follow; the app's start and the warm-up are not counted):

    CALLGRIND=1 valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=/tmp/cg.out \
        .venv/bin/python bench/web_cost.py --folder /tmp/cost --scenario checkin --requests 300

and divide the ``summary`` (or ``totals``) line of /tmp/cg.out by the requests. ``--profile FILE`` writes
a cProfile of the measured requests (the event loop's thread only) for ``python -m pstats FILE``.

Scenarios: ``checkin`` (POST /api/v1/checkins, a signed-in reception desk, one booking per request),
``checkin-preview`` (POST /api/v1/checkins/preview: each booking looked up once, as the desk does before
checking it in),
``redeem`` (POST /api/v1/redemptions), ``preview`` (POST /api/v1/redemptions/preview: each voucher
looked at once, as the front desk does before redeeming it), ``sessions`` (POST /api/v1/sessions),
``book`` (POST /api/v1/bookings with a citizen token made beforehand). The first run prepares
``--folder`` (a small register: bench/web.py's preparation); later runs reset it.

Run: .venv/bin/python bench/web_cost.py --folder /tmp/cost --scenario checkin [--requests 500]
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime as dt
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import web


def environment(folder: Path, people: int, database_url: str | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["COURRIER_DATABASE_URL"] = database_url or f"sqlite:///{folder / 'courrier.db'}"
    env["COURRIER_KEY_FILE"] = str(folder / "courrier.keys")
    env["COURRIER_ACTOR"] = "bench"
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "clients.tsv").exists():
        web.prepare(folder, people, env)
        web.request_file(folder, env)
    else:
        web.sh(str(Path(sys.executable).parent / "courrier"), "db", "upgrade", env=env)
        web.reset(env)
    return env


def requests_for(
    scenario: str, folder: Path, env: dict[str, str], count: int
) -> list[tuple[str, dict[str, str], bytes]]:
    """``count`` requests (path, headers, body), each on a thing of its own."""
    if scenario in ("checkin", "checkin-preview"):
        references, token = web.prepare_checkins(folder, env)
        lines = references.read_text().splitlines()
        auth = {"authorization": f"Bearer {token}"}
        if scenario == "checkin-preview":
            return [
                ("/api/v1/checkins/preview", auth, json.dumps({"scan": f"RDV1:{ref}"}).encode())
                for ref in lines[:count]
            ]
        return [
            ("/api/v1/checkins", auth, json.dumps({"scan": f"RDV1:{ref}", "nonce": f"n{i}"}).encode())
            for i, ref in enumerate(lines[:count])
        ]
    if scenario in ("redeem", "preview"):
        vouchers, token = web.prepare_redemptions(folder, env)
        lines = vouchers.read_text().splitlines()
        auth = {"authorization": f"Bearer {token}"}
        if scenario == "preview":
            return [
                ("/api/v1/redemptions/preview", auth, json.dumps({"scan": scan}).encode())
                for scan in lines[:count]
            ]
        body = {"stay_from": "2026-07-01", "stay_to": "2026-07-02"}
        return [
            (
                "/api/v1/redemptions",
                auth,
                json.dumps({**body, "scan": scan, "reference": f"B-{i}", "nonce": f"n{i}"}).encode(),
            )
            for i, scan in enumerate(lines[:count])
        ]
    clients = [line.split("\t") for line in (folder / "clients.tsv").read_text().splitlines()]
    if scenario == "sessions":
        return [("/api/v1/sessions", {}, json.dumps({"code": code}).encode()) for code, _ in clients[:count]]
    if scenario == "book":
        from courrier.booking.code_entry import enter_code
        from courrier.booking.tokens import make_token
        from courrier.codes.keys import load_keys
        from courrier.db import make_engine

        keys = load_keys(env["COURRIER_KEY_FILE"])
        engine = make_engine(env["COURRIER_DATABASE_URL"])
        now = dt.datetime.now(dt.UTC)
        made = []
        for code, slot in clients[:count]:
            holder = enter_code(engine, keys, code, client="bench", now=now)
            made.append(
                (
                    "/api/v1/bookings",
                    {"authorization": f"Bearer {make_token(keys, holder.code_id, now)}"},
                    json.dumps({"slot": int(slot), "dose": 1, "answers": json.loads(web.ANSWERS)}).encode(),
                )
            )
        engine.dispose()
        return made
    raise SystemExit(f"unknown scenario {scenario}")


async def send(app: Any, path: str, headers: dict[str, str], body: bytes) -> int:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *((name.encode(), value.encode()) for name, value in headers.items()),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def reply(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])

    await app(scope, receive, reply)
    return status


async def drive(
    app: Any, requests: list[tuple[str, dict[str, str], bytes]], concurrency: int
) -> Counter[int]:
    statuses: Counter[int] = Counter()
    queue = iter(requests)

    async def client() -> None:
        for path, headers, body in queue:
            statuses[await send(app, path, headers, body)] += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return statuses


def instrument(state: str) -> None:
    """Under ``valgrind --tool=callgrind --instr-atstart=no`` with CALLGRIND=1: count instructions of the
    measured requests only (the app's start and the warm-up are not counted)."""
    if os.environ.get("CALLGRIND") == "1":
        subprocess.run(["callgrind_control", "--instr=" + state, str(os.getpid())], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--folder", type=Path, required=True)
    parser.add_argument(
        "--scenario",
        choices=["checkin", "checkin-preview", "redeem", "preview", "sessions", "book"],
        required=True,
    )
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--people", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=20, help="requests sent before measuring")
    parser.add_argument(
        "--database-url", help="PostgreSQL URL of an empty database, kept with --folder (default: SQLite)"
    )
    parser.add_argument(
        "--profile", type=Path, help="write a cProfile of the measured requests to this file (pstats)"
    )
    parser.add_argument("--prepare-to", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare_to is not None:
        env = environment(args.folder, args.people, args.database_url)
        made = requests_for(args.scenario, args.folder, env, args.requests + args.warmup)
        args.prepare_to.write_text(
            json.dumps({"env": env, "requests": [[p, h, b.decode()] for p, h, b in made]})
        )
        return
    # Prepared by a child process, which callgrind does not follow: only the measured process is counted.
    prepared = args.folder.with_name(args.folder.name + "-requests.json")
    subprocess.run([sys.executable, *sys.argv, "--prepare-to", str(prepared)], check=True)
    loaded = json.loads(prepared.read_text())
    env = loaded["env"]
    made = [(p, h, b.encode()) for p, h, b in loaded["requests"]]
    if len(made) < args.requests + args.warmup:
        raise SystemExit(f"only {len(made)} requests could be prepared")
    os.environ.update(env)
    from sqlalchemy import event

    from courrier.web.serve import app_from_environment

    app = app_from_environment()
    engine = app.state.context.engine
    statements: Counter[str] = Counter()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements[statement.split(None, 1)[0].upper()] += 1

    event.listen(engine, "before_cursor_execute", count)
    # Round trips the listener above does not see: COMMIT, and a checkout's ping (pool_pre_ping).
    other: Counter[str] = Counter()
    event.listen(engine, "commit", lambda _conn: other.update(["commit"]))
    event.listen(engine.pool, "checkout", lambda *_args: other.update(["checkout"]))
    # BEGIN IMMEDIATE goes through exec_driver_sql (counted); the driver's COMMIT does not pass a cursor.
    warm, measured = made[: args.warmup], made[args.warmup :]
    asyncio.run(drive(app, warm, min(args.concurrency, max(1, len(warm)))))
    statements.clear()
    other.clear()
    profiler = cProfile.Profile() if args.profile is not None else None
    instrument("on")
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    statuses = asyncio.run(drive(app, measured, args.concurrency)) if measured else Counter()
    if profiler is not None:
        profiler.disable()
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    instrument("off")
    if profiler is not None:
        profiler.dump_stats(args.profile)
    n = max(1, len(measured))
    total = sum(statements.values())
    print(
        f"{args.scenario}: {len(measured)} requests, concurrency {args.concurrency},"
        f" statuses {dict(statuses)}"
    )
    kinds = ", ".join(f"{kind} {value / n:.2f}" for kind, value in statements.most_common())
    print(f"  SQL statements per request {total / n:.2f} ({kinds})")
    print(f"  commits {other['commit'] / n:.2f}, pool checkouts {other['checkout'] / n:.2f} per request")
    print(f"  CPU {cpu / n * 1000:.3f} ms per request (all threads), wall {wall / n * 1000:.3f} ms")


if __name__ == "__main__":
    main()
