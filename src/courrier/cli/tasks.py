"""``courrier tasks``: the worker that runs the long work started from the operator's page."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

import click

from courrier.cli.common import current_app, echo_json, json_option

_SCHEDULER = click.option(
    "--scheduler",
    metavar="ADDRESS",
    help="A running Dask scheduler (tcp://host:8786) for composing; default an embedded LocalCluster,"
    " started at the first compose and kept for the next ones.",
)
_WORKERS = click.option(
    "--workers", type=click.IntRange(min=1), help="LocalCluster workers (default: one per core)."
)


@click.group("tasks")
def tasks() -> None:
    """Long work started from the operator's page: composes, reprints, large results files."""


@tasks.command("run")
@click.option("--once", is_flag=True, help="Run the queued tasks, then exit (instead of waiting for more).")
@click.option(
    "--poll",
    "poll_s",
    type=click.FloatRange(min=0.1),
    default=1.0,
    show_default=True,
    help="Seconds between looks for a queued task.",
)
@_SCHEDULER
@_WORKERS
def run_command(once: bool, poll_s: float, scheduler: str | None, workers: int | None) -> None:
    """Take the tasks the operator's page queued, one at a time, and run them with the same functions
    as `courrier compose`, `courrier reprint` and `courrier inserter results`. Run one or more (on any
    machine that reaches the database and the print files' folder); SIGTERM interrupts the running task
    (it shows as interrupted; started again, it resumes) and exits."""
    from courrier.cli.compose import _certificate_signer
    from courrier.production.profiles import configured_profiles
    from courrier.production.task_runs import Tools, work

    app = current_app(scheduler=scheduler, workers=workers)
    engine = app.engine
    settings = app.settings
    tools = Tools(
        keys=lambda: app.keys,
        client=lambda: app.dask_client,
        signer=lambda campaign: _certificate_signer(app, campaign),
        profiles=lambda: configured_profiles(settings.printer_profile, settings.inserter_profile),
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()

    def stopping(signum: int, _frame: FrameType | None) -> None:
        # Waiting: stop at once. Running a task: raised into it, so that it ends "interrupted".
        stop.set()
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, stopping)
    click.echo("courrier tasks run: waiting for tasks" + (" (once)" if once else ""), err=True)
    try:
        ran = work(engine, tools, once=once, poll_s=poll_s, stop=stop, keep_days=settings.tasks_keep_days)
    except SystemExit:
        click.echo("courrier tasks run: stopped", err=True)
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
    click.echo(f"courrier tasks run: {ran} task(s) run", err=True)


@tasks.command("list")
@click.option("--campaign", help="Only this campaign's tasks.")
@click.option(
    "--limit", type=click.IntRange(min=1), default=20, show_default=True, help="How many, newest first."
)
@json_option
def list_command(campaign: str | None, limit: int, as_json: bool) -> None:
    """The latest tasks: what, whose, in which state, how far."""
    from courrier.campaigns.store import campaign_id
    from courrier.db.types import utcnow
    from courrier.production.tasks import list_tasks, reap_tasks

    engine = current_app().engine
    reap_tasks(engine, utcnow())
    with engine.connect() as connection:
        cid = campaign_id(connection, campaign) if campaign else None
        found = list_tasks(connection, campaign_id=cid, limit=limit)
    if as_json:
        echo_json([task.to_json() for task in found])
        return
    for task in found:
        counts = f" {task.done}/{task.total} {task.unit}" if task.total is not None else ""
        error = f": {task.error_message} [{task.error_code}]" if task.error_code else ""
        what: Any = (
            task.params.get("wave", "re-issues") if task.kind == "compose" else task.params.get("file", "")
        )
        click.echo(
            f"{task.id} {task.kind} {task.campaign} {what or ''} {task.state} ({task.phase}){counts}"
            f" by {task.started_by} at {task.created_at:%Y-%m-%d %H:%M:%S}{error}"
            + (f" (dealt with by {task.acknowledged_by})" if task.acknowledged_by else "")
        )


@tasks.command("cancel")
@click.argument("task_id", type=int)
def cancel_command(task_id: int) -> None:
    """Cancel task TASK_ID, as the task's page does: a queued one at once; a running one stops after the
    print job (or inside the results file's transaction) it is on, keeping what it finished."""
    from courrier.db.types import utcnow
    from courrier.production.tasks import cancel_task, get_task

    app = current_app()
    with app.engine.connect() as connection:
        get_task(connection, task_id)
    state = cancel_task(app.engine, task_id, by=app.settings.actor, now=utcnow())
    if state == "cancelled":
        click.echo(f"task {task_id} cancelled")
    else:
        click.echo(f"task {task_id} is being cancelled: its worker stops after what it is doing now")


@tasks.command("acknowledge")
@click.argument("task_id", type=int)
def acknowledge_command(task_id: int) -> None:
    """Mark the failed or interrupted task TASK_ID as dealt with, as the task's page does: it is then
    pruned by its age like a finished task, instead of kept until the same work has finished since."""
    from courrier.db.types import utcnow
    from courrier.production.tasks import acknowledge_task

    app = current_app()
    task = acknowledge_task(app.engine, task_id, by=app.settings.actor, now=utcnow())
    assert task.acknowledged_at is not None
    click.echo(
        f"task {task_id} ({task.state}) marked as dealt with by {task.acknowledged_by}"
        f" at {task.acknowledged_at:%Y-%m-%d %H:%M:%S}"
    )


@tasks.command("prune")
@click.option(
    "--older-than",
    "days",
    type=click.IntRange(min=0),
    metavar="DAYS",
    help="Delete the tasks that ended more than DAYS days ago [default: COURRIER_TASKS_KEEP_DAYS, 30].",
)
@click.option("--dry-run", is_flag=True, help="Count what would be deleted; delete nothing.")
@json_option
def prune_command(days: int | None, dry_run: bool, as_json: bool) -> None:
    """Delete old ended tasks of the operator's page (the table would grow forever otherwise): every
    finished or cancelled task that ended more than DAYS days ago, with its file. A failed or interrupted
    task is a problem to look at: it is kept until it is marked as dealt with (`courrier tasks acknowledge`,
    or the task page's button), the same work (the same wave's compose, the campaign's reprint, the same
    results file) has finished since, or its campaign was purged. A queued, running or
    cancelling task is never deleted. Each `courrier tasks run` worker does the same every hour; the audit
    log keeps its own rows of who started and cancelled what."""
    from courrier.db.types import utcnow
    from courrier.production.tasks import prune_tasks

    app = current_app()
    keep_days = app.settings.tasks_keep_days if days is None else days
    pruned = prune_tasks(app.engine, utcnow(), keep_days=keep_days, dry_run=dry_run)
    if as_json:
        echo_json({**pruned.to_json(), "dry_run": dry_run})
        return
    states = ", ".join(f"{count} {state}" for state, count in sorted(pruned.deleted.items()))
    verb = "would delete" if dry_run else "deleted"
    click.echo(
        f"{verb} {pruned.total} task(s) ended before {pruned.before:%Y-%m-%d %H:%M} UTC"
        + (f" ({states})" if states else "")
    )
    if pruned.kept_failures:
        click.echo(
            f"kept {pruned.kept_failures} failed or interrupted task(s) whose work has not finished since"
            " (see courrier tasks list)"
        )
