"""Running the operator's tasks (see :mod:`courrier.production.tasks`): the worker's loop, and each kind
of task calling the very function its CLI command calls, with the same checks and refusals.

=========  ==========================================  ======================================
kind       calls                                       params
=========  ==========================================  ======================================
compose    ``compose_wave`` (``courrier compose``)     wave (None: re-issues), retry_failed,
                                                       job_size
reprint    ``reprint`` (``courrier reprint``)          confirmed (above the threshold)
results    ``apply_results`` (``inserter results``)    job (optional), file, size, sha256
=========  ==========================================  ======================================

While a task runs, a thread writes its heartbeat every :data:`~courrier.production.tasks.HEARTBEAT_S`
and the step's own callbacks write its progress (jobs and letters done, records read). A step's refusal
(a ``CourrierError``) ends the task ``failed`` with the error's code, English message and facts; a
SIGTERM or Ctrl-C ends it ``interrupted`` (the worker then exits); an operator's cancel ends it
``cancelled`` at the step's next progress report; anything else is a bug: ``failed`` with code
``error``, the traceback in the worker's log.
"""

from __future__ import annotations

import datetime as dt
import logging
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from courrier.accounts.housekeeping import prune_web_leftovers
from courrier.certificates.pki import Signer
from courrier.codes.keys import Keys
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.errors import CourrierError
from courrier.production import tasks
from courrier.production.compose_wave import compose_wave
from courrier.production.profiles import InserterProfile, PrinterProfile
from courrier.production.reprint import DEFAULT_THRESHOLD, Reprint, reprint
from courrier.production.results import apply_results

log = logging.getLogger("courrier.tasks")
# A results task's answer lists at most this many refused records (the count is always given).
REFUSED_KEPT = 500


@dataclass
class Tools:
    """What the tasks need, each made on first use by the worker (``courrier tasks run`` builds them from
    the settings): a compose-only worker never loads a DCC signer, a results-only one starts no cluster."""

    keys: Callable[[], Keys]
    client: Callable[[], Any]
    signer: Callable[[str], Signer | None]
    profiles: Callable[[], tuple[PrinterProfile, InserterProfile]]


class _Progress:
    """The step's callbacks, written to the task's row (and the heartbeat with them)."""

    def __init__(self, engine: Engine, task: tasks.Task, clock: Callable[[], dt.datetime]) -> None:
        self.engine, self.task_id, self.clock = engine, task.id, clock
        self.mine = True

    def write(self, **values: Any) -> None:
        """Raises :class:`~courrier.production.tasks.TaskCancelledError` once the task is cancelled: the step
        stops at its next report (between two print jobs, or inside a results file's transaction)."""
        try:
            written = tasks.report(self.engine, self.task_id, self.clock(), stop_if_cancelled=True, **values)
            self.mine = written and self.mine
        except OperationalError:  # SQLite busy past its timeout: the next report says it
            log.warning("task %s: progress not written (database busy)", self.task_id)

    def phase(self, phase: str, current: str | None = None) -> None:
        self.write(phase=phase, current=current)

    def start(self, jobs: int, letters: int) -> None:
        self.write(
            phase="composing",
            unit="letters",
            total=letters,
            done=0,
            jobs_total=jobs,
            jobs_done=0,
            counting_since=self.clock(),
        )
        self.jobs = self.letters = 0

    def job_done(self, job: str, letters: int) -> None:
        self.jobs += 1
        self.letters += letters
        self.write(current=job, done=self.letters, jobs_done=self.jobs)

    def records(self, phase: str, done: int, total: int) -> None:
        values: dict[str, Any] = {"phase": phase, "unit": "records", "done": done, "total": total}
        if phase == "reading" and not getattr(self, "counting", False):
            self.counting = True
            values["counting_since"] = self.clock()
        self.write(**values)


class _Heartbeat:
    """A thread writing the task's heartbeat while it runs (a compose job can take minutes)."""

    def __init__(self, engine: Engine, task_id: int, clock: Callable[[], dt.datetime]) -> None:
        self.engine, self.task_id, self.clock = engine, task_id, clock
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._beat, name=f"task-{task_id}-heartbeat", daemon=True)

    def __enter__(self) -> _Heartbeat:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopped.set()
        self.thread.join()

    def _beat(self) -> None:
        while not self.stopped.wait(tasks.HEARTBEAT_S):
            try:
                tasks.report(self.engine, self.task_id, self.clock())
            except Exception:  # a busy or lost database: the next beat tries again
                log.warning("task %s: heartbeat not written", self.task_id, exc_info=True)


def run_task(
    engine: Engine, task: tasks.Task, tools: Tools, clock: Callable[[], dt.datetime] = utcnow
) -> str:
    """Run a claimed task to its end; its final state."""
    progress = _Progress(engine, task, clock)
    log.info("task %s: %s of %s started by %s", task.id, task.kind, task.campaign, task.started_by)
    try:
        with _Heartbeat(engine, task.id, clock):
            result = _RUNNERS[task.kind](engine, task, tools, progress, clock)
    except tasks.TaskCancelledError:
        with engine.connect() as connection:
            asked = tasks.get_task(connection, task.id).error_message or "cancelled"
        message = (
            f"{asked}; the worker stopped there: start it again to do the rest (what was finished is kept)"
        )
        tasks.end_task(engine, task.id, "cancelled", clock(), error=("task_cancelled", message, {}))
        log.info("task %s cancelled", task.id)
        return "cancelled"
    except CourrierError as error:
        failed = getattr(error, "task_result", None)
        facts = {name: str(value) for name, value in error.facts.items()}
        tasks.end_task(
            engine, task.id, "failed", clock(), result=failed, error=(error.code, str(error), facts)
        )
        log.info("task %s failed: %s [%s]", task.id, error, error.code)
        return "failed"
    except (KeyboardInterrupt, SystemExit):
        message = "interrupted: the worker was stopped; start it again (what was finished is kept)"
        tasks.end_task(engine, task.id, "interrupted", clock(), error=("worker_stopped", message, {}))
        raise
    except Exception as error:
        log.exception("task %s: unexpected error", task.id)
        message = f"unexpected error ({type(error).__name__}: {error}): see the worker's log"
        tasks.end_task(engine, task.id, "failed", clock(), error=("error", message[:2000], {}))
        return "failed"
    if not tasks.end_task(engine, task.id, "finished", clock(), result=result):
        log.warning("task %s finished, but was marked interrupted meanwhile", task.id)
    log.info("task %s finished", task.id)
    return "finished"


def _compose(
    engine: Engine, task: tasks.Task, tools: Tools, progress: _Progress, clock: Callable[[], dt.datetime]
) -> dict[str, Any]:
    params = task.params
    summary = compose_wave(
        engine,
        task.campaign,
        params.get("wave"),
        job_size_sheets=int(params["job_size"]),
        retry_failed=bool(params.get("retry_failed")),
        **_composing(task, tools, progress, clock),
    )
    result = summary.to_json()
    _require_intact(summary, result)
    return result


def _reprint(
    engine: Engine, task: tasks.Task, tools: Tools, progress: _Progress, clock: Callable[[], dt.datetime]
) -> dict[str, Any]:
    plan, summary = reprint(
        engine,
        task.campaign,
        threshold=DEFAULT_THRESHOLD,
        confirmed=bool(task.params.get("confirmed")),
        **_composing(task, tools, progress, clock),
    )
    result = Reprint(plan, summary).to_json()
    if summary is not None:
        _require_intact(summary, result)
    return result


def _composing(
    task: tasks.Task, tools: Tools, progress: _Progress, clock: Callable[[], dt.datetime]
) -> dict[str, Any]:
    """What a compose and a reprint are both given: the signer, profiles and cluster (loaded while the task
    says "starting"), the task's actor and clock, no --out, and the progress callbacks."""
    progress.phase("starting")
    signer = tools.signer(task.campaign)
    printer, inserter = tools.profiles()
    client = tools.client()
    progress.phase("planning")
    return {
        "out": None,
        "keys": tools.keys(),
        "signer": signer,
        "actor": task.actor,
        "now": clock(),
        "client": client,
        "printer": printer,
        "inserter": inserter,
        "on_start": progress.start,
        "on_job_done": progress.job_done,
    }


def _require_intact(summary: Any, result: dict[str, Any]) -> None:
    """The CLI's refusal when composed jobs' files are damaged, with what was done kept on the task."""
    try:
        summary.require_intact()
    except CourrierError as error:
        error.task_result = result  # type: ignore[attr-defined]
        raise


def _results(
    engine: Engine, task: tasks.Task, tools: Tools, progress: _Progress, clock: Callable[[], dt.datetime]
) -> dict[str, Any]:
    with engine.connect() as connection:
        name, content = tasks.task_file(connection, task.id)
    with tempfile.TemporaryDirectory(prefix="courrier-task-") as folder:
        # The file's own name is what the results table records, as when the page reads it at once.
        path = Path(folder) / (Path(name).name or "results.csv")
        path.write_bytes(content)
        del content
        summary = apply_results(
            engine,
            path,
            actor=task.actor,
            at=clock(),
            job_name=task.params.get("job") or None,
            progress=progress.records,
        )
    progress.write(done=summary.records, total=summary.records)  # applied: every record is done
    result: dict[str, Any] = summary.to_json()
    result["refused_count"] = len(summary.refused)
    result["refused"] = result["refused"][:REFUSED_KEPT]
    return result


_RUNNERS: dict[str, Callable[..., dict[str, Any]]] = {
    "compose": _compose,
    "reprint": _reprint,
    "results": _results,
}


def work(
    engine: Engine,
    tools: Tools,
    *,
    once: bool = False,
    poll_s: float = 1.0,
    stop: threading.Event | None = None,
    clock: Callable[[], dt.datetime] = utcnow,
    keep_days: int | None = None,
) -> int:
    """Take queued tasks one after the other until ``stop`` is set (with ``once``: until none is
    queued); interrupt the tasks of dead workers on the way, and with ``keep_days`` prune the tasks
    ended longer ago (at the start, then every ``PRUNE_EVERY_S``). Returns how many tasks it ran."""
    stop = stop or threading.Event()
    started = clock()
    ran = 0
    seen_at: dt.datetime | None = None
    pruned_at: dt.datetime | None = None
    try:
        while not stop.is_set():
            now = clock()
            if seen_at is None or (now - seen_at).total_seconds() >= tasks.HEARTBEAT_S:
                tasks.worker_seen(engine, now, started_at=started)
                seen_at = now
            if keep_days is not None and (
                pruned_at is None or (now - pruned_at).total_seconds() >= tasks.PRUNE_EVERY_S
            ):
                _prune(engine, now, keep_days)
                pruned_at = now
            for reaped in tasks.reap_tasks(engine, now):
                log.warning("task %s interrupted: its worker is gone", reaped)
            task = tasks.claim_next(engine, now)
            if task is None:
                if once:
                    break
                stop.wait(poll_s)
                continue
            run_task(engine, task, tools, clock)
            ran += 1
    finally:
        tasks.worker_gone(engine)
    return ran


def _prune(engine: Engine, now: dt.datetime, keep_days: int) -> None:
    """Housekeeping beside the work, in two parts that each log what they did: a busy database only
    puts a part off to the next round, and never hides what the other part pruned."""
    _prune_tasks(engine, now, keep_days)
    _prune_web_leftovers(engine, now)


def _prune_tasks(engine: Engine, now: dt.datetime, keep_days: int) -> None:
    try:
        pruned = tasks.prune_tasks(engine, now, keep_days=keep_days)
    except OperationalError:
        log.warning("tasks not pruned (database busy): next time")
        return
    if pruned.total or pruned.workers:
        log.info(
            "pruned %s task(s) ended before %s (%s), %s gone worker(s); kept %s failure(s) not dealt with",
            pruned.total,
            f"{pruned.before:%Y-%m-%d %H:%M}",
            ", ".join(f"{count} {state}" for state, count in sorted(pruned.deleted.items())),
            pruned.workers,
            pruned.kept_failures,
        )


def _prune_web_leftovers(engine: Engine, now: dt.datetime) -> None:
    try:
        with write_transaction(engine) as connection:
            leftovers = prune_web_leftovers(connection, now)
    except OperationalError:
        log.warning("staff sessions and failure counters not pruned (database busy): next time")
        return
    if leftovers.sessions or leftovers.counters:
        log.info(
            "pruned %s ended staff session(s), %s idle failure counter(s)",
            leftovers.sessions,
            leftovers.counters,
        )
