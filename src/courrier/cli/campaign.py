"""``courrier campaign``: define campaigns, plan their waves, extend their validity."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from courrier.campaigns.definition import read_definition
from courrier.campaigns.facts import campaign_facts
from courrier.campaigns.plan import PlanReport, WaveSummary, plan_campaign
from courrier.campaigns.store import extend_campaign, list_campaigns
from courrier.cli.booking_policy import booking_policy_command
from courrier.cli.common import current_app, echo_json, json_option, open_database

_TOP = 3


@click.group()
def campaign() -> None:
    """Campaigns: who gets which letter, when, and with what code (create, plan, extend; rename or
    delete a mis-created one)."""


campaign.add_command(booking_policy_command)


@campaign.command("create")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--update-template",
    is_flag=True,
    help="For an existing campaign: record its template folder's current content as its version"
    " (recorded as an event; refused once a job is printed).",
)
def create_command(file: Path, update_template: bool) -> None:
    """Define a campaign from a campaign FILE (TOML; format in docs/campaigns.md).

    Records the template folder's content hash as a template version, so every letter can be traced
    to the exact template that made it; compose refuses a folder that changed since. Fails when the
    name is taken, or the template folder is missing or fails `courrier template check`.
    """
    # Imported here: the template check loads the composer, which `campaign list` and the rest need not.
    from courrier.production.campaign_setup import define_campaign, redefine_template

    definition = read_definition(file)
    if update_template:
        updated, changed = redefine_template(open_database(), definition, actor=current_app().settings.actor)
        state = "updated to" if changed else "unchanged:"
        click.echo(
            f"campaign {updated.name}: template {state} version {updated.template_version_id}"
            f" (sha256 {updated.template_sha256[:12]})"
        )
        return
    created = define_campaign(open_database(), definition, actor=current_app().settings.actor)
    click.echo(
        f"campaign {created.name} ({created.kind}) created; template {created.template_path} "
        f"version {created.template_version_id} (sha256 {created.template_sha256[:12]})"
    )


@campaign.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """List campaigns with their counts of waves, pieces and codes."""
    with open_database().connect() as connection:
        rows = list_campaigns(connection)
    if as_json:
        echo_json([row.to_json() for row in rows])
        return
    if not rows:
        click.echo("no campaigns yet: `courrier campaign create FILE.toml`")
    width = max([len("campaign"), *(len(row.name) for row in rows)])
    click.echo(f"{'campaign':<{width}}  {'kind':<11} {'waves':>6} {'pieces':>10} {'codes':>10}")
    for row in rows:
        click.echo(f"{row.name:<{width}}  {row.kind:<11} {row.waves:>6} {row.pieces:>10,} {row.codes:>10,}")


@campaign.command("show")
@click.argument("name")
@json_option
def show_command(name: str, as_json: bool) -> None:
    """Show a campaign: kind, template version, cohort, code policy, QR content and its waves."""
    with open_database().connect() as connection:
        facts = campaign_facts(connection, name)
    if as_json:
        echo_json(facts.to_json())
        return
    found, summaries = facts.campaign, facts.waves
    cohort = found.definition.cohort
    if cohort.min_age is None and cohort.max_age is None:
        ages = "all ages"
    else:
        upper = "" if cohort.max_age is None else cohort.max_age
        ages = f"ages {cohort.min_age or 0}-{upper} on {cohort.reference_date}"
    click.echo(
        f"{found.name}: {found.kind}, template {found.template_path} (version {found.template_version_id})"
    )
    click.echo(
        f"cohort: {', '.join(cohort.sources)}; {ages}; order {cohort.order}"
        + (f"; communes {', '.join(cohort.communes)}" if cohort.communes else "")
        + (f"; countries {', '.join(cohort.countries)}" if cohort.countries else "")
        + (f"; languages {', '.join(cohort.languages)}" if cohort.languages else "")
    )
    validity = (
        f"{found.validity_days} days from the letter" if found.validity_days else f"until {found.valid_until}"
    )
    click.echo(f"codes: valid {validity}, {found.max_uses} use(s); QR {found.qr_content}")
    _echo_waves(summaries)


@campaign.command("plan")
@click.argument("name")
@json_option
def plan_command(name: str, as_json: bool) -> None:
    """Split the campaign's cohort into waves; plan again after a register import.

    Newcomers go into new waves, nobody is planned twice; persons who died, lost their address or left
    the cohort are withdrawn from waves not yet composed (their codes revoked). Shows counts per wave,
    language and country, and how many were excluded (deceased, unknown address).
    """
    report = plan_campaign(open_database(), name, actor=current_app().settings.actor)
    if as_json:
        echo_json(report.to_json())
        return
    _echo_plan(report)


@campaign.command("extend")
@click.argument("name")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="New last valid day (YYYY-MM-DD), later than the current one.",
)
@click.option("--reason", help="Why, recorded on the event (e.g. the ministry's decision).")
def extend_command(name: str, until: dt.datetime, reason: str | None) -> None:
    """Extend a fixed-end campaign's validity (all its codes not revoked) to a later day.

    Campaigns whose codes are valid a number of days from the letter cannot be extended.
    """
    previous, count = extend_campaign(
        open_database(), name, until.date(), actor=current_app().settings.actor, reason=reason
    )
    click.echo(f"campaign {name}: valid until {until.date()} (was {previous}); {count} codes extended")


@campaign.command("rename")
@click.argument("name")
@click.argument("new_name")
def rename_command(name: str, new_name: str) -> None:
    """Rename campaign NAME to NEW_NAME; refused once any of its letters was printed.

    Change `name` in the campaign file too: `campaign create FILE --update-template` finds the campaign
    by it.
    """
    from courrier.campaigns.removal import rename_campaign
    from courrier.db import write_transaction
    from courrier.db.types import utcnow

    with write_transaction(open_database()) as connection:
        rename_campaign(connection, name, new_name, actor=current_app().settings.actor, at=utcnow())
    click.echo(f"campaign {name} renamed {new_name}")


@campaign.command("delete")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Delete without asking.")
def delete_command(name: str, yes: bool) -> None:
    """Delete campaign NAME, a mis-created one: its waves, pieces, codes and jobs (one campaign.deleted
    event is kept). Refused once any of its letters was printed, a code used or booked. Print files
    already composed are left where they are, and named."""
    from courrier.campaigns.removal import delete_campaign
    from courrier.db import write_transaction
    from courrier.db.types import utcnow

    if not yes:
        click.confirm(f"delete campaign {name} and all its pieces and codes?", abort=True, err=True)
    with write_transaction(open_database()) as connection:
        deleted = delete_campaign(connection, name, actor=current_app().settings.actor, at=utcnow())
    click.echo(
        f"campaign {name} deleted: {deleted.waves} wave(s), {deleted.pieces} piece(s), {deleted.codes}"
        f" code(s), {deleted.jobs} job(s)"
    )
    for folder in deleted.folders:
        click.echo(f"print files composed for it are left in {folder}: delete them")


def _echo_plan(report: PlanReport) -> None:
    if report.new_pieces:
        waves = report.new_waves
        span = f"wave {waves[0]}" if len(waves) == 1 else f"waves {waves[0]}-{waves[-1]}"
        noun = "piece" if report.new_pieces == 1 else "pieces"
        click.echo(f"{report.campaign}: {report.new_pieces} new {noun} planned in {span}")
    else:
        click.echo(f"{report.campaign}: nobody new to plan")
    if report.waiting_list:
        click.echo(f"of which from the waiting list: {report.waiting_list}, first come first served")
    for reason, count in sorted(report.withdrawn.items()):
        click.echo(f"withdrawn from waves not yet composed: {count} ({reason})")
    click.echo(
        f"excluded by the register: {report.excluded['deceased']} deceased, "
        f"{report.excluded['address_unknown']} with unknown address"
    )
    _echo_waves(report.waves)


def _echo_waves(summaries: list[WaveSummary]) -> None:
    if not summaries:
        click.echo("no waves yet: `courrier campaign plan NAME`")
        return
    click.echo("wave  send date   state     pieces  languages / countries")
    for summary in summaries:
        languages = _top(summary.by_language)
        countries = _top(summary.by_country)
        send_date = str(summary.send_date or "-")
        click.echo(
            f"{summary.number:>4}  {send_date:<10}  {summary.state:<8}  {summary.size:>6}  "
            f"{languages} / {countries}"
        )


def _top(counts: dict[str, int]) -> str:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    shown = " ".join(f"{key} {value}" for key, value in ranked[:_TOP])
    return shown + (f" +{len(ranked) - _TOP}" if len(ranked) > _TOP else "")
