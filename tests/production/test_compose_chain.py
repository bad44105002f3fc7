"""From register to print jobs on a real Dask LocalCluster, then inserter, reconciliation and reprint,
on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select

from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import new_keys
from courrier.db.schema import job_pieces, pieces, print_jobs, waves
from courrier.errors import ConflictError
from courrier.ledger.pieces import piece_states
from courrier.production.compose_wave import compose_wave
from courrier.production.inserter import (
    parse_sheet_mark,
    read_control_file,
    simulate_results,
    write_results_file,
)
from courrier.production.jobs import mark_job
from courrier.production.profiles import load_inserter, load_printer
from courrier.production.reconcile import reconcile
from courrier.production.reprint import reprint
from courrier.production.results import apply_results
from courrier.register.generate import generate_register
from courrier.register.load import import_register

from ..compose.conftest import EXAMPLES, PdfTools
from .conftest import AT, made_once_per_session

PROFILES = EXAMPLES.parent / "profiles"
PREFLIGHT = EXAMPLES.parents[1] / "bench" / "preflight.py"

CAMPAIGN = """
name = "testing"
kind = "invitation"
template = "{template}"
languages = ["fr", "de", "en", "pt"]
[cohort]
sources = ["rnpp", "ccss"]
order = "postcode"
[waves]
size = 120
[codes]
valid_until = 2026-04-30
max_uses = 1
[qr]
content = "https://test.example.lu/c/{{code}}"
"""


@pytest.fixture
def wave(engine, tmp_path: Path):
    """A campaign of about 120 people with codes issued for wave 1."""
    return issued_wave(engine, tmp_path)


def issued_wave(engine, tmp_path: Path):
    """The campaign of about 120 people with codes issued for wave 1, made once per pytest worker and
    database (seconds of importing, planning and issuing) and restored for each test; its keys."""
    return made_once_per_session(engine, "issued_wave", lambda: _issue_wave(engine, tmp_path))


def _issue_wave(engine, tmp_path: Path):
    register = tmp_path / "register.csv"
    generate_register(register, people=110, cross_border=25, seed=5)
    import_register(engine, register)
    definition = parse_definition(CAMPAIGN.format(template=EXAMPLES / "mass-testing"), base=tmp_path)
    create_campaign(engine, definition, actor="test", now=AT)
    plan_campaign(engine, "testing", actor="test", now=AT)
    keys = new_keys()
    issue_codes(engine, "testing", keys=keys, actor="test", wave=1, now=AT)
    return keys


def compose(engine, keys, out: Path, client, **options):
    return compose_wave(
        engine,
        "testing",
        1,
        out=out,
        keys=keys,
        actor="test",
        now=AT,
        job_size_sheets=40,
        client=client,
        **options,
    )


def test_every_piece_lands_in_one_job_and_the_files_agree(engine, wave, tmp_path: Path, dask_client):
    tools = PdfTools()
    summary = compose(engine, wave, tmp_path / "out", dask_client)
    assert summary.failures == []
    with engine.connect() as connection:
        planned = connection.execute(
            select(func.count())
            .select_from(pieces)
            .where(pieces.c.wave_id.is_not(None), pieces.c.state == "composed")
        ).scalar()
        placements = connection.execute(
            select(job_pieces.c.piece_id, func.count()).group_by(job_pieces.c.piece_id)
        ).all()
    assert all(count == 1 for _, count in placements)
    assert len(placements) == planned == summary.letters
    folder = summary.folder
    for job in summary.jobs:
        pdf = folder / f"{job}.pdf"
        ticket = json.loads((folder / f"{job}.ticket.json").read_text("utf-8"))
        with (folder / f"{job}.manifest.csv").open(encoding="utf-8") as file:
            manifest = list(csv.DictReader(file))
        control = read_control_file(folder / f"{job}.inserter.csv")
        assert ticket["pdf_sha256"] == hashlib.sha256(pdf.read_bytes()).hexdigest()
        with pikepdf.open(pdf) as document:
            dparts = document.Root.DPartRoot.DPartRootNode.DParts[0]
            assert len(dparts) == ticket["pieces"] == len(manifest) == len(control)
            assert len(document.pages) == ticket["sheets"] == sum(int(row["sheets"]) for row in manifest)
        assert "national_id" not in manifest[0]
        assert [row["piece_id"] for row in manifest] == [str(envelope.piece_id) for envelope in control]
        tools.check(pdf)
        for page, row in enumerate(manifest[:3], start=1):  # the sheet marks read back from the paper
            mark = tools.barcodes(pdf, page)["DataMatrix"]
            assert parse_sheet_mark(mark) == (job, int(row["sequence"]), 1, 1, True)
    # Every print file of the wave passes the print room's preflight.
    done = subprocess.run(
        [sys.executable, str(PREFLIGHT), str(folder)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_ticket_and_inserter_file_follow_the_template_and_the_profiles(
    engine, wave, tmp_path: Path, dask_client
):
    """A duplex template on a mono printer and an inserter with an 18-character mark and DL folds."""
    tools = PdfTools()
    printer = load_printer(PROFILES / "mono-printer.toml")
    inserter = load_inserter(PROFILES / "dl-inserter-18.toml")
    summary = compose(engine, wave, tmp_path / "out", dask_client, printer=printer, inserter=inserter)
    assert summary.failures == []
    with engine.connect() as connection:
        found = connection.execute(select(waves.c.send_date).where(waves.c.number == 1)).scalar()
    send_date = found.isoformat() if found else None
    folder = summary.folder
    for job in summary.jobs:
        ticket = json.loads((folder / f"{job}.ticket.json").read_text("utf-8"))
        control_path = folder / f"{job}.inserter.csv"
        assert ticket["sides"] == "duplex"
        assert (ticket["colour"], ticket["output_intent"]) == ("gray", "Custom")
        assert ticket["media"] == "A4 90 g/m² white"
        assert ticket["envelope"] == {
            "stock": "DL window envelope (DIN 5008 B)",
            "window": "C5 window envelope (DIN 5008 B)",
        }
        assert (ticket["fold"], ticket["postage_class"]) == ("letter", "B non prioritaire")
        assert ticket["send_date"] == send_date
        assert ticket["destination"] in ("domestic", "international")
        # One A4 sheet of 90 g/m2 (5.6 g) in a 5 g envelope.
        assert ticket["weight_g_per_piece"]["min"] == pytest.approx(10.6, abs=0.1)
        assert ticket["manifest_sha256"] == _sha256(folder / f"{job}.manifest.csv")
        assert ticket["inserter_file_sha256"] == _sha256(control_path)
        lines = control_path.read_text("utf-8").splitlines()
        control = read_control_file(control_path)
        assert lines[0] == f"H,{job},{len(control)},{sum(e.sheets for e in control)}"
        assert lines[-1].split(",")[:4] == ["T", job, str(ticket["pieces"]), str(ticket["sheets"])]
        assert control[0].bundle_break
        assert control[0].tray_break
        with pikepdf.open(folder / f"{job}.pdf") as document:
            intent = document.Root.OutputIntents[0]
            assert int(intent.DestOutputProfile.N) == 1
            sequence = read_control_file(control_path)[0].sequence
        mark = tools.barcodes(folder / f"{job}.pdf", 1)["DataMatrix"]
        assert mark == f"{job}{sequence:06d}0101E"
        assert len(mark) == 18


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_an_interrupted_compose_keeps_finished_jobs_and_makes_the_rest(
    engine, wave, tmp_path: Path, dask_client
):
    class StopError(Exception):
        pass

    def stop_after_first_job(job: str, letters: int) -> None:
        raise StopError

    with pytest.raises(StopError):
        compose(engine, wave, tmp_path / "out", dask_client, on_job_done=stop_after_first_job)
    with engine.connect() as connection:
        assignment = sorted(connection.execute(select(job_pieces.c.job_id, job_pieces.c.piece_id)).all())
    resumed = compose(engine, wave, tmp_path / "out", dask_client)
    assert len(resumed.kept) == 1
    again = compose(engine, wave, tmp_path / "out", dask_client)
    assert again.jobs == []
    assert sorted(again.kept) == sorted(resumed.jobs + resumed.kept)
    with engine.connect() as connection:
        assert (
            sorted(connection.execute(select(job_pieces.c.job_id, job_pieces.c.piece_id)).all()) == assignment
        )


def test_inserter_losses_are_reconciled_and_reprinted_once(engine, wave, tmp_path: Path, dask_client):
    out = tmp_path / "out"
    summary = compose(engine, wave, out, dask_client)
    for job in summary.jobs:
        control = read_control_file(summary.folder / f"{job}.inserter.csv")
        results = list(simulate_results(control, damage=0.05, miss=0.05, seed=3))
        results.append(results[0])  # the inserter reported one envelope twice
        write_results_file(summary.folder / f"{job}.results.csv", results)
        with engine.begin() as connection:
            mark_job(connection, job, "printed", actor="test", at=AT)
        report = apply_results(engine, summary.folder / f"{job}.results.csv", actor="test", at=AT)
        assert [why for _, _, why in report.refused] == ["duplicate"]
    with engine.connect() as connection:
        campaign_id = connection.execute(select(pieces.c.campaign_id)).scalars().first()
        totals = reconcile(connection, campaign_id).total
    lost = totals["damaged"] + totals["missing"]
    assert lost > 0
    assert totals["inserted"] + lost == totals["expected"] == summary.letters
    if lost / totals["expected"] > 0.02:
        with pytest.raises(ConflictError) as caught:
            reprint(engine, "testing", out=out, keys=wave, actor="test", now=AT, client=dask_client)
        assert caught.value.code == "reprint_threshold"
    # Reprinted on other machines than the first run: the reprint follows the profiles it is given.
    plan, reprinted = reprint(
        engine,
        "testing",
        out=out,
        keys=wave,
        actor="test",
        now=AT,
        confirmed=True,
        client=dask_client,
        printer=load_printer(PROFILES / "mono-printer.toml"),
        inserter=load_inserter(PROFILES / "dl-inserter-18.toml"),
    )
    assert reprinted is not None
    assert reprinted.letters == lost == plan.to_reprint
    assert all(".R1" in job for job in reprinted.jobs)
    for job in reprinted.jobs:
        ticket = json.loads((reprinted.folder / f"{job}.ticket.json").read_text("utf-8"))
        assert (ticket["colour"], ticket["fold"]) == ("gray", "letter")
    with engine.connect() as connection:
        reprinted_pieces = list(
            connection.execute(
                select(job_pieces.c.piece_id)
                .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
                .where(print_jobs.c.reprint_of.is_not(None))
            ).scalars()
        )
        states = piece_states(connection, reprinted_pieces)
    assert len(reprinted_pieces) == lost
    assert set(states.values()) == {"composed"}  # never a piece that was inserted
    again_plan, again = reprint(
        engine, "testing", out=out, keys=wave, actor="test", now=AT, confirmed=True, client=dask_client
    )
    assert again is None
    assert again_plan.to_reprint == 0
