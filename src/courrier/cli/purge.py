"""``courrier purge``: a campaign's personal data removed once its retention time is over."""

from __future__ import annotations

import click

from courrier.cli.common import current_app, echo_json, json_option
from courrier.db.types import utcnow
from courrier.production.purge import Purge, purge_campaign


@click.command("purge")
@click.argument("campaign")
@click.option("--dry-run", is_flag=True, help="Say what would be removed, and remove nothing.")
@json_option
def purge_command(campaign: str, dry_run: bool, as_json: bool) -> None:
    """Remove CAMPAIGN's personal data — codes, letters, bookings, check-ins, vaccination records,
    requests, the events about them and the print files with names and addresses — once
    COURRIER_PURGE_AFTER_DAYS days have passed since the campaign ended (its last code valid, slot or
    dose given). Refused before then, naming the day. The counts (letters per wave and state, bookings
    and check-ins per day and centre, doses, requests, events per day and type) are kept first, in one
    transaction with the deletion. Running it again does nothing."""
    app = current_app()
    done = purge_campaign(
        app.engine,
        campaign,
        after_days=app.settings.purge_after_days,
        actor=app.settings.actor,
        now=utcnow(),
        dry_run=dry_run,
    )
    if as_json:
        echo_json(done.to_json())
    else:
        _echo(done)


def _echo(done: Purge) -> None:
    if done.already_purged_at is not None:
        click.echo(f"{done.campaign}: already purged on {done.already_purged_at:%Y-%m-%d %H:%M} UTC")
        return
    verb = "would remove" if done.dry_run else "removed"
    click.echo(f"{done.campaign} (ended {done.ended_on}, purge allowed from {done.purge_from}): {verb}")
    for table, count in done.rows.items():
        click.echo(f"  {count:>10,}  {table}")
    click.echo(f"  {len(done.files):>10,}  print files with names and addresses")
    kept = "would keep" if done.dry_run else "kept"
    click.echo(f"{kept} {done.cells:,} counts in campaign_stats")
