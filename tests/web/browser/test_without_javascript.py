"""The booking flow in a browser with JavaScript switched off: every step is a plain form."""

from __future__ import annotations

import re
from typing import Any

from .conftest import Site
from .steps import question_groups

BOOKING = r"/bookings/(\d+)(\?.*)?$"


def submit(page: Any, button: str, then: str) -> None:
    page.click(button)
    page.wait_for_url(re.compile(then))


def answer_no(page: Any) -> None:
    for name in question_groups(page):
        page.check(f'input[name="{name}"][value="no"]')


def book_with_the_mouse(page: Any, centre_index: int, then: str) -> None:
    if page.locator("#centre-form").count():
        page.locator('input[name="centre"]').nth(centre_index).check()
        submit(page, "#centre-submit", r"/day\?")
    page.locator('input[name="day"]').first.check()
    submit(page, "#day-submit", r"/time\?")
    page.locator('input[name="slot"]').first.check()
    submit(page, "#slot-submit", then)


def test_booking_moving_and_cancelling_without_javascript(new_page: Any, site: Site) -> None:
    page = new_page(java_script_enabled=False)
    # The letter's QR code opens the form with the code filled in; the person still presses the button.
    code = site.code("fr")
    page.goto(site.url(f"/c/{code.replace('-', '')}"))
    assert page.input_value("#code") == code
    submit(page, "#code-submit", r"/book/1/questions$")
    answer_no(page)
    submit(page, "#questions-submit", r"/book/1/centre$")

    book_with_the_mouse(page, 0, BOOKING)
    assert page.locator("#booking-reference").count() == 1
    dose1 = re.search(BOOKING, page.url).group(1)  # type: ignore[union-attr]

    submit(page, "#book-dose-2", r"/book/2/questions\?centre=")
    answer_no(page)
    submit(page, "#questions-submit", r"/book/2/day\?centre=")
    book_with_the_mouse(page, 0, BOOKING)
    reference = page.inner_text("#booking-reference")

    submit(page, "#move-booking", r"/move/centre$")
    book_with_the_mouse(page, 1, r"\?moved=1$")
    assert page.inner_text("#booking-reference") == reference

    submit(page, "#all-bookings", r"/bookings$")
    submit(page, f"#open-booking-{dose1}", rf"/bookings/{dose1}$")
    submit(page, "#cancel-booking", r"/cancel$")
    # Dose 2 is still booked: it is cancelled with dose 1, and the notice says so.
    submit(page, "#cancel-submit", r"\?cancelled=1&dose2=1$")
    assert page.locator("#cancelled-notice").count() == 1
    submit(page, "#all-bookings", r"/bookings$")
    assert page.locator("#bookings li.cancelled").count() == 2


def test_a_refused_code_is_explained_next_to_its_field_without_javascript(new_page: Any, site: Site) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(site.url("/?lang=en"))
    code = site.code("en")
    # One character of the third group changed: the check character says which group is wrong.
    wrong = code[:10] + ("X" if code[10] != "X" else "Y") + code[11:]
    page.fill("#code", wrong)
    page.click("#code-submit")
    page.wait_for_selector("#code-error")
    assert page.get_attribute("#code", "aria-invalid") == "true"
    assert "code-error" in (page.get_attribute("#code", "aria-describedby") or "").split()
