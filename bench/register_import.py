"""Benchmark: import a synthetic register into SQLite (target: 1,000,000 people in < 60 s, < 500 MB).

Measured in the same run, each in its own process:
- baseline: the least any import can do, `csv.reader` straight into `sqlite3.executemany` on a table
  with the same unique index, no validation, no change detection;
- courrier: `courrier register import` into a fresh database (every row new);
- courrier again on the same file (every row unchanged: the cost of a routine re-import).

Prints seconds, rows per second, the ratio to the baseline and peak RSS; `--json` for machines.
The generated file is kept in bench/out/ and reused by later runs.

    python bench/register_import.py [--people 1000000] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"

_BASELINE = r"""
import csv, resource, sqlite3, sys
path, db = sys.argv[1], sys.argv[2]
connection = sqlite3.connect(db)
connection.execute("PRAGMA journal_mode=WAL")
connection.execute("PRAGMA synchronous=NORMAL")
connection.execute("PRAGMA cache_size=-65536")
with open(path, encoding="utf-8", errors="replace", newline="") as file:
    reader = csv.reader(file)
    header = next(reader)
    columns = ", ".join(header)
    connection.execute(f"CREATE TABLE persons (id INTEGER PRIMARY KEY, {columns})")
    connection.execute("CREATE UNIQUE INDEX ix_national_id ON persons (national_id)")
    marks = ", ".join("?" for _ in header)
    chunk = []
    for row in reader:
        chunk.append(row)
        if len(chunk) == 25_000:
            connection.executemany(f"INSERT OR IGNORE INTO persons ({columns}) VALUES ({marks})", chunk)
            connection.commit()
            chunk = []
    connection.executemany(f"INSERT OR IGNORE INTO persons ({columns}) VALUES ({marks})", chunk)
    connection.commit()
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""

_COURRIER = r"""
import resource, sys
from courrier.cli import main
try:
    main(["register", "import", sys.argv[1], "--json", "--rejects", sys.argv[2]])
except SystemExit as end:
    if end.code:
        raise
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)
"""


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Seconds, peak RSS in MB and stdout of one child process."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{argv[:3]} failed:\n{done.stderr}")
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    return seconds, peak_kb / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    OUT.mkdir(exist_ok=True)
    extract = OUT / f"register-{args.people}.csv"
    if not extract.exists():
        residents = args.people * 9 // 10
        subprocess.run(
            [
                sys.executable,
                "-m",
                "courrier",
                "register",
                "generate",
                "--people",
                str(residents),
                "--cross-border",
                str(args.people - residents),
                "--seed",
                "1",
                "--bad-rows",
                "0.001",
                "-o",
                str(extract),
            ],
            check=True,
            capture_output=True,
        )

    with tempfile.TemporaryDirectory(prefix="bench-register-") as scratch:
        env = os.environ | {"COURRIER_DATABASE_URL": f"sqlite:///{scratch}/courrier.db"}
        subprocess.run(
            [sys.executable, "-m", "courrier", "db", "upgrade"], env=env, check=True, capture_output=True
        )
        rejects = str(Path(scratch) / "rejects.csv")
        baseline_s, baseline_mb, _ = timed(
            [sys.executable, "-c", _BASELINE, str(extract), f"{scratch}/baseline.db"], env
        )
        first_s, first_mb, first_out = timed([sys.executable, "-c", _COURRIER, str(extract), rejects], env)
        again_s, again_mb, again_out = timed([sys.executable, "-c", _COURRIER, str(extract), rejects], env)

    first, again = json.loads(first_out), json.loads(again_out)
    result = {
        "rows": args.people,
        "baseline_s": round(baseline_s, 2),
        "import_s": round(first_s, 2),
        "reimport_s": round(again_s, 2),
        "import_rows_per_s": round(args.people / first_s),
        "ratio_to_baseline": round(first_s / baseline_s, 2),
        "peak_rss_mb": round(max(first_mb, again_mb), 1),
        "baseline_peak_rss_mb": round(baseline_mb, 1),
        "inserted": first["inserted"],
        "unchanged_on_reimport": again["unchanged"],
        "rejected": first["rejected"],
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"register import of {args.people:,} rows on SQLite (target: 1,000,000 in < 60 s, < 500 MB)")
    print(f"  baseline (csv -> sqlite3, no checks) {baseline_s:7.1f} s  {baseline_mb:6.0f} MB")
    print(
        f"  courrier, fresh database             {first_s:7.1f} s  {first_mb:6.0f} MB"
        f"  {args.people / first_s:,.0f} rows/s  {first_s / baseline_s:.1f}x baseline"
    )
    print(
        f"  courrier, same file again            {again_s:7.1f} s  {again_mb:6.0f} MB"
        f"  ({again['unchanged']:,} unchanged)"
    )


if __name__ == "__main__":
    main()
