"""``courrier codes``: personal codes — check, issue, look up, re-issue, verify signed tokens."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from pathlib import Path

import click

from courrier.cli.common import echo_json, json_option
from courrier.codes.format import format_code, parse_code
from courrier.codes.keys import read_public_key
from courrier.codes.token import verify_token


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


@codes.command("verify")
@click.argument("token")
@click.option(
    "--public-key",
    "public_key_paths",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    multiple=True,
    required=True,
    help="Public key file from `courrier keys export-public`; repeat for several key ids.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Check validity on this day (YYYY-MM-DD). Default: today.",
)
@json_option
def verify_command(
    token: str, public_key_paths: tuple[Path, ...], today: dt.datetime | None, as_json: bool
) -> None:
    """Check a signed TOKEN (from a QR code) offline: genuine, unaltered and valid today.

    Needs no database and no secret key, only the public key file(s). Exit 0 and the token's ids and
    validity when it checks; exit 1 and the reason (bad_signature, token_expired, unknown_key...)
    otherwise.
    """
    public_keys = dict(read_public_key(path) for path in public_key_paths)
    day = today.date() if today is not None else dt.date.today()
    claims = verify_token(token, public_keys, day)
    if as_json:
        echo_json(asdict(claims) | {"valid": True})
    else:
        click.echo(
            f"genuine: campaign {claims.campaign_id}, code {claims.code_id}, valid "
            f"{claims.valid_from} to {claims.valid_until} (key id {claims.key_id})"
        )
