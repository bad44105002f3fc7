"""Long work started from the operator's page: compose a wave (or the re-issues), make the reprints,
read a large inserter results file; and the page that follows its progress until it ends.

A start only queues a task (:mod:`courrier.production.tasks`) and answers at once with a redirect to the
task's page; a ``courrier tasks run`` worker takes it and calls the function the CLI command calls, with
its checks and refusals. The task's state is in the database, so the page survives a reload, another
server worker, or the operator's colleague opening it. Without JavaScript the page refreshes itself
while the work runs (``?refresh=0`` stops that); with it, ``static/operator/task.js`` swaps the live
parts in place. The morning view's list of the latest tasks is live the same way: its own page
(``GET /staff/operator/tasks?campaign=NAME``, the same rows) is asked for again by
``static/operator/tasks.js``. Each start is audited (``task.started``) in the transaction that queues
it, each cancel (``task.cancelled``) after it, and so is marking a failure as dealt with
(``task.acknowledged``).
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.campaigns.store import campaign_id, get_campaign, require_frozen_template
from courrier.catalogue import CATALOGUE
from courrier.db.transaction import read_connection, write_transaction
from courrier.errors import NotFoundError
from courrier.production.compose_plan import wave_id
from courrier.production.presort import DEFAULT_JOB_SIZE_SHEETS
from courrier.production.tasks import (
    FAILURES,
    Task,
    acknowledge_task,
    cancel_task,
    get_task,
    list_tasks,
    reap_tasks,
    start_task,
    workers_seen,
)
from courrier.web.auth import context
from courrier.web.inputs import IdPath, form_id
from courrier.web.pages import operator
from courrier.web.pages.render import PageRoute, Redirect, render
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
TASKS = operator.PAGE + "/tasks"
# Without JavaScript, the page of a task still running reloads itself this often.
REFRESH_S = 5
# What the page shows of a results task's refused records (the count is always given).
REFUSED_SHOWN = 100


def _start(
    request: Request,
    session: StaffSession,
    kind: str,
    campaign_name: str,
    params: dict[str, Any],
    what: str,
    file: tuple[str, bytes] | None = None,
) -> Redirect:
    ctx = context(request)
    now = ctx.clock()
    with ctx.engine.connect() as connection:
        campaign = get_campaign(connection, campaign_name)
        if kind != "results":
            require_frozen_template(campaign)
        if kind == "compose" and params["wave"] is not None:
            wave_id(connection, campaign, params["wave"])

    def audited(connection: Any, task_id: int) -> None:
        audit(
            connection,
            session.user,
            "task.started",
            f"task:{task_id}",
            now=now,
            details={"kind": kind, "campaign": campaign.name, **params},
        )

    task_id = start_task(
        ctx.engine,
        kind,
        campaign.id,
        campaign.name,
        params,
        started_by=session.user.username,
        now=now,
        what=what,
        file=file,
        on_started=audited,
    )
    return Redirect(f"{TASKS}/{task_id}")


@router.post(operator.PAGE + "/compose")
async def start_compose(request: Request) -> Response:
    """Compose a wave's letters (or the re-issues) into print jobs, as ``courrier compose``."""
    _found, session = staff_page(request, "operator")
    form = await operator.read_form(request, session)
    campaign, chosen = operator.form_text(form, "campaign"), operator.form_text(form, "wave", 16)
    wave: int | None
    if chosen == "reissues":
        wave = None
    elif form_id(chosen, 999_999) is not None:
        wave = int(chosen)
    else:
        raise NotFoundError(f"campaign {campaign} has no wave {chosen[:16]!r}", code="unknown_wave")
    job_size = operator.form_text(form, "job_size", 7)
    size = form_id(job_size, 9_999_999) or DEFAULT_JOB_SIZE_SHEETS
    retry = operator.form_text(form, "retry_failed", 5) == "yes" and wave is not None
    what = f"compose of {campaign} " + ("re-issues" if wave is None else f"wave {wave}")
    raise _start(
        request,
        session,
        "compose",
        campaign,
        {"wave": wave, "retry_failed": retry, "job_size": size},
        what,
    )


@router.post(operator.PAGE + "/reprint")
async def start_reprint(request: Request) -> Response:
    """Make the reprint jobs, as ``courrier reprint`` (``confirmed``: its ``--yes``)."""
    _found, session = staff_page(request, "operator")
    form = await operator.read_form(request, session)
    campaign = operator.form_text(form, "campaign")
    confirmed = operator.form_text(form, "confirmed", 5) == "yes"
    raise _start(request, session, "reprint", campaign, {"confirmed": confirmed}, f"reprint of {campaign}")


def start_results(
    request: Request, session: StaffSession, campaign: str, job: str | None, name: str, content: bytes
) -> Redirect:
    """Queue a large results file (read by ``apply_results``, as ``courrier inserter results``)."""
    sha256 = hashlib.sha256(content).hexdigest()
    params = {"job": job or "", "file": name, "size": len(content), "sha256": sha256}
    return _start(request, session, "results", campaign, params, f"reading {name}", (name, content))


@router.post(TASKS + "/{task_id}/cancel")
async def cancel(request: Request, task_id: IdPath) -> Response:
    """Cancel a task: a queued one at once, a running one at its worker's next progress report (after
    the print job it is making; a results file's transaction rolls back). Audited (``task.cancelled``)."""
    _found, session = staff_page(request, "operator")
    await operator.read_form(request, session)
    ctx = context(request)
    now = ctx.clock()
    with ctx.engine.connect() as connection:
        get_task(connection, task_id)  # unknown_task, before anything is written
    state = cancel_task(ctx.engine, task_id, by=session.user.username, now=now)
    with write_transaction(ctx.engine) as connection:
        audit(
            connection, session.user, "task.cancelled", f"task:{task_id}", now=now, details={"state": state}
        )
    raise Redirect(f"{TASKS}/{task_id}")


@router.post(TASKS + "/{task_id}/acknowledge")
async def acknowledge(request: Request, task_id: IdPath) -> Response:
    """Mark a failed or interrupted task as dealt with: the pruning then deletes it by its age (it is kept
    otherwise until the same work has finished since). Audited (``task.acknowledged``) after the mark, as
    a cancel is; marking twice keeps the first mark (who and when), and the audit log has both clicks."""
    _found, session = staff_page(request, "operator")
    await operator.read_form(request, session)
    ctx = context(request)
    now = ctx.clock()
    task = acknowledge_task(ctx.engine, task_id, by=session.user.username, now=now)
    with write_transaction(ctx.engine) as connection:
        audit(
            connection,
            session.user,
            "task.acknowledged",
            f"task:{task_id}",
            now=now,
            details={"state": task.state},
        )
    raise Redirect(f"{TASKS}/{task_id}")


@router.get(TASKS)
def task_list_page(request: Request) -> Response:
    """The campaign's latest tasks, the rows the morning view lists: what its script asks for again to
    keep that list live. It shows what was started, by which operator and how far it is, nothing about
    a person: not audited, unlike the morning view (whose re-send requests are), so that a poll every
    few seconds neither writes nor fills the audit log."""
    found, _session = staff_page(request, "operator")
    ctx = context(request)
    name = request.query_params.get("campaign", "")[:100]
    reap_tasks(ctx.engine, ctx.clock())  # as the morning view: a dead worker's task shows interrupted
    with read_connection(ctx.engine) as connection:
        listed = list_tasks(connection, campaign_id=campaign_id(connection, name), limit=operator.TASKS_SHOWN)
    return render(
        found,
        "operator_task_list.html",
        here=operator.tasks_url(name),
        tasks=listed,
        campaign=name,
        tasks_url=operator.tasks_url(name),
        back=f"{operator.PAGE}?campaign={quote(name)}",
    )


@router.get(TASKS + "/{task_id}")
def task_page(request: Request, task_id: IdPath) -> Response:
    found, _session = staff_page(request, "operator")
    ctx = context(request)
    now = ctx.clock()
    reap_tasks(ctx.engine, now)  # a dead worker's task shows as interrupted, not running forever
    with ctx.engine.connect() as connection:
        task = get_task(connection, task_id)
        waiting_for_worker = task.state == "queued" and workers_seen(connection, now) == 0
    refresh = not task.ended and request.query_params.get("refresh") != "0"
    here = f"{TASKS}/{task.id}"
    return render(
        found,
        "operator_task.html",
        here=here,
        task=task,
        now=now,
        rate=task.rate_per_s(now),
        left=_minutes(task.seconds_left(now)),
        reason=_reason(task, found.language),
        waiting_for_worker=waiting_for_worker,
        may_acknowledge=task.state in FAILURES and task.acknowledged_at is None,
        refresh_s=REFRESH_S if refresh else None,
        page=here,
        refused_shown=REFUSED_SHOWN,
        back=f"{operator.PAGE}?campaign={quote(task.campaign)}",
    )


def _minutes(seconds: float | None) -> str | None:
    if seconds is None:
        return None
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}:{rest:02d}"


def _reason(task: Task, language: str) -> str | None:
    """Why a task failed, in the page's language when the catalogue knows the code (the English detail
    is shown beside it); None for the codes the page words itself (a lost or stopped worker)."""
    entry = CATALOGUE.get(task.error_code or "")
    if entry is None or entry.code == "error":
        return None
    # The catalogue's message for the stored code, filled from the stored facts (as catalogue.message).
    return entry.fill(language, task.error_facts)
