"""Long work from the operator's page in a browser: the operator starts composing wave 1 from the
morning view; the task's page says nobody runs the worker yet; a real `courrier tasks run` takes it (held
after its second print job, so the page is seen mid-run: progress bar, jobs, rate, the job being made),
the page follows it in place with JavaScript, survives a reload, and shows the finished jobs, which the
morning view then lists for the printer. Then the same without JavaScript: wave 2 started, the page
reloads itself until the work is done. The morning view's list of the latest work follows a task started
elsewhere through its states without a reload, announcing only the changes of state. axe-core at a
desktop's and a phone's size; screenshots (docs/images/web/43-operator-task-running,
44-operator-task-finished, 45-operator-work-live with COURRIER_UPDATE_SCREENSHOTS=1)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from courrier.accounts.users import add_user
from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import create_key_file
from courrier.db import make_engine, upgrade
from courrier.db.schema import campaigns, print_jobs
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.production import tasks

from ...campaigns.conftest import add_persons
from .conftest import CAMPAIGN_FILE, axe_violations, look_at_both_sizes, serving

ROOT = Path(__file__).resolve().parents[3]
STEP_RUNNER = ROOT / "tests" / "production" / "step_runner.py"
PASSWORD = "correct horse battery"
# Waves of 400 (the example campaign's 200 a day for two days): wave 1 full, wave 2 of 60.
PEOPLE = 460
JOB_SIZE = 40
# The worker is held when it is about to record its third job: two are done, the page is seen then.
HELD_AT = "courrier.production.compose_wave:_finish_job@3"
# A cluster starting on a loaded two-core machine: only a guard against a worker that hangs.
WAIT_MS = 300_000

# The screenshots docs/web.md shows from this test (test_pages checks docs/images/web/ against them).
DOCS_PAGES = ("43-operator-task-running", "44-operator-task-finished", "45-operator-work-live")
# The morning view's list asks again every 15 s while nothing runs (tasks.js): a guard above that.
IDLE_WAIT_MS = 60_000


@dataclass
class Shop:
    base_url: str
    folder: Path
    database_url: str
    key_file: Path

    def url(self, path: str) -> str:
        return self.base_url + path


def _build(folder: Path) -> tuple[str, Path]:
    url = f"sqlite:///{folder / 'courrier.db'}"
    key_file = folder / "courrier.keys"
    keys = create_key_file(key_file)
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    add_persons(
        engine, *[{"birth_date": dt.date(1930, 1, 1) + dt.timedelta(days=n * 5)} for n in range(PEOPLE)]
    )
    definition = parse_definition(CAMPAIGN_FILE.read_text(), base=CAMPAIGN_FILE.parent)
    create_campaign(engine, definition, actor="browser-tests", now=now)
    plan_campaign(engine, definition.name, actor="browser-tests", now=now)
    issue_codes(engine, definition.name, keys=keys, actor="browser-tests", now=now)
    with write_transaction(engine) as connection:
        add_user(connection, "operator1", PASSWORD, "operator", now=now)
    engine.dispose()
    return url, key_file


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    folder = tmp_path_factory.mktemp("operator-tasks-site")
    url, key_file = _build(folder)
    with serving(folder, url, key_file) as base_url:
        yield Shop(base_url, folder, url, key_file)


@pytest.fixture
def worker(shop: Shop) -> Iterator[Any]:
    """``start()``: a real `courrier tasks run` (one Dask worker) on the shop's database, held before it
    records its third job until ``go()``; stopped with SIGTERM at the end."""
    held = shop.folder / "held"
    held.mkdir(exist_ok=True)
    started: list[subprocess.Popen[bytes]] = []
    log = shop.folder / "worker.log"

    class Worker:
        def start(self) -> None:
            env = os.environ | {
                "COURRIER_DATABASE_URL": shop.database_url,
                "COURRIER_KEY_FILE": str(shop.key_file),
                "STEP_RUNNER_DIR": str(held),
            }
            with log.open("wb") as output:
                started.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            str(STEP_RUNNER),
                            HELD_AT,
                            "on",
                            "--",
                            "tasks",
                            "run",
                            "--workers",
                            "1",
                        ],
                        env=env,
                        cwd=shop.folder,
                        stdout=output,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,  # its Dask workers too, stopped with it
                    )
                )

        def go(self) -> None:
            (held / "go").touch()

        def log(self) -> str:
            return log.read_text(errors="replace")

    yield Worker()
    for process in started:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _sign_in(page: Any, shop: Shop) -> None:
    page.goto(shop.url("/staff/sign-in?lang=en"))
    page.fill("#username", "operator1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url(shop.url("/staff"))


def _look(page: Any, axe: Path, name: str) -> list[str]:
    return look_at_both_sizes(page, axe, "en", name, docs=name in DOCS_PAGES)


def _jobs(shop: Shop) -> list[str]:
    engine = make_engine(shop.database_url)
    try:
        with engine.connect() as connection:
            return sorted(connection.execute(select(print_jobs.c.name)).scalars())
    finally:
        engine.dispose()


def test_the_operator_composes_a_wave_from_the_page_and_follows_its_progress(
    shop: Shop, worker: Any, new_page: Any, axe_path: Path
):
    page = new_page(axe=True)
    _sign_in(page, shop)
    page.click("#operator-link")
    page.wait_for_selector("#operator-dashboard")
    assert page.locator("#tasks-none").count() == 1
    violations = _look(page, axe_path, "43-operator-work")
    page.select_option("#compose-wave", "1")
    page.fill("#compose-job-size", str(JOB_SIZE))
    page.click("#compose-submit")
    page.wait_for_url("**/staff/operator/tasks/*")
    task_url = page.url
    assert page.get_attribute("#operator-task", "data-state") == "queued"
    assert page.locator("#task-no-worker").count() == 1  # nobody runs `courrier tasks run` yet
    page.evaluate("() => { window.sameDocument = true; }")  # gone if the page were reloaded

    worker.start()
    # Two jobs recorded, the worker held before the third: the page has followed it in place.
    try:
        page.wait_for_function(
            "() => (document.querySelector('#task-jobs')?.textContent || '').startsWith('2 of')",
            timeout=WAIT_MS,
        )
    except Exception:
        raise AssertionError(
            f"the page never showed two jobs done; the worker said:\n{worker.log()}"
        ) from None
    assert page.evaluate("() => window.sameDocument") is True
    assert page.get_attribute("#operator-task", "data-polling") == "on"
    assert page.locator("#task-no-worker").count() == 0
    assert "Running: composing the letters." in page.inner_text("#task-state")
    done = int(page.get_attribute("#task-progress", "value") or 0)
    assert 0 < done < 400
    assert page.get_attribute("#task-progress", "max") == "400"
    jobs_shown = page.inner_text("#task-jobs")
    assert int(jobs_shown.split(" of ")[1]) >= 400 // JOB_SIZE  # cut at postcodes: maybe one more
    assert f"{done} of 400 letters" in page.inner_text("#task-counts")
    assert page.locator("#task-rate").count() == 1
    assert page.locator("#task-current").count() == 1
    violations += _look(page, axe_path, "43-operator-task-running")
    # The state is the database's: a reload shows the same.
    page.reload()
    assert page.inner_text("#task-jobs") == jobs_shown

    worker.go()
    page.wait_for_function(
        "() => document.querySelector('#operator-task').dataset.polling === 'ended'", timeout=WAIT_MS
    )
    assert page.get_attribute("#operator-task", "data-state") == "finished"
    assert page.inner_text("#task-state").strip() == "Finished."
    jobs = _jobs(shop)
    assert f"{len(jobs)} of {len(jobs)}" == page.inner_text("#task-jobs")
    assert page.locator("#task-jobs-composed li").all_inner_texts() == jobs
    assert page.get_attribute("#task-progress", "value") == "400"
    violations += _look(page, axe_path, "44-operator-task-finished")
    page.click("#back-to-operator")
    page.wait_for_selector("#operator-dashboard")
    printing = page.inner_text("#awaiting-printing")
    assert all(job in printing for job in jobs)
    assert page.get_attribute("#tasks-table tbody tr", "data-state") == "finished"

    # Without JavaScript: wave 2 started, the page reloads itself until the worker has composed it.
    plain = new_page(java_script_enabled=False)
    _sign_in(plain, shop)
    plain.goto(shop.url("/staff/operator?lang=en"))
    plain.select_option("#compose-wave", "2")
    plain.fill("#compose-job-size", str(JOB_SIZE))
    plain.click("#compose-submit")
    plain.wait_for_url("**/staff/operator/tasks/*")
    assert plain.url != task_url
    assert plain.locator("#task-refreshing").count() == 1
    plain.wait_for_selector('#operator-task[data-state="finished"]', timeout=WAIT_MS)
    assert plain.locator("#task-refreshing").count() == 0
    assert len(_jobs(shop)) > len(jobs)  # wave 2's 60 letters in jobs of their own
    engine = make_engine(shop.database_url)
    with engine.connect() as connection:
        finished = connection.exec_driver_sql("SELECT count(*) FROM operator_tasks WHERE state = 'finished'")
        assert finished.scalar() == 2
    engine.dispose()
    assert violations == []


def test_the_morning_views_latest_work_follows_a_task_without_a_reload(
    shop: Shop, new_page: Any, axe_path: Path
):
    """A colleague's reprint (queued here through the library, as the page's start does; then taken,
    advanced and finished as a worker does) shows up in an open morning view and follows its states in
    place; screen readers hear each new state once, never the counts; a keyboard user's focus on the
    task's link survives the update. Without JavaScript the list is the one rendered."""
    page = new_page(axe=True)
    _sign_in(page, shop)
    page.goto(shop.url("/staff/operator?lang=en"))
    page.wait_for_selector('#tasks-list[data-polling="on"]')
    assert page.is_visible("#tasks-live-hint")
    page.evaluate(
        """() => {
        window.sameDocument = true;
        window.announced = [];
        const line = document.getElementById("tasks-announce");
        new MutationObserver(() => window.announced.push(line.textContent)).observe(
            line, {childList: true, characterData: true, subtree: true});
    }"""
    )
    engine = make_engine(shop.database_url)
    try:
        with engine.connect() as connection:
            cid, name = connection.execute(select(campaigns.c.id, campaigns.c.name)).one()
        task_id = tasks.start_task(
            engine,
            "reprint",
            cid,
            name,
            {"confirmed": False},
            started_by="operator2",
            now=utcnow(),
            what="reprint",
        )
        row = f"#task-row-{task_id}"
        # Nothing was running: the list looks again within 15 s.
        page.wait_for_selector(f'{row}[data-state="queued"]', timeout=IDLE_WAIT_MS)
        assert "Reprints" in page.inner_text(row)
        assert "operator2" in page.inner_text(row)
        assert tasks.claim_next(engine, utcnow()) is not None
        page.wait_for_selector(f'{row}[data-state="running"]', timeout=WAIT_MS)
        tasks.report(engine, task_id, utcnow(), phase="composing", unit="letters", done=5, total=12)
        page.wait_for_function(
            f"() => document.querySelector('{row} td.number').textContent.includes('5 / 12 letters')",
            timeout=WAIT_MS,
        )
        violations = _look(page, axe_path, "45-operator-work-live")
        page.focus(f"#task-link-{task_id}")
        tasks.end_task(engine, task_id, "finished", utcnow())
        page.wait_for_selector(f'{row}[data-state="finished"]', timeout=WAIT_MS)
    finally:
        engine.dispose()
    assert page.evaluate("() => document.activeElement.id") == f"task-link-{task_id}"
    assert page.evaluate("() => window.sameDocument") is True
    # Each state once; the counts' change (5 of 12) was not announced.
    assert page.evaluate("() => window.announced") == [
        "Reprints: waiting for a worker",
        "Reprints: running",
        "Reprints: finished",
    ]
    assert page.get_attribute("#tasks-list", "data-active") == "0"
    violations += axe_violations(page, axe_path)

    plain = new_page(java_script_enabled=False)
    _sign_in(plain, shop)
    plain.goto(shop.url("/staff/operator?lang=en"))
    assert plain.get_attribute(row, "data-state") == "finished"
    assert not plain.is_visible("#tasks-live-hint")
    assert plain.get_attribute("#tasks-list", "data-polling") is None
    assert violations == []
