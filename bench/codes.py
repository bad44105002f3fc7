"""Benchmark: issue personal codes for N planned pieces on SQLite (issue target: 1,000,000 in < 60 s).

Measured in the same run, on the same machine:
- baseline: the least any issue can do: `sqlite3.executemany` of N rows of random bytes (no code
  drawing, no HMAC, no encryption) into a table shaped like `codes`, with its unique indexes, in
  chunks of 10,000 rows per transaction;
- courrier: `issue_codes` on a planned campaign of N pieces (draw with `secrets`, HMAC-SHA256,
  AES-256-GCM, chunked inserts, pieces pointed at their codes, one event per chunk).
Planning the campaign (cohort query + pieces) is timed too, for information.

    python bench/codes.py [--pieces 100000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.db import make_engine, upgrade

CAMPAIGN = """
name = "bench"
kind = "voucher"
template = "template"
[cohort]
order = "postcode"
[waves]
size = 100000000
[codes]
valid_until = 2030-12-31
max_uses = 1
"""
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
CHUNK = 10_000


def _fill_register(path: Path, count: int) -> None:
    """N synthetic persons, straight into SQLite (not what is measured)."""
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO register_imports (id, file_name, file_sha256, source, started_at, chunk_rows,"
        " chunks_done, rows_read, inserted, updated, unchanged, rejected)"
        " VALUES (1, 'bench', '', 'rnpp', '2026-01-01',"
        " 1, 1, 0, 0, 0, 0, 0)"
    )
    rows = (
        (
            f"{number:013d}",
            "rnpp",
            "Bench",
            "Person",
            f"{1930 + number % 80}-01-01",
            "F",
            "fr",
            "",
            "1",
            "rue",
            f"L-{1000 + number % 8000}",
            "Luxembourg",
            "LU",
            "Luxembourg",
            0,
            0,
            1,
            "2026-01-01 00:00:00",
            "2026-01-01 00:00:00",
            "",
        )
        for number in range(count)
    )
    connection.executemany(
        "INSERT INTO persons (national_id, source, family_name, given_names, birth_date, sex, language,"
        " care_of, house_number, street, postcode, locality, country, commune, deceased, address_unknown,"
        " last_import_id, imported_at, changed_at, changed_fields)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    connection.commit()
    connection.close()


def _baseline(path: Path, count: int) -> float:
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute("PRAGMA cache_size=-65536")
    connection.execute(
        "CREATE TABLE codes (id INTEGER PRIMARY KEY, campaign_id INT, person_id INT, piece_id INT UNIQUE,"
        " hmac BLOB UNIQUE, ciphertext BLOB, key_id INT, status TEXT, uses INT, max_uses INT,"
        " valid_from DATE, valid_until DATE, created_at DATETIME, updated_at DATETIME)"
    )
    started = time.perf_counter()
    for start in range(0, count, CHUNK):
        rows = [
            (
                1,
                n,
                n,
                os.urandom(16),
                os.urandom(44),
                1,
                "active",
                0,
                1,
                "2026-01-01",
                "2030-12-31",
                "2026-01-01",
                "2026-01-01",
            )
            for n in range(start, min(start + CHUNK, count))
        ]
        connection.executemany(
            "INSERT INTO codes (campaign_id, person_id, piece_id, hmac, ciphertext, key_id, status, uses,"
            " max_uses, valid_from, valid_until, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        connection.commit()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--pieces", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="courrier-bench-codes-") as scratch:
        folder = Path(scratch)
        (folder / "template").mkdir()
        (folder / "template" / "template.toml").write_text("bench = true\n")
        database = folder / "courrier.db"
        engine = make_engine(f"sqlite:///{database}")
        upgrade(engine)
        _fill_register(database, args.pieces)
        create_campaign(engine, parse_definition(CAMPAIGN, base=folder), actor="bench", now=NOW)
        started = time.perf_counter()
        plan_campaign(engine, "bench", actor="bench", now=NOW)
        plan_s = time.perf_counter() - started
        started = time.perf_counter()
        report = issue_codes(engine, "bench", keys=new_keys(), actor="bench", now=NOW)
        issue_s = time.perf_counter() - started
        engine.dispose()
        assert report.issued == args.pieces, report
        baseline_s = _baseline(folder / "baseline.db", args.pieces)
    result = {
        "pieces": args.pieces,
        "plan_s": round(plan_s, 2),
        "issue_s": round(issue_s, 2),
        "issue_codes_per_s": round(args.pieces / issue_s),
        "baseline_insert_s": round(baseline_s, 2),
        "issue_vs_baseline": round(issue_s / baseline_s, 2),
        "projected_1m_issue_s": round(issue_s * 1_000_000 / args.pieces, 1),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{args.pieces:,} pieces on SQLite")
    print(f"  plan (cohort + pieces):   {plan_s:7.2f} s")
    print(f"  issue codes:              {issue_s:7.2f} s  ({result['issue_codes_per_s']:,} codes/s)")
    print(f"  baseline (plain insert):  {baseline_s:7.2f} s")
    print(f"  issue / baseline:         {result['issue_vs_baseline']:7.2f}x")
    print(f"  projected for 1,000,000:  {result['projected_1m_issue_s']:7.1f} s (target < 60 s)")


if __name__ == "__main__":
    main()
