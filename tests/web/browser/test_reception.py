"""The reception desk in a real browser with a fake camera: Chromium plays a Y4M made from rendered
confirmation letters (tests/web/browser/y4m.py) as its webcam, the page's scanner decodes the QR with
the WebAssembly decoder we serve and checks the person in; offline, the desk queues check-ins in
IndexedDB and uploads them when the network is back, and the server's answers (applied, conflict) show.

A server of its own (``courrier serve``) on a database with a slot around now at one centre, bookings in
it, and reception accounts: the session's shared server has slots from tomorrow only, and today's
bookings there would change what the citizen tests choose.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from courrier.accounts.users import add_user
from courrier.booking.bookings import book_dose
from courrier.booking.confirmation import confirmation_pdf
from courrier.campaigns.definition import parse_definition
from courrier.campaigns.store import get_campaign
from courrier.catalogue import CATALOGUE
from courrier.centres.store import LOCAL
from courrier.codes.keys import load_keys
from courrier.codes.store import lookup_code
from courrier.db import make_engine
from courrier.db.schema import bookings, checkins, slots
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.web.pages.render import gettext_for

from .conftest import CAMPAIGN_FILE, _build_database, _free_port, axe_violations, serving
from .y4m import camera_page, letter_frames, write_y4m

CENTRE = "LUX-VH"
OTHER_CENTRE = "ESCH-HALL"
PASSWORD = "correct horse battery"
DESKS = ("desk1", "desk2")
BOOKINGS = 7


@dataclass
class Desk:
    base_url: str
    database_url: str
    key_file: Path
    folder: Path
    # The letters of today's bookings at CENTRE: reference -> confirmation PDF.
    letters: dict[str, Path] = field(default_factory=dict)
    # Their personal codes as printed on the invitation: reference -> code.
    codes: dict[str, str] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return self.base_url + path

    def take(self) -> tuple[str, Path]:
        """A booking no test has scanned yet, and its letter."""
        reference = next(iter(self.letters))
        return reference, self.letters.pop(reference)

    def take_code(self) -> tuple[str, str]:
        """A booking no test has scanned yet, and its personal code as printed."""
        reference, _ = self.take()
        return reference, self.codes[reference]


def _book_today(
    database_url: str, key_file: Path, codes: list[str], folder: Path
) -> tuple[dict[str, Path], dict[str, str]]:
    """One slot at CENTRE from 5 minutes ago to 10 minutes from now, a dose 1 booking in it for each of
    ``codes``, and each booking's confirmation letter."""
    engine = make_engine(database_url)
    keys = load_keys(str(key_file))
    definition = parse_definition(CAMPAIGN_FILE.read_text(), base=CAMPAIGN_FILE.parent)
    answers = {question.id: "no" for question in definition.questions}
    now = utcnow().replace(second=0, microsecond=0)
    # The desk lists the centre's local day: a run just after midnight must not put the slot on yesterday.
    midnight = now.astimezone(LOCAL).replace(hour=0, minute=0).astimezone(dt.UTC)
    starts_at = max(now - dt.timedelta(minutes=5), midnight)
    letters = {}
    printed = {}
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, definition.name)
        slot = connection.execute(
            slots.insert()
            .values(
                campaign_id=campaign.id,
                centre_id=CENTRE,
                starts_at=starts_at,
                ends_at=now + dt.timedelta(minutes=10),
                capacity=len(codes),
                taken=0,
            )
            .returning(slots.c.id)
        ).scalar_one()
        code_ids = [lookup_code(connection, keys, code, now.date()).code_id for code in codes]
    for number, (code, code_id) in enumerate(zip(codes, code_ids, strict=True)):
        # Booked before the slot began, as people are.
        booking, _ = book_dose(
            engine,
            code_id,
            slot,
            1,
            booked_by="browser-tests",
            now=starts_at - dt.timedelta(days=1),
            answers=answers,
        )
        with engine.connect() as connection:
            _, pdf = confirmation_pdf(connection, code_id, booking.id, language="en")
        letters[booking.reference] = folder / f"confirmation-{number}.pdf"
        letters[booking.reference].write_bytes(pdf)
        printed[booking.reference] = code
    with write_transaction(engine) as connection:
        for username in DESKS:
            add_user(connection, username, PASSWORD, "reception", now=now, centre_id=CENTRE)
        add_user(connection, "esch1", PASSWORD, "reception", now=now, centre_id=OTHER_CENTRE)
    engine.dispose()
    return letters, printed


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Desk]:
    folder = tmp_path_factory.mktemp("reception-site")
    url, key_file, _campaign, unused = _build_database(folder)
    letters, printed = _book_today(url, key_file, unused["en"][:BOOKINGS], folder)
    with serving(folder, url, key_file) as base_url:
        yield Desk(
            base_url=base_url,
            database_url=url,
            key_file=key_file,
            folder=folder,
            letters=letters,
            codes=printed,
        )


# --- as the desk's staff do it ---


def sign_in(page: Any, desk: Desk, username: str) -> None:
    page.goto(desk.url("/staff/sign-in"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url(desk.url("/staff"))
    page.goto(desk.url("/reception"))
    # reception.js took over the scan area and has the day's offline list.
    page.wait_for_selector("#scan-area[data-ready='true'][data-offline-list]")


def start_camera(page: Any) -> None:
    page.click("#camera-toggle")
    page.wait_for_selector("#scan-area[data-camera='on']")


def api(desk: Desk, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(
        desk.url(path),
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as answer:
            return answer.status, json.load(answer)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def staff_token(desk: Desk, username: str) -> str:
    status, answer = api(desk, "POST", "/api/v1/staff/sessions", {"username": username, "password": PASSWORD})
    assert status == 201, answer
    return str(answer["token"])


def checkins_of(desk: Desk, reference: str) -> list[dict[str, Any]]:
    """The check-in rows of a booking, straight from the database: 'applied once' is one row."""
    engine = make_engine(desk.database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(checkins.c.nonce, checkins.c.desk)
                .join(bookings, bookings.c.id == checkins.c.booking_id)
                .where(bookings.c.reference == reference)
                .order_by(checkins.c.id)
            )
            return [dict(row._mapping) for row in rows]
    finally:
        engine.dispose()


def count_checkins_for(desk: Desk, references: list[str]) -> int:
    return sum(len(checkins_of(desk, reference)) for reference in references)


# --- the tests ---


def test_a_scanned_letter_checks_the_person_in_and_a_second_scan_is_refused(
    playwright_instance: Any, chromium_path: str, desk: Desk, tmp_path: Path, axe_path: Path
) -> None:
    reference, letter = desk.take()
    video = write_y4m(tmp_path / "letter.y4m", letter_frames(letter))
    # CSP bypassed for axe-core's inline script only; the other tests keep the pages' policy.
    for page in camera_page(playwright_instance, chromium_path, video, bypass_csp=True):
        sign_in(page, desk, "desk1")
        start_camera(page)
        done = page.wait_for_selector(f"#checkin-result .scan-result[data-reference='{reference}']")
        assert done.get_attribute("data-status") == "ok", done.inner_text()
        # What the desk compares with the ID: the name and birth date, the dose and time.
        assert "Dose 1" in done.inner_text()
        assert done.eval_on_selector(".scan-person strong", "e => e.textContent")
        assert [row["desk"] for row in checkins_of(desk, reference)] == ["desk1"]
        # The camera's view, the buttons and the result take nothing from the page's accessibility.
        assert axe_violations(page, axe_path) == []
        # The letter stays under the camera: it is not scanned again by itself...
        reads = int(page.get_attribute("#scan-video", "data-reads") or 0)
        page.wait_for_function(
            f"() => Number(document.querySelector('#scan-video').dataset.reads) >= {reads + 5}"
        )
        assert len(checkins_of(desk, reference)) == 1
        # ...but "next person" with the same letter is a second scan, refused.
        page.click("#scan-next")
        refused = page.wait_for_selector("#checkin-result .scan-result[data-status='refused']")
        assert refused.get_attribute("data-reason") == "already_checked_in"
        assert refused.get_attribute("data-reference") == reference
        assert len(checkins_of(desk, reference)) == 1


def test_offline_scans_are_queued_and_uploaded_the_one_checked_in_elsewhere_is_a_conflict(
    playwright_instance: Any, chromium_path: str, desk: Desk, tmp_path: Path
) -> None:
    taken = [desk.take() for _ in range(3)]
    references = [reference for reference, _ in taken]
    # The three letters one after the other under the camera, a second each, round and round.
    frames = [frame for _, letter in taken for frame in letter_frames(letter, count=10)]
    video = write_y4m(tmp_path / "three.y4m", frames)
    other_desk = staff_token(desk, "desk2")
    for page in camera_page(playwright_instance, chromium_path, video):
        sign_in(page, desk, "desk1")
        page.context.set_offline(True)
        page.wait_for_selector("#scan-area[data-network='offline']")
        assert page.is_visible("#network-status")
        start_camera(page)
        page.wait_for_function("() => document.querySelectorAll('#reception-queue li').length === 3")
        queued = page.eval_on_selector_all(
            "#reception-queue li", "items => items.map(i => [i.dataset.reference, i.dataset.status])"
        )
        assert sorted(queued) == sorted([reference, "queued"] for reference in references)
        assert count_checkins_for(desk, references) == 0, "nothing reached the server while offline"
        # Meanwhile another desk, online, checks the third person in.
        elsewhere = references[2]
        status, answer = api(
            desk,
            "POST",
            "/api/v1/checkins",
            {"scan": f"RDV1:{elsewhere}", "nonce": "other-desk-1", "desk": "desk2"},
            token=other_desk,
        )
        assert (status, answer["status"]) == (201, "ok"), answer
        # The network is back: the queue is uploaded, and the server's answers show.
        page.context.set_offline(False)
        page.wait_for_selector("#scan-area[data-network='online'][data-queued='0']")
        shown = dict(
            page.eval_on_selector_all(
                "#reception-queue li", "items => items.map(i => [i.dataset.reference, i.dataset.status])"
            )
        )
        assert shown == {references[0]: "ok", references[1]: "ok", elsewhere: "conflict"}
        conflict = page.locator(f"#reception-queue li[data-reference='{elsewhere}']")
        assert conflict.get_attribute("data-reason") == "already_checked_in"
        # Applied once each; the conflict wrote nothing.
        for reference in references[:2]:
            assert [row["desk"] for row in checkins_of(desk, reference)] == ["desk1"]
        assert [row["desk"] for row in checkins_of(desk, elsewhere)] == ["desk2"]
        # A reload keeps the day's queue and its answers (IndexedDB), and sends nothing twice.
        page.reload()
        page.wait_for_selector("#scan-area[data-ready='true']")
        again = dict(
            page.eval_on_selector_all(
                "#reception-queue li", "items => items.map(i => [i.dataset.reference, i.dataset.status])"
            )
        )
        assert again == shown
        for reference in references[:2]:
            assert len(checkins_of(desk, reference)) == 1


def test_offline_a_typed_code_or_reference_is_queued_and_one_checked_in_here_is_refused(
    new_page: Any, desk: Desk
) -> None:
    """No camera: the typed-code form, which online is the server's page as without JavaScript, is
    judged by the desk while offline (the code by its fingerprint, the reference as such)."""
    by_code, code = desk.take_code()
    by_reference, _ = desk.take()
    page = new_page()
    sign_in(page, desk, "desk2")
    # In French this time: the scanner's texts are the page's catalog's, refusals the error catalogue's.
    page.goto(desk.url("/reception?lang=fr"))
    page.wait_for_selector("#scan-area[data-ready='true'][data-offline-list]")
    french = gettext_for("fr")
    assert page.inner_text("#camera-toggle") == french("Scan with the camera") != "Scan with the camera"
    page.context.set_offline(True)
    page.wait_for_selector("#scan-area[data-network='offline']")
    offline = "Offline: check-ins are kept on this computer and sent when the network is back."
    assert page.inner_text("#network-status") == french(offline) != offline
    for typed, reference in ((code.lower().replace("-", " "), by_code), (by_reference.lower(), by_reference)):
        page.fill("#checkin-code", typed)
        page.click("#checkin-lookup")
        shown = page.wait_for_selector(f"#checkin-result .scan-result[data-reference='{reference}']")
        assert shown.get_attribute("data-status") == "queued", shown.inner_text()
    # The same person again at this desk: refused offline, nothing more queued.
    page.fill("#checkin-code", by_reference)
    page.click("#checkin-lookup")
    refused = page.wait_for_selector("#checkin-result .scan-result[data-reason='already_checked_in']")
    headline = refused.eval_on_selector(".scan-headline", "e => e.textContent")
    french_template = CATALOGUE["already_checked_in"].template("fr")
    assert headline.startswith(french_template.split("{")[0]), headline
    assert "desk2" in headline
    assert page.locator("#reception-queue li[data-status='queued']").count() == 2
    page.context.set_offline(False)
    page.wait_for_selector("#scan-area[data-network='online'][data-queued='0']")
    assert page.locator("#reception-queue li[data-status='ok']").count() == 2
    assert [row["desk"] for row in checkins_of(desk, by_code)] == ["desk2"]
    assert [row["desk"] for row in checkins_of(desk, by_reference)] == ["desk2"]


def test_the_desk_page_reloads_while_the_server_is_unreachable_and_sends_its_queue_when_back(
    new_page: Any, desk: Desk
) -> None:
    """The service worker (static/reception/sw.js): the desk page opened online is kept with the files it
    runs on; with the server gone (the network down between the desk and it, not the browser's own
    offline switch), a reload shows the page again, judges a typed code from the day list in IndexedDB
    and queues it; the server back on the same address, the queue is sent and applied once."""
    reference, code = desk.take_code()
    port = _free_port()
    folder = desk.folder / "unreachable"
    folder.mkdir()
    with serving(folder, desk.database_url, desk.key_file, port=port) as base_url:
        here = dataclasses.replace(desk, base_url=base_url)
        page = new_page()
        sign_in(page, here, "desk1")
        page.wait_for_selector("#scan-area[data-worker='ready']")
        page.wait_for_function(
            """() => caches.open("courrier-reception-v1")
                .then((cache) => cache.match("/reception", { ignoreSearch: true }))
                .then(Boolean)"""
        )
    # The server has stopped: without the worker, this reload would be the browser's own error page.
    page.reload()
    page.wait_for_selector("#scan-area[data-ready='true'][data-offline-list][data-network='offline']")
    assert page.locator("#checkin-code").is_visible()
    page.fill("#checkin-code", code)
    page.click("#checkin-lookup")
    shown = page.wait_for_selector(f"#checkin-result .scan-result[data-reference='{reference}']")
    assert shown.get_attribute("data-status") == "queued", shown.inner_text()
    assert checkins_of(desk, reference) == []
    with serving(folder, desk.database_url, desk.key_file, port=port):
        # The desk asks /health every 5 s while something waits, then sends the queue.
        page.wait_for_selector("#scan-area[data-network='online'][data-queued='0']", timeout=60_000)
        assert page.locator("#reception-queue li[data-status='ok']").count() == 1
    assert [row["desk"] for row in checkins_of(desk, reference)] == ["desk1"]
