"""The print shop's morning view as a page (role operator): ``courrier status``, ``reconcile``, the
reprints ``courrier reprint`` would make and the pending re-send requests of one campaign, with the
operator's actions: mark a job printed or posted, read an inserter results file, approve or reject a
re-send request, and start the long work (compose a wave, make the reprints, a large results file;
see :mod:`.operator_tasks`), its latest tasks listed (live: ``static/operator/tasks.js``). Each action
calls the library function the CLI calls (the same checks, the same refusals) and is written to the
audit log in its transaction; the requests' list is audited as a view, as on the API.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from courrier.accounts.audit import audit
from courrier.accounts.sessions import StaffSession
from courrier.booking.requests import approve_request, list_requests, reject_request
from courrier.campaigns.store import campaign_id, list_campaigns
from courrier.db.transaction import write_transaction
from courrier.errors import InputFileError
from courrier.production.jobs import JOB_STATES, list_jobs, mark_job
from courrier.production.presort import DEFAULT_JOB_SIZE_SHEETS
from courrier.production.reconcile import reconcile
from courrier.production.reports import campaign_status
from courrier.production.reprint import DEFAULT_THRESHOLD, plan_reprint
from courrier.production.results import MAX_FILE_BYTES, ResultsSummary, apply_results
from courrier.production.tasks import list_tasks, reap_tasks
from courrier.web.auth import context
from courrier.web.inputs import IdPath
from courrier.web.pages import csrf
from courrier.web.pages.render import FormTokenError, PageRoute, Redirect, render
from courrier.web.pages.staff import staff_page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
PAGE = "/staff/operator"
# The failed letters listed on the page (the CLI's `status` lists 20; the count is always given).
FAILURES_SHOWN = 50
# A results file larger than this is read by a task worker, its progress shown (a 16 MB file is 350,000
# records: a minute or more of one transaction); a smaller one is read at once, in the request.
INLINE_RESULTS_BYTES = 1024 * 1024
# The campaign's latest tasks (composes, reprints, results files started from the page) listed.
TASKS_SHOWN = 5


def tasks_url(campaign: str) -> str:
    """The campaign's latest work alone: the page the morning view's script asks for again."""
    return f"{PAGE}/tasks?campaign={quote(campaign)}"


def _actor(session: StaffSession) -> str:
    return f"staff:{session.user.username}"


def _back(campaign: str, notice: str) -> Redirect:
    return Redirect(f"{PAGE}?campaign={quote(campaign)}&done={quote(notice)}")


async def read_form(request: Request, session: StaffSession) -> Any:
    form = await request.form()
    token = form.get(csrf.FIELD)
    if not csrf.matches(session.csrf_token, token if isinstance(token, str) else None):
        await form.close()
        raise FormTokenError()
    return form


def form_text(form: Any, name: str, length: int = 100) -> str:
    value = form.get(name)
    return value.strip()[:length] if isinstance(value, str) else ""


def morning_view(request: Request, session: StaffSession, name: str | None) -> dict[str, Any]:
    """What the page shows of campaign ``name`` (the first campaign when None)."""
    ctx = context(request)
    with ctx.engine.connect() as connection:
        campaigns = list_campaigns(connection)
    names = [campaign.name for campaign in campaigns]
    if not names:
        return {"campaigns": [], "campaign": None}
    chosen = name if name in names else names[0]
    with write_transaction(ctx.engine) as connection:
        cid = campaign_id(connection, chosen)
        status = campaign_status(connection, cid)
        jobs = list_jobs(connection, campaign_id=cid)
        reconciliation = reconcile(connection, cid)
        pending = list_requests(connection, kind="resend", state="pending", campaign=chosen)
        audit(
            connection,
            session.user,
            "requests.viewed",
            "requests",
            now=ctx.clock(),
            details={"campaign": chosen, "count": len(pending)},
        )
    reprints = plan_reprint(ctx.engine, cid)
    reap_tasks(ctx.engine, ctx.clock())
    with ctx.engine.connect() as connection:
        tasks = list_tasks(connection, campaign_id=cid, limit=TASKS_SHOWN)
    states = sorted({state for counts in status.pieces.values() for state in counts})
    return {
        "campaigns": names,
        "campaign": chosen,
        "production": status,
        "piece_states": states,
        "jobs": jobs,
        "jobs_by_state": {state: [job for job in jobs if job.state == state] for state in JOB_STATES},
        "reconciliation": reconciliation,
        "reprints": reprints,
        "reprint_threshold": DEFAULT_THRESHOLD,
        "failures": status.failures[:FAILURES_SHOWN],
        "requests": pending,
        "tasks": tasks,
        "tasks_url": tasks_url(chosen),
        "waves": [wave for wave in status.pieces if wave != "reissues"],
        "has_reissues": "reissues" in status.pieces,
        "job_size": DEFAULT_JOB_SIZE_SHEETS,
    }


def _done(text: str) -> dict[str, str] | None:
    """What the last action did, from the redirect's ``done=KIND:NAME[:STATE]`` (the page words it)."""
    kind, _, rest = text[:60].partition(":")
    name, _, state = rest.partition(":")
    return {"kind": kind, "name": name, "state": state} if kind and name else None


@router.get(PAGE)
def operator_page(request: Request) -> Response:
    found, session = staff_page(request, "operator")
    values = morning_view(request, session, request.query_params.get("campaign"))
    return render(
        found,
        "operator.html",
        here=PAGE + (f"?campaign={quote(values['campaign'])}" if values["campaign"] else ""),
        done=_done(request.query_params.get("done", "")),
        max_file_mb=MAX_FILE_BYTES // (1024 * 1024),
        inline_mb=INLINE_RESULTS_BYTES // (1024 * 1024),
        **values,
    )


@router.post(PAGE + "/jobs/{job}/mark")
async def mark(request: Request, job: str) -> Response:
    _found, session = staff_page(request, "operator")
    form = await read_form(request, session)
    state, campaign = form_text(form, "state"), form_text(form, "campaign")
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        marked = mark_job(connection, job, state, actor=_actor(session), at=ctx.clock())
        audit(
            connection,
            session.user,
            "job.marked",
            f"job:{marked.job}",
            now=ctx.clock(),
            details={"state": state, "pieces": marked.pieces},
        )
    raise _back(campaign, f"marked:{marked.job}:{state}")


@router.post(PAGE + "/results")
async def results(request: Request) -> Response:
    """Read an uploaded inserter results file with ``apply_results``, as `courrier inserter results`
    does, and show what it applied and every record it refused with its line; a file over
    ``INLINE_RESULTS_BYTES`` is queued for a task worker instead, and the answer is its task's page."""
    found, session = staff_page(request, "operator")
    form = await read_form(request, session)
    try:
        summary, file_name = await _read_upload(request, session, form)
    finally:
        await form.close()  # the upload's spooled file
    campaign = form_text(form, "campaign")
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        audit(
            connection,
            session.user,
            "inserter.results_read",
            f"job:{summary.job}",
            now=ctx.clock(),
            details={"file": file_name, "records": summary.records, "applied": dict(summary.applied)},
        )
    return render(found, "operator_results.html", here=PAGE, summary=summary, campaign=campaign)


async def _read_upload(request: Request, session: StaffSession, form: Any) -> tuple[ResultsSummary, str]:
    from courrier.web.pages.operator_tasks import start_results

    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InputFileError("choose the inserter's results file", code="no_file")
    ctx = context(request)
    with tempfile.TemporaryDirectory(prefix="courrier-results-") as folder:
        # The file's own name (its last part) is what the results table records as its file name.
        path = Path(folder) / (Path(upload.filename).name or "results.csv")
        with path.open("wb") as out:
            size = 0
            while chunk := await upload.read(1024 * 1024):
                size += len(chunk)
                out.write(chunk)
                if size > MAX_FILE_BYTES:
                    break  # apply_results refuses it (file_too_large) by its size
        job = form_text(form, "job", 32) or None
        if INLINE_RESULTS_BYTES < size <= MAX_FILE_BYTES:
            # A large file is read by a task worker, its progress on the task's page.
            raise start_results(
                request, session, form_text(form, "campaign"), job, path.name, path.read_bytes()
            )
        # Off the event loop, so the server worker keeps serving the others meanwhile.
        summary = await run_in_threadpool(
            apply_results, ctx.engine, path, actor=_actor(session), at=ctx.clock(), job_name=job
        )
        return summary, path.name


@router.post(PAGE + "/requests/{request_id}/approve")
async def approve(request: Request, request_id: IdPath) -> Response:
    return await _decide(request, request_id, "approved")


@router.post(PAGE + "/requests/{request_id}/reject")
async def reject(request: Request, request_id: IdPath) -> Response:
    return await _decide(request, request_id, "rejected")


async def _decide(request: Request, request_id: int, decision: str) -> Response:
    """Approve (re-issue the letter, same or new code by the campaign's kind, for the next
    `compose --reissues`) or reject a pending re-send request, as `courrier requests approve|reject`."""
    _found, session = staff_page(request, "operator")
    form = await read_form(request, session)
    campaign = form_text(form, "campaign")
    ctx = context(request)
    with write_transaction(ctx.engine) as connection:
        if decision == "approved":
            approve_request(connection, request_id, keys=ctx.keys, actor=_actor(session), now=ctx.clock())
        else:
            reason = form_text(form, "reason", 500) or "rejected"
            reject_request(connection, request_id, reason=reason, actor=_actor(session), now=ctx.clock())
        audit(connection, session.user, f"request.{decision}", f"request:{request_id}", now=ctx.clock())
    raise _back(campaign, f"{decision}:{request_id}")
