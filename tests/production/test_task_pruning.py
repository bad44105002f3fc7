"""Pruning the operator's tasks (production/tasks.py ``prune_tasks``, ``courrier tasks prune``, the task
worker's hourly round): old finished and cancelled tasks go with their files; queued, running and
cancelling ones never; a failed or interrupted one only once the same work has finished since or its
campaign was purged; on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, event, func, select, text, update

from courrier.accounts.throttle import Limit, count_failure
from courrier.cli import courrier
from courrier.db import make_engine
from courrier.db.schema import (
    campaigns,
    operator_task_files,
    operator_tasks,
    pieces,
    task_workers,
    throttle_counters,
)
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.production import task_runs, tasks
from courrier.production.task_runs import Tools, work

from .conftest import AT

WAVE_1 = {"wave": 1, "retry_failed": False, "job_size": 40}
WAVE_2 = {"wave": 2, "retry_failed": False, "job_size": 40}
WAVE_3 = {"wave": 3, "retry_failed": False, "job_size": 40}
LIMIT = Limit(failures=3, window_s=60, block_s=60)
RESULTS = {"job": "", "file": "results.csv", "size": 3, "sha256": "ab" * 32}


def _campaign_id(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.min(pieces.c.campaign_id))).scalar_one())


def _task(
    engine: Engine, state: str, days_ago: float, *, kind: str = "compose", params: dict[str, Any] = WAVE_1
) -> int:
    """A task row as its life left it: created ``days_ago`` (and ended then, if ``state`` is an end)."""
    at = AT - dt.timedelta(days=days_ago)
    ended = state in tasks.ENDED
    with write_transaction(engine) as connection:
        inserted = connection.execute(
            operator_tasks.insert().values(
                kind=kind,
                campaign_id=_campaign_id(engine),
                params=json.dumps(params, sort_keys=True),
                active_key=None if ended else f"{state}:{days_ago}",
                state=state,
                started_by="operator1",
                created_at=at,
                started_at=None if state == "queued" else at,
                heartbeat_at=None if state == "queued" else at,
                finished_at=at if ended else None,
                phase=state,
                done=0,
                jobs_done=0,
            )
        ).inserted_primary_key
    assert inserted is not None
    return int(inserted[0])


def _ids(engine: Engine) -> set[int]:
    with engine.connect() as connection:
        return set(connection.execute(select(operator_tasks.c.id)).scalars())


def test_old_ended_tasks_go_and_live_tasks_and_failures_not_dealt_with_stay(
    engine, planned_pieces, monkeypatch
):
    # Chunks of two (of one failure): several transactions, as a backlog of years takes.
    monkeypatch.setattr(tasks, "PRUNE_CHUNK", 2)
    monkeypatch.setattr(tasks, "PRUNE_FAILURES_CHUNK", 1)
    reprint = {"confirmed": False}
    # In the order they were started (ids grow with time), oldest first. Never ended, however old:
    living = {_task(engine, state, 90) for state in ("queued", "running", "cancelling")}
    # Wave 2 was composed, then failed, and nothing of wave 2 finished after that: kept.
    _task(engine, "finished", 60, params=WAVE_2)
    unresolved = _task(engine, "failed", 55, params=WAVE_2)
    # Wave 1 failed, then was composed (twice): the failure was dealt with.
    dealt_with = _task(engine, "failed", 50)
    old_cancelled = _task(engine, "cancelled", 45)
    old_finished = _task(engine, "finished", 40)
    # A reprint interrupted, then only cancelled: its work is not done, kept.
    interrupted = _task(engine, "interrupted", 40, kind="reprint", params=reprint)
    results = _task(engine, "finished", 40, kind="results", params=RESULTS)
    _task(engine, "cancelled", 38, kind="reprint", params=reprint)
    composed_since = _task(engine, "finished", 35)
    recent_finished = _task(engine, "finished", 10, params=WAVE_3)
    with write_transaction(engine) as connection:
        connection.execute(
            operator_task_files.insert().values(task_id=results, name="results.csv", size=3, content=b"a,b")
        )
        for name, seen in (("gone:1", AT - dt.timedelta(days=40)), ("alive:2", AT)):
            connection.execute(
                task_workers.insert().values(name=name, host="h", pid=1, started_at=seen, seen_at=seen)
            )
    before = _ids(engine)

    dry = tasks.prune_tasks(engine, AT, keep_days=30, dry_run=True)
    assert _ids(engine) == before
    pruned = tasks.prune_tasks(engine, AT, keep_days=30)
    assert dry == pruned
    # Both cancelled tasks went: a cancel is the operator's own decision, nothing to acknowledge.
    assert pruned.deleted == {"finished": 4, "cancelled": 2, "failed": 1}
    assert pruned.kept_failures == 2
    assert pruned.workers == 1
    assert pruned.before == AT - dt.timedelta(days=30)
    gone = {old_finished, old_cancelled, dealt_with, composed_since, results}
    assert gone <= before - _ids(engine)
    assert _ids(engine) == {recent_finished, unresolved, interrupted, *living}
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(operator_task_files)).scalar_one() == 0
        assert list(connection.execute(select(task_workers.c.name)).scalars()) == ["alive:2"]
    # Pruning again finds nothing more; the failures still wait.
    again = tasks.prune_tasks(engine, AT, keep_days=30)
    assert (again.total, again.kept_failures, again.workers) == (0, 2, 0)


def test_a_failure_goes_with_its_age_once_its_campaign_was_purged(engine, planned_pieces):
    failed = _task(engine, "failed", 40)
    assert tasks.prune_tasks(engine, AT, keep_days=30).kept_failures == 1
    with write_transaction(engine) as connection:
        connection.execute(update(campaigns).values(purged_at=AT - dt.timedelta(days=1)))
    pruned = tasks.prune_tasks(engine, AT, keep_days=30)
    assert (pruned.deleted, pruned.kept_failures) == ({"failed": 1}, 0)
    assert failed not in _ids(engine)


def test_a_task_worker_prunes_when_it_starts_and_then_hourly(engine, planned_pieces, monkeypatch):
    old = _task(engine, "finished", 31)
    tools = Tools(keys=lambda: None, client=lambda: None, signer=lambda _n: None, profiles=lambda: None)  # type: ignore[arg-type,return-value]
    # Without keep_days (a test's or an embedding's worker) nothing is pruned.
    assert work(engine, tools, once=True, clock=lambda: AT) == 0
    assert old in _ids(engine)
    assert work(engine, tools, once=True, clock=lambda: AT, keep_days=30) == 0
    assert old not in _ids(engine)
    # A waiting worker prunes again an hour later, not at every look for a task.
    calls: list[dt.datetime] = []

    def counted(_engine: Engine, now: dt.datetime, **_options: Any) -> tasks.Pruned:
        calls.append(now)
        return tasks.Pruned(now, {}, 0, 0)

    monkeypatch.setattr(tasks, "prune_tasks", counted)
    # The clock: the worker's start, then each look for a task.
    times = iter([AT + dt.timedelta(minutes=minutes) for minutes in (0, 0, 30, 61)])

    class StopAfterThreeLooks:
        looks = 0

        def is_set(self) -> bool:
            self.looks += 1
            return self.looks > 3

        def wait(self, _seconds: float) -> None:
            return None

    work(engine, tools, clock=lambda: next(times), keep_days=30, stop=StopAfterThreeLooks())  # type: ignore[arg-type]
    assert calls == [AT, AT + dt.timedelta(minutes=61)]


def _impatient(engine: Engine) -> Engine:
    """``engine`` giving up on a lock after 0.2 s (SQLite's busy timeout, PostgreSQL's lock_timeout)
    instead of waiting 30 s or for ever: a busy database as a worker meets it, sooner."""

    @event.listens_for(engine, "connect")
    def _give_up_soon(dbapi_connection: Any, _record: Any) -> None:
        if engine.dialect.name == "sqlite":
            dbapi_connection.execute("PRAGMA busy_timeout=200")
        else:
            dbapi_connection.execute("SET lock_timeout = 200")
            dbapi_connection.commit()

    return engine


@contextmanager
def _locked(engine: Engine, table: str) -> Iterator[Connection]:
    """Another connection holding the lock a write of ``table`` waits for: SQLite's one writer lock,
    PostgreSQL's lock of that table."""
    with write_transaction(engine) as connection:
        if engine.dialect.name != "sqlite":
            connection.execute(text(f"LOCK TABLE {table} IN ACCESS EXCLUSIVE MODE"))
        yield connection


@pytest.mark.parametrize("busy", ["leftovers", "tasks"])
def test_a_busy_database_puts_off_one_part_of_the_pruning_and_the_other_still_logs(
    engine, db_url, planned_pieces, monkeypatch, caplog, busy
):
    """The worker's round prunes the tasks, then the web's leftovers (accounts.housekeeping): each part
    says what it pruned, or that it met a busy database, whatever the other part met."""
    old = _task(engine, "finished", 40)
    with write_transaction(engine) as connection:
        for _ in range(3):  # an old block, long over: an idle counter
            count_failure(connection, "code-client", "203.0.113.3", LIMIT, AT - dt.timedelta(hours=2))
    pruning = tasks.prune_tasks
    held = ExitStack()

    def tasks_then_lock(worker: Engine, now: dt.datetime, **options: Any) -> tasks.Pruned:
        if busy == "tasks":
            with _locked(engine, "operator_tasks"):
                return pruning(worker, now, **options)
        pruned = pruning(worker, now, **options)
        # The lock is taken as the tasks are done and held until the round is over: the leftovers meet it.
        held.enter_context(_locked(engine, "throttle_counters"))
        return pruned

    monkeypatch.setattr(tasks, "prune_tasks", tasks_then_lock)
    worker = _impatient(make_engine(db_url))
    caplog.set_level(logging.INFO, logger="courrier.tasks")
    with held:
        # The worker's hourly round alone (work() then goes on writing: its heartbeat, its claim).
        task_runs._prune(worker, AT, keep_days=30)
    logged = [record.getMessage() for record in caplog.records]
    with engine.connect() as connection:
        counters = connection.execute(select(func.count()).select_from(throttle_counters)).scalar_one()
    if busy == "leftovers":
        assert old not in _ids(engine)
        assert counters == 1
        assert any(line.startswith("pruned 1 task(s) ended before") for line in logged), logged
        assert "staff sessions and failure counters not pruned (database busy): next time" in logged
    else:
        assert old in _ids(engine)
        assert counters == 0
        assert "tasks not pruned (database busy): next time" in logged
        assert "pruned 0 ended staff session(s), 1 idle failure counter(s)" in logged
    # The next round, on a quiet database, prunes what was put off.
    monkeypatch.setattr(tasks, "prune_tasks", pruning)
    task_runs._prune(worker, AT, keep_days=30)
    assert old not in _ids(engine)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(throttle_counters)).scalar_one() == 0
    worker.dispose()


def test_the_prune_command_explains_counts_and_deletes(cli_env, planned_pieces):
    helped = CliRunner().invoke(courrier, ["tasks", "prune", "--help"])
    assert helped.exit_code == 0
    wanted = (
        "--older-than",
        "--dry-run",
        "COURRIER_TASKS_KEEP_DAYS",
        "failed or interrupted",
        "never deleted",
    )
    for words in wanted:
        assert words in " ".join(helped.output.split()), words
    engine = make_engine(cli_env)
    # The command's clock is the real one: ages from now.
    now = utcnow()
    age = (AT - now).total_seconds() / 86400
    old = _task(engine, "finished", age + 40)
    recent = _task(engine, "finished", age + 1, params=WAVE_2)
    failed = _task(engine, "failed", age + 40, kind="reprint", params={"confirmed": False})
    dry = CliRunner().invoke(courrier, ["tasks", "prune", "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    answer = json.loads(dry.output)
    assert (answer["deleted"], answer["kept_failures"], answer["dry_run"]) == ({"finished": 1}, 1, True)
    assert _ids(engine) == {old, recent, failed}
    pruned = CliRunner().invoke(courrier, ["tasks", "prune"])  # COURRIER_TASKS_KEEP_DAYS: 30
    assert pruned.exit_code == 0, pruned.output
    assert "deleted 1 task(s) ended before" in pruned.output
    assert "kept 1 failed or interrupted task(s)" in pruned.output
    assert _ids(engine) == {recent, failed}
    everything = CliRunner().invoke(courrier, ["tasks", "prune", "--older-than", "0"])
    assert everything.exit_code == 0, everything.output
    assert _ids(engine) == {failed}
    refused = CliRunner().invoke(courrier, ["tasks", "prune", "--older-than", "-1"])
    assert refused.exit_code == 2
    engine.dispose()


def test_the_acknowledge_command_marks_a_failure_once_and_refuses_other_states(cli_env, planned_pieces):
    engine = make_engine(cli_env)
    now = utcnow()
    age = (AT - now).total_seconds() / 86400
    failed = _task(engine, "interrupted", age + 40, kind="reprint", params={"confirmed": False})
    finished = _task(engine, "finished", age + 40, params=WAVE_2)
    marked = CliRunner().invoke(courrier, ["tasks", "acknowledge", str(failed)])
    assert marked.exit_code == 0, marked.output
    assert f"task {failed} (interrupted) marked as dealt with by test" in marked.output
    with engine.connect() as connection:
        first = tasks.get_task(connection, failed).acknowledged_at
    again = CliRunner().invoke(courrier, ["tasks", "acknowledge", str(failed)])
    assert again.exit_code == 0, again.output
    with engine.connect() as connection:
        assert tasks.get_task(connection, failed).acknowledged_at == first  # the first mark stays
    listed = CliRunner().invoke(courrier, ["tasks", "list"])
    assert "(dealt with by test)" in listed.output
    for task_id, code in ((finished, "task_not_failed"), (99999, "unknown_task")):
        refused = CliRunner().invoke(courrier, ["tasks", "acknowledge", str(task_id)])
        assert refused.exit_code != 0
        assert code in refused.output or code in str(refused.exception), refused.output
    pruned = CliRunner().invoke(courrier, ["tasks", "prune", "--json"])
    assert json.loads(pruned.output)["deleted"] == {"finished": 1, "interrupted": 1}
    assert _ids(engine) == set()
    engine.dispose()
