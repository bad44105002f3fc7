"""Long work started from the operator's page: a task row per compose, reprint or large results file,
run by a ``courrier tasks run`` worker, its progress in the row.

Why a table and a worker process, not a thread of the web server: the server runs several uvicorn
workers (and several machines behind a proxy), any of which takes the operator's click; a compose needs
a Dask cluster and minutes; and a server worker is restarted at will. The row is the one truth every
page of every server reads, and a worker elsewhere takes it.

States::

    queued ──► running ──► finished
       │          ├──────► failed        (the step refused: its error's code, message and facts)
       │          ├──────► interrupted   (the worker died or was stopped: no heartbeat, or its pid gone)
       │          └─► cancelling ─► cancelled (an operator cancelled it: the worker stops after the
       │                                       print job or records it is on, keeping what it finished)
       ├─────────────────────────► cancelled (cancelled before a worker took it)
       └─ (a task is never taken twice: claimed by a guarded UPDATE ... WHERE state = 'queued')

One at a time: ``active_key`` (``compose:CAMPAIGN:wave:K``, ``reprint:CAMPAIGN``,
``results:CAMPAIGN:SHA256``) is set while the task is queued or running and cleared in the transaction
that ends it; its UNIQUE constraint refuses a second start (``task_running``), on SQLite and PostgreSQL
alike, however many servers take clicks at once. The step itself still takes its ``step_locks`` row when
it runs, so a ``courrier compose`` in a terminal and a task from the page exclude each other too.

A running task is *interrupted* when its worker's pid no longer runs on this host, or its heartbeat
(written every :data:`HEARTBEAT_S` by the worker) is older than :data:`STALE_AFTER_S`. Whoever looks
(the page, a start, a worker) ends such a task, so a dead worker's task never shows as running forever.
Starting it again resumes: compose and reprint keep finished jobs, a results file read before changes
nothing.

Pruning (:func:`prune_tasks`, ``courrier tasks prune``, and each task worker once every
:data:`PRUNE_EVERY_S`): an ended task is deleted ``COURRIER_TASKS_KEEP_DAYS`` after it ended, with its
file. Never a queued, running or cancelling one. A failed or interrupted task is a problem someone has
to look at, so it is kept until an operator marks it as dealt with (:func:`acknowledge_task`, the task
page's button), the same work (its one-at-a-time key) has finished since, or its campaign's personal
data was purged; then it goes too.
The audit log keeps its own ``task.started`` and ``task.cancelled`` rows.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select, update
from sqlalchemy.exc import IntegrityError

from courrier.db import write_transaction
from courrier.db.schema import campaigns, operator_task_files, operator_tasks, step_locks, task_workers
from courrier.errors import ConflictError, NotFoundError
from courrier.production.locks import process_running

KINDS = ("compose", "reprint", "results")
STATES = ("queued", "running", "cancelling", "finished", "failed", "interrupted", "cancelled")
ENDED = ("finished", "failed", "interrupted", "cancelled")
# A worker's own task: running, or asked to stop (it still ends it, as cancelled or as it finished).
WORKING = ("running", "cancelling")
# The worker writes its heartbeat this often while a task runs (and its own row while it waits).
HEARTBEAT_S = 5.0
# A running task whose heartbeat is older than this is interrupted. Generous: on SQLite a results
# file's one long write transaction holds the heartbeat back for as long as it lasts.
STALE_AFTER_S = 300.0
# A worker not seen for this long is gone (the page says a queued task has nobody to take it).
WORKER_GONE_S = 60.0
# A task worker prunes the ended tasks (see the module's docstring) when it starts and this often.
PRUNE_EVERY_S = 3600.0
# The days an ended task is kept by default (COURRIER_TASKS_KEEP_DAYS): a month of the morning's work.
DEFAULT_KEEP_DAYS = 30
# Ended states that report a problem: kept by the pruning until dealt with (see prune_tasks); the
# others need nothing more (a cancel is the operator's own decision).
FAILURES = ("failed", "interrupted")
PLAIN_ENDS = ("finished", "cancelled")
# Tasks deleted a transaction: short enough that SQLite's writer lock is held a moment only.
PRUNE_CHUNK = 5000
# Failures dealt with, by id, per DELETE (well under SQLite's parameter limit).
PRUNE_FAILURES_CHUNK = 500


@dataclass(frozen=True)
class Task:
    id: int
    kind: str
    campaign_id: int
    campaign: str
    params: dict[str, Any]
    state: str
    started_by: str
    created_at: dt.datetime
    started_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    finished_at: dt.datetime | None
    worker: str | None
    phase: str
    current: str | None
    unit: str | None
    done: int
    total: int | None
    jobs_done: int
    jobs_total: int | None
    counting_since: dt.datetime | None
    result: dict[str, Any] | None
    error_code: str | None
    error_message: str | None
    error_facts: dict[str, Any] = field(default_factory=dict)
    acknowledged_at: dt.datetime | None = None
    acknowledged_by: str | None = None

    @property
    def actor(self) -> str:
        """Who the ledger's events name: the operator who started it, as the page's actions do."""
        return f"staff:{self.started_by}"

    @property
    def ended(self) -> bool:
        return self.state in ENDED

    def share(self) -> float | None:
        return min(1.0, self.done / self.total) if self.total else None

    def rate_per_s(self, now: dt.datetime) -> float | None:
        """Letters (or records) a second since counting began: up to the end, or to ``now``."""
        if self.counting_since is None or not self.done:
            return None
        until = self.finished_at or self.heartbeat_at or now
        seconds = (until - self.counting_since).total_seconds()
        return self.done / seconds if seconds > 0 else None

    def seconds_left(self, now: dt.datetime) -> float | None:
        rate = self.rate_per_s(now)
        if rate is None or self.total is None or self.ended:
            return None
        return max(0.0, (self.total - self.done) / rate)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "campaign": self.campaign,
            "params": self.params,
            "state": self.state,
            "started_by": self.started_by,
            "created_at": self.created_at.isoformat(),
            "phase": self.phase,
            "current": self.current,
            "done": self.done,
            "total": self.total,
            "unit": self.unit,
            "jobs_done": self.jobs_done,
            "jobs_total": self.jobs_total,
            "error": {"code": self.error_code, "message": self.error_message} if self.error_code else None,
            "result": self.result,
            "acknowledged": (
                {"by": self.acknowledged_by, "at": self.acknowledged_at.isoformat()}
                if self.acknowledged_at
                else None
            ),
        }


def this_worker() -> tuple[str, str, int]:
    """(name, host, pid) of this process as a worker."""
    host, pid = socket.gethostname(), os.getpid()
    return f"{host}:{pid}", host, pid


def compose_key(campaign: str, wave: int | None) -> str:
    return f"compose:{campaign}:" + ("reissues" if wave is None else f"wave:{wave}")


def task_key(kind: str, campaign: str, params: dict[str, Any]) -> str | None:
    """What the task works on, for the one-at-a-time guard (see the module's docstring)."""
    if kind == "compose":
        return compose_key(campaign, params.get("wave"))[:160]
    if kind == "reprint":
        return f"reprint:{campaign}"[:160]
    return f"results:{campaign}:{params['sha256']}"[:160]


def step_lock_name(kind: str, campaign: str, params: dict[str, Any]) -> str | None:
    """The ``step_locks`` row the step takes when it runs (compose and reprint name theirs by campaign)."""
    if kind == "compose":
        return compose_key(campaign, params.get("wave"))[:120]
    if kind == "reprint":
        return f"reprint:{campaign}"[:120]
    return None


def start_task(
    engine: Engine,
    kind: str,
    campaign_id: int,
    campaign: str,
    params: dict[str, Any],
    *,
    started_by: str,
    now: dt.datetime,
    what: str,
    file: tuple[str, bytes] | None = None,
    on_started: Callable[[Connection, int], None] | None = None,
) -> int:
    """Queue a task; its id. Refused with ``task_running`` while the same work is queued or running
    (from the page, by the UNIQUE key), and with ``step_running`` while the step runs outside a task (a
    ``courrier compose`` in a terminal). ``on_started(connection, id)`` runs in the inserting transaction
    (the page's audit). ``file``: (name, bytes) a results task reads."""
    assert kind in KINDS, kind
    reap_tasks(engine, now)
    key = task_key(kind, campaign, params)
    _refuse_running_step(engine, step_lock_name(kind, campaign, params), what)
    try:
        with write_transaction(engine) as connection:
            inserted = connection.execute(
                operator_tasks.insert().values(
                    kind=kind,
                    campaign_id=campaign_id,
                    params=json.dumps(params, sort_keys=True),
                    active_key=key,
                    state="queued",
                    started_by=started_by,
                    created_at=now,
                    phase="queued",
                    done=0,
                    jobs_done=0,
                )
            ).inserted_primary_key
            assert inserted is not None
            task_id = int(inserted[0])
            if file is not None:
                name, content = file
                connection.execute(
                    operator_task_files.insert().values(
                        task_id=task_id, name=name, size=len(content), content=content
                    )
                )
            if on_started is not None:
                on_started(connection, task_id)
            return task_id
    except IntegrityError:
        with engine.connect() as connection:
            held = connection.execute(
                select(operator_tasks.c.id, operator_tasks.c.started_by, operator_tasks.c.created_at).where(
                    operator_tasks.c.active_key == key
                )
            ).first()
        if held is None:  # ended between the two statements: the operator may simply try again
            raise ConflictError(f"{what} has just ended: start it again", code="task_running") from None
        raise ConflictError(
            f"{what} is already queued or running (task {held.id}, started by {held.started_by} at"
            f" {held.created_at:%Y-%m-%d %H:%M:%S} UTC): wait for it to end",
            code="task_running",
            task=held.id,
        ) from None


def _refuse_running_step(engine: Engine, lock: str | None, what: str) -> None:
    if lock is None:
        return
    with engine.connect() as connection:
        held = connection.execute(select(step_locks).where(step_locks.c.name == lock)).first()
    if held is None or (held.host == socket.gethostname() and not process_running(int(held.pid))):
        return
    raise ConflictError(
        f"{what} is already running outside the page (by {held.actor}, pid {held.pid} on {held.host}):"
        " wait for it to finish",
        code="step_running",
    )


def _task(row: Any) -> Task:
    return Task(
        id=row.id,
        kind=row.kind,
        campaign_id=row.campaign_id,
        campaign=row.campaign,
        params=json.loads(row.params),
        state=row.state,
        started_by=row.started_by,
        created_at=row.created_at,
        started_at=row.started_at,
        heartbeat_at=row.heartbeat_at,
        finished_at=row.finished_at,
        worker=row.worker,
        phase=row.phase,
        current=row.current,
        unit=row.unit,
        done=row.done,
        total=row.total,
        jobs_done=row.jobs_done,
        jobs_total=row.jobs_total,
        counting_since=row.counting_since,
        result=json.loads(row.result) if row.result else None,
        error_code=row.error_code,
        error_message=row.error_message,
        error_facts=json.loads(row.error_facts) if row.error_facts else {},
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
    )


_SELECT = select(operator_tasks, campaigns.c.name.label("campaign")).join(
    campaigns, campaigns.c.id == operator_tasks.c.campaign_id
)


def get_task(connection: Connection, task_id: int) -> Task:
    row = connection.execute(_SELECT.where(operator_tasks.c.id == task_id)).first()
    if row is None:
        raise NotFoundError(f"there is no task {task_id}", code="unknown_task")
    return _task(row)


def list_tasks(connection: Connection, *, campaign_id: int | None = None, limit: int = 10) -> list[Task]:
    """The latest tasks, newest first."""
    query = _SELECT.order_by(operator_tasks.c.id.desc()).limit(limit)
    if campaign_id is not None:
        query = query.where(operator_tasks.c.campaign_id == campaign_id)
    return [_task(row) for row in connection.execute(query)]


def task_file(connection: Connection, task_id: int) -> tuple[str, bytes]:
    row = connection.execute(
        select(operator_task_files.c.name, operator_task_files.c.content).where(
            operator_task_files.c.task_id == task_id
        )
    ).one()
    return str(row.name), bytes(row.content)


def workers_seen(connection: Connection, now: dt.datetime) -> int:
    """How many workers were seen in the last :data:`WORKER_GONE_S`."""
    since = now - dt.timedelta(seconds=WORKER_GONE_S)
    query = select(func.count()).select_from(task_workers).where(task_workers.c.seen_at >= since)
    return int(connection.execute(query).scalar_one())


# --- the worker's side ---


def claim_next(engine: Engine, now: dt.datetime) -> Task | None:
    """The oldest queued task, now running in this process; None when none is queued. Two workers never
    take the same one: the UPDATE is guarded by the state the SELECT saw."""
    name, host, pid = this_worker()
    with engine.connect() as connection:
        queued = list(
            connection.execute(
                select(operator_tasks.c.id)
                .where(operator_tasks.c.state == "queued")
                .order_by(operator_tasks.c.id)
                .limit(5)
            ).scalars()
        )
    for task_id in queued:
        with write_transaction(engine) as connection:
            taken = connection.execute(
                update(operator_tasks)
                .where(operator_tasks.c.id == task_id, operator_tasks.c.state == "queued")
                .values(
                    state="running",
                    worker=name,
                    host=host,
                    pid=pid,
                    started_at=now,
                    heartbeat_at=now,
                    phase="starting",
                )
            ).rowcount
            if taken == 1:
                return get_task(connection, task_id)
    return None


def _mine(task_id: int, states: tuple[str, ...] = WORKING) -> Any:
    return (
        (operator_tasks.c.id == task_id)
        & operator_tasks.c.state.in_(states)
        & (operator_tasks.c.worker == this_worker()[0])
    )


class TaskCancelledError(Exception):
    """Raised in the worker by a progress report once an operator has cancelled its task: the step stops
    there (between two print jobs, or inside a results file's transaction, which rolls back)."""


def report(
    engine: Engine, task_id: int, now: dt.datetime, *, stop_if_cancelled: bool = False, **values: Any
) -> bool:
    """Write progress (phase, current, done, total, ...) and the heartbeat; False when the task is no
    longer this worker's (interrupted by someone who thought it dead). With ``stop_if_cancelled``,
    raises :class:`TaskCancelledError` once the task has been cancelled (its progress is written first)."""
    with write_transaction(engine) as connection:
        written = connection.execute(
            update(operator_tasks)
            .where(_mine(task_id))
            .values(heartbeat_at=now, **values)
            .returning(operator_tasks.c.state)
        ).scalar_one_or_none()
    if stop_if_cancelled and written == "cancelling":
        raise TaskCancelledError(task_id)
    return written is not None


def cancel_task(engine: Engine, task_id: int, *, by: str, now: dt.datetime) -> str:
    """Cancel a task for the operator ``by``: a queued one ends ``cancelled`` at once (no worker will take
    it: the claim is guarded by ``queued``); a running one becomes ``cancelling`` and its worker stops at
    its next progress report, keeping the print jobs (or nothing of a results file) it finished. The
    task's new state; ``task_ended`` when it has already ended. Asking twice is one cancel."""
    queued_message = f"cancelled by {by} before a worker took it"
    with write_transaction(engine) as connection:
        cancelled = connection.execute(
            update(operator_tasks)
            .where(operator_tasks.c.id == task_id, operator_tasks.c.state == "queued")
            .values(**_ending("cancelled", now, "task_cancelled", queued_message))
        ).rowcount
        if cancelled:
            _drop_file(connection, task_id)
            return "cancelled"
        connection.execute(
            update(operator_tasks)
            .where(operator_tasks.c.id == task_id, operator_tasks.c.state == "running")
            .values(state="cancelling", error_code="task_cancelled", error_message=f"cancelled by {by}")
        )
        task = get_task(connection, task_id)
    if task.ended:
        raise ConflictError(
            f"task {task_id} has already ended ({task.state}): there is nothing to cancel",
            code="task_ended",
            task=task_id,
            state=task.state,
        )
    return task.state


def acknowledge_task(engine: Engine, task_id: int, *, by: str, now: dt.datetime) -> Task:
    """Mark a failed or interrupted task as dealt with by the operator ``by``: from then on the pruning
    deletes it by its age, as a finished one (a failure is otherwise kept until the same work has
    finished since). Marking twice keeps the first mark; any other state is refused (``task_not_failed``)."""
    with write_transaction(engine) as connection:
        connection.execute(
            update(operator_tasks)
            .where(
                operator_tasks.c.id == task_id,
                operator_tasks.c.state.in_(FAILURES),
                operator_tasks.c.acknowledged_at.is_(None),
            )
            .values(acknowledged_at=now, acknowledged_by=by)
        )
        task = get_task(connection, task_id)
    if task.state not in FAILURES:
        raise ConflictError(
            f"task {task_id} did not fail ({task.state}): there is nothing to mark as dealt with",
            code="task_not_failed",
            task=task_id,
            state=task.state,
        )
    return task


def end_task(
    engine: Engine,
    task_id: int,
    state: str,
    now: dt.datetime,
    *,
    result: dict[str, Any] | None = None,
    error: tuple[str, str, dict[str, Any]] | None = None,
) -> bool:
    """Finish, fail or interrupt this worker's task, freeing its key and dropping its file; False when
    it was not this worker's any more."""
    assert state in ENDED, state
    code, message, facts = error or (None, None, {})
    if state == "finished":  # it ended before it noticed a cancel: it finished, nothing was cancelled
        code = message = None
    with write_transaction(engine) as connection:
        ended = connection.execute(
            update(operator_tasks)
            .where(_mine(task_id))
            .values(
                **_ending(state, now, code, message),
                heartbeat_at=now,
                result=json.dumps(result, sort_keys=True, default=str) if result is not None else None,
                error_facts=json.dumps(facts, sort_keys=True, default=str) if facts else None,
            )
        ).rowcount
        _drop_file(connection, task_id)
    return bool(ended)


def _ending(state: str, now: dt.datetime, code: str | None, message: str | None) -> dict[str, Any]:
    """What every end of a task writes, whoever ends it: the state (also its phase), the time, why, and
    the one-at-a-time key freed."""
    return {
        "state": state,
        "active_key": None,
        "finished_at": now,
        "phase": state,
        "error_code": code,
        "error_message": message,
    }


def _drop_file(connection: Connection, task_id: int) -> None:
    """An ended task's results file is read no more."""
    connection.execute(delete(operator_task_files).where(operator_task_files.c.task_id == task_id))


def reap_tasks(engine: Engine, now: dt.datetime) -> list[int]:
    """Interrupt the running tasks whose worker is gone (see the module's docstring); their ids."""
    stale_before = now - dt.timedelta(seconds=STALE_AFTER_S)
    here = socket.gethostname()
    with engine.connect() as connection:
        running = connection.execute(
            select(
                operator_tasks.c.id,
                operator_tasks.c.worker,
                operator_tasks.c.host,
                operator_tasks.c.pid,
                operator_tasks.c.heartbeat_at,
                operator_tasks.c.state,
            ).where(operator_tasks.c.state.in_(WORKING))
        ).all()
    reaped = []
    for row in running:
        dead = row.host == here and row.pid is not None and not process_running(int(row.pid))
        silent = row.heartbeat_at is not None and row.heartbeat_at < stale_before
        if not (dead or silent):
            continue
        why = (
            f"its worker (pid {row.pid} on {row.host}) is no longer running"
            if dead
            else f"its worker ({row.worker}) has not been heard from since {row.heartbeat_at:%H:%M:%S} UTC"
        )
        # A cancelled task whose worker died before it stopped is cancelled all the same.
        ending = "cancelled" if row.state == "cancelling" else "interrupted"
        message = f"{ending}: {why}; start it again (what was finished is kept)"
        with write_transaction(engine) as connection:
            done = connection.execute(
                update(operator_tasks)
                .where(
                    operator_tasks.c.id == row.id,
                    operator_tasks.c.state == row.state,
                    operator_tasks.c.worker == row.worker,
                )
                .values(
                    **_ending(
                        ending, now, "task_cancelled" if ending == "cancelled" else "worker_lost", message
                    )
                )
            ).rowcount
            _drop_file(connection, row.id)
        if done:
            reaped.append(int(row.id))
    return reaped


def worker_seen(engine: Engine, now: dt.datetime, *, started_at: dt.datetime) -> None:
    """This worker is alive (its row in ``task_workers``, made on the first call)."""
    name, host, pid = this_worker()
    with write_transaction(engine) as connection:
        seen = connection.execute(
            update(task_workers).where(task_workers.c.name == name).values(seen_at=now)
        ).rowcount
        if not seen:
            connection.execute(
                task_workers.insert().values(
                    name=name, host=host, pid=pid, started_at=started_at, seen_at=now
                )
            )


def worker_gone(engine: Engine) -> None:
    name, _host, _pid = this_worker()
    with write_transaction(engine) as connection:
        connection.execute(delete(task_workers).where(task_workers.c.name == name))


# --- pruning ---


@dataclass(frozen=True)
class Pruned:
    """What :func:`prune_tasks` deleted (or, dry, would delete) of the tasks ended before ``before``."""

    before: dt.datetime
    deleted: dict[str, int]  # by state
    kept_failures: int  # failed or interrupted before ``before``, their work not done since: kept
    workers: int  # rows of task workers gone (not seen since before ``before``, a day at least)

    @property
    def total(self) -> int:
        return sum(self.deleted.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "before": self.before.isoformat(),
            "deleted": dict(sorted(self.deleted.items())),
            "total": self.total,
            "kept_failures": self.kept_failures,
            "workers": self.workers,
        }


def prune_tasks(engine: Engine, now: dt.datetime, *, keep_days: int, dry_run: bool = False) -> Pruned:
    """Delete the tasks that ended more than ``keep_days`` days before ``now`` (and their files): every
    finished or cancelled one, and a failed or interrupted one once it was marked as dealt with, the same
    work has finished since, or its campaign was purged. Queued, running and cancelling tasks are never
    touched: only rows whose state is an ended one are selected, and each DELETE says so again."""
    before = now - dt.timedelta(days=keep_days)
    workers_before = min(before, now - dt.timedelta(days=1))  # never a worker alive a minute ago
    old = operator_tasks.c.finished_at < before
    with engine.connect() as connection:
        plain: dict[str, int] = {
            str(state): int(count)
            for state, count in connection.execute(
                select(operator_tasks.c.state, func.count())
                .where(operator_tasks.c.state.in_(PLAIN_ENDS), old)
                .group_by(operator_tasks.c.state)
            )
        }
        failures = connection.execute(
            select(
                operator_tasks.c.id,
                operator_tasks.c.state,
                operator_tasks.c.kind,
                operator_tasks.c.params,
                campaigns.c.name,
                campaigns.c.purged_at,
                operator_tasks.c.acknowledged_at,
            )
            .join(campaigns, campaigns.c.id == operator_tasks.c.campaign_id)
            .where(operator_tasks.c.state.in_(FAILURES), old)
            .order_by(operator_tasks.c.id)
        ).all()
        done_since = _work_finished_after(connection, failures[0].id if failures else None)
        gone_workers = connection.execute(
            select(func.count()).select_from(task_workers).where(task_workers.c.seen_at < workers_before)
        ).scalar_one()
    dealt_with = [
        row
        for row in failures
        if row.purged_at is not None
        or row.acknowledged_at is not None
        or done_since.get(task_key(row.kind, row.name, json.loads(row.params)) or "", 0) > row.id
    ]
    deleted = dict(plain)
    for row in dealt_with:
        deleted[row.state] = deleted.get(row.state, 0) + 1
    pruned = Pruned(before, deleted, len(failures) - len(dealt_with), int(gone_workers))
    if dry_run:
        return pruned
    # The bulk (finished and cancelled) chosen by the database, a chunk a transaction: a backlog of years
    # never holds SQLite's writer lock for long, and no list of ids goes back and forth.
    chunk = (
        select(operator_tasks.c.id)
        .where(operator_tasks.c.state.in_(PLAIN_ENDS), old)
        .order_by(operator_tasks.c.id)
        .limit(PRUNE_CHUNK)
    )
    while True:
        with write_transaction(engine) as connection:
            connection.execute(delete(operator_task_files).where(operator_task_files.c.task_id.in_(chunk)))
            if (
                connection.execute(delete(operator_tasks).where(operator_tasks.c.id.in_(chunk))).rowcount
                < PRUNE_CHUNK
            ):
                break
    ids = [int(row.id) for row in dealt_with]
    for start in range(0, len(ids), PRUNE_FAILURES_CHUNK):
        some = ids[start : start + PRUNE_FAILURES_CHUNK]
        with write_transaction(engine) as connection:
            connection.execute(delete(operator_task_files).where(operator_task_files.c.task_id.in_(some)))
            connection.execute(
                delete(operator_tasks).where(
                    operator_tasks.c.id.in_(some), operator_tasks.c.state.in_(FAILURES)
                )
            )
    with write_transaction(engine) as connection:
        connection.execute(delete(task_workers).where(task_workers.c.seen_at < workers_before))
    return pruned


def _work_finished_after(connection: Connection, first_id: int | None) -> dict[str, int]:
    """The last finished task's id per work key, among the tasks from ``first_id`` on (none: {})."""
    if first_id is None:
        return {}
    finished = connection.execute(
        select(operator_tasks.c.id, operator_tasks.c.kind, operator_tasks.c.params, campaigns.c.name)
        .join(campaigns, campaigns.c.id == operator_tasks.c.campaign_id)
        .where(operator_tasks.c.state == "finished", operator_tasks.c.id > first_id)
    )
    last: dict[str, int] = {}
    for row in finished:
        key = task_key(row.kind, row.name, json.loads(row.params))
        if key is not None:
            last[key] = max(last.get(key, 0), int(row.id))
    return last
