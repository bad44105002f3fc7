"""Benchmark: planned pieces to composed print jobs on the embedded defaults (SQLite, LocalCluster).

Target (issue 5): 1,000,000 letters in under 10 minutes on a 2-core machine, peak memory under 2 GB.
Sets up a synthetic register, the mass-testing campaign (everyone) in one wave, and its codes, untimed;
then times `compose` of that wave: planning jobs, building records (decrypting each code), composing on
the LocalCluster (one worker per core), writing the job files and recording every piece. The baseline,
measured in the same run, is the composer alone on one core over the same number of letters of the same
template (records made in memory): the ratio shows what the database, Dask and the files cost.

    python bench/production.py [--people 100000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
CAMPAIGN = """
name = "bench"
kind = "invitation"
template = "{template}"
languages = ["fr", "de", "en", "pt"]
[cohort]
sources = ["rnpp", "ccss"]
order = "postcode"
[waves]
size = {size}
[codes]
valid_until = 2026-04-30
max_uses = 1
[qr]
content = "https://test.example.lu/c/{{code}}"
"""


def peak_mb() -> tuple[float, float]:
    """Peak RSS of this process and of the largest child (a Dask worker), in MB."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return own, children


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from courrier.campaigns.definition import parse_definition
    from courrier.campaigns.plan import plan_campaign
    from courrier.campaigns.store import create_campaign
    from courrier.codes.issue import issue_codes
    from courrier.codes.keys import new_keys
    from courrier.compose import compose_job, load_template
    from courrier.db import make_engine, upgrade
    from courrier.production.compose_wave import compose_wave
    from courrier.register.generate import generate_register
    from courrier.register.load import import_register

    now = dt.datetime(2026, 3, 12, 8, tzinfo=dt.UTC)
    with tempfile.TemporaryDirectory(prefix="bench-production-") as scratch:
        folder = Path(scratch)
        engine = make_engine(f"sqlite:///{folder / 'courrier.db'}")
        upgrade(engine)
        register = folder / "register.csv"
        residents = args.people * 9 // 10
        setup = time.perf_counter()
        generate_register(register, people=residents, cross_border=args.people - residents, seed=1)
        import_register(engine, register)
        template = EXAMPLES / "templates" / "mass-testing"
        definition = parse_definition(CAMPAIGN.format(template=template, size=args.people * 2), base=folder)
        create_campaign(engine, definition, actor="bench", now=now)
        plan_campaign(engine, "bench", actor="bench", now=now)
        keys = new_keys()
        issue_codes(engine, "bench", keys=keys, actor="bench", wave=1, now=now)
        setup_s = time.perf_counter() - setup

        started = time.perf_counter()
        summary = compose_wave(
            engine, "bench", 1, out=folder / "jobs", keys=keys, actor="bench", now=now, job_size_sheets=5_000
        )
        compose_s = time.perf_counter() - started
        own_mb, worker_mb = peak_mb()

        # Baseline: the composer alone, one core, the same number of letters from in-memory records.
        records_file = template / "sample.jsonl"
        samples = [json.loads(line) for line in records_file.read_text("utf-8").splitlines()]
        loaded = load_template(template)
        letters = summary.letters
        baseline_started = time.perf_counter()
        compose_job(
            loaded, (samples[n % len(samples)] | {"piece_id": str(n)} for n in range(letters)), io.BytesIO()
        )
        baseline_s = time.perf_counter() - baseline_started

    result = {
        "letters": letters,
        "jobs": len(summary.jobs),
        "setup_s": round(setup_s, 1),
        "compose_s": round(compose_s, 1),
        "letters_per_s": round(letters / compose_s),
        "projected_1m_minutes": round(1_000_000 / (letters / compose_s) / 60, 1),
        "composer_cpu_s": round(summary.composer_cpu_s, 1),
        "baseline_one_core_s": round(baseline_s, 1),
        "ratio_to_one_core_composer": round(baseline_s / compose_s, 2),
        "peak_rss_client_mb": round(own_mb),
        "peak_rss_worker_mb": round(worker_mb),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"compose of {letters:,} letters in {len(summary.jobs)} jobs, SQLite + LocalCluster "
        "(target: 1,000,000 in < 10 min, < 2 GB)"
    )
    print(f"  setup (register, campaign, plan, codes)  {setup_s:7.1f} s (not timed below)")
    rate = f"{result['letters_per_s']:,} letters/s -> 1,000,000 in {result['projected_1m_minutes']} min"
    print(f"  compose wave                             {compose_s:7.1f} s  {rate}")
    ratio = result["ratio_to_one_core_composer"]
    print(f"  baseline: composer alone, one core       {baseline_s:7.1f} s  ratio {ratio}x")
    print(f"  CPU time in the composer on the workers  {summary.composer_cpu_s:7.1f} s")
    print(f"  peak RSS: client {own_mb:.0f} MB, largest worker {worker_mb:.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
