"""The dashboards in a browser: the print shop's morning view (marking a job printed, reading an
inserter results file from the page's file field) and the ministry's counts and charts, on a server of
their own whose campaign has run for ten days (letters posted, bookings, doses, no-shows, vouchers).
axe-core must find nothing serious at a desktop's and a phone's size; the screenshots go to
build/screenshots/ and, with COURRIER_UPDATE_SCREENSHOTS=1, to docs/images/web/ for docs/web.md."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from courrier.accounts.users import add_user
from courrier.booking.requests import submit_request
from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, get_campaign
from courrier.centres.centres_file import read_centres
from courrier.centres.store import LOCAL, import_centres, open_slots
from courrier.codes.issue import issue_codes
from courrier.codes.keys import create_key_file
from courrier.codes.sealing import reveal_code
from courrier.db import make_engine, upgrade
from courrier.db.schema import codes, persons, pieces, slots, waves
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.production.jobs import mark_job
from courrier.production.results import apply_results
from courrier.register.matricule import make_matricule
from courrier.vouchers.establishments import import_establishments
from courrier.vouchers.redemption import Scan, Stay, redeem_voucher

from ...campaigns.conftest import add_persons
from ...vouchers.conftest import ESTABLISHMENTS, VOUCHER
from ..dashboard_data import book_and_vaccinate, compose_job
from .conftest import CAMPAIGN_FILE, look_at_both_sizes, serving

ROOT = Path(__file__).resolve().parents[3]
PASSWORD = "correct horse battery"
PEOPLE = 620
VOUCHER_PEOPLE = 90
# Three centres of our own, small enough that a few hundred bookings fill them: two busy ones and a
# small one whose counts are below 10 (withheld on the ministry's page).
CENTRES = """
[[centres]]
id = "LUX-VH"
name = "Victor Hugo, Luxembourg"
address = "Avenue Victor Hugo 1, L-1750 Luxembourg"
commune = "Luxembourg"
slot_minutes = 15
people_per_slot = 3
[centres.hours]
{hours}

[[centres]]
id = "ESCH-HALL"
name = "Esch-sur-Alzette"
address = "Boulevard J.F. Kennedy 10, L-4170 Esch-sur-Alzette"
commune = "Esch-sur-Alzette"
slot_minutes = 15
people_per_slot = 2
[centres.hours]
{hours}

[[centres]]
id = "ETT-HALL"
name = "Ettelbruck"
address = "Rue de la Gare 2, L-9044 Ettelbruck"
commune = "Ettelbruck"
slot_minutes = 30
people_per_slot = 1
[centres.hours]
{hours}
"""
HOURS = "\n".join(f'{day} = ["08:00-11:00"]' for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"))
# Bookings per day at each centre over the ten past days (the small centre has a few), then five days
# ahead partly booked.
PAST_DAYS, NEXT_DAYS = 10, 5
BOOKED = {
    "LUX-VH": (28, 33, 30, 35, 31, 36, 34, 30, 29, 33),
    "ESCH-HALL": (15, 18, 20, 17, 22, 19, 21, 16, 20, 18),
}
SMALL_CENTRE = "ETT-HALL"
NO_SHOW_EVERY = 9  # about one booking in nine nobody comes to
HOTEL, CAMPSITE = ESTABLISHMENTS


@dataclass
class Dashboards:
    base_url: str
    campaign: str
    folder: Path

    def url(self, path: str) -> str:
        return self.base_url + path


def _slots_by_day(
    engine: Engine, campaign_id: int, centre: str
) -> dict[dt.date, list[tuple[int, dt.datetime]]]:
    found: dict[dt.date, list[tuple[int, dt.datetime]]] = {}
    with engine.connect() as connection:
        for row in connection.execute(
            select(slots.c.id, slots.c.starts_at, slots.c.capacity)
            .where(slots.c.campaign_id == campaign_id, slots.c.centre_id == centre)
            .order_by(slots.c.starts_at)
        ):
            for _place in range(row.capacity):
                found.setdefault(row.starts_at.astimezone(LOCAL).date(), []).append((row.id, row.starts_at))
    return found


def _book_days(
    engine: Engine, keys: Any, campaign_id: int, code_ids: list[int], today: dt.date, answers: dict[str, str]
) -> None:
    """The past days' bookings (most vaccinated, some never came) and the next days' (booked now)."""
    now = utcnow()
    left = list(code_ids)
    plan = {centre: list(counts) for centre, counts in BOOKED.items()}
    plan[SMALL_CENTRE] = [3, 2, 4, 1, 3, 2, 5, 3, 2, 4]
    for centre, counts in plan.items():
        places = _slots_by_day(engine, campaign_id, centre)
        days = [today - dt.timedelta(days=PAST_DAYS - n) for n in range(PAST_DAYS)]
        ahead = [today + dt.timedelta(days=n + 1) for n in range(NEXT_DAYS)]
        for day, count in [
            *zip(days, counts, strict=True),
            *((day, counts[0] // (n + 2)) for n, day in enumerate(ahead)),
        ]:
            taken = places[day][:count]
            by_slot: dict[tuple[int, dt.datetime], int] = {}
            for place in taken:
                by_slot[place] = by_slot.get(place, 0) + 1
            for (slot_id, starts_at), number in by_slot.items():
                people, left = left[:number], left[number:]
                booked_at = min(now, starts_at - dt.timedelta(days=2))
                came = 0 if day >= today else sum(1 for n in range(number) if (slot_id + n) % NO_SHOW_EVERY)
                book_and_vaccinate(
                    engine,
                    keys,
                    people,
                    slot_id,
                    starts_at,
                    centre=centre,
                    vaccinated=came,
                    booked_at=booked_at,
                    answers=answers,
                )


def _build(folder: Path) -> tuple[str, Path, str]:
    url = f"sqlite:///{folder / 'courrier.db'}"
    key_file = folder / "courrier.keys"
    keys = create_key_file(key_file)
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    today = now.astimezone(LOCAL).date()
    issued = now - dt.timedelta(days=PAST_DAYS + 2)
    add_persons(
        engine,
        *[
            {
                "birth_date": dt.date(1930, 1, 1) + dt.timedelta(days=n * 7),
                "national_id": make_matricule(dt.date(1930, 1, 1) + dt.timedelta(days=n * 7), 100 + n),
            }
            for n in range(PEOPLE)
        ],
    )
    definition = parse_definition(CAMPAIGN_FILE.read_text(), base=CAMPAIGN_FILE.parent)
    create_campaign(engine, definition, actor="browser-tests", now=issued)
    plan_campaign(engine, definition.name, actor="browser-tests", now=issued)
    issue_codes(engine, definition.name, keys=keys, actor="browser-tests", now=issued)
    centres_file = folder / "centres.toml"
    centres_file.write_text(CENTRES.format(hours=HOURS), encoding="utf-8")
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, definition.name)
        import_centres(connection, read_centres(centres_file), now=issued)
        open_slots(
            connection,
            campaign.id,
            today - dt.timedelta(days=PAST_DAYS),
            today + dt.timedelta(days=NEXT_DAYS),
        )
        add_user(connection, "operator1", PASSWORD, "operator", now=now)
        add_user(connection, "ministry1", PASSWORD, "ministry", now=now)
        by_wave = {
            number: list(
                connection.execute(
                    select(pieces.c.id)
                    .join(waves, waves.c.id == pieces.c.wave_id)
                    .where(waves.c.number == number)
                    .order_by(pieces.c.id)
                ).scalars()
            )
            for number in (1, 2)
        }
        code_ids = list(connection.execute(select(codes.c.id).order_by(codes.c.id)).scalars())
    # Wave 1 in two jobs: the first printed, inserted (a few damaged: to reprint) and posted; the
    # second printed, waiting for its results. Wave 2 composed, waiting for the printer.
    first, second = by_wave[1][:250], by_wave[1][250:]
    compose_job(engine, "J000001", first, wave=1, at=issued)
    compose_job(engine, "J000002", second, wave=1, at=issued)
    compose_job(engine, "J000003", by_wave[2], wave=2, at=issued)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "printed", actor="browser-tests", at=issued)
        mark_job(connection, "J000002", "printed", actor="browser-tests", at=issued)
    results = folder / "J000001.results.csv"
    results.write_text(
        "piece_id,status,time,machine\n"
        + "".join(
            f"{piece},{'damaged' if n % 60 == 7 else 'inserted'},2021-01-18T08:00,INS-1\n"
            for n, piece in enumerate(first)
        ),
        encoding="utf-8",
    )
    apply_results(engine, results, actor="browser-tests", at=issued)
    with write_transaction(engine) as connection:
        mark_job(connection, "J000001", "posted", actor="browser-tests", at=issued)
    (folder / "J000002.results.csv").write_text(
        "piece_id,status,time,machine\n"
        + "".join(
            f"{piece},{'missing' if n == 3 else 'inserted'},2021-01-19T08:00,INS-1\n"
            for n, piece in enumerate(second)
        ),
        encoding="utf-8",
    )
    answers = {question.id: "no" for question in definition.questions}
    _book_days(engine, keys, campaign.id, code_ids[: PEOPLE - 40], today, answers)
    with engine.connect() as connection:
        person = connection.execute(select(persons).order_by(persons.c.id)).first()
    assert person is not None
    for number in range(2):
        submit_request(
            engine,
            "resend",
            definition.name,
            person.national_id if number == 0 else make_matricule(person.birth_date, 999),
            person.birth_date,
            person.postcode,
            client=f"c{number}",
            now=now,
        )
    _vouchers(engine, keys, folder, now)
    engine.dispose()
    return url, key_file, definition.name


def _vouchers(engine: Engine, keys: Any, folder: Path, now: dt.datetime) -> None:
    """A voucher campaign for younger people, redeemed over the past three weeks at two places."""

    add_persons(
        engine,
        *[
            {
                "birth_date": dt.date(1980, 1, 1) + dt.timedelta(days=n),
                "postcode": "L-9412" if n % 3 else "L-1750",
            }
            for n in range(VOUCHER_PEOPLE)
        ],
    )
    issued = now - dt.timedelta(days=30)
    definition = parse_definition(
        VOUCHER.format(template=ROOT / "examples" / "templates" / "voucher")
        .replace("2021-12-31", f"{now.year + 1}-12-31")
        .replace("2021-01-01", f"{now.year}-01-01"),
        base=folder,
    )
    create_campaign(engine, definition, actor="browser-tests", now=issued)
    plan_campaign(engine, definition.name, actor="browser-tests", now=issued)
    issue_codes(engine, definition.name, keys=keys, actor="browser-tests", now=issued)

    with write_transaction(engine) as connection:
        import_establishments(connection, enumerate([HOTEL, CAMPSITE], 2), actor="browser-tests", now=issued)
        campaign = get_campaign(connection, definition.name)
        typed = [
            reveal_code(keys, row.ciphertext)
            for row in connection.execute(
                select(codes).where(codes.c.campaign_id == campaign.id).order_by(codes.c.id)
            )
        ]
    for number, code in enumerate(typed[:80]):
        at = now - dt.timedelta(days=20 - number // 4, hours=1)
        with write_transaction(engine) as connection:
            answer = redeem_voucher(
                connection,
                keys,
                Scan(code, False, f"v-{number}", "desk-1"),
                Stay(at.date(), at.date() + dt.timedelta(days=1), f"BK-{number}"),
                establishment_id=(HOTEL if number % 3 else CAMPSITE)["id"],
                amount_cents=5000,
                now=at,
            )
        assert answer.status == "ok", answer


@pytest.fixture(scope="module")
def dashboards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dashboards]:
    folder = tmp_path_factory.mktemp("dashboards-site")
    url, key_file, campaign = _build(folder)
    with serving(folder, url, key_file) as base_url:
        yield Dashboards(base_url, campaign, folder)


def _sign_in(page: Any, site: Dashboards, username: str) -> None:
    page.goto(site.url("/staff/sign-in?lang=en"))
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url(site.url("/staff"))


# The screenshots docs/web.md shows from this test (test_pages checks docs/images/web/ against them).
DOCS_PAGES = ("40-operator", "41-operator-results", "42-ministry")


def _look(page: Any, axe: Path, name: str) -> list[str]:
    return look_at_both_sizes(page, axe, "en", name, docs=True)


def test_the_operator_marks_a_job_printed_and_reads_its_results_from_the_page(
    dashboards: Dashboards, new_page: Any, axe_path: Path
):
    page = new_page(axe=True)
    _sign_in(page, dashboards, "operator1")
    page.click("#operator-link")
    page.wait_for_selector("#operator-dashboard")
    assert page.inner_text("#jobs-posted") == "1"
    assert "J000003" in page.inner_text("#awaiting-printing")
    assert "J000002" in page.inner_text("#awaiting-insertion")
    assert page.locator("#reprints-count").count() == 1
    assert page.locator("#approve-1").count() == 1
    violations = _look(page, axe_path, "40-operator")
    # Mark the composed wave-2 job printed: it moves on to "to insert".
    page.click("#mark-J000003")
    page.wait_for_selector("#done")
    assert "J000003" in page.inner_text("#done")
    assert "J000003" in page.inner_text("#awaiting-insertion")
    # Read J000002's results from a file chosen in the page's file field.
    page.set_input_files("#results-file", str(dashboards.folder / "J000002.results.csv"))
    page.click("#results-submit")
    page.wait_for_selector("#results-read")
    assert page.inner_text("#applied-missing") == "1"
    violations += _look(page, axe_path, "41-operator-results")
    page.click("#back-to-operator")
    page.wait_for_selector("#operator-dashboard")
    assert "J000002" in page.inner_text("#reprints-jobs")
    assert violations == []


def test_the_ministry_sees_counts_and_charts_and_downloads_what_it_sees(
    dashboards: Dashboards, new_page: Any, axe_path: Path
):
    page = new_page(axe=True, accept_downloads=True)
    _sign_in(page, dashboards, "ministry1")
    page.click("#ministry-link")
    page.wait_for_selector("#ministry-dashboard")
    for chart in ("chart-sent", "chart-days", "chart-no-shows", "chart-vouchers"):
        svg = page.locator(f"#{chart}")
        assert svg.get_attribute("role") == "img"
        assert page.locator(f"#{chart}-title").count() == 1
        assert svg.bounding_box()["width"] > 300
    # The small centre's counts are withheld; no cell of any table names a person.
    small = page.locator("#table-days tbody tr", has_text="Ettelbruck").first.text_content() or ""
    assert "< 10" in small
    violations = _look(page, axe_path, "42-ministry")
    page.click("#days-details summary")  # the table per day and centre is folded under the chart
    with page.expect_download() as download:
        page.click("#csv-days")
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    rows = page.locator("#table-days tbody tr").count()
    assert len(text.strip().splitlines()) == rows + 1
    assert violations == []
