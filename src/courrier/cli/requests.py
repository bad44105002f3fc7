"""``courrier requests``: people's requests for their letter again (re-send) and the waiting list."""

from __future__ import annotations

import click

from courrier.cli.common import configured_keys, current_app, echo_json, json_option, open_database
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow


@click.group()
def requests() -> None:
    """Requests from people: letter again, waiting list.

    "I did not get my letter / I lost it" (re-send, decided here) and "I missed my phase" (the waiting
    list, planned by `courrier campaign plan`)."""


@requests.command("list")
@click.option("--kind", type=click.Choice(["resend", "waiting_list"]), help="Only this kind.")
@click.option("--state", help="Only this state (pending, approved, rejected, waiting, planned, refused).")
@click.option("--campaign", help="Only this campaign.")
@json_option
def list_command(kind: str | None, state: str | None, campaign: str | None, as_json: bool) -> None:
    """List requests, oldest first, with whether a person in the register matched (which the person
    making the request is never told)."""
    from courrier.booking.requests import list_requests

    with open_database().connect() as connection:
        found = list_requests(connection, kind=kind, state=state, campaign=campaign)
    if as_json:
        echo_json([request.to_json() for request in found])
        return
    if not found:
        click.echo("no requests")
    for request in found:
        matched = f"person {request.person_id}" if request.person_id is not None else "no match"
        outcome = f" ({request.outcome})" if request.outcome else ""
        click.echo(
            f"{request.id:>6}  {request.kind:<12} {request.campaign:<24} {request.state:<9}"
            f" {request.created_at:%Y-%m-%d %H:%M}  {matched}{outcome}"
        )


@requests.command("approve")
@click.argument("request_id", type=int)
@click.option(
    "--same-code/--new-code",
    "same_code",
    default=None,
    help="Override the campaign's rule (vouchers and certificates: the same code; others: a new code).",
)
@json_option
def approve_command(request_id: int, same_code: bool | None, as_json: bool) -> None:
    """Approve a pending re-send request: the person's letter is re-issued (as `courrier codes reissue`
    does) and printed by the next `courrier compose NAME --reissues`."""
    from courrier.booking.requests import approve_request

    keys = configured_keys()
    with write_transaction(open_database()) as connection:
        done = approve_request(
            connection,
            request_id,
            keys=keys,
            actor=current_app().settings.actor,
            now=utcnow(),
            same_code=same_code,
        )
    if as_json:
        echo_json(done.to_json())
        return
    click.echo(f"request {done.id}: {done.outcome} (piece {done.piece_id}); compose it with --reissues")


@requests.command("reject")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why, recorded on the request.")
def reject_command(request_id: int, reason: str) -> None:
    """Reject a pending re-send request (no letter is sent)."""
    from courrier.booking.requests import reject_request

    with write_transaction(open_database()) as connection:
        done = reject_request(
            connection, request_id, reason=reason, actor=current_app().settings.actor, now=utcnow()
        )
    click.echo(f"request {done.id}: rejected ({done.outcome})")
