"""``courrier campaign booking-policy``: a campaign's booking rules (doses and the dose-2 window)."""

from __future__ import annotations

import click

from courrier.cli.common import current_app, echo_json, json_option, open_database
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow


@click.command("booking-policy")
@click.argument("name")
@click.option("--doses", type=int, help="Doses booked with one code: 1 or 2.")
@click.option(
    "--dose2-from-days", "dose2_min_days", type=int, help="Dose 2 from this many days after dose 1."
)
@click.option("--dose2-to-days", "dose2_max_days", type=int, help="Dose 2 until this many days after dose 1.")
@click.option(
    "--dose2-after-validity/--no-dose2-after-validity",
    "dose2_after_expiry",
    default=None,
    help="Whether dose 2 may still be booked once the code's validity is over.",
)
@json_option
def booking_policy_command(
    name: str,
    doses: int | None,
    dose2_min_days: int | None,
    dose2_max_days: int | None,
    dose2_after_expiry: bool | None,
    as_json: bool,
) -> None:
    """Show or change campaign NAME's booking rules: the doses one code books, the dose-2 window after
    dose 1, and whether dose 2 may be booked after the code's validity.

    Rules not given keep their value; without options the rules are shown. Defaults: the code's uses (at
    most 2), dose 2 from 21 to 42 days after dose 1, bookable after the validity. Bookings already made
    are kept. The change is recorded as an event.
    """
    from courrier.booking.policy import booking_policy, set_booking_policy
    from courrier.campaigns.store import get_campaign

    changing = any(v is not None for v in (doses, dose2_min_days, dose2_max_days, dose2_after_expiry))
    engine = open_database()
    if changing:
        with write_transaction(engine) as connection:
            campaign = get_campaign(connection, name)
            policy = set_booking_policy(
                connection,
                campaign.id,
                actor=current_app().settings.actor,
                now=utcnow(),
                doses=doses,
                dose2_min_days=dose2_min_days,
                dose2_max_days=dose2_max_days,
                dose2_after_expiry=dose2_after_expiry,
            )
    else:
        with engine.connect() as connection:
            policy = booking_policy(connection, get_campaign(connection, name).id)
    if as_json:
        echo_json({"campaign": name, **policy.to_json()})
        return
    after = "bookable" if policy.dose2_after_expiry else "not bookable"
    click.echo(
        f"{name}: {policy.doses} dose(s); dose 2 from {policy.dose2_min_days} to {policy.dose2_max_days} days"
        f" after dose 1, {after} after the code's validity"
    )
