"""Compose of one wave and reprint of one campaign, each twice at once in two processes, on SQLite and
PostgreSQL; and the same steps killed with SIGKILL and run again. The compose and reprint fixtures
are those of the chain tests (a campaign of ~120 people, codes issued, a real Dask cluster)."""

from __future__ import annotations

import csv
from pathlib import Path

import pikepdf
import pytest
from sqlalchemy import func, select, update

from courrier.campaigns.plan import plan_campaign
from courrier.codes.keys import dump_keys
from courrier.db.schema import events, job_pieces, persons, pieces, print_jobs
from courrier.production.inserter import read_control_file, simulate_results, write_results_file
from courrier.production.jobs import mark_job
from courrier.production.results import apply_results

from .conftest import AT
from .race import kill, race, run, start_paused
from .test_compose_chain import compose, issued_wave

COMPOSE = ["compose", "testing", "--wave", "1", "--job-size", "40"]
FINISH = "courrier.production.compose_wave:_finish_job"


@pytest.fixture
def issued(engine, tmp_path: Path):
    """The chain tests' campaign: about 120 people, codes issued for wave 1; its keys."""
    return issued_wave(engine, tmp_path)


@pytest.fixture
def on_cluster(dask_scheduler: str) -> list[str]:
    """The commands' Dask option: the session's running cluster, as an operator's ``--scheduler`` (a
    LocalCluster of its own in every racing process would cost seconds each; the steps' guards are in the
    commands' database work, not in the cluster)."""
    return ["--scheduler", dask_scheduler]


def _env(keys) -> dict[str, str]:
    return {"COURRIER_KEYS": dump_keys(keys)}


def _count(engine, query) -> int:
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def _composed_events(engine) -> int:
    return _count(engine, select(func.count()).select_from(events).where(events.c.type == "piece.composed"))


def _printed_ids(folder: Path) -> list[int]:
    """Every piece id in a folder's print files (DPart ids), manifests and inserter control files."""
    found = []
    for pdf in sorted(folder.glob("*.pdf")):
        with pikepdf.open(pdf) as document:
            for part in document.Root.DPartRoot.DPartRootNode.DParts[0]:
                found.append(int(str(part.DPM.CIP4_Root.CIP4_Recipient.CIP4_UniqueID)))
        with pdf.with_suffix(".manifest.csv").open(encoding="utf-8") as file:
            found += [int(row["piece_id"]) for row in csv.DictReader(file)]
        found += [envelope.piece_id for envelope in read_control_file(pdf.with_suffix(".inserter.csv"))]
    return found


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "control"])
def test_two_composes_of_one_wave_give_one_set_of_jobs(
    engine, db_url, issued, tmp_path: Path, guard: bool, on_cluster: list[str]
):
    out = tmp_path / "out"
    first, second = race(
        db_url,
        tmp_path / "race",
        [*COMPOSE, *on_cluster, "--out", str(out)],
        pause_at=FINISH,
        guard=guard,
        env=_env(issued),
    )
    composed = _count(engine, select(func.count()).select_from(pieces).where(pieces.c.state == "composed"))
    if guard:
        assert first.code == 0, first.output
        assert second.code == 1, second.output
        assert "[step_running]" in second.output
        assert "Traceback" not in second.output
        assert _composed_events(engine) == composed > 100  # each letter composed once
    else:
        # Both go through the wave and both say they did: the first, resumed, finds the letters composed
        # by the second and records the jobs it had been making as empty, whose print files exist.
        assert (first.code, second.code) == (0, 0)
        empty = _count(
            engine, select(func.count()).select_from(print_jobs).where(print_jobs.c.state == "empty")
        )
        assert empty > 0


def _printed_and_reported(engine, wave_keys, tmp_path: Path, client) -> None:
    summary = compose(engine, wave_keys, tmp_path / "out", client)
    for job in summary.jobs:
        control = read_control_file(summary.folder / f"{job}.inserter.csv")
        results = summary.folder / f"{job}.results.csv"
        write_results_file(results, simulate_results(control, damage=0.05, miss=0.05, seed=3))
        with engine.begin() as connection:
            mark_job(connection, job, "printed", actor="test", at=AT)
        apply_results(engine, results, actor="test", at=AT)


def _reprint_jobs(engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(
            connection.execute(
                select(print_jobs.c.name).where(print_jobs.c.reprint_of.is_not(None))
            ).scalars()
        )


def _pieces_in_reprints(engine) -> list[int]:
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(job_pieces.c.piece_id)
                .join(print_jobs, print_jobs.c.id == job_pieces.c.job_id)
                .where(print_jobs.c.reprint_of.is_not(None))
            ).scalars()
        )


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "control"])
def test_two_reprints_at_once_reprint_each_piece_once(
    engine, db_url, issued, tmp_path: Path, guard: bool, dask_client, on_cluster: list[str]
):
    _printed_and_reported(engine, issued, tmp_path, dask_client)
    first, second = race(
        db_url,
        tmp_path / "race",
        ["reprint", "testing", "--yes", *on_cluster],
        # Guarded: held inside the lock; the control: after planning, as it makes its jobs.
        pause_at="courrier.production.reprint:" + ("plan_reprint" if guard else "add_job"),
        guard=guard,
        env=_env(issued),
    )
    reprinted = _pieces_in_reprints(engine)
    if guard:
        assert first.code == 0, first.output
        assert second.code == 1, second.output
        assert "[step_running]" in second.output
        assert reprinted
        assert len(reprinted) == len(set(reprinted))  # one reprint per lost piece
        assert all(name.endswith(".R1") for name in _reprint_jobs(engine))
    else:
        # .R1 and .R2 for the same pieces, or a crash: the double effect the lock prevents.
        assert len(reprinted) > len(set(reprinted)) or first.code != 0 or second.code != 0


def test_a_reprint_killed_before_composing_is_resumed(
    engine, db_url, issued, tmp_path: Path, dask_client, on_cluster: list[str]
):
    _printed_and_reported(engine, issued, tmp_path, dask_client)
    args = ["reprint", "testing", "--yes", *on_cluster]
    killed = start_paused(
        db_url, tmp_path / "kill", args, pause_at="courrier.production.reprint:compose_jobs", env=_env(issued)
    )
    kill(killed)
    stranded = _reprint_jobs(engine)
    assert stranded  # made, not composed
    again = run(db_url, tmp_path / "kill", args, env=_env(issued))
    assert again.code == 0, again.output
    assert "nothing to reprint" not in again.output
    assert _reprint_jobs(engine) == stranded  # resumed, no .R2
    with engine.connect() as connection:
        states = set(
            connection.execute(
                select(print_jobs.c.state).where(print_jobs.c.reprint_of.is_not(None))
            ).scalars()
        )
        lost = connection.execute(
            select(func.count()).select_from(pieces).where(pieces.c.state.in_(("damaged", "missing")))
        ).scalar_one()
    assert states == {"composed"}
    assert lost == 0  # every damaged or missing letter is in a reprint, composed
    status = run(db_url, tmp_path / "kill", ["status", "testing"], env=_env(issued))
    assert all(name in status.output for name in stranded)


def test_a_compose_killed_then_a_withdrawal_never_prints_the_withdrawn(
    engine, db_url, issued, tmp_path: Path, on_cluster: list[str]
):
    out = tmp_path / "out"
    args = [*COMPOSE, *on_cluster, "--out", str(out)]
    killed = start_paused(db_url, tmp_path / "kill", args, pause_at=f"{FINISH}@2", env=_env(issued))
    kill(killed)
    with engine.begin() as connection:
        planned_job = (
            connection.execute(
                select(print_jobs.c.id).where(print_jobs.c.state == "planned").order_by(print_jobs.c.name)
            )
            .scalars()
            .first()
        )
        assert planned_job is not None  # the kill came before the last job
        piece_id, person_id = connection.execute(
            select(pieces.c.id, pieces.c.person_id)
            .join(job_pieces, job_pieces.c.piece_id == pieces.c.id)
            .where(job_pieces.c.job_id == planned_job)
            .order_by(pieces.c.id)
        ).first()
        connection.execute(update(persons).where(persons.c.id == person_id).values(deceased=True))
    plan_campaign(engine, "testing", actor="test", now=AT)
    with engine.connect() as connection:
        assert (
            connection.execute(select(pieces.c.state).where(pieces.c.id == piece_id)).scalar_one()
            == "withdrawn"
        )
    resumed = run(db_url, tmp_path / "kill", args, env=_env(issued))
    assert resumed.code == 0, resumed.output
    assert "left out" in resumed.output
    printed = _printed_ids(out / "testing")
    assert piece_id not in printed
    composed = _count(engine, select(func.count()).select_from(pieces).where(pieces.c.state == "composed"))
    # Nothing lost, nothing twice: every other piece composed, once, in one file.
    assert _composed_events(engine) == composed
    assert len(printed) == 3 * composed
    assert len(set(printed)) == composed
