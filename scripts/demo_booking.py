"""`make demo`'s last step: book one appointment through the running server's HTTP API, as a citizen
would with the code printed on the first letter of the first print job. Standard library only."""

from __future__ import annotations

import datetime as dt
import json
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from sqlalchemy import select

from courrier.codes.format import format_code
from courrier.codes.keys import load_keys
from courrier.codes.sealing import reveal_code
from courrier.config import load_settings
from courrier.db import make_engine
from courrier.db.schema import codes, job_pieces, pieces, print_jobs


def first_printed_code() -> str:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        sealed = connection.execute(
            select(codes.c.ciphertext)
            .join(pieces, pieces.c.code_id == codes.c.id)
            .join(job_pieces, job_pieces.c.piece_id == pieces.c.id)
            .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
            .where(job_pieces.c.error_code.is_(None))
            .order_by(print_jobs.c.id, job_pieces.c.sequence)
            .limit(1)
        ).scalar_one()
    engine.dispose()
    return reveal_code(load_keys(settings.key_file, settings.keys_json), sealed)


def call(base: str, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    request = urllib.request.Request(base + path, method=method)
    data = None if body is None else json.dumps(body).encode()
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, data, timeout=10) as answer:
        return json.load(answer)


def main(base: str) -> None:
    for _ in range(100):
        try:
            call(base, "GET", "/health")
            break
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.2)
    code = format_code(first_printed_code())
    session = call(base, "POST", "/api/v1/sessions", {"code": code})
    print(f"code {code} opened a session for {session['campaign']} (language {session['language']})")
    centre = call(base, "GET", "/api/v1/centres")["centres"][0]
    day = dt.date.today() + dt.timedelta(days=1)
    for _ in range(14):
        free = call(base, "GET", f"/api/v1/slots?centre={centre['id']}&date={day}", token=session["token"])[
            "slots"
        ]
        if free:
            break
        day += dt.timedelta(days=1)
    # The demo person is in good health: the campaign's last answer to each question (no).
    questions = call(base, "GET", "/api/v1/questions", token=session["token"])["questions"]
    answers = {question["id"]: question["answers"][-1]["id"] for question in questions}
    booking = call(
        base,
        "POST",
        "/api/v1/bookings",
        {"slot": free[0]["id"], "dose": 1, "answers": answers},
        session["token"],
    )
    where = f"{booking['centre']['name']}, {booking['starts_at']}"
    print(f"booked dose 1 at {where}: reference {booking['reference']}")
    print(f"DEMO_CODE={code}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8765")
