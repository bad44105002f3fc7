"""Long work from the operator's page: a compose started from the page, refused a second time and for
other roles, run by the task worker and followed to its jobs; a large results file read by the worker;
a dead worker's task shown interrupted; a step's refusal shown in the page's language; on SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import html
import re
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from courrier.accounts.audit import list_audit
from courrier.accounts.sessions import open_session
from courrier.accounts.users import get_user
from courrier.catalogue import CATALOGUE
from courrier.db.schema import operator_tasks, pieces, print_jobs
from courrier.db.transaction import write_transaction
from courrier.languages import LANGUAGES
from courrier.production import tasks
from courrier.production.jobs import mark_job
from courrier.production.profiles import load_inserter, load_printer
from courrier.production.task_runs import Tools, work
from courrier.web.pages import operator
from courrier.web.pages.render import gettext_for

from ..conftest import HANG_S
from .conftest import NOW
from .dashboard_data import compose_job
from .pages import form_token

PAGE = "/staff/operator"


def _sign_in(engine: Engine, client: TestClient, role: str) -> TestClient:
    with write_transaction(engine) as connection:
        token = open_session(connection, get_user(connection, f"{role}1"), now=NOW).token
    client.cookies.clear()
    client.cookies.set("courrier_staff", token)
    return client


def _tools(keys: Any, client: Any = None) -> Tools:
    return Tools(
        keys=lambda: keys,
        client=lambda: client,
        signer=lambda _name: None,
        profiles=lambda: (load_printer(), load_inserter()),
    )


def _task_count(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(operator_tasks)).scalar_one())


def _start_compose(client: TestClient, campaign: str, token: str, **fields: str) -> Any:
    data = {"csrf_token": token, "campaign": campaign, "wave": "1", "job_size": "4", **fields}
    return client.post(f"{PAGE}/compose", data=data, follow_redirects=False)


@pytest.fixture
def operating(engine, client, staff_tokens, make_world, tmp_path: Path, monkeypatch):
    """A campaign of 12 letters in wave 1, the operator signed in, the print files in the scratch folder."""
    monkeypatch.chdir(tmp_path)
    world = make_world(people=12)
    _sign_in(engine, client, "operator")
    page = client.get(PAGE, params={"campaign": world.campaign, "lang": "en"}).text
    return world, form_token(page), page


def test_the_operator_starts_a_compose_and_follows_it_to_its_jobs(
    engine, client, operating, keys, dask_client, clock
):
    world, token, page = operating
    assert 'id="compose-form"' in page
    assert 'id="tasks-none"' in page
    started = _start_compose(client, world.campaign, token)
    assert started.status_code == 303, started.text
    location = started.headers["location"]
    assert re.fullmatch(r"/staff/operator/tasks/\d+", location)
    waiting = client.get(location, params={"lang": "en"}).text
    assert 'data-state="queued"' in waiting
    assert 'id="task-no-worker"' in waiting  # nobody runs `courrier tasks run` yet: said so
    assert '<noscript><meta http-equiv="refresh" content="5"></noscript>' in waiting
    assert '<script src="/static/operator/task.js" type="module">' in waiting
    assert "http-equiv" not in client.get(location, params={"refresh": "0"}).text
    # A second start of the same wave while the first waits: refused, nothing queued.
    again = _start_compose(client, world.campaign, token)
    assert again.status_code == 409
    assert 'data-code="task_running"' in again.text
    assert _task_count(engine) == 1
    with engine.connect() as connection:
        (entry,) = list_audit(connection, username="operator1", action="task.started")
    assert entry.details["kind"] == "compose"
    assert entry.details["wave"] == 1
    assert entry.subject == "task:" + location.rsplit("/", 1)[1]

    assert work(engine, _tools(keys, dask_client), once=True, clock=clock) == 1
    done = client.get(location, params={"lang": "en"}).text
    assert 'data-state="finished"' in done
    assert "http-equiv" not in done  # ended: the page no longer reloads itself
    with engine.connect() as connection:
        jobs = sorted(connection.execute(select(print_jobs.c.name)).scalars())
    assert len(jobs) == 3  # 12 letters, 4 sheets a job
    for job in jobs:
        assert f'<li class="reference">{job}</li>' in done
    assert re.search(r'<progress id="task-progress"[^>]*max="12" value="12"', done)
    assert "3 of 3" in done
    view = client.get(PAGE, params={"campaign": world.campaign, "lang": "en"}).text
    assert re.search(r'<tr id="task-row-\d+" data-state="finished"[ >]', view)
    for job in jobs:
        assert f'id="mark-{job}"' in view  # composed: waiting for the printer
    for language in LANGUAGES:
        _ = gettext_for(language)
        shown = client.get(location, params={"lang": language})
        assert shown.status_code == 200
        assert f"<h1>{_('Compose of wave %(wave)s') % {'wave': 1}}</h1>" in shown.text
        assert language == "en" or _("Finished.") != "Finished."


def _tbody(page: str) -> str:
    found = re.search(r'<table id="tasks-table".*?<tbody>(.*?)</tbody>', page, re.DOTALL)
    assert found is not None, page
    return found.group(1)


def test_the_latest_work_has_a_page_of_its_own_that_the_morning_view_asks_for_again(
    engine, client, operating
):
    """The morning view's list is live through its own page: the same rows, each with its state and what a
    change of it says; cheap to ask for every few seconds: it neither writes nor fills the audit log."""
    world, token, page = operating
    assert f'data-source="{PAGE}/tasks?campaign={world.campaign}"' in page
    assert '<script src="/static/operator/tasks.js" type="module">' in page
    assert 'id="tasks-live-hint" class="hint" hidden' in page  # shown by the script only
    assert re.search(r'<p id="tasks-announce" class="visually-hidden" role="status"></p>', page)
    listed = client.get(f"{PAGE}/tasks", params={"campaign": world.campaign, "lang": "en"})
    assert listed.status_code == 200
    assert 'id="tasks-none"' in listed.text
    assert 'data-active="0"' in listed.text
    location = _start_compose(client, world.campaign, token).headers["location"]
    task_id = location.rsplit("/", 1)[1]
    with engine.connect() as connection:
        audited = len(list_audit(connection, limit=None))
    listed = client.get(f"{PAGE}/tasks", params={"campaign": world.campaign, "lang": "en"}).text
    announce = "Compose of wave 1: waiting for a worker"
    row = f'<tr id="task-row-{task_id}" data-state="queued" data-announce="{announce}">'
    assert row in listed
    assert 'data-active="1"' in listed
    view = client.get(PAGE, params={"campaign": world.campaign, "lang": "en"}).text
    assert _tbody(view) == _tbody(listed)
    with engine.connect() as connection:
        # The morning view audits its re-send requests' view; the list page, asked again and again, not.
        assert len(list_audit(connection, limit=None)) == audited + 1
    for _look in range(3):
        client.get(f"{PAGE}/tasks", params={"campaign": world.campaign})
    with engine.connect() as connection:
        assert len(list_audit(connection, limit=None)) == audited + 1
    french = client.get(f"{PAGE}/tasks", params={"campaign": world.campaign, "lang": "fr"}).text
    assert 'data-announce="Composition de la vague 1\xa0: ' in french
    assert client.get(f"{PAGE}/tasks", params={"campaign": "no-such-campaign"}).status_code == 404


@pytest.mark.parametrize("role", ["ministry", "helpline", "reception"])
def test_only_the_operator_may_start_long_work(engine, client, staff_tokens, make_world, role):
    world = make_world(people=2)
    _sign_in(engine, client, role)
    # The role's own form token, so that the refusal can only be about who asks.
    token = client.get("/staff").text
    own = form_token(token)
    for path, data in [
        (f"{PAGE}/compose", {"wave": "1"}),
        (f"{PAGE}/reprint", {"confirmed": "yes"}),
    ]:
        answer = client.post(path, data={"csrf_token": own, "campaign": world.campaign, **data})
        assert answer.status_code == 403, (role, path)
        assert 'data-code="forbidden"' in answer.text
    assert client.get(f"{PAGE}/tasks/1").status_code == 403
    assert _task_count(engine) == 0


@pytest.mark.parametrize("guard", [True, False], ids=["guarded", "control-unguarded"])
def test_two_starts_at_once_from_two_browsers_queue_one_compose(
    engine, make_client, staff_tokens, make_world, monkeypatch, guard: bool
):
    """Two operators click "Start composing" for the same wave at the same moment (two clients, each in
    its thread): one task is queued, the other click is refused. The control takes the one-at-a-time key
    away and gets two tasks: the clicks did meet."""
    world = make_world(people=4)
    if not guard:
        monkeypatch.setattr(tasks, "task_key", lambda *args: None)
    ready = threading.Barrier(2)
    original = tasks.write_transaction

    def together(engine_: Any) -> Any:
        ready.wait(timeout=HANG_S)
        return original(engine_)

    monkeypatch.setattr(tasks, "write_transaction", together)
    clients = [_sign_in(engine, make_client(), "operator") for _ in range(2)]
    tokens = [form_token(c.get(PAGE, params={"campaign": world.campaign}).text) for c in clients]
    statuses: list[int] = []

    def click(number: int) -> None:
        statuses.append(_start_compose(clients[number], world.campaign, tokens[number]).status_code)

    threads = [threading.Thread(target=click, args=(number,)) for number in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=HANG_S)
    if guard:
        assert sorted(statuses) == [303, 409]
        assert _task_count(engine) == 1
    else:
        assert statuses == [303, 303]
        assert _task_count(engine) == 2


def test_a_large_results_file_is_read_by_the_worker_with_its_progress(
    engine, client, operating, keys, monkeypatch, clock
):
    world, token, _page = operating
    monkeypatch.setattr(operator, "INLINE_RESULTS_BYTES", 100)  # this file is "large"
    with engine.connect() as connection:
        ids = list(connection.execute(select(pieces.c.id).order_by(pieces.c.id)).scalars())
    compose_job(engine, "J000001", ids, wave=1, at=NOW)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "printed", actor="t", at=NOW)
    results = "piece_id,status,time,machine\n" + "".join(
        f"{piece},{'missing' if n == 0 else 'inserted'},2021-01-20T08:00,INS\n" for n, piece in enumerate(ids)
    )
    sent = client.post(
        f"{PAGE}/results",
        data={"csrf_token": token, "campaign": world.campaign},
        files={"file": ("J000001.results.csv", (results + "bad\n").encode(), "text/csv")},
        follow_redirects=False,
    )
    assert sent.status_code == 303, sent.text
    location = sent.headers["location"]
    with engine.connect() as connection:
        states = set(connection.execute(select(pieces.c.state)).scalars())
    assert states == {"printed"}  # nothing read yet: queued
    assert work(engine, _tools(keys), once=True, clock=clock) == 1
    page = client.get(location, params={"lang": "en"}).text
    assert 'data-state="finished"' in page
    assert 'id="applied-inserted">11<' in page
    assert 'id="applied-missing">1<' in page
    assert re.search(r'<progress id="task-progress"[^>]*max="13" value="13"', page)  # the bad line too
    assert "records" in page
    assert '<th scope="row">14</th>' in page  # the refused line, with its number
    with engine.connect() as connection:
        assert connection.execute(select(print_jobs.c.state)).scalar_one() == "inserted"
        details = list_audit(connection, username="operator1", action="task.started")[0].details
    assert details["file"] == "J000001.results.csv"
    assert details["kind"] == "results"


def test_a_task_whose_worker_died_shows_interrupted_and_may_be_started_again(
    engine, client, operating, clock
):
    world, token, _page = operating
    location = _start_compose(client, world.campaign, token).headers["location"]
    assert tasks.claim_next(engine, clock()) is not None
    dead = subprocess.Popen(["true"])  # a process that has ended: its pid runs no more
    dead.wait()
    with engine.begin() as connection:
        connection.execute(update(operator_tasks).values(pid=dead.pid, phase="composing", done=4, total=12))
    page = client.get(location, params={"lang": "en"}).text
    assert 'data-state="interrupted"' in page
    assert "Interrupted: the worker stopped before the end." in page
    assert 'data-code="worker_lost"' in page
    assert f"pid {dead.pid}" in page
    assert _start_compose(client, world.campaign, token).status_code == 303


@pytest.mark.parametrize("lang", ["fr", "de", "en", "pt", "lb"])
def test_the_operator_cancels_a_queued_and_a_running_task_from_its_page(
    engine, client, operating, clock, lang
):
    """Queued: cancelled at once, never taken. Running: the page says it is stopping (its worker stops at
    its next progress report, tests/production/test_tasks.py). Both audited; an ended task has no button,
    and a cancel sent anyway is refused in the page's language."""
    world, token, _page = operating
    gettext = gettext_for(lang)
    location = _start_compose(client, world.campaign, token).headers["location"]
    page = client.get(location, params={"lang": lang}).text
    assert 'id="task-cancel"' in page
    sent = client.post(f"{location}/cancel", data={"csrf_token": form_token(page)}, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, location)
    page = client.get(location, params={"lang": lang}).text
    assert 'data-state="cancelled"' in page
    shown = gettext("Cancelled. What was finished is kept: start it again to do the rest.")
    assert shown in html.unescape(page)
    assert 'id="task-cancel"' not in page
    assert tasks.claim_next(engine, clock()) is None
    refused = client.post(f"{location}/cancel", data={"csrf_token": form_token(page)}, follow_redirects=False)
    assert refused.status_code == 409
    assert html.unescape(CATALOGUE["task_ended"].template(lang)) in html.unescape(refused.text)
    # Started again, taken by a worker, then cancelled: stopping.
    running = _start_compose(client, world.campaign, token).headers["location"]
    assert tasks.claim_next(engine, clock()) is not None
    page = client.get(running, params={"lang": lang}).text
    client.post(f"{running}/cancel", data={"csrf_token": form_token(page)}, follow_redirects=False)
    page = client.get(running, params={"lang": lang}).text
    assert 'data-state="cancelling"' in page
    assert gettext("Cancelling: the worker stops after what it is doing now.") in html.unescape(page)
    with engine.connect() as connection:
        cancels = list_audit(connection, username="operator1", action="task.cancelled")
    assert len(cancels) == 2


def test_a_cancel_needs_the_form_token(engine, client, operating):
    world, token, _page = operating
    location = _start_compose(client, world.campaign, token).headers["location"]
    refused = client.post(f"{location}/cancel", data={"csrf_token": "forged"}, follow_redirects=False)
    assert refused.status_code in (400, 403), refused.status_code
    with engine.connect() as connection:
        assert tasks.get_task(connection, int(location.rsplit("/", 1)[1])).state == "queued"


def _failed_reprint(engine: Engine, client: TestClient, operating: Any, keys: Any, clock: Any) -> str:
    """A reprint of a printed job nothing was reported for, not confirmed: `courrier reprint` refuses it
    above the threshold without --yes, and so does the task. The failed task's page."""
    world, token, _page = operating
    with engine.connect() as connection:
        ids = list(connection.execute(select(pieces.c.id).order_by(pieces.c.id)).scalars())
    compose_job(engine, "J000001", ids, wave=1, at=NOW)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "printed", actor="t", at=NOW)
    view = client.get(PAGE, params={"campaign": world.campaign, "lang": "en"}).text
    assert 'id="reprint-confirm"' in view  # above the threshold: the form asks
    sent = client.post(
        f"{PAGE}/reprint", data={"csrf_token": token, "campaign": world.campaign}, follow_redirects=False
    )
    assert sent.status_code == 303
    clock.now = NOW + dt.timedelta(minutes=1)
    assert work(engine, _tools(keys), once=True, clock=clock) == 1
    return str(sent.headers["location"])


def test_a_steps_refusal_is_shown_in_the_pages_language(engine, client, operating, keys, clock):
    location = _failed_reprint(engine, client, operating, keys, clock)
    page = client.get(location, params={"lang": "fr"}).text
    assert 'data-state="failed"' in page
    assert 'data-code="reprint_threshold"' in page
    assert "Échec" in page
    assert "--yes" in page  # the command line's own words, beside the page's


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_operator_marks_a_failure_as_dealt_with_and_it_is_pruned_by_its_age(
    engine, client, operating, keys, clock, lang
):
    """The failed task's page offers the mark; sent, the page says who marked it and when, in its
    language, and offers it no more; audited. The pruning then deletes it once old enough, which it
    would not do before (the same reprint never finished since). A task that did not fail is refused."""
    gettext = gettext_for(lang)
    location = _failed_reprint(engine, client, operating, keys, clock)
    task_id = int(location.rsplit("/", 1)[1])
    page = client.get(location, params={"lang": lang}).text
    assert 'id="task-acknowledge"' in page
    assert gettext("Mark as dealt with") in html.unescape(page)
    later = clock.now + dt.timedelta(days=40)
    assert tasks.prune_tasks(engine, later, keep_days=30).kept_failures == 1
    forged = client.post(f"{location}/acknowledge", data={"csrf_token": "forged"}, follow_redirects=False)
    assert forged.status_code in (400, 403), forged.status_code

    sent = client.post(
        f"{location}/acknowledge", data={"csrf_token": form_token(page)}, follow_redirects=False
    )
    assert (sent.status_code, sent.headers["location"]) == (303, location)
    page = client.get(location, params={"lang": lang}).text
    assert 'id="task-acknowledge"' not in page
    assert 'id="task-acknowledged"' in page
    assert "operator1" in page
    assert 'data-state="failed"' in page  # still what happened
    with engine.connect() as connection:
        marks = list_audit(connection, username="operator1", action="task.acknowledged")
        assert tasks.get_task(connection, task_id).acknowledged_by == "operator1"
    assert [mark.subject for mark in marks] == [f"task:{task_id}"]

    assert tasks.prune_tasks(engine, clock.now + dt.timedelta(days=10), keep_days=30).total == 0
    pruned = tasks.prune_tasks(engine, later, keep_days=30)
    assert (pruned.deleted, pruned.kept_failures) == ({"failed": 1}, 0)
    world, token, _page = operating
    queued = _start_compose(client, world.campaign, token).headers["location"]
    page = client.get(queued, params={"lang": lang}).text
    assert 'id="task-acknowledge"' not in page
    refused = client.post(
        f"{queued}/acknowledge", data={"csrf_token": form_token(page)}, follow_redirects=False
    )
    assert refused.status_code == 409
    assert html.unescape(CATALOGUE["task_not_failed"].template(lang)) in html.unescape(refused.text)
