"""``courrier vouchers``: what the establishments are paid for the vouchers they redeemed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from courrier.cli.common import current_app, echo_json, json_option, open_database
from courrier.db.types import utcnow


@click.group()
def vouchers() -> None:
    """Hotel vouchers: reimbursement statements and their SEPA file."""


@vouchers.command("statements")
@click.option(
    "--period",
    required=True,
    metavar="FROM..TO",
    help="The period, both days included: 2026-03-01..2026-03-31.",
)
@click.option(
    "--out",
    "folder",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("statements"),
    show_default=True,
    help="Folder the run's files go to (DIR/FROM..TO/), fixed when the period is first issued.",
)
@click.option(
    "--payer",
    "payer_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The payer account file (TOML: name, iban, bic); default COURRIER_PAYER_ACCOUNT.",
)
@click.option(
    "--execution-date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="The day the bank is to pay (default: the working day after the statements are issued).",
)
@click.option(
    "--early",
    is_flag=True,
    help="Issue a period that is not over yet (the campaign's last statements, a demo): what is "
    "redeemed later in the period goes on the next statement.",
)
@click.option(
    "--scheduler",
    help="Compose the statements on this running Dask scheduler (tcp://host:8786) instead of here.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Compose the statements on an embedded LocalCluster of this many workers instead of here "
    "(worth it from a few hundred statements on).",
)
@json_option
def statements_command(
    period: str,
    folder: Path,
    payer_file: Path | None,
    execution_date: dt.datetime | None,
    early: bool,
    scheduler: str | None,
    workers: int | None,
    as_json: bool,
) -> None:
    """Issue each establishment's reimbursement statement for the period (a PDF and a CSV) and the one
    SEPA credit transfer file (pain.001) that pays them, into --out.

    A statement holds the vouchers the establishment redeemed up to the period's end that no statement
    holds yet, and the corrections of earlier statements (a redemption undone after it was paid). A
    statement once issued never changes: running the command again for the same period issues nothing,
    keeps the files that match what was issued and writes again any that are missing. Periods follow
    each other and are issued once they are over (Luxembourg time).
    """
    from courrier.vouchers.sepa import load_payer
    from courrier.vouchers.statements import Period, issue_statements

    app = current_app(scheduler=scheduler, workers=workers)
    parsed = Period.parse(period)
    payer = load_payer(payer_file or Path(app.settings.payer_account))

    def progress(done: int, total: int) -> None:
        if done == total or done % 100 == 0:
            click.echo(f"statements: {done:,} of {total:,} written", err=True)

    summary = issue_statements(
        open_database(),
        parsed,
        payer=payer,
        folder=folder / str(parsed),
        actor=app.settings.actor,
        now=utcnow(),
        execution_date=execution_date.date() if execution_date else None,
        early=early,
        client=app.dask_client if scheduler or workers else None,
        progress=progress,
    )
    if as_json:
        echo_json(summary.to_json())
        return
    verb = "issued" if summary.issued else "already issued on " + summary.issued_at.date().isoformat()
    paid = (
        f"SEPA file {summary.sepa_file} (EUR {summary.transfers_cents / 100:,.2f})"
        if summary.sepa_file
        else "nothing to pay, no SEPA file"
    )
    click.echo(
        f"{summary.period}: {len(summary.statements)} statements {verb}, "
        f"EUR {summary.total_cents / 100:,.2f} in all; {paid}"
    )
    click.echo(f"files: {len(summary.files_written)} written, {summary.files_kept} kept, in {summary.folder}")
