"""Benchmark: the hotel voucher campaign end to end, and its reimbursement statements.

Targets (issue 16): the whole 700,000-voucher campaign from an imported register to composed print
jobs in under 8 minutes on this machine, and statements for 130,000 redemptions over 1,500
establishments in under 30 s.

``--campaign`` (a) runs the library pipeline the CLI runs, on the embedded defaults (SQLite, a
LocalCluster of one worker per core), each phase timed: register generate (untimed: the extract is an
input) -> import -> campaign create (examples/campaigns/hotel-voucher.toml: everyone 16+, residents and
cross-border workers, signed QR tokens) -> plan -> codes issue -> compose every wave. ``--people`` is the
register's size (about 85% are 16 or more); the time is also projected to 700,000 vouchers at the measured
rate. The baseline, measured in the same run, is the composer alone on one core over the same number of
voucher letters from in-memory records: the ratio shows what the rest costs.

``--statements`` (b) inserts ``--redemptions`` synthetic redemptions over ``--establishments``
establishments in bulk (untimed; foreign keys to codes are off for that insert: the statements read
only redemptions and establishments), then times ``courrier vouchers statements --workers CORES`` for the
month: the cluster's start, the run's transaction, every statement's PDF and CSV (on the cluster), and the
SEPA file. ``--workers 0`` composes them in this process instead (no cluster: what the run costs on
one core). Baseline: composing one 30-line statement page alone, times the pages made.

    python bench/vouchers.py [--campaign] [--statements] [--people 20000] [--redemptions 130000]
                             [--establishments 1500] [--workers N] [--json]

Run it under ``flock /tmp/courrier-bench.lock``; on a machine shared with other work the times are
what that machine gave (the load average is printed).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE.parent / "examples"
NOW = dt.datetime(2026, 3, 12, 8, tzinfo=dt.UTC)
CAMPAIGN_TARGET_S = 8 * 60
STATEMENTS_TARGET_S = 30.0
FULL_CAMPAIGN = 700_000


def campaign(folder: Path, people: int) -> dict[str, Any]:
    from distributed import Client, LocalCluster
    from sqlalchemy import select

    from courrier.campaigns.definition import parse_definition
    from courrier.campaigns.plan import plan_campaign
    from courrier.campaigns.store import create_campaign
    from courrier.codes.issue import issue_codes
    from courrier.codes.keys import create_key_file
    from courrier.db import make_engine, upgrade
    from courrier.db.schema import waves
    from courrier.production.compose_wave import compose_wave
    from courrier.register.generate import generate_register
    from courrier.register.load import import_register

    engine = make_engine(f"sqlite:///{folder / 'courrier.db'}")
    upgrade(engine)
    register = folder / "register.csv"
    residents = people * 9 // 10
    generate_register(register, people=residents, cross_border=people - residents, seed=16)
    keys = create_key_file(folder / "keys.json")
    times: dict[str, float] = {}
    cpu: dict[str, float] = {}  # this process's CPU time per phase (the wall time is the machine's load)
    cpu_started = [time.process_time()]

    def timed(name: str, started: float) -> None:
        times[name] = time.perf_counter() - started
        cpu[name] = time.process_time() - cpu_started[0]
        cpu_started[0] = time.process_time()
        print(f"  {name:<16} {times[name]:7.1f} s  (CPU {cpu[name]:.1f} s)", file=sys.stderr)

    started = time.perf_counter()
    cpu_started[0] = time.process_time()
    import_register(engine, register)
    timed("import", started)
    started = time.perf_counter()
    campaign_file = EXAMPLES / "campaigns" / "hotel-voucher.toml"
    definition = parse_definition(campaign_file.read_text(encoding="utf-8"), base=campaign_file.parent)
    create_campaign(engine, definition, actor="bench", now=NOW)
    timed("campaign create", started)
    started = time.perf_counter()
    plan_campaign(engine, definition.name, actor="bench", now=NOW)
    timed("plan", started)
    started = time.perf_counter()
    issue_codes(engine, definition.name, keys=keys, actor="bench", now=NOW)
    timed("codes issue", started)
    with engine.connect() as connection:
        numbers = list(connection.execute(select(waves.c.number).order_by(waves.c.number)).scalars())
    letters = 0
    workers_cpu_s = 0.0
    started = time.perf_counter()
    cpu_started[0] = time.process_time()
    with (
        LocalCluster(n_workers=os.cpu_count() or 1, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        for number in numbers:
            summary = compose_wave(
                engine,
                definition.name,
                number,
                out=folder / "jobs",
                keys=keys,
                actor="bench",
                now=NOW,
                client=client,
            )
            letters += summary.letters
            workers_cpu_s += summary.composer_cpu_s
    timed("compose", started)
    return {
        "vouchers": letters,
        "waves": len(numbers),
        "phases_s": times,
        "phases_cpu_s": cpu,
        "compose_workers_cpu_s": workers_cpu_s,
    }


def campaign_baseline(letters: int) -> float:
    from courrier.compose import compose_job, load_template

    folder = EXAMPLES / "templates" / "voucher"
    samples = [json.loads(line) for line in (folder / "sample.jsonl").read_text("utf-8").splitlines()]
    loaded = load_template(folder)
    started = time.perf_counter()
    compose_job(
        loaded, (samples[n % len(samples)] | {"piece_id": str(n)} for n in range(letters)), io.BytesIO()
    )
    return time.perf_counter() - started


def statements(folder: Path, redemption_count: int, establishment_count: int, workers: int) -> dict[str, Any]:
    from courrier.db import make_engine, upgrade
    from courrier.db.bulk import bulk_insert
    from courrier.db.schema import establishments, redemptions
    from courrier.vouchers.sepa import load_payer
    from courrier.vouchers.statements import LOCAL, Period, issue_statements

    engine = make_engine(f"sqlite:///{folder / 'statements.db'}")
    upgrade(engine)
    rng = random.Random(16)
    ids = [f"E{n:05d}" for n in range(1, establishment_count + 1)]
    # A few big hotels take most vouchers: weights falling with the rank, as in the reference case.
    weights = [1 / (rank + 10) for rank in range(establishment_count)]
    month = Period(dt.date(2026, 2, 1), dt.date(2026, 2, 28))
    start = dt.datetime.combine(month.first, dt.time(), LOCAL).astimezone(dt.UTC)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")  # only outside a transaction
        connection.commit()
        connection.begin()
        bulk_insert(
            connection,
            establishments,
            [
                {
                    "id": establishment_id,
                    "name": f"Hôtel de la Vallée {n}",
                    "kind": "hotel",
                    "licence_number": f"HOT-{n:05d}",
                    "address": f"{n} rue de la Gare",
                    "postcode": "L-1611",
                    "commune": "Luxembourg",
                    "region": "Luxembourg",
                    "iban": "LU280019400644750000",
                    "contact": f"hotel{n}@example.lu",
                    "status": "approved",
                    "created_at": NOW,
                    "updated_at": NOW,
                }
                for n, establishment_id in enumerate(ids, start=1)
            ],
        )
        chosen = rng.choices(ids, weights, k=redemption_count)
        rows = []
        for n, establishment_id in enumerate(chosen, start=1):
            at = start + dt.timedelta(seconds=rng.randrange(27 * 86_400))
            rows.append(
                {
                    "nonce": f"n{n}",
                    "code_id": n,
                    "campaign_id": 1,
                    "establishment_id": establishment_id,
                    "amount_cents": 5000,
                    "stay_from": at.date(),
                    "stay_to": at.date() + dt.timedelta(days=1 + n % 3),
                    "reference": f"BK-{n:07d}",
                    "redeemed_by": "desk",
                    "redeemed_at": at,
                    "live_code_id": n,
                }
            )
        bulk_insert(connection, redemptions, rows)
        connection.commit()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    from distributed import Client

    from courrier.app import local_cluster

    payer = load_payer(EXAMPLES / "vouchers" / "payer-account.toml")

    def run(client: Any) -> Any:
        return issue_statements(
            engine,
            month,
            payer=payer,
            folder=folder / "statements",
            actor="bench",
            now=dt.datetime(2026, 3, 2, 8, tzinfo=dt.UTC),
            client=client,
        )

    started = time.perf_counter()
    cpu_started = time.process_time()
    workers_cpu_s = 0.0
    if workers == 0:
        summary = run(None)
    else:
        # As `courrier vouchers statements --workers N` runs it: the cluster's start is in the time.
        with local_cluster(workers) as cluster, Client(cluster) as client:
            workers_before = client.run(time.process_time)
            summary = run(client)
            workers_after = client.run(time.process_time)
        workers_cpu_s = sum(workers_after[worker] - workers_before[worker] for worker in workers_after)
    elapsed = time.perf_counter() - started
    cpu_s = time.process_time() - cpu_started
    pages = sum(-(-s.lines // 30) for s in summary.statements)
    total_bytes = sum(path.stat().st_size for path in summary.folder.iterdir())
    return {
        "statements_s": elapsed,
        "cpu_here_s": cpu_s,
        "cpu_workers_s": workers_cpu_s,
        "statements": len(summary.statements),
        "lines": sum(s.lines for s in summary.statements),
        "pages": pages,
        "total_eur": summary.total_cents / 100,
        "megabytes": total_bytes / 1e6,
    }


def statement_page_baseline(pages: int) -> float:
    """One 30-line statement page alone, composed ``min(pages, 200)`` times, scaled to ``pages``."""
    from courrier.vouchers.statement_files import REDEMPTION, Payee, Statement, StatementLine, statement_pdf

    day = dt.date(2026, 2, 10)
    lines = tuple(
        StatementLine(n, REDEMPTION, n, day, day, day + dt.timedelta(days=1), f"BK-{n:07d}", 5000)
        for n in range(1, 31)
    )
    made = Statement(
        "20260201-00001",
        Payee("E1", "Hôtel", "LU280019400644750000", postcode="L-1611", locality="Luxembourg"),
        day,
        day,
        NOW,
        lines,
    )
    statement_pdf(made, io.BytesIO())
    runs = min(pages, 200)
    started = time.perf_counter()
    for _ in range(runs):
        statement_pdf(made, io.BytesIO())
    return (time.perf_counter() - started) / runs * pages


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--campaign", action="store_true", help="(a) the campaign, register to print jobs")
    parser.add_argument("--statements", action="store_true", help="(b) statements for a month of redemptions")
    parser.add_argument("--people", type=int, default=20_000, help="register size for (a)")
    parser.add_argument("--redemptions", type=int, default=130_000)
    parser.add_argument("--establishments", type=int, default=1_500)
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="(b) Dask workers; 0: in this process"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    both = not (args.campaign or args.statements)
    result: dict[str, Any] = {"load_average_1min": round(os.getloadavg()[0], 1), "cores": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="bench-vouchers-") as scratch:
        folder = Path(scratch)
        if args.campaign or both:
            measured = campaign(folder, args.people)
            total_s = sum(measured["phases_s"].values())
            rate = measured["vouchers"] / total_s
            baseline_s = campaign_baseline(measured["vouchers"])
            result["campaign"] = {
                "people": args.people,
                "vouchers": measured["vouchers"],
                "waves": measured["waves"],
                "phases_s": {name: round(s, 1) for name, s in measured["phases_s"].items()},
                "phases_cpu_s": {name: round(s, 1) for name, s in measured["phases_cpu_s"].items()},
                "compose_workers_cpu_s": round(measured["compose_workers_cpu_s"], 1),
                "total_s": round(total_s, 1),
                "vouchers_per_s": round(rate),
                "projected_700k_minutes": round(FULL_CAMPAIGN / rate / 60, 1),
                "target_minutes": CAMPAIGN_TARGET_S / 60,
                "baseline_composer_one_core_s": round(baseline_s, 1),
                "ratio_to_one_core_composer": round(baseline_s / total_s, 2),
            }
        if args.statements or both:
            measured = statements(folder, args.redemptions, args.establishments, args.workers)
            baseline_s = statement_page_baseline(measured["pages"])
            result["statements"] = {
                **{
                    key: round(value, 1) if isinstance(value, float) else value
                    for key, value in measured.items()
                },
                "target_s": STATEMENTS_TARGET_S,
                "ratio_to_target": round(STATEMENTS_TARGET_S / measured["statements_s"], 2),
                "baseline_pages_alone_s": round(baseline_s, 1),
                "ratio_to_pages_alone": round(baseline_s / measured["statements_s"], 2),
            }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(
        f"hotel vouchers on {result['cores']} cores, load average {result['load_average_1min']} when started"
    )
    if "campaign" in result:
        found = result["campaign"]
        print(
            f"(a) campaign: {found['vouchers']:,} vouchers from a register of {found['people']:,}"
            f" (target: {FULL_CAMPAIGN:,} in < {found['target_minutes']:g} min)"
        )
        for name, seconds in found["phases_s"].items():
            print(f"  {name:<38} {seconds:7.1f} s  (CPU here {found['phases_cpu_s'][name]:.1f} s)")
        print(f"  compose: the workers' composer CPU      {found['compose_workers_cpu_s']:7.1f} s")
        print(
            f"  import to print jobs                   {found['total_s']:7.1f} s  {found['vouchers_per_s']:,}"
            f" vouchers/s -> {FULL_CAMPAIGN:,} in {found['projected_700k_minutes']} min"
        )
        print(
            f"  baseline: composer alone, one core     {found['baseline_composer_one_core_s']:7.1f} s"
            f"  ratio {found['ratio_to_one_core_composer']}x"
        )
    if "statements" in result:
        found = result["statements"]
        print(
            f"(b) statements: {found['lines']:,} redemptions, {found['statements']:,} establishments"
            f" (target: < {found['target_s']:g} s)"
        )
        print(
            f"  courrier vouchers statements           {found['statements_s']:7.1f} s  ratio to target"
            f" {found['ratio_to_target']}x; {found['pages']:,} pages, {found['megabytes']} MB,"
            f" EUR {found['total_eur']:,.2f}"
        )
        print(f"  CPU: this process {found['cpu_here_s']:.1f} s, the workers {found['cpu_workers_s']:.1f} s")
        print(
            f"  baseline: the pages alone, one core    {found['baseline_pages_alone_s']:7.1f} s"
            f"  ratio {found['ratio_to_pages_alone']}x"
        )


if __name__ == "__main__":
    sys.exit(main())
