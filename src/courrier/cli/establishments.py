"""``courrier establishments``: the hotels, campsites, youth hostels and holiday homes that take the
vouchers (import the list, list them, approve one that registered on the form, set the language of its
statements)."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.cli.common import current_app, echo_json, json_option, open_database
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow


@click.group()
def establishments() -> None:
    """Establishments that take the vouchers: import, list, approve, set-language."""


@establishments.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--pending", is_flag=True, help="Leave the new establishments pending (an operator approves each)."
)
@click.option(
    "--rejects",
    "rejects_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the rejected rows (default: FILE.rejects.csv beside it).",
)
@json_option
def import_command(file: Path, pending: bool, rejects_path: Path | None, as_json: bool) -> None:
    """Import an establishments file (CSV with the columns id, name, kind, licence_number, address,
    postcode, iban, contact, and optionally language; docs/vouchers.md). New establishments are
    approved (the list the ministry sent) unless --pending; known ones (by id) are updated. A row with
    a problem is rejected whole, with a line per problem in the rejects file; the good rows are
    imported."""
    from courrier.vouchers.establishments import (
        import_establishments,
        read_establishments_file,
        write_rejects,
    )

    rejects_path = rejects_path or file.with_name(f"{file.stem}.rejects.csv")
    with write_transaction(open_database()) as connection:
        report = import_establishments(
            connection,
            read_establishments_file(file),
            actor=current_app().settings.actor,
            now=utcnow(),
            status="pending" if pending else "approved",
        )
    write_rejects(report.rejects, rejects_path)
    if as_json:
        echo_json({**report.to_json(), "rejects_file": str(rejects_path)})
        return
    click.echo(
        f"{report.added} establishments added, {report.updated} updated, {report.rejected} rows rejected"
    )
    if report.rejected:
        click.echo(f"rejected rows: {rejects_path}", err=True)


@establishments.command("list")
@click.option("--status", type=click.Choice(["pending", "approved"]), help="Only those in this status.")
@json_option
def list_command(status: str | None, as_json: bool) -> None:
    """The establishments: id, kind, status, language, commune, name."""
    from courrier.vouchers.establishments import list_establishments

    with open_database().connect() as connection:
        found = list_establishments(connection, status)
    if as_json:
        echo_json([establishment.to_json() for establishment in found])
        return
    for establishment in found:
        click.echo(
            f"{establishment.id:<12} {establishment.kind:<13} {establishment.status:<9} "
            f"{establishment.language:<3}{establishment.commune:<20} {establishment.name}"
        )


@establishments.command("approve")
@click.argument("establishment_id")
def approve_command(establishment_id: str) -> None:
    """Approve a pending establishment (one that registered on the form): it may redeem vouchers from
    now on. Add its staff with `courrier users add NAME --role establishment --establishment ID`."""
    from courrier.vouchers.establishments import approve_establishment

    with write_transaction(open_database()) as connection:
        found = approve_establishment(
            connection, establishment_id.upper(), actor=current_app().settings.actor, now=utcnow()
        )
    click.echo(f"establishment {found.id} ({found.name}) approved")


@establishments.command("set-language")
@click.argument("establishment_id")
@click.argument("language")
def set_language_command(establishment_id: str, language: str) -> None:
    """Set the language (fr, de, en, pt, lb) the establishment's next reimbursement statements are
    printed in; a statement issued already keeps its own."""
    from courrier.vouchers.establishments import set_language

    with write_transaction(open_database()) as connection:
        found = set_language(
            connection,
            establishment_id.upper(),
            language,
            actor=current_app().settings.actor,
            now=utcnow(),
        )
    click.echo(f"establishment {found.id} ({found.name}): statements in {found.language}")
