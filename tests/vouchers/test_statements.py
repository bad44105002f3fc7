"""Reimbursement statements over real redemptions, on SQLite and PostgreSQL: issued once, never changed,
corrections on the next one, totals that add up, and the SEPA file that pays them."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, func, select

from courrier.cli import courrier
from courrier.db.schema import redemptions, statement_lines, statement_runs, statements
from courrier.db.transaction import write_transaction
from courrier.errors import ConflictError, InputFileError
from courrier.vouchers import statements as statements_module
from courrier.vouchers.establishments import set_language
from courrier.vouchers.redemption import undo_redemption
from courrier.vouchers.sepa import Payer, read_transfers, validate_credit_transfer
from courrier.vouchers.statements import LOCAL, Period, RunSummary, issue_statements

from ..compose.conftest import PdfTools
from .conftest import CAMPSITE, EXAMPLES, HOTEL, Vouchers

PAYER = Payer("Ministère de l'Économie", "LU280019400644750000", "BCEELULL")
JANUARY = Period(dt.date(2021, 1, 1), dt.date(2021, 1, 31))
FEBRUARY = Period(dt.date(2021, 2, 1), dt.date(2021, 2, 28))
MARCH = Period(dt.date(2021, 3, 1), dt.date(2021, 3, 31))


def local(day: int, month: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2021, month, day, hour, minute, tzinfo=LOCAL).astimezone(dt.UTC)


def issue(engine: Engine, period: Period, folder: Path, now: dt.datetime | None = None) -> RunSummary:
    now = now or dt.datetime.combine(period.last + dt.timedelta(days=1), dt.time(9), LOCAL)
    return issue_statements(engine, period, payer=PAYER, folder=folder / str(period), actor="t", now=now)


def redeemed(vouchers: Vouchers, index: int, at: str, when: dt.datetime, reference: str = "BK-1") -> int:
    answer = vouchers.redeem(vouchers.qr[index], at=at, now=when, reference=reference)
    assert answer.status == "ok", answer
    assert answer.redemption is not None
    return answer.redemption.id


def undo(vouchers: Vouchers, redemption_id: int, at: str, when: dt.datetime) -> None:
    with write_transaction(vouchers.engine) as connection:
        undo_redemption(connection, redemption_id, establishment_id=at, by="t", now=when, undo_minutes=15)


def csv_rows(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))


@pytest.fixture
def six(make_vouchers: Callable[..., Vouchers]) -> Vouchers:
    return make_vouchers(people=6)


def test_each_establishment_gets_one_statement_that_adds_up_and_one_sepa_file_pays_them(six, tmp_path):
    for index, day in enumerate((11, 14, 17)):
        redeemed(six, index, HOTEL, local(day, 1, 10), reference=f"PARC-{index}")
    for index in (3, 4):
        redeemed(six, index, CAMPSITE, local(20, 1, 15))
    summary = issue(six.engine, JANUARY, tmp_path)
    assert summary.issued
    assert [(s.establishment_id, s.lines, s.total_cents) for s in summary.statements] == [
        (CAMPSITE, 2, 10_000),
        (HOTEL, 3, 15_000),
    ]
    with six.engine.connect() as connection:
        for found in summary.statements:
            owed = connection.execute(
                select(func.sum(redemptions.c.amount_cents)).where(
                    redemptions.c.establishment_id == found.establishment_id
                )
            ).scalar()
            assert found.total_cents == owed  # the statement's total is the sum of its redemptions
    tools = PdfTools()
    for found in summary.statements:
        pdf = summary.folder / f"{found.number}.pdf"
        tools.check(pdf)
        with tools.render(pdf, 1, resolution=50) as image:
            assert image.getextrema()[0] < 64
        rows = csv_rows(summary.folder / f"{found.number}.csv")
        assert sum(round(float(row["amount"]) * 100) for row in rows) == found.total_cents
    hotel = next(s for s in summary.statements if s.establishment_id == HOTEL)
    text = tools.text(summary.folder / f"{hotel.number}.pdf")
    assert "Hôtel du Parc" in text
    assert "PARC-2" in text
    assert summary.sepa_file is not None
    xml = summary.sepa_file.read_bytes()
    validate_credit_transfer(xml)
    transfers = read_transfers(xml)
    assert transfers.amounts_cents == {s.number: s.total_cents for s in summary.statements}
    assert transfers.total_cents == sum(s.total_cents for s in summary.statements) == summary.total_cents


def test_running_the_period_again_issues_nothing_and_restores_a_lost_file(six, tmp_path):
    redeemed(six, 0, HOTEL, local(15, 1, 10))
    first = issue(six.engine, JANUARY, tmp_path)
    (number,) = [s.number for s in first.statements]
    pdf = first.folder / f"{number}.pdf"
    issued = pdf.read_bytes()
    again = issue(six.engine, JANUARY, tmp_path, now=local(3, 2, 12))
    assert not again.issued
    assert again.files_written == []
    assert again.files_kept == 3
    pdf.unlink()
    (first.folder / f"{number}.csv").write_text("tampered\n", encoding="utf-8")
    restored = issue(six.engine, JANUARY, tmp_path)
    assert sorted(restored.files_written) == [f"{number}.csv", f"{number}.pdf"]
    assert pdf.read_bytes() == issued  # the same bytes as when it was issued
    with six.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(statement_runs)).scalar() == 1
        assert connection.execute(select(func.count()).select_from(statement_lines)).scalar() == 1
        digest = connection.execute(select(statements.c.pdf_sha256)).scalar()
    assert digest == hashlib.sha256(issued).hexdigest()


TITLES = {
    "fr": "Relevé de remboursement",
    "de": "Erstattungsabrechnung",
    "en": "Reimbursement statement",
    "pt": "Extrato de reembolso",
    "lb": "Rembourséierungsopstellung",
}


def test_a_statement_is_in_its_establishments_language_and_keeps_it(six, tmp_path):
    with write_transaction(six.engine) as connection:
        set_language(connection, HOTEL, "de", actor="op", now=local(1, 1, 9))
    redeemed(six, 0, HOTEL, local(15, 1, 10))
    redeemed(six, 1, CAMPSITE, local(16, 1, 10))
    first = issue(six.engine, JANUARY, tmp_path)
    tools = PdfTools()
    numbers = {s.establishment_id: s.number for s in first.statements}
    hotel_pdf = first.folder / f"{numbers[HOTEL]}.pdf"
    german = tools.text(hotel_pdf)
    assert "Erstattungsabrechnung" in german
    assert "Die Regierung des Großherzogtums Luxemburg" in german
    assert "50,00 €" in german
    assert "Relevé" not in german
    assert "Relevé de remboursement" in tools.text(first.folder / f"{numbers[CAMPSITE]}.pdf")
    # The establishment's language changed after the statement was issued: the statement is made again
    # as it was issued, in German; the next one is in the new language.
    issued = hotel_pdf.read_bytes()
    with write_transaction(six.engine) as connection:
        set_language(connection, HOTEL, "en", actor="op", now=local(2, 2, 9))
    hotel_pdf.unlink()
    restored = issue(six.engine, JANUARY, tmp_path)
    assert restored.files_written == [hotel_pdf.name]
    assert hotel_pdf.read_bytes() == issued
    for index, language in enumerate(("en", "pt", "lb", "fr"), start=2):
        with write_transaction(six.engine) as connection:
            set_language(connection, HOTEL, language, actor="op", now=local(1, 2, 9))
        period = Period(dt.date(2021, 2, index), dt.date(2021, 2, index))
        redeemed(six, index, HOTEL, local(index, 2, 10))
        (found,) = issue(six.engine, period, tmp_path).statements
        text = tools.text(tmp_path / str(period) / f"{found.number}.pdf")
        assert TITLES[language] in text, language


def test_an_issued_statement_never_changes_and_a_late_redemption_goes_on_the_next(six, tmp_path):
    redeemed(six, 0, HOTEL, local(15, 1, 10))
    january = issue(six.engine, JANUARY, tmp_path)
    (number,) = [s.number for s in january.statements]
    before = (january.folder / f"{number}.csv").read_bytes()
    # Recorded after January was issued, dated in January (a clock behind): not on January's statement.
    late = redeemed(six, 1, HOTEL, local(31, 1, 22))
    assert issue(six.engine, JANUARY, tmp_path).files_written == []
    assert (january.folder / f"{number}.csv").read_bytes() == before
    february = issue(six.engine, FEBRUARY, tmp_path)
    (next_one,) = february.statements
    assert [int(row["redemption_id"]) for row in csv_rows(february.folder / f"{next_one.number}.csv")] == [
        late
    ]


def test_an_undo_after_the_statement_is_a_correction_on_the_next_one(six, tmp_path):
    kept = redeemed(six, 0, HOTEL, local(10, 1, 10))
    mistaken = redeemed(six, 1, HOTEL, local(31, 1, 23, 55))
    january = issue(six.engine, JANUARY, tmp_path, now=local(1, 2, 0, 1))
    assert january.statements[0].total_cents == 10_000
    undo(six, mistaken, HOTEL, local(1, 2, 0, 5))  # within the 15 minutes, after the statement
    # February: nothing new at the hotel, so the correction waits (no statement asks for money back).
    february = issue(six.engine, FEBRUARY, tmp_path)
    assert february.statements == []
    assert february.sepa_file is None
    again = redeemed(six, 2, HOTEL, local(4, 3, 18))
    march = issue(six.engine, MARCH, tmp_path)
    (statement,) = march.statements
    rows = csv_rows(march.folder / f"{statement.number}.csv")
    assert [(row["kind"], int(row["redemption_id"]), row["amount"]) for row in rows] == [
        ("redemption", again, "50.00"),
        ("correction", mistaken, "-50.00"),
    ]
    assert rows[1]["corrects"] == january.statements[0].number
    assert statement.total_cents == 0
    assert march.sepa_file is None  # nothing to pay: no transfer, no file
    text = PdfTools().text(march.folder / f"{statement.number}.pdf")
    assert f"Annulé, relevé {january.statements[0].number}" in text
    with six.engine.connect() as connection:
        paid = connection.execute(
            select(func.sum(statement_lines.c.amount_cents)).where(
                statement_lines.c.redemption_id == mistaken
            )
        ).scalar()
    assert paid == 0  # paid once, corrected once
    assert kept not in {int(row["redemption_id"]) for row in rows}


def test_periods_must_be_over_follow_each_other_and_be_written_right(six, tmp_path):
    with pytest.raises(ConflictError) as refused:
        issue(six.engine, JANUARY, tmp_path, now=local(31, 1, 12))
    assert refused.value.code == "period_not_over"
    issue(six.engine, JANUARY, tmp_path)
    with pytest.raises(ConflictError) as refused:
        issue(six.engine, Period(dt.date(2021, 1, 15), dt.date(2021, 2, 15)), tmp_path)
    assert refused.value.code == "period_overlaps"
    with pytest.raises(ConflictError) as refused:
        issue(six.engine, Period(dt.date(2021, 1, 31), dt.date(2021, 1, 31)), tmp_path)
    assert refused.value.code == "period_overlaps"
    for text in ("2021-01-01", "2021-02-01..2021-01-01", "2021-02-30..2021-03-01", "..", "x..y"):
        with pytest.raises(InputFileError) as refused:
            Period.parse(text)
        assert refused.value.code == "bad_period"
    assert Period.parse(" 2021-02-01..2021-02-28 ") == FEBRUARY


def test_two_runs_of_one_period_at_once_issue_it_once(six, tmp_path):
    for index in range(4):
        redeemed(six, index, HOTEL if index % 2 else CAMPSITE, local(12, 1, 9 + index))
    results: list[RunSummary | BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        try:
            results.append(issue(six.engine, JANUARY, tmp_path))
        except BaseException as error:  # the test reports it
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(isinstance(result, RunSummary) for result in results), results
    assert sorted(result.issued for result in results if isinstance(result, RunSummary)) == [False, True]
    with six.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(statements)).scalar() == 2
        assert connection.execute(select(func.count()).select_from(statement_lines)).scalar() == 4


def test_a_run_of_the_period_committed_between_two_looks_is_that_run(six, tmp_path, monkeypatch):
    """PostgreSQL's read committed: the second of two runs at once may miss the first's run row, then
    see it as the last period issued (seen once in the race test above): it is that run, not an
    overlap."""
    redeemed(six, 0, HOTEL, local(12, 1, 9))
    first = issue(six.engine, JANUARY, tmp_path)
    looks: list[Period] = []

    def committed_after_the_first_look(connection, period):
        looks.append(period)
        return None if len(looks) == 1 else found_run(connection, period)

    found_run = statements_module._run_of
    monkeypatch.setattr(statements_module, "_run_of", committed_after_the_first_look)
    again = issue(six.engine, JANUARY, tmp_path)
    assert first.issued
    assert not again.issued
    assert len(looks) == 2


def test_the_cli_issues_the_statements(six, cli_env, tmp_path):
    redeemed(six, 0, HOTEL, local(15, 1, 10))
    payer = EXAMPLES / "vouchers" / "payer-account.toml"
    arguments = ["vouchers", "statements", "--period", "2021-01-01..2021-01-31", "--payer", str(payer)]
    done = CliRunner().invoke(courrier, [*arguments, "--json"])
    assert done.exit_code == 0, done.output
    answer = json.loads(done.stdout)
    assert answer["issued"] is True
    assert answer["total_cents"] == 5000
    assert Path(answer["sepa_file"]).is_file()
    again = CliRunner().invoke(courrier, arguments)
    assert again.exit_code == 0, again.output
    assert "1 statements already issued on" in again.stdout
    refused = CliRunner().invoke(
        courrier, ["vouchers", "statements", "--period", "2021-01-31", "--payer", str(payer)]
    )
    assert refused.exit_code == 1
    assert "[bad_period]" in refused.output


def test_statements_composed_on_dask_workers_are_the_same_bytes(six, tmp_path, dask_client, monkeypatch):
    import courrier.vouchers.statements as issuing

    monkeypatch.setattr(issuing, "_TASK_STATEMENTS", 1)  # a task per statement, so two run on workers
    redeemed(six, 0, HOTEL, local(15, 1, 10))
    redeemed(six, 1, CAMPSITE, local(16, 1, 10))
    now = dt.datetime.combine(dt.date(2021, 2, 1), dt.time(9), LOCAL)
    on_workers = issue_statements(
        six.engine, JANUARY, payer=PAYER, folder=tmp_path / "run", actor="t", now=now, client=dask_client
    )
    assert len(on_workers.files_written) == 5  # two PDFs, two CSVs, the SEPA file
    for name in on_workers.files_written:
        (on_workers.folder / name).unlink()
    # Made again here, without the workers: every file matches the sha256 recorded from the workers'.
    again = issue(six.engine, JANUARY, tmp_path)
    assert sorted(again.files_written) == sorted(on_workers.files_written)


def test_an_early_run_takes_what_is_redeemed_so_far_and_the_rest_goes_on_the_next(six, tmp_path):
    first = redeemed(six, 0, HOTEL, local(31, 1, 10))
    early = issue_statements(
        six.engine, JANUARY, payer=PAYER, folder=tmp_path, actor="t", now=local(31, 1, 12), early=True
    )
    assert [s.total_cents for s in early.statements] == [5000]
    later = redeemed(six, 1, HOTEL, local(31, 1, 18))  # the same day, after the run
    february = issue(six.engine, FEBRUARY, tmp_path)
    (statement,) = february.statements
    assert [int(row["redemption_id"]) for row in csv_rows(february.folder / f"{statement.number}.csv")] == [
        later
    ]
    assert first != later
