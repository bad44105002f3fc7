"""Benchmark: planned pieces to composed print jobs on the embedded defaults (SQLite, LocalCluster).

Target (issue 5): 1,000,000 letters in under 10 minutes on a 2-core machine, peak memory under 2 GB.
Sets up a synthetic register, the mass-testing campaign (everyone) in one wave, and its codes, untimed;
then times `compose` of that wave: planning jobs, building records (decrypting each code), composing on
the LocalCluster (one worker per core), writing the job files and recording every piece. Each phase runs
in a fresh process, so the peak memory reported is that of composing alone (the client, and the largest
Dask worker). The baseline, measured in the same run, is the composer alone on one core over the same
number of letters of the same template (records made in memory): the ratio shows what the database,
Dask and the files cost.

    python bench/production.py [--people 100000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE.parent / "examples" / "templates" / "mass-testing"
NOW = dt.datetime(2026, 3, 12, 8, tzinfo=dt.UTC)
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


def peak_mb() -> float:
    """This process's peak RSS in MB: VmHWM, which, unlike ru_maxrss, does not carry over the size of
    the process a child was forked from."""
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def set_up(folder: Path, people: int) -> dict[str, float]:
    """The register, the campaign, its plan and codes; keys in ``folder/keys.json``."""
    from courrier.campaigns.definition import parse_definition
    from courrier.campaigns.plan import plan_campaign
    from courrier.campaigns.store import create_campaign
    from courrier.codes.issue import issue_codes
    from courrier.codes.keys import create_key_file
    from courrier.db import make_engine, upgrade
    from courrier.register.generate import generate_register
    from courrier.register.load import import_register

    started = time.perf_counter()
    engine = make_engine(f"sqlite:///{folder / 'courrier.db'}")
    upgrade(engine)
    register = folder / "register.csv"
    residents = people * 9 // 10
    generate_register(register, people=residents, cross_border=people - residents, seed=1)
    import_register(engine, register)
    register.unlink()
    definition = parse_definition(CAMPAIGN.format(template=TEMPLATE, size=people * 2), base=folder)
    create_campaign(engine, definition, actor="bench", now=NOW)
    plan_campaign(engine, "bench", actor="bench", now=NOW)
    keys = create_key_file(folder / "keys.json")
    issue_codes(engine, "bench", keys=keys, actor="bench", wave=1, now=NOW)
    return {"setup_s": time.perf_counter() - started}


def compose(folder: Path) -> dict[str, float]:
    """The timed part: ``compose`` of wave 1, as the CLI runs it."""
    from distributed import Client, LocalCluster

    from courrier.codes.keys import load_keys
    from courrier.db import make_engine
    from courrier.production.compose_wave import compose_wave

    engine = make_engine(f"sqlite:///{folder / 'courrier.db'}")
    keys = load_keys(str(folder / "keys.json"))
    started = time.perf_counter()
    # The embedded default's cluster (one single-threaded worker process per core), started here rather
    # than inside compose so that the workers' peak memory can be asked for before it closes.
    with (
        LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        summary = compose_wave(
            engine,
            "bench",
            1,
            out=folder / "jobs",
            keys=keys,
            actor="bench",
            now=NOW,
            job_size_sheets=5_000,
            client=client,
        )
        compose_s = time.perf_counter() - started
        workers_mb = client.run(peak_mb)
    return {
        "compose_s": compose_s,
        "letters": summary.letters,
        "jobs": len(summary.jobs),
        "composer_cpu_s": summary.composer_cpu_s,
        "peak_rss_client_mb": peak_mb(),
        "peak_rss_worker_mb": max(workers_mb.values()),
    }


def baseline(letters: int) -> dict[str, float]:
    """The composer alone, one core, the same number of letters from in-memory records."""
    from courrier.compose import compose_job, load_template

    samples = [json.loads(line) for line in (TEMPLATE / "sample.jsonl").read_text("utf-8").splitlines()]
    loaded = load_template(TEMPLATE)
    started = time.perf_counter()
    compose_job(
        loaded, (samples[n % len(samples)] | {"piece_id": str(n)} for n in range(letters)), io.BytesIO()
    )
    return {"baseline_one_core_s": time.perf_counter() - started}


def _run(queue: Any, phase: Callable[..., dict[str, float]], *args: Any) -> None:
    queue.put(phase(*args))


def in_own_process(phase: Callable[..., dict[str, float]], *args: Any) -> dict[str, float]:
    """Each phase in a fresh process, so that each one's peak memory is its own."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run, args=(queue, phase, *args))
    process.start()
    result: dict[str, float] = queue.get()
    process.join()
    if process.exitcode:
        raise SystemExit(f"{phase.__name__} failed (exit {process.exitcode})")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-production-") as scratch:
        folder = Path(scratch)
        measured = in_own_process(set_up, folder, args.people)
        measured |= in_own_process(compose, folder)
    measured |= in_own_process(baseline, int(measured["letters"]))
    letters, compose_s = int(measured["letters"]), measured["compose_s"]
    result = {
        "letters": letters,
        "jobs": int(measured["jobs"]),
        "setup_s": round(measured["setup_s"], 1),
        "compose_s": round(compose_s, 1),
        "letters_per_s": round(letters / compose_s),
        "projected_1m_minutes": round(1_000_000 / (letters / compose_s) / 60, 1),
        "composer_cpu_s": round(measured["composer_cpu_s"], 1),
        "baseline_one_core_s": round(measured["baseline_one_core_s"], 1),
        "ratio_to_one_core_composer": round(measured["baseline_one_core_s"] / compose_s, 2),
        "peak_rss_client_mb": round(measured["peak_rss_client_mb"]),
        "peak_rss_worker_mb": round(measured["peak_rss_worker_mb"]),
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"compose of {letters:,} letters in {result['jobs']} jobs, SQLite + LocalCluster "
        "(target: 1,000,000 in < 10 min, < 2 GB)"
    )
    print(f"  setup (register, campaign, plan, codes)  {result['setup_s']:7.1f} s (not timed below)")
    rate = f"{result['letters_per_s']:,} letters/s -> 1,000,000 in {result['projected_1m_minutes']} min"
    print(f"  compose wave                             {result['compose_s']:7.1f} s  {rate}")
    ratio = result["ratio_to_one_core_composer"]
    baseline_s = result["baseline_one_core_s"]
    print(f"  baseline: composer alone, one core       {baseline_s:7.1f} s  ratio {ratio}x")
    print(f"  CPU time in the composer on the workers  {result['composer_cpu_s']:7.1f} s")
    client_mb, worker_mb = result["peak_rss_client_mb"], result["peak_rss_worker_mb"]
    print(f"  peak RSS while composing: client {client_mb} MB, largest worker {worker_mb} MB")


if __name__ == "__main__":
    sys.exit(main())
