"""The dashboards: the operator's morning view and its actions, the ministry's counts (suppressed, the
CSV the same as the page), and the audit log's page; on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from html import unescape

import pytest
from sqlalchemy import Engine, func, select

from courrier.accounts.audit import list_audit
from courrier.accounts.sessions import open_session
from courrier.accounts.users import get_user
from courrier.booking.requests import submit_request
from courrier.dashboards.suppression import Withheld, suppress_table
from courrier.db.schema import letter_requests, persons, pieces, print_jobs
from courrier.db.transaction import write_transaction
from courrier.languages import LANGUAGES
from courrier.register.matricule import make_matricule
from courrier.vouchers.redemption import undo_redemption
from courrier.web.pages.render import gettext_for

from ..vouchers.conftest import CAMPSITE, HOTEL, make_vouchers
from .conftest import NOW, SLOT_DAY
from .dashboard_data import book_and_vaccinate, compose_job, print_and_post, slots_of
from .pages import form_token

CENTRE = "LUX-VH"
__all__ = ["make_vouchers"]


@pytest.fixture
def running(engine: Engine, keys, make_world, tmp_path, clock):
    """30 letters posted (2 damaged first), 16 bookings in one slot at LUX-VH on SLOT_DAY (12
    vaccinated, 4 never came) and 3 in a slot at ESCH-HALL (all vaccinated); the clock the day after."""
    world = make_world(people=30)
    print_and_post(engine, world.campaign_id, tmp_path, damaged=0, at=NOW)
    code_ids = [code_id for code_id, _ in world.codes]
    slot, starts = slots_of(engine, world.campaign_id, CENTRE, SLOT_DAY)[0]
    book_and_vaccinate(engine, keys, code_ids[:16], slot, starts, centre=CENTRE, vaccinated=12, booked_at=NOW)
    other, other_starts = slots_of(engine, world.campaign_id, "ESCH-HALL", SLOT_DAY)[0]
    book_and_vaccinate(
        engine, keys, code_ids[16:19], other, other_starts, centre="ESCH-HALL", vaccinated=3, booked_at=NOW
    )
    clock.now = dt.datetime.combine(SLOT_DAY + dt.timedelta(days=1), dt.time(9), dt.UTC)
    return world


@pytest.fixture
def sign_in(engine: Engine, staff_tokens, clock):
    """``sign_in(client, role)``: the client with a session of that role's account opened at the
    clock's time (the ``running`` campaign moves the clock past the other sessions' 10 hours)."""

    def sign(client, role: str):
        with write_transaction(engine) as connection:
            token = open_session(connection, get_user(connection, f"{role}1"), now=clock.now).token
        client.cookies.clear()
        client.cookies.set("courrier_staff", token)
        return client

    return sign


def test_suppression_hides_small_cells_and_the_cell_that_would_give_one_away():
    shown = suppress_table({("a", 1): 120, ("a", 2): 4, ("a", 3): 55, ("b", 1): 0, ("b", 2): 30})
    assert shown[("a", 2)] is Withheld.SMALL
    assert shown[("a", 3)] is Withheld.TOTAL  # the row's smallest other cell: 120 + ? + ? is not solvable
    assert shown[("b", 1)] == 0  # nobody: shown
    # The column of the hidden 4 had only one hidden cell: its smallest other cell went too.
    assert shown[("b", 2)] is Withheld.TOTAL
    assert shown[("a", 1)] == 120


def test_ministry_dashboard_counts_without_small_cells(client, sign_in, running):
    page = sign_in(client, "ministry").get("/staff/ministry", params={"lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'role="img"' in html
    assert '<title id="chart-days-title">' in html
    sent = _table(html, "sent")
    assert [row[1:] for row in sent[1:]] == [["1", "30"], ["all waves", "30"]]
    days = {(row[0], row[1]): row for row in _table(html, "days")[1:]}
    day = SLOT_DAY.isoformat()
    luxembourg = next(row for key, row in days.items() if key[0] == day and "Victor Hugo" in key[1])
    esch = next(row for key, row in days.items() if key[0] == day and "Esch" in key[1])
    # 16 bookings and 12 doses at Luxembourg; 3 and 3 at Esch, below 10: hidden, and so is the
    # smallest other count of that day (the day's total is on the chart).
    assert esch[3] == "< 10"
    assert esch[4] == "< 10"
    # Luxembourg's 16 and 12 would give Esch's away (the day's total is on the chart): withheld too.
    assert luxembourg[3] == "x"
    assert luxembourg[4] == "x"
    assert "16" not in html.split('id="table-days"')[1].split("</table>")[0]
    no_shows = {row[0]: row for row in _table(html, "no-shows")[1:]}
    assert no_shows["All centres"][1:] == ["19", "< 10", "x"]  # the share of a withheld count: x
    assert _table(html, "voucher-regions")[1:] == [["All regions", "0", "€0.00"]]


def test_ministry_sees_vouchers_per_week_and_region_and_the_sums(client, sign_in, make_vouchers, clock):
    vouchers = make_vouchers(people=16)
    at = dt.datetime(2021, 1, 20, 10, 0, tzinfo=dt.UTC)
    # 12 at the hotel (one of them undone later: not counted), 3 at the campsite, in the week of Jan 18.
    for number, (_code_id, code) in enumerate(vouchers.codes[:15]):
        answer = vouchers.redeem(code, scanned=False, at=HOTEL if number < 12 else CAMPSITE, now=at)
        assert answer.status == "ok", answer
    with write_transaction(vouchers.engine) as connection:
        assert answer.redemption is not None
        undo_redemption(
            connection, answer.redemption.id, establishment_id=CAMPSITE, by="camp1", now=at, undo_minutes=10
        )
    clock.now = at + dt.timedelta(hours=1)
    params = {"lang": "en", "from": "2021-01-18"}
    html = sign_in(client, "ministry").get("/staff/ministry", params=params).text
    rows = _table(html, "vouchers")[1:]
    assert [row[0] for row in rows] == ["2021-W03", "2021-W03"]
    by_region = {row[1]: row[2:] for row in rows}
    # The campsite's 2 are fewer than 10; the hotel's 12 would give them away from the total of 14.
    assert sorted(by_region.values()) == [["< 10", "< 10"], ["x", "x"]]
    regions = _table(html, "voucher-regions")[1:]
    assert sorted(row[1:] for row in regions[:-1]) == [["< 10", "< 10"], ["x", "x"]]
    assert regions[-1] == ["All regions", "14", "€700.00"]
    assert 'id="chart-vouchers"' in html


def test_the_ministry_csv_is_the_table_on_the_page(client, sign_in, running):
    sign_in(client, "ministry")
    params = {"lang": "en", "from": "2021-01-20", "to": "2021-02-05"}
    html = client.get("/staff/ministry", params=params).text
    for table in ("sent", "days", "no-shows", "vouchers", "voucher-regions"):
        answer = client.get(f"/staff/ministry/{table}.csv", params=params)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"))))
        shown = _table(html, table)
        assert rows[0] == shown[0]
        assert len(rows) == len(shown)
        # Same cells; the CSV's numbers are not grouped, its euros have no sign.
        for csv_row, page_row in zip(rows[1:], shown[1:], strict=True):
            assert [re.sub("[,€\u202f\xa0]", "", cell) for cell in page_row] == csv_row
    assert client.get("/staff/ministry/persons.csv").status_code == 404


def test_operator_sees_the_morning_view_of_the_cli(client, sign_in, running, engine):
    page = sign_in(client, "operator").get("/staff/operator", params={"lang": "en"})
    assert page.status_code == 200, page.text
    html = page.text
    assert 'id="jobs-posted">1<' in html
    assert 'id="reconcile-J000001"' in html
    assert 'id="reprints-none"' in html
    assert re.search(r'id="wave-1"><th scope="row">1</th>.*?30', html)
    # The print shop's page, not the citizens' booking service.
    assert '">Print shop</a>' in html
    assert "Vaccination booking" not in html
    with engine.connect() as connection:
        assert list_audit(connection, username="operator1", action="requests.viewed")


def test_operator_marks_a_job_printed_and_reads_its_results(client, sign_in, make_world, engine, tmp_path):
    world = make_world(people=12)
    with engine.connect() as connection:
        ids = list(connection.execute(select(pieces.c.id).order_by(pieces.c.id)).scalars())
    compose_job(engine, "J000001", ids, wave=1, at=NOW)
    sign_in(client, "operator")
    page = client.get("/staff/operator", params={"campaign": world.campaign, "lang": "en"}).text
    assert 'id="mark-J000001"' in page
    token = form_token(page)
    # A results file before the job is printed: refused as the CLI refuses it, nothing read.
    results = "piece_id,status,time,machine\n" + "".join(
        f"{piece},{'missing' if n == 0 else 'inserted'},2021-01-20T08:00,INS\n" for n, piece in enumerate(ids)
    )
    early = client.post(
        "/staff/operator/results",
        data={"csrf_token": token, "campaign": world.campaign},
        files={"file": ("J000001.results.csv", results.encode(), "text/csv")},
    )
    assert early.status_code == 409
    assert 'data-code="job_not_printed"' in early.text
    marked = client.post(
        "/staff/operator/jobs/J000001/mark",
        data={"csrf_token": token, "campaign": world.campaign, "state": "printed"},
    )
    assert marked.status_code == 200
    assert 'id="done"' in marked.text
    with engine.connect() as connection:
        assert connection.execute(select(print_jobs.c.state)).scalar_one() == "printed"
    read = client.post(
        "/staff/operator/results",
        data={"csrf_token": token, "campaign": world.campaign},
        files={
            "file": ("J000001.results.csv", (results + "99999,inserted,x,INS\nbad\n").encode(), "text/csv")
        },
    )
    assert read.status_code == 200, read.text
    assert 'id="applied-inserted">11<' in read.text
    assert 'id="applied-missing">1<' in read.text
    refused = _table(read.text, None, table_id="results-refused")
    assert sorted(row[0] for row in refused[1:]) == ["14", "15"]
    again = client.post(
        "/staff/operator/results",
        data={"csrf_token": token, "campaign": world.campaign},
        files={"file": ("J000001.results.csv", results.encode(), "text/csv")},
    )
    assert 'id="results-already-read"' in again.text
    view = client.get("/staff/operator", params={"campaign": world.campaign, "lang": "en"}).text
    assert 'id="reprints-count"' in view
    assert "J000001</span>: 1" in view
    # Without the form's token: refused, nothing marked.
    assert client.post("/staff/operator/jobs/J000001/mark", data={"state": "posted"}).status_code == 403
    with engine.connect() as connection:
        actions = [entry.action for entry in list_audit(connection, username="operator1")]
    assert "job.marked" in actions
    assert actions.count("inserter.results_read") == 2


def test_operator_approves_and_rejects_resend_requests(client, sign_in, make_world, engine, clock):
    world = make_world(people=2)
    with engine.begin() as connection:
        person = connection.execute(select(persons).order_by(persons.c.id)).first()
        assert person is not None
        # Real matricules (check digits): the register's, and one nobody in it has.
        known = make_matricule(person.birth_date, 101)
        connection.execute(persons.update().where(persons.c.id == person.id).values(national_id=known))
    for matricule in (known, make_matricule(person.birth_date, 102)):
        submit_request(
            engine,
            "resend",
            world.campaign,
            matricule,
            person.birth_date,
            person.postcode,
            client="c",
            now=NOW,
        )
    sign_in(client, "operator")
    page = client.get("/staff/operator", params={"campaign": world.campaign, "lang": "en"}).text
    with engine.connect() as connection:
        matched, unmatched = connection.execute(
            select(letter_requests.c.id).order_by(letter_requests.c.id)
        ).scalars()
    assert f'id="approve-{matched}"' in page
    assert f'id="approve-{unmatched}"' not in page
    token = form_token(page)
    approved = client.post(
        f"/staff/operator/requests/{matched}/approve", data={"csrf_token": token, "campaign": world.campaign}
    )
    assert approved.status_code == 200
    assert 'id="done"' in approved.text
    rejected = client.post(
        f"/staff/operator/requests/{unmatched}/reject", data={"csrf_token": token, "campaign": world.campaign}
    )
    assert rejected.status_code == 200
    twice = client.post(
        f"/staff/operator/requests/{matched}/approve", data={"csrf_token": token, "campaign": world.campaign}
    )
    assert twice.status_code == 409
    assert 'data-code="request_decided"' in twice.text
    with engine.connect() as connection:
        states = list(
            connection.execute(select(letter_requests.c.state).order_by(letter_requests.c.id)).scalars()
        )
        assert states == ["approved", "rejected"]
        assert (
            connection.execute(select(func.count()).where(pieces.c.reissue_of.is_not(None))).scalar_one() == 1
        )
        actions = {entry.action for entry in list_audit(connection, username="operator1")}
    assert {"request.approved", "request.rejected"} <= actions


def test_audit_log_page_filters_and_exports(client, sign_in, running, engine, clock):
    sign_in(client, "operator").get("/staff/operator")
    sign_in(client, "admin")
    page = client.get("/staff/audit", params={"user": "operator1", "lang": "en"})
    assert page.status_code == 200
    rows = re.findall(r'<tr class="audit-entry" data-action="([^"]+)">', page.text)
    assert rows == ["requests.viewed"]
    none = client.get("/staff/audit", params={"user": "operator1", "from": "2030-01-01"}).text
    assert 'id="audit-none"' in none
    export = client.get("/staff/audit.csv", params={"action": "requests.viewed", "lang": "en"})
    assert export.status_code == 200
    lines = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert lines[0] == ["When (UTC)", "User", "Role", "Action", "Subject", "Details"]
    assert [line[1:4] for line in lines[1:]] == [["operator1", "operator", "requests.viewed"]]
    with engine.connect() as connection:
        mine = [entry.action for entry in list_audit(connection, username="admin1")]
    assert mine == ["audit.exported", "audit.viewed", "audit.viewed"]
    # Not for the other roles.
    for role in ("operator", "ministry", "helpline"):
        answer = sign_in(client, role).get("/staff/audit.csv")
        assert answer.status_code == 403


def _table(html: str, table: str | None, *, table_id: str | None = None) -> list[list[str]]:
    """A table's header and rows, as text."""
    found = re.search(rf'<table id="{table_id or "table-" + str(table)}".*?</table>', html, re.S)
    assert found, table
    rows = []
    # A table with no rows says so in a row of its own (class "empty"), which is no data.
    for row in re.findall(r'<tr(?! class="empty")[^>]*>(.*?)</tr>', found.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        rows.append([unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells])
    return rows


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_dashboards_speak_every_language(client, sign_in, running, language):
    _ = gettext_for(language)
    for role, path, heading in [
        ("operator", "/staff/operator", "Print shop: the morning view"),
        ("ministry", "/staff/ministry", "Ministry dashboard"),
        ("admin", "/staff/audit", "Audit log"),
    ]:
        page = sign_in(client, role).get(path, params={"lang": language})
        assert page.status_code == 200, (language, path)
        assert f"<h1>{_(heading)}</h1>" in page.text  # the catalogs' texts are markup
        assert language == "en" or _(heading) != heading
