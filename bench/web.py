"""Web load: the opening rush against `courrier serve`, measured with wrk, beside a bare FastAPI endpoint
served the same way in the same run (the baseline).

Scenarios (each for --duration seconds with --connections open connections):
  baseline   GET /ping on a bare FastAPI app under uvicorn with the same workers
  sessions   POST /api/v1/sessions with a different valid code each request (code entry)
  bookings   POST /api/v1/bookings with a different citizen's token each request (dose 1, random
             centre slot with places left)
Afterwards the database is checked: no slot above capacity, no code with two active bookings of a dose.

Run: flock /tmp/courrier-bench.lock .venv/bin/python bench/web.py [--people 30000] [--duration 20]
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

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
# The example campaign's health questions, answered as someone who may book.
ANSWERS = '{"allergy": "no", "unwell": "no", "anticoagulant": "no"}'
BARE_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
def ping() -> dict[str, str]:
    return {"status": "ok"}
"""
LUA = """
local bodies = {}
local headers = {}
local n = 0
local file = io.open("%(path)s")
for line in file:lines() do
    local tab = line:find("\\t")
    headers[#headers + 1] = line:sub(1, tab - 1)
    bodies[#bodies + 1] = line:sub(tab + 1)
end
file:close()
local thread_counter = 0
function setup(thread)
    thread:set("offset", thread_counter)
    thread_counter = thread_counter + 1
end
function init(args)
    n = offset * 7919
end
request = function()
    n = n + 1
    local i = (n %% #bodies) + 1
    local h = {["Content-Type"] = "application/json"}
    if headers[i] ~= "" then h["Authorization"] = "Bearer " .. headers[i] end
    return wrk.format("%(method)s", "%(path_url)s", h, bodies[i])
end
"""


def sh(*argv: str, env: dict[str, str]) -> str:
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True).stdout


def wait_up(url: str) -> None:
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"server at {url} did not start")


def wrk(url: str, connections: int, duration: int, script: Path | None) -> dict[str, float]:
    argv = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        argv += ["-s", str(script)]
    out = subprocess.run([*argv, url], check=True, capture_output=True, text=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p99_text = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    p99 = float(p99_text.group(1)) * scale[p99_text.group(2)] if p99_text else float("nan")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rate": rate,
        "p99_ms": p99,
        "non_2xx": float(non2xx.group(1)) if non2xx else 0.0,
        "socket_errors": errors.group(1) if errors else "none",  # type: ignore[dict-item]
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


def request_files(folder: Path, env: dict[str, str]) -> tuple[Path, Path, int]:
    from courrier.booking.tokens import make_token
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
    now = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=20)  # tokens live 30 min
    sessions = folder / "sessions.tsv"
    sessions.write_text(
        "".join(f'\t{{"code": "{format_code(reveal_code(keys, r.ciphertext))}"}}\n' for r in rows)
    )
    bookings = folder / "bookings.tsv"
    bookings.write_text(
        "".join(
            f'{make_token(keys, r.id, now)}\t{{"slot": {slot}, "dose": 1, "answers": {ANSWERS}}}\n'
            for r, slot in zip(rows, slot_ids, strict=False)
        )
    )
    return sessions, bookings, len(rows)


def lua(folder: Path, name: str, data: Path, method: str, path_url: str) -> Path:
    script = folder / f"{name}.lua"
    script.write_text(LUA % {"path": data, "method": method, "path_url": path_url})
    return script


def check(env: dict[str, str]) -> tuple[int, int, int]:
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
    engine.dispose()
    return int(over), int(doubled), int(total)


def serve(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=30000, help="synthetic register size (codes ≈ 75%%)")
    parser.add_argument("--duration", type=int, default=20, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--database-url", help="PostgreSQL URL of an empty database (default: SQLite)")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian package wrk)")
    folder = Path(tempfile.mkdtemp(prefix="courrier-bench-web-"))
    env = dict(os.environ)
    env["COURRIER_DATABASE_URL"] = args.database_url or f"sqlite:///{folder / 'courrier.db'}"
    env["COURRIER_KEY_FILE"] = str(folder / "courrier.keys")
    env["COURRIER_ACTOR"] = "bench"
    started = time.perf_counter()
    prepare(folder, args.people, env)
    sessions, bookings, count = request_files(folder, env)
    print(
        f"prepared {count} codes in {time.perf_counter() - started:.0f} s"
        f" ({env['COURRIER_DATABASE_URL'].split(':')[0]})"
    )
    (folder / "bare.py").write_text(BARE_APP)
    bin_dir = Path(sys.executable).parent
    results = {}
    port = 18400
    bare = serve(
        [
            str(bin_dir / "uvicorn"),
            "bare:app",
            "--port",
            str(port),
            "--workers",
            str(args.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        env,
        folder,
    )
    try:
        wait_up(f"http://127.0.0.1:{port}/ping")
        results["baseline"] = wrk(f"http://127.0.0.1:{port}/ping", args.connections, args.duration, None)
    finally:
        bare.terminate()
        bare.wait()
    app = serve(
        [str(bin_dir / "courrier"), "serve", "--port", str(port + 1), "--workers", str(args.workers)],
        env,
        folder,
    )
    try:
        base = f"http://127.0.0.1:{port + 1}"
        wait_up(base + "/health")
        results["sessions"] = wrk(
            base,
            args.connections,
            args.duration,
            lua(folder, "sessions", sessions, "POST", "/api/v1/sessions"),
        )
        results["bookings"] = wrk(
            base,
            args.connections,
            args.duration,
            lua(folder, "bookings", bookings, "POST", "/api/v1/bookings"),
        )
    finally:
        app.terminate()
        app.wait()
    over, doubled, total = check(env)
    baseline = results["baseline"]["rate"]
    for name, result in results.items():
        print(
            f"{name:<9} {result['rate']:>9,.0f} req/s  p99 {result['p99_ms']:>7.1f} ms  "
            f"non-2xx {result['non_2xx']:>7,.0f}  socket errors: {result['socket_errors']}  "
            f"ratio to baseline {result['rate'] / baseline:.2f}"
        )
    print(
        f"bookings in the database: {total:,}; slots over capacity: {over}; "
        f"codes with two active bookings: {doubled}"
    )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
