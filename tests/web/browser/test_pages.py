"""Every page in every language (the citizen's, the helpline's, and an operator's page of a failed task
before and after its "Mark as dealt with"): axe-core finds no serious or critical violation, and
screenshots at a phone's size and a desktop's (build/screenshots/en/, every language with
COURRIER_SCREENSHOTS=all; the pages docs/web.md shows, with COURRIER_UPDATE_SCREENSHOTS=1, also into
docs/images/web/)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from courrier.db import make_engine
from courrier.db.schema import campaigns
from courrier.db.types import utcnow
from courrier.languages import LANGUAGES
from courrier.production import tasks
from courrier.register.matricule import make_matricule
from courrier.web.pages.render import gettext_for

from .conftest import DOCS_IMAGES, SIZES, Site, look_at_both_sizes
from .steps import question_groups
from .test_dashboards import DOCS_PAGES as DASHBOARD_PAGES
from .test_operator_tasks import DOCS_PAGES as TASK_PAGES

HELPLINE = "Cannot book online? Call the helpline: 8002 8080 (free of charge)."
STAFF_FOOTER = "Every view of a person's data is recorded in the audit log."
# The pages docs/web.md shows (in DOCS_LANGUAGE).
DOCS_PAGES = (
    "01-code",
    "02-code-refused",
    "03-questions",
    "06-centre",
    "07-day",
    "08-time",
    "10-booked",
    "14-bookings",
    "15-cancel",
    "16-cancelled",
    "21-request",
    "26-staff-home",
    "28-helpline-caller",
    "31-operator-task-failed",
)


class Crawl:
    """One person's way through the pages; at each, axe and screenshots (``look_at_both_sizes``)."""

    def __init__(self, page: Any, axe: Path, language: str) -> None:
        self.page = page
        self.axe = axe
        self.language = language
        self.violations: list[str] = []
        self.seen: list[str] = []

    def look(self, name: str) -> None:
        assert self.page.get_attribute("html", "lang") == self.language, (name, self.page.url)
        # The footer as the catalog has it, and (but in English) not in English: the citizen's helpline
        # line, the staff's audit line on signed-in staff pages, nothing on the staff sign-in page.
        english = STAFF_FOOTER if self.page.locator("#staff-footer").count() else HELPLINE
        if self.page.locator("#sign-in-form").count():
            assert self.page.locator("footer p").count() == 0, (name, self.language)
        else:
            footer = gettext_for(self.language)(english)
            assert self.page.inner_text("footer p") == footer, (name, self.language)
            assert self.language == "en" or footer != english, (
                f"the footer is not translated into {self.language}"
            )
        self.violations += look_at_both_sizes(
            self.page, self.axe, self.language, name, docs=name in DOCS_PAGES
        )
        self.seen.append(name)

    def go(self, path: str, name: str, status: int = 200) -> None:
        answer = self.page.goto(_origin(self.page.url) + path)
        assert answer.status == status, (path, answer.status)
        self.look(name)

    def follow(self, selector: str, name: str) -> None:
        self.page.click(selector)
        self.page.wait_for_load_state()
        self.look(name)


def _origin(url: str) -> str:
    return "/".join(url.split("/", 3)[:3])


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_passes_axe_at_both_sizes(
    new_page: Any, site: Site, axe_path: Path, language: str
) -> None:
    page = new_page(axe=True)
    page.goto(site.url(f"/?lang={language}"))
    crawl = Crawl(page, axe_path, language)
    crawl.look("01-code")

    code = site.code(language)
    wrong = code[:10] + ("X" if code[10] != "X" else "Y") + code[11:]
    page.fill("#code", wrong)
    crawl.follow("#code-submit", "02-code-refused")

    page.fill("#code", code)
    page.click("#code-submit")
    page.wait_for_url(re.compile(r"/book/1/questions$"))
    crawl.look("03-questions")
    # Sent without answers (form.submit() skips the browser's own check of required fields).
    page.eval_on_selector("#questions-form", "form => form.submit()")
    page.wait_for_load_state()
    crawl.look("04-questions-unanswered")
    groups = question_groups(page)
    for name in groups:
        page.check(f'input[name="{name}"][value="{"yes" if name == groups[0] else "no"}"]')
    crawl.follow("#questions-submit", "05-see-your-doctor")
    page.goto(site.url("/book/1/questions"))
    for name in groups:
        page.check(f'input[name="{name}"][value="no"]')
    page.click("#questions-submit")
    page.wait_for_url(re.compile(r"/book/1/centre$"))
    crawl.look("06-centre")
    crawl.go("/book/1/day", "06-centre-not-chosen", status=422)
    page.goto(site.url("/book/1/centre"))
    page.locator('input[name="centre"]').first.check()
    crawl.follow("#centre-submit", "07-day")
    page.locator('input[name="day"]').first.check()
    crawl.follow("#day-submit", "08-time")
    page.eval_on_selector("#slot-form", "form => form.submit()")
    page.wait_for_load_state()
    crawl.look("09-time-not-chosen")
    page.locator('input[name="slot"]').first.check()
    crawl.follow("#slot-submit", "10-booked")
    booking = re.search(r"/bookings/(\d+)", page.url).group(1)  # type: ignore[union-attr]
    page.click("#book-dose-2")
    page.wait_for_url(re.compile(r"/book/2/questions"))
    for name in question_groups(page):
        page.check(f'input[name="{name}"][value="no"]')
    crawl.follow("#questions-submit", "11-dose-2-day")
    page.locator('input[name="day"]').first.check()
    page.click("#day-submit")
    page.locator('input[name="slot"]').first.check()
    crawl.follow("#slot-submit", "12-dose-2-booked")
    crawl.follow("#move-booking", "13-move-centre")
    crawl.go("/bookings", "14-bookings")
    crawl.go(f"/bookings/{booking}/cancel", "15-cancel")
    crawl.follow("#cancel-submit", "16-cancelled")
    crawl.go("/bookings/999999", "18-unknown-booking", status=404)
    page.goto(site.url("/bookings"))
    page.click("#leave-submit")
    page.wait_for_url(re.compile(r"/$"))
    # A session cookie that no longer opens anything (expired, or signed with a retired key).
    page.context.add_cookies([{"name": "courrier_citizen", "value": "expired", "url": site.base_url}])
    page.goto(site.url("/bookings"))
    page.wait_for_url(re.compile(r"/\?ended=1$"))
    crawl.look("19-session-ended")
    # The address in the letter's QR code: the form with the code filled in.
    crawl.go(f"/c/{site.code(language).replace('-', '')}", "20-code-from-the-letter")

    # "No letter?": the request form, its errors at their fields, and the answer.
    crawl.go("/request", "21-request")
    crawl.follow("#request-submit", "22-request-not-filled")
    page.check("#kind-resend")
    page.fill("#matricule", make_matricule(dt.date(1931, 2, 3), 1))
    page.fill("#birth_date", "1931-02-03")
    page.fill("#postcode", "L-1234")
    crawl.follow("#request-submit", "23-request-received")
    crawl.go("/request?kind=waiting_list", "23b-waiting-list")

    # Staff: sign-in (refused, then signed in), the helpline finding a caller by the code they read out.
    crawl.go("/staff/sign-in", "24-staff-sign-in")
    username, password = site.helpline
    page.fill("#username", username)
    page.fill("#password", "not the password")
    crawl.follow("#sign-in-submit", "25-staff-sign-in-refused")
    page.fill("#username", username)
    page.fill("#password", password)
    crawl.follow("#sign-in-submit", "26-staff-home")
    crawl.follow("#helpline-link", "27-helpline")
    caller_code = site.code(language)
    page.fill("#caller-code", caller_code[:5] + ("2" if caller_code[5] != "2" else "3") + caller_code[6:])
    crawl.follow("#caller-submit", "27b-helpline-refused")
    page.fill("#caller-code", caller_code)
    crawl.follow("#caller-submit", "28-helpline-caller")
    crawl.follow("#book-dose-1", "29-helpline-questions")
    for name in question_groups(page):
        page.check(f'input[name="{name}"][value="no"]')
    crawl.follow("#questions-submit", "29b-helpline-centre")
    page.locator('input[name="centre"]').first.check()
    page.click("#centre-submit")
    page.locator('input[name="day"]').first.check()
    page.click("#day-submit")
    page.locator('input[name="slot"]').first.check()
    crawl.follow("#slot-submit", "29c-helpline-booked")
    crawl.follow("#sign-out-submit", "30-staff-signed-out")

    # The print shop: a task that failed, marked as dealt with from its page.
    failed = _failed_task(site)
    username, password = site.operator
    page.fill("#username", username)
    page.fill("#password", password)
    page.click("#sign-in-submit")
    page.wait_for_url(re.compile(r"/staff$"))
    crawl.go(f"/staff/operator/tasks/{failed}", "31-operator-task-failed")
    assert page.get_attribute("#operator-task", "data-state") == "failed"
    assert page.is_visible("#task-acknowledge")
    crawl.follow("#task-acknowledge", "32-operator-task-acknowledged")
    assert page.locator("#task-acknowledge").count() == 0
    assert username in page.inner_text("#task-acknowledged")
    page.click("#sign-out-submit")

    assert crawl.violations == [], "\n".join(crawl.violations)


def _failed_task(site: Site) -> int:
    """A reprint the task worker refused above the threshold (queued, taken and failed here through the
    library, as a worker does, with the step's own code and words); its id."""
    engine = make_engine(site.database_url)
    try:
        with engine.connect() as connection:
            campaign = connection.execute(
                select(campaigns.c.id).where(campaigns.c.name == site.campaign)
            ).scalar_one()
        task_id = tasks.start_task(
            engine,
            "reprint",
            campaign,
            site.campaign,
            {"confirmed": False},
            started_by=site.operator[0],
            now=utcnow(),
            what="reprint",
        )
        taken = tasks.claim_next(engine, utcnow())
        assert taken is not None
        assert taken.id == task_id
        message = (
            "12 of 400 pieces (3.0%) would be reprinted, above the 2% threshold: check that every"
            " inserter results file was read, then confirm with --yes"
        )
        assert tasks.end_task(engine, task_id, "failed", utcnow(), error=("reprint_threshold", message, {}))
    finally:
        engine.dispose()
    return task_id


def test_docs_show_the_screenshots_this_test_takes() -> None:
    """Every image docs/web.md shows is in docs/images/web/ and is one of the pages this test takes; no
    image there is left unshown."""
    text = (DOCS_IMAGES.parents[2] / "docs" / "web.md").read_text()
    shown = set(re.findall(r"\(images/web/([^)]+\.png)\)", text))
    assert shown
    assert shown == {path.name for path in DOCS_IMAGES.glob("*.png")}
    for name in shown:
        page, size = name.removesuffix(".png").rsplit("-", 1)
        assert page in DOCS_PAGES + DASHBOARD_PAGES + TASK_PAGES, name
        assert size in SIZES, name
