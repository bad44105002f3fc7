"""The operator's tasks (production/tasks.py, task_runs.py): one at a time per wave, taken once, a dead
worker's task interrupted, and a compose, a reprint and a results file run through a task as their CLI
commands run them; on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, update

from courrier.db.schema import operator_task_files, operator_tasks, pieces, print_jobs, step_locks
from courrier.errors import ConflictError
from courrier.production import task_runs, tasks
from courrier.production.inserter import read_control_file, simulate_results, write_results_file
from courrier.production.jobs import mark_job
from courrier.production.profiles import load_inserter, load_printer
from courrier.production.task_runs import Tools, run_task, work
from courrier.production.tasks import claim_next, get_task, reap_tasks, start_task

from ..conftest import HANG_S
from .conftest import AT
from .test_compose_chain import issued_wave

COMPOSE = {"wave": 1, "retry_failed": False, "job_size": 40}


def _start(engine, params=COMPOSE, *, kind="compose", campaign="test", now=AT, **options: Any) -> int:
    with engine.connect() as connection:
        cid = connection.execute(select(func.min(pieces.c.campaign_id))).scalar_one()
    return start_task(
        engine, kind, cid, campaign, dict(params), started_by="operator1", now=now, what="the work", **options
    )


def _count(engine, query) -> int:
    with engine.connect() as connection:
        return int(connection.execute(query).scalar_one())


def test_a_second_start_of_the_same_wave_is_refused_until_the_first_ends(engine, planned_pieces):
    first = _start(engine)
    with pytest.raises(ConflictError) as refused:
        _start(engine)
    assert refused.value.code == "task_running"
    assert refused.value.facts["task"] == first
    other_wave = _start(engine, {**COMPOSE, "wave": 2})  # another wave is other work
    assert other_wave != first
    task = claim_next(engine, AT)
    assert task is not None
    assert task.id == first
    assert tasks.end_task(engine, first, "finished", AT, result={"ok": True})
    again = _start(engine)
    with engine.connect() as connection:
        assert get_task(connection, first).state == "finished"
        assert get_task(connection, again).state == "queued"


def test_a_start_is_refused_while_the_cli_runs_the_same_step(engine, planned_pieces):
    with engine.begin() as connection:
        connection.execute(
            step_locks.insert().values(
                name=tasks.compose_key("test", 1), host="another-host", pid=1, actor="cli", acquired_at=AT
            )
        )
    with pytest.raises(ConflictError) as refused:
        _start(engine)
    assert refused.value.code == "step_running"


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "control-unguarded"])
def test_two_starts_at_once_queue_one_task(engine, planned_pieces, monkeypatch, guard: bool):
    """Two threads start the same compose at the same moment: one task, one refusal. The control takes
    the UNIQUE key away (no key: nothing to collide on) and gets two tasks, so the race is real."""
    if not guard:
        monkeypatch.setattr(tasks, "task_key", lambda *args: None)
    ready = threading.Barrier(2)
    original = tasks.write_transaction

    def together(engine_: Any) -> Any:
        ready.wait(timeout=HANG_S)  # both inside start_task, about to insert
        return original(engine_)

    monkeypatch.setattr(tasks, "write_transaction", together)
    outcomes: list[Any] = []

    def start() -> None:
        try:
            outcomes.append(_start(engine))
        except ConflictError as error:
            outcomes.append(error.code)

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HANG_S)
    queued = _count(engine, select(func.count()).select_from(operator_tasks))
    if guard:
        assert sorted(type(outcome).__name__ for outcome in outcomes) == ["int", "str"]
        assert "task_running" in outcomes
        assert queued == 1
    else:
        assert all(isinstance(outcome, int) for outcome in outcomes)
        assert queued == 2


def test_a_task_is_taken_by_one_worker(engine, planned_pieces):
    task_id = _start(engine)
    assert claim_next(engine, AT) is not None
    assert claim_next(engine, AT) is None
    with engine.connect() as connection:
        task = get_task(connection, task_id)
    assert task.state == "running"
    assert task.worker == tasks.this_worker()[0]


_CLAIM_AND_HANG = """
import sys, time
from courrier.db import make_engine
from courrier.production.tasks import claim_next, report
from courrier.db.types import utcnow
engine = make_engine(sys.argv[1])
task = claim_next(engine, utcnow())
report(engine, task.id, utcnow(), phase="composing", done=40, total=120, unit="letters")
print("claimed", flush=True)
time.sleep(600)
"""


def test_a_worker_killed_mid_run_leaves_its_task_interrupted(engine, db_url, planned_pieces):
    task_id = _start(engine)
    worker = subprocess.Popen(
        [sys.executable, "-c", _CLAIM_AND_HANG, db_url],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "claimed"
        # Alive: running, and nobody interrupts it.
        assert reap_tasks(engine, AT) == []
        os.killpg(worker.pid, signal.SIGKILL)
    finally:
        worker.wait(timeout=60)
        if worker.stdout is not None:
            worker.stdout.close()
    assert reap_tasks(engine, AT) == [task_id]
    with engine.connect() as connection:
        task = get_task(connection, task_id)
    assert task.state == "interrupted"
    assert task.error_code == "worker_lost"
    assert f"pid {worker.pid}" in (task.error_message or "")
    assert (task.done, task.total) == (40, 120)  # how far it got stays on the page
    assert _start(engine) != task_id  # the work can be started again


def test_a_worker_silent_on_another_host_is_interrupted_after_its_heartbeat_is_stale(engine, planned_pieces):
    task_id = _start(engine)
    claim_next(engine, AT)
    with engine.begin() as connection:
        connection.execute(update(operator_tasks).values(host="elsewhere", pid=1, heartbeat_at=AT))
    assert reap_tasks(engine, AT + dt.timedelta(seconds=tasks.STALE_AFTER_S - 1)) == []
    assert reap_tasks(engine, AT + dt.timedelta(seconds=tasks.STALE_AFTER_S + 1)) == [task_id]


def test_a_queued_task_cancelled_is_never_taken_and_frees_its_work(engine, planned_pieces):
    task_id = _start(engine)
    assert tasks.cancel_task(engine, task_id, by="operator2", now=AT) == "cancelled"
    assert claim_next(engine, AT) is None
    with engine.connect() as connection:
        task = get_task(connection, task_id)
    assert (task.state, task.error_code, task.finished_at) == ("cancelled", "task_cancelled", AT)
    assert "operator2" in (task.error_message or "")
    with pytest.raises(ConflictError) as ended:
        tasks.cancel_task(engine, task_id, by="operator2", now=AT)
    assert ended.value.code == "task_ended"
    assert _start(engine) != task_id  # the same wave may be started again


def test_a_cancelled_task_whose_worker_died_ends_cancelled(engine, planned_pieces):
    task_id = _start(engine)
    claim_next(engine, AT)
    assert tasks.cancel_task(engine, task_id, by="operator2", now=AT) == "cancelling"
    assert tasks.cancel_task(engine, task_id, by="operator2", now=AT) == "cancelling"  # twice is one cancel
    with engine.begin() as connection:
        connection.execute(update(operator_tasks).values(host="elsewhere", pid=1, heartbeat_at=AT))
    assert reap_tasks(engine, AT + dt.timedelta(seconds=tasks.STALE_AFTER_S + 1)) == [task_id]
    with engine.connect() as connection:
        assert get_task(connection, task_id).state == "cancelled"


def test_a_running_compose_cancelled_stops_between_jobs_and_a_new_start_makes_the_rest(
    engine, wave, dask_client, monkeypatch
):
    """The cancel is asked (from another connection, as the page does) once the first print job is made;
    the worker stops at its next progress report, and the jobs it made stay made."""
    params = {"wave": 1, "retry_failed": False, "job_size": 15}
    task_id = _start(engine, params)
    counted = task_runs._Progress.job_done

    def cancel_after_the_first(progress: Any, job: str, letters: int) -> None:
        counted(progress, job, letters)
        if progress.jobs == 1:
            assert tasks.cancel_task(engine, task_id, by="operator2", now=AT) == "cancelling"

    tools = _tools(wave, dask_client)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(task_runs._Progress, "job_done", cancel_after_the_first)
        assert work(engine, tools, once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        cancelled = get_task(connection, task_id)
        made = _count(engine, select(func.count()).where(print_jobs.c.state == "composed"))
    assert cancelled.state == "cancelled", cancelled.error_message
    assert "operator2" in (cancelled.error_message or "")
    assert cancelled.jobs_total is not None
    assert 1 <= made < cancelled.jobs_total, "it stopped before the end, keeping what it made"
    again = _start(engine, params)
    assert work(engine, tools, once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        resumed = get_task(connection, again)
    assert resumed.state == "finished", resumed.error_message
    assert resumed.result is not None
    assert len(resumed.result["jobs_kept"]) == made
    assert made + len(resumed.result["jobs_composed"]) == cancelled.jobs_total


def test_a_failing_step_ends_its_task_failed_with_the_steps_refusal(engine, planned_pieces):
    """The campaign's template is no real one: compose refuses as on the command line."""
    _start(engine)
    task = claim_next(engine, AT)
    assert task is not None
    tools = Tools(keys=lambda: None, client=lambda: None, signer=lambda _name: None, profiles=_profiles)  # type: ignore[arg-type,return-value]
    assert run_task(engine, task, tools, lambda: AT) == "failed"
    with engine.connect() as connection:
        ended = get_task(connection, task.id)
    assert ended.state == "failed"
    assert ended.error_code
    assert ended.error_message
    assert ended.finished_at == AT


def _profiles():
    return load_printer(), load_inserter()


@pytest.fixture
def wave(engine, tmp_path: Path, monkeypatch):
    """The chain tests' campaign (about 120 people, wave 1 issued), composed into the scratch folder."""
    monkeypatch.chdir(tmp_path)
    return issued_wave(engine, tmp_path)


def _tools(keys, client) -> Tools:
    return Tools(keys=lambda: keys, client=lambda: client, signer=lambda _name: None, profiles=_profiles)


def _campaign_id(engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.min(pieces.c.campaign_id))).scalar_one())


def test_a_compose_reprint_and_results_file_run_as_tasks(engine, wave, dask_client, tmp_path: Path):
    cid = _campaign_id(engine)
    seen: list[tuple[int, int | None, int, int | None]] = []
    report = tasks.report

    def watched(engine_: Any, task_id: int, now: dt.datetime, **values: Any) -> bool:
        written = report(engine_, task_id, now, **values)
        with engine_.connect() as connection:
            task = get_task(connection, task_id)
        seen.append((task.done, task.total, task.jobs_done, task.jobs_total))
        return written

    compose_id = start_task(
        engine, "compose", cid, "testing", dict(COMPOSE), started_by="operator1", now=AT, what="compose"
    )
    tools = _tools(wave, dask_client)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tasks, "report", watched)
        assert work(engine, tools, once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        composed = get_task(connection, compose_id)
        jobs = list(connection.execute(select(print_jobs.c.name, print_jobs.c.state)).all())
    assert composed.state == "finished", composed.error_message
    assert composed.result is not None
    assert sorted(composed.result["jobs_composed"]) == sorted(name for name, _ in jobs)
    assert composed.done == composed.total == composed.result["letters"] > 0
    assert composed.jobs_done == composed.jobs_total == len(jobs) > 1
    # The progress went up job by job, every step of the way on the row.
    counted = [(done, jobs_done) for done, total, jobs_done, _ in seen if total]
    assert sorted({jobs_done for _, jobs_done in counted}) == list(range(len(jobs) + 1))
    assert [done for done, _ in counted] == sorted(done for done, _ in counted)
    # The events name the operator who started it, as the page's own actions do.
    with engine.connect() as connection:
        actors = set(
            connection.exec_driver_sql(
                "SELECT DISTINCT actor FROM events WHERE type = 'piece.composed'"
            ).scalars()
        )
    assert actors == {"staff:operator1"}

    # The first job printed and its results (two letters lost) read through a task from the page's
    # upload; then its reprint through a task.
    first = sorted(name for name, _ in jobs)[0]
    with engine.begin() as connection:
        mark_job(connection, first, "printed", actor="t", at=AT)
    folder = Path(composed.result["folder"])
    envelopes = read_control_file(folder / f"{first}.inserter.csv")
    results = [
        dataclasses.replace(result, status="missing" if number < 2 else "inserted")
        for number, result in enumerate(simulate_results(envelopes, seed=3))
    ]
    path = tmp_path / f"{first}.results.csv"
    write_results_file(path, results)
    content = path.read_bytes()
    params = {
        "job": "",
        "file": path.name,
        "size": len(content),
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    results_id = start_task(
        engine,
        "results",
        cid,
        "testing",
        params,
        started_by="operator1",
        now=AT,
        what="r",
        file=(path.name, content),
    )
    assert work(engine, tools, once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        read = get_task(connection, results_id)
        assert connection.execute(select(func.count()).select_from(operator_task_files)).scalar_one() == 0
    assert read.state == "finished", read.error_message
    assert read.result is not None
    assert read.result["applied"].get("missing") == 2
    assert read.unit == "records"
    reprint_id = start_task(
        engine, "reprint", cid, "testing", {"confirmed": True}, started_by="operator1", now=AT, what="reprint"
    )
    assert work(engine, tools, once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        reprinted = get_task(connection, reprint_id)
        names = set(connection.execute(select(print_jobs.c.name)).scalars())
    assert reprinted.state == "finished", reprinted.error_message
    assert reprinted.result is not None
    assert reprinted.result["plan"]["to_reprint"] == 2
    assert f"{first}.R1" in names
    assert reprinted.done == reprinted.total == 2


def test_a_reprint_above_the_threshold_fails_as_the_cli_refuses_it(engine, wave, dask_client):
    """Without the operator's confirmation, as `courrier reprint` without --yes."""
    from courrier.production.compose_wave import compose_wave

    summary = compose_wave(
        engine, "testing", 1, out=None, keys=wave, actor="t", now=AT, job_size_sheets=40, client=dask_client
    )
    with engine.begin() as connection:
        mark_job(connection, summary.jobs[0], "printed", actor="t", at=AT)  # printed, nothing reported
    task_id = start_task(
        engine,
        "reprint",
        _campaign_id(engine),
        "testing",
        {"confirmed": False},
        started_by="operator1",
        now=AT,
        what="r",
    )
    assert work(engine, _tools(wave, dask_client), once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        task = get_task(connection, task_id)
    assert (task.state, task.error_code) == ("failed", "reprint_threshold")


def test_the_worker_says_it_is_alive_and_leaves_when_it_stops(engine, planned_pieces, monkeypatch):
    stop = threading.Event()
    seen: list[int] = []

    def look(engine_: Any, now: dt.datetime) -> None:
        with engine_.connect() as connection:
            seen.append(tasks.workers_seen(connection, now))
        stop.set()

    monkeypatch.setattr(task_runs.tasks, "claim_next", look)
    assert work(engine, _tools(None, None), stop=stop, clock=lambda: AT, poll_s=0.1) == 0
    assert seen == [1]
    with engine.connect() as connection:
        assert tasks.workers_seen(connection, AT) == 0


def test_the_tasks_commands_run_the_queue_once_and_list_it(cli_env, planned_pieces):
    from click.testing import CliRunner

    from courrier.cli import courrier
    from courrier.db import make_engine

    engine = make_engine(cli_env)
    task_id = _start(engine)
    engine.dispose()
    ran = CliRunner().invoke(courrier, ["tasks", "run", "--once"])
    assert ran.exit_code == 0, ran.output
    assert "1 task(s) run" in ran.output
    listed = CliRunner().invoke(courrier, ["tasks", "list", "--campaign", "test", "--json"])
    assert listed.exit_code == 0, listed.output
    import json

    (task,) = json.loads(listed.output)
    assert (task["id"], task["state"], task["started_by"]) == (task_id, "failed", "operator1")
    assert task["error"]["code"]
    text = CliRunner().invoke(courrier, ["tasks", "list"])
    assert f"{task_id} compose test 1 failed" in text.output
    # cancel: a queued task at once; an ended one is refused in one line, naming why.
    engine = make_engine(cli_env)
    queued = _start(engine)
    engine.dispose()
    cancelled = CliRunner().invoke(courrier, ["tasks", "cancel", str(queued)])
    assert cancelled.exit_code == 0, cancelled.output
    assert f"task {queued} cancelled" in cancelled.output
    again = CliRunner().invoke(courrier, ["tasks", "cancel", str(queued)])
    assert again.exit_code != 0
    assert "task_ended" in again.output or "already ended" in again.output, again.output


def test_a_real_worker_killed_mid_compose_leaves_the_task_interrupted_and_a_new_start_resumes(
    engine, db_url, wave, dask_scheduler, dask_client, tmp_path: Path
):
    """`courrier tasks run` killed with SIGKILL (its whole session) after its first job of the wave: the
    task shows interrupted as soon as anyone looks; started again, it makes only the jobs left, each
    letter composed once."""
    from courrier.codes.keys import dump_keys
    from courrier.db.schema import events, job_pieces

    from .race import kill, start_paused

    cid = _campaign_id(engine)
    first = start_task(engine, "compose", cid, "testing", dict(COMPOSE), started_by="op", now=AT, what="c")
    worker = start_paused(
        db_url,
        tmp_path,  # the worker's working directory: the campaign's print files go under it
        ["tasks", "run", "--scheduler", dask_scheduler],
        pause_at="courrier.production.compose_wave:_finish_job@2",
        env={"COURRIER_KEYS": dump_keys(wave)},
    )
    kill(worker)
    assert reap_tasks(engine, AT) == [first]
    with engine.connect() as connection:
        killed = get_task(connection, first)
        composed_before = connection.execute(
            select(func.count()).select_from(print_jobs).where(print_jobs.c.state == "composed")
        ).scalar_one()
    assert (killed.state, killed.error_code) == ("interrupted", "worker_lost")
    assert killed.jobs_done == 1
    assert composed_before == 1
    again = start_task(engine, "compose", cid, "testing", dict(COMPOSE), started_by="op", now=AT, what="c")
    assert work(engine, _tools(wave, dask_client), once=True, clock=lambda: AT) == 1
    with engine.connect() as connection:
        resumed = get_task(connection, again)
        placed = connection.execute(
            select(job_pieces.c.piece_id, func.count()).group_by(job_pieces.c.piece_id)
        ).all()
        composed_events = connection.execute(
            select(events.c.piece_id, func.count())
            .where(events.c.type == "piece.composed")
            .group_by(events.c.piece_id)
        ).all()
    assert resumed.state == "finished", resumed.error_message
    assert resumed.result is not None
    assert len(resumed.result["jobs_kept"]) == 1  # the job the killed worker made
    assert resumed.jobs_total == killed.jobs_total - 1
    assert all(count == 1 for _, count in placed)
    assert all(count == 1 for _, count in composed_events)
    assert len(composed_events) == len(placed)
