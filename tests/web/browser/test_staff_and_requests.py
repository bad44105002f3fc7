"""The staff pages, the helpline's pages and the request pages in a real browser, with the keyboard only:
staff sign-in, the helpline finding a caller by the code they read out (a mistyped one first) and booking
for them, sign-out; "I did not get my letter" and the waiting list from the code form, their errors tied
to their fields."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from courrier.register.matricule import make_matricule
from courrier.web.pages.render import gettext_for

from .conftest import Site
from .steps import answer_no_with_the_keyboard, choose, focused, press, tab_to, type_into
from .test_flow import BOOKING, book_from_centre_step, in_language


def _send(page: Any, selector: str | None = None) -> None:
    """Enter (on ``selector``, reached with Tab, or where the focus is) and wait for the page it posts
    to, which may have the same address (a refusal shown again)."""
    if selector is not None:
        tab_to(page, selector)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _describes(page: Any, field: str, error: str) -> bool:
    return error in (page.get_attribute(field, "aria-describedby") or "").split()


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_helpline_books_for_a_caller_with_the_keyboard_only(
    new_page: Any, site: Site, language: str
) -> None:
    page = new_page()
    page.goto(site.url(f"/staff/sign-in?lang={language}"))
    username, password = site.helpline
    type_into(page, "#username", username)
    page.keyboard.press("Tab")
    assert focused(page, "#password")
    page.keyboard.type("not the password")
    _send(page)
    assert page.locator("#sign-in-error").count() == 1
    assert _describes(page, "#username", "sign-in-error") or _describes(page, "#password", "sign-in-error")
    page.fill("#password", "")
    type_into(page, "#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/staff$"))
    assert page.inner_text("#staff-username") == username

    press(page, "#helpline-link", "Enter", r"/helpline$")
    in_language(page, language, "Helpline: find a caller")
    # The hint speaks of the caller's letter: the staff member is not the one who got it.
    hint = page.inner_text("#caller-code-hint")
    assert hint == gettext_for(language)(
        "As printed on the caller's letter, for example ABCD-EFGH-JKMN-PP. Capitals and dashes do not matter."
    )
    code = site.code(language)
    typo = code[:5] + ("2" if code[5] != "2" else "3") + code[6:]
    type_into(page, "#caller-code", typo)
    _send(page)
    assert page.locator("#caller-code-error").count() == 1
    assert _describes(page, "#caller-code", "caller-code-error")
    # The field keeps the focus after the refusal: the staff member corrects it at once.
    assert focused(page, "#caller-code")
    page.fill("#caller-code", "")
    page.keyboard.type(code.lower())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/helpline/callers/\d+-[\w-]+$"))
    caller = page.url
    assert page.locator("#caller").count() == 1

    press(page, "#book-dose-1", "Enter", r"/book/1/questions$")
    answer_no_with_the_keyboard(page)
    press(page, "#questions-submit", "Enter", r"/book/1/centre$")
    book_from_centre_step(page, 0, BOOKING)
    assert page.url.startswith(caller + "/bookings/")
    in_language(page, language, "The caller's appointment for dose %(dose)s is booked")
    press(page, "#caller-link", "Enter", re.escape(caller) + "$")
    assert page.locator("#bookings li.active").count() == 1
    press(page, "#sign-out-submit", "Enter", r"/staff/sign-in\?signed_out=1$")
    page.goto(caller)
    page.wait_for_url(re.compile(r"/staff/sign-in$"))


def _fill_request(page: Any, language: str, kind_index: int | None) -> None:
    if kind_index is not None:
        choose(page, "kind", kind_index)
    type_into(page, "#matricule", make_matricule(dt.date(1931, 2, 3), 7))
    type_into(page, "#birth_date", "1931-02-03")
    type_into(page, "#postcode", "l 1234")


@pytest.mark.parametrize("language", ["fr", "pt"])
def test_the_request_pages_with_the_keyboard_only(new_page: Any, site: Site, language: str) -> None:
    page = new_page()
    page.goto(site.url(f"/?lang={language}"))
    # "I did not get my letter": sent empty first, each error tied to its field.
    press(page, "#request-link", "Enter", r"/request$")
    assert page.get_attribute("html", "lang") == language
    assert page.is_checked("#kind-resend")
    _send(page, "#request-submit")
    for field in ("matricule", "birth_date", "postcode"):
        assert page.locator(f"#{field}-error").count() == 1, field
        assert _describes(page, f"#{field}", f"{field}-error"), field
    page.fill("#matricule", "")
    _fill_request(page, language, None)
    _send(page, "#request-submit")
    assert page.locator("#request-received").count() == 1

    # The waiting list, from its own link: the form comes with that choice made.
    page.goto(site.url("/"))
    press(page, "#waiting-list-link", "Enter", r"/request\?kind=waiting_list$")
    assert page.is_checked("#kind-waiting_list")
    _fill_request(page, language, None)
    _send(page, "#request-submit")
    assert page.locator("#request-received").count() == 1
    # A mistyped matricule (its check digits) is refused at its field.
    page.goto(site.url("/request"))
    _fill_request(page, language, 1)
    page.fill("#matricule", "1931020300071")
    _send(page, "#request-submit")
    assert page.locator("#matricule-error").count() == 1
    assert _describes(page, "#matricule", "matricule-error")
