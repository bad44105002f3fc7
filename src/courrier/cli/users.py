"""``courrier users`` (staff accounts) and ``courrier audit`` (who looked at what)."""

from __future__ import annotations

import sys

import click

from courrier.accounts.audit import list_audit
from courrier.accounts.housekeeping import prune_web_leftovers
from courrier.accounts.roles import ROLES
from courrier.accounts.users import add_user, disable_user, list_users, set_password
from courrier.cli.common import echo_json, json_option, open_database
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True, err=True)
    return password


@click.group()
def users() -> None:
    """Staff accounts: add, list, disable, change a password; prune their ended sessions. Passwords come
    from a prompt or, with --password-stdin, from standard input; never from an argument."""


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.option("--centre", "centre_id", help="The centre of a reception or physician account.")
@click.option("--establishment", "establishment_id", help="The establishment of an establishment account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def add_command(
    username: str, role: str, centre_id: str | None, establishment_id: str | None, password_stdin: bool
) -> None:
    """Add a staff account."""
    password = _read_password(password_stdin)
    with write_transaction(open_database()) as connection:
        user = add_user(
            connection,
            username,
            password,
            role,
            now=utcnow(),
            centre_id=centre_id,
            establishment_id=establishment_id,
        )
    click.echo(f"added {user.username} ({user.role})")


@users.command("list")
@json_option
def list_command(as_json: bool) -> None:
    """The staff accounts with their role, scope and whether they are disabled."""
    with open_database().connect() as connection:
        found = list_users(connection)
    if as_json:
        echo_json([user.to_json() for user in found])
        return
    for user in found:
        scope = user.centre_id or user.establishment_id or ""
        state = " (disabled)" if user.disabled else ""
        click.echo(f"{user.username:<20} {user.role:<14} {scope}{state}")


@users.command("disable")
@click.argument("username")
def disable_command(username: str) -> None:
    """Disable an account: its sessions stop working at once."""
    with write_transaction(open_database()) as connection:
        disable_user(connection, username, now=utcnow())
    click.echo(f"disabled {username}")


@users.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
def passwd_command(username: str, password_stdin: bool) -> None:
    """Set a new password for an account."""
    password = _read_password(password_stdin)
    with write_transaction(open_database()) as connection:
        set_password(connection, username, password, now=utcnow())
    click.echo(f"password changed for {username}")


@users.command("prune")
@json_option
def prune_command(as_json: bool) -> None:
    """Delete the staff sessions that can sign nobody in any more (signed out, disabled or expired) and
    the failure counters of code entry and sign-in that no longer block or count (they hold client
    addresses). Each task worker does this every hour; this is the same by hand or from cron."""
    with write_transaction(open_database()) as connection:
        pruned = prune_web_leftovers(connection, utcnow())
    if as_json:
        echo_json(pruned.to_json())
        return
    click.echo(
        f"deleted {pruned.sessions} ended staff session(s) and {pruned.counters} idle failure counter(s)"
    )


@click.command("audit")
@click.option("--user", "username", help="Only this staff member's entries.")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 100000))
@json_option
def audit_command(username: str | None, limit: int, as_json: bool) -> None:
    """Every view or change of personal data by staff, newest first."""
    with open_database().connect() as connection:
        entries = list_audit(connection, username=username, limit=limit)
    if as_json:
        echo_json([entry.to_json() for entry in entries])
        return
    for entry in entries:
        click.echo(f"{entry.at:%Y-%m-%d %H:%M:%S}  {entry.username:<16} {entry.action:<20} {entry.subject}")
