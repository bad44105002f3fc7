"""``courrier codes``: personal codes — check, issue, look up, re-issue, verify signed tokens."""

from __future__ import annotations

import click

from courrier.cli.common import echo_json, json_option
from courrier.codes.format import format_code, parse_code


@click.group()
def codes() -> None:
    """Personal codes: check a typed code, issue codes for a wave, look up, re-issue, verify tokens."""


@codes.command("check")
@click.argument("code")
@json_option
def check_command(code: str, as_json: bool) -> None:
    """Say whether a typed CODE is well-formed, without touching the database.

    Accepts upper or lower case, with or without dashes and spaces. Exit 0 when well-formed; exit 1
    with the reason otherwise: wrong length, a character codes never use (and its position), or a
    check character that does not match (a mistyped character or two swapped neighbours).
    """
    compact = parse_code(code)
    if as_json:
        echo_json({"code": format_code(compact), "well_formed": True})
    else:
        click.echo(f"{format_code(compact)}: well-formed")
