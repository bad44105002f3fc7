"""``courrier centres`` (import the centres file) and ``courrier slots`` (open and list a campaign's
time slots)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from courrier.cli.common import echo_json, json_option, open_database
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow


@click.group()
def centres() -> None:
    """Vaccination centres: name, address, commune, opening hours, slot length and places."""


@centres.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(file: Path) -> None:
    """Import a centres file (TOML, documented in docs/web.md); known centres are updated."""
    from courrier.centres.centres_file import read_centres
    from courrier.centres.store import import_centres

    found = read_centres(file)
    with write_transaction(open_database()) as connection:
        inserted, updated = import_centres(connection, found, now=utcnow())
    weekly = sum(centre.weekly_capacity() for centre in found)
    click.echo(f"{inserted} centres added, {updated} updated; {weekly:,} places a week in all")


@click.group()
def slots() -> None:
    """A campaign's time slots at the centres."""


@slots.command("open")
@click.argument("campaign")
@click.option("--from", "first", required=True, type=click.DateTime(["%Y-%m-%d"]), help="First day.")
@click.option("--to", "last", required=True, type=click.DateTime(["%Y-%m-%d"]), help="Last day.")
@click.option("--centre", "centre_ids", multiple=True, help="Only this centre (repeatable).")
def open_command(campaign: str, first: dt.datetime, last: dt.datetime, centre_ids: tuple[str, ...]) -> None:
    """Open the centres' slots for CAMPAIGN from --from to --to (their opening hours, not their closed
    days); slots already open are kept with their bookings."""
    from courrier.campaigns.store import get_campaign
    from courrier.centres.store import open_slots

    with write_transaction(open_database()) as connection:
        found = get_campaign(connection, campaign)
        opened = open_slots(connection, found.id, first.date(), last.date(), centre_ids=centre_ids)
    click.echo(f"{opened} slots opened for {campaign}")


@slots.command("list")
@click.argument("campaign")
@json_option
def list_command(campaign: str, as_json: bool) -> None:
    """Capacity and use per centre and day."""
    from courrier.campaigns.store import get_campaign
    from courrier.centres.store import slot_use

    with open_database().connect() as connection:
        days = slot_use(connection, get_campaign(connection, campaign).id)
    if as_json:
        echo_json([day.to_json() for day in days])
        return
    for day in days:
        click.echo(
            f"{day.centre_id:<12} {day.day}  {day.slots:>4} slots  {day.taken:>6} / {day.capacity:<6} taken"
        )
