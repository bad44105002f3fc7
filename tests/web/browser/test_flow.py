"""The citizen's whole flow in a real browser, in each of the five languages, with the keyboard only:
code, dose 1, its confirmation PDF (the QR decoded from a Ghostscript rendering), dose 2 straight after,
move, cancel."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from courrier.booking.confirmation import read_reception_payload
from courrier.languages import LANGUAGES
from courrier.web.pages.render import gettext_for

from ...compose.conftest import PdfTools
from .conftest import Site
from .steps import answer_no_with_the_keyboard, choose, press, remaining, tab_to, type_into

BOOKING = r"/bookings/(\d+)(\?.*)?$"


def booking_id(page: Any) -> int:
    found = re.search(BOOKING, page.url)
    assert found, page.url
    return int(found.group(1))


def in_language(page: Any, language: str, english: str) -> None:
    """The page is in ``language``: its ``lang`` attribute, and its first heading as that language's
    catalog has it (and, but in English, not the English text: an untranslated heading fails)."""
    assert page.get_attribute("html", "lang") == language
    heading = page.inner_text("h1")
    translated = gettext_for(language)(english).split("%(")[0].strip()
    assert translated in heading, (language, heading)
    if language != "en":
        assert translated != english.split("%(")[0].strip(), f"{english!r} is not translated into {language}"


def book_from_centre_step(page: Any, centre_index: int, submit_then: str) -> tuple[str, str, int, int]:
    """Centre (when asked), day, time, with the keyboard; returns (centre, day, slot, places before)."""
    if page.locator("#centre-form").count():
        choose(page, "centre", centre_index)
        press(page, "#centre-submit", "Enter", r"/day\?")
    centre = page.input_value('#day-form input[name="centre"]')
    day = choose(page, "day")
    press(page, "#day-submit", "Enter", r"/time\?")
    slot = int(choose(page, "slot"))
    places = int(re.findall(r"\d+", page.inner_text(f'label[for="slot-{slot}"] .places'))[-1])
    press(page, "#slot-submit", "Enter", submit_then)
    return centre, day, slot, places


def download_confirmation(page: Any, reference: str, folder: Path) -> None:
    """The confirmation PDF, downloaded with the keyboard: a valid PDF with the reference, and a QR that
    zxing-cpp reads back from a Ghostscript rendering."""
    tab_to(page, "#confirmation-pdf")
    with page.expect_download() as download:
        page.keyboard.press("Enter")
    pdf = folder / "confirmation.pdf"
    download.value.save_as(pdf)
    tools = PdfTools()
    tools.check(pdf)
    assert reference in tools.text(pdf)
    found = tools.barcodes(pdf, 1)
    assert list(found) == ["QRCode"]
    # What the reception desk's scanner reads: this booking's reference, nothing personal.
    assert read_reception_payload(found["QRCode"]) == reference


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_whole_flow_with_the_keyboard_only(
    new_page: Any, site: Site, language: str, tmp_path: Path
) -> None:
    page = new_page(accept_downloads=True)
    page.goto(site.url("/"))
    # The first Tab reaches the skip link, and the language links are in the header's tab order.
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    press(page, f"#lang-{language}", "Enter", rf"lang={language}")
    in_language(page, language, "Book your vaccination appointment")

    # The code as a person types it from the letter: lower case, no dashes.
    code = site.code(language)
    type_into(page, "#code", code.replace("-", "").lower())
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/book/1/questions$"))

    # The campaign's health questions, asked at each dose: "no" to each, with the arrow keys.
    in_language(page, language, "A few health questions")
    answer_no_with_the_keyboard(page)
    press(page, "#questions-submit", "Enter", r"/book/1/centre$")

    # Dose 1, at the centre listed first (the nearest), the first free day and time.
    centre, day, slot, places = book_from_centre_step(page, 0, BOOKING)
    in_language(page, language, "Your appointment for dose %(dose)s is booked")
    dose1 = booking_id(page)
    reference = page.inner_text("#booking-reference")
    assert remaining(site.base_url, site.campaign, centre, day, slot) == places - 1

    download_confirmation(page, reference, tmp_path)

    # Dose 2 is offered straight after dose 1, at the same centre, inside its window.
    assert page.locator("#dose-window, #dose-2").count()
    press(page, "#book-dose-2", "Enter", r"/book/2/questions\?centre=")
    answer_no_with_the_keyboard(page)
    press(page, "#questions-submit", "Enter", r"/book/2/day\?centre=")
    assert page.locator("#dose-window").count()
    _, _, _, _ = book_from_centre_step(page, 0, BOOKING)
    in_language(page, language, "Your appointment for dose %(dose)s is booked")
    dose2 = booking_id(page)
    dose2_reference = page.inner_text("#booking-reference")

    # Move dose 2 to the next centre in the list: same reference, the old place given back.
    press(page, "#move-booking", "Enter", r"/move/centre$")
    moved_centre, _, _, _ = book_from_centre_step(page, 1, rf"/bookings/{dose2}\?moved=1")
    assert page.locator("#moved-notice").count() == 1
    assert page.inner_text("#booking-reference") == dose2_reference
    assert moved_centre != centre

    # Cancel dose 1 from the list of appointments: dose 2 goes with it, every place given back.
    press(page, "#all-bookings", "Enter", r"/bookings$")
    press(page, f"#open-booking-{dose1}", "Enter", rf"/bookings/{dose1}$")
    press(page, "#cancel-booking", "Enter", r"/cancel$")
    in_language(page, language, "Cancel this appointment?")
    press(page, "#cancel-submit", "Enter", rf"/bookings/{dose1}\?cancelled=1")
    assert page.locator("#cancelled-notice").count() == 1
    assert remaining(site.base_url, site.campaign, centre, day, slot) == places
    press(page, "#all-bookings", "Enter", r"/bookings$")
    assert page.locator("#bookings li.active").count() == 0
    assert page.locator("#bookings li.cancelled").count() == 2
    # Dose 1 can be booked again.
    assert page.locator("#book-dose-1").count() == 1
