"""``courrier codes``: personal codes — check, issue, look up, re-issue, verify signed tokens."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from courrier.cli.common import configured_keys, current_app, echo_json, json_option, open_database
from courrier.codes.format import format_code, parse_code
from courrier.codes.issue import issue_codes
from courrier.codes.keys import read_public_key
from courrier.codes.revocations import revocation_document, revoked_code_ids
from courrier.codes.store import lookup_code, reissue_piece, revoke_typed_code
from courrier.codes.token import token_in_qr, verify_token
from courrier.db import write_transaction
from courrier.db.types import utcnow
from courrier.errors import ConflictError


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
    "--campaign",
    "campaign_id",
    type=click.IntRange(min=1),
    required=True,
    help="The id of the campaign whose tokens are accepted (every campaign signs with the same key); "
    "`courrier codes export-revocations` prints it.",
)
@click.option(
    "--revocations",
    "revocations_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Revocation list from `courrier codes export-revocations`: a revoked code's token fails.",
)
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Check validity on this day (YYYY-MM-DD). Default: today.",
)
@json_option
def verify_command(
    token: str,
    public_key_paths: tuple[Path, ...],
    campaign_id: int,
    revocations_path: Path | None,
    today: dt.datetime | None,
    as_json: bool,
) -> None:
    """Check a signed TOKEN (from a QR code, or the URL the QR code holds) offline: genuine, unaltered,
    of campaign --campaign, not revoked (with --revocations) and valid today.

    Needs no database and no secret key, only the public key file(s). Exit 0 and the token's ids and
    validity when it checks; exit 1 and the reason (bad_signature, wrong_campaign, code_revoked,
    token_expired, unknown_key...) otherwise.
    """
    public_keys = dict(read_public_key(path) for path in public_key_paths)
    revoked: frozenset[int] = frozenset()
    if revocations_path is not None:
        revoked = revoked_code_ids(revocations_path, public_keys, campaign_id)
    day = today.date() if today is not None else utcnow().date()
    claims = verify_token(token_in_qr(token), public_keys, day, campaign_id=campaign_id, revoked=revoked)
    if as_json:
        echo_json(claims.to_json() | {"valid": True})
    else:
        click.echo(
            f"genuine: campaign {claims.campaign_id}, code {claims.code_id}, valid "
            f"{claims.valid_from} to {claims.valid_until} (key id {claims.key_id})"
        )


@codes.command("issue")
@click.argument("name")
@click.option("--wave", type=click.IntRange(min=1), help="Only this wave number. Default: every wave.")
@json_option
def issue_command(name: str, wave: int | None, as_json: bool) -> None:
    """Give every planned piece of campaign NAME (or of one wave) a personal code.

    Codes are stored only as a keyed HMAC and a ciphertext (keys from COURRIER_KEY_FILE or
    COURRIER_KEYS). Safe to run again, also after a crash: pieces that already have a code are skipped
    and counted.
    """
    settings = current_app().settings
    interactive = sys.stderr.isatty()

    def progress(issued: int) -> None:
        if interactive:
            click.echo(f"\r  {issued:,} codes issued", nl=False, err=True)

    report = issue_codes(
        open_database(),
        name,
        on_progress=progress,
        keys=configured_keys(),
        actor=settings.actor,
        wave=wave,
    )
    if interactive:
        click.echo(err=True)
    if as_json:
        echo_json(report.to_json())
        return
    waves = ", ".join(str(number) for number in report.waves)
    click.echo(
        f"{report.campaign}: {report.issued} codes issued, {report.skipped} pieces skipped (already had one)"
        f" in wave(s) {waves}"
    )


@codes.command("lookup")
@click.argument("code")
@json_option
def lookup_command(code: str, as_json: bool) -> None:
    """Find a typed CODE: its campaign, person id, piece(s), status, uses and validity.

    Status: active, used_up, expired or revoked. Exit 1 when the code is malformed or was never issued.
    """
    with open_database().connect() as connection:
        found = lookup_code(connection, configured_keys(), code, utcnow().date())
    if as_json:
        echo_json(found.to_json())
        return
    pieces = ", ".join(str(piece_id) for piece_id in found.piece_ids)
    click.echo(
        f"{format_code(parse_code(code))}: {found.status}, campaign {found.campaign}, "
        f"person {found.person_id}, piece(s) {pieces}, used {found.uses}/{found.max_uses}, "
        f"valid {found.valid_from} to {found.valid_until}"
    )


@codes.command("reissue")
@click.argument("name")
@click.option("--person", required=True, help="The person: register id, or national id (13 digits).")
@click.option("--same-code", "same", is_flag=True, help="Send the same code again (e.g. a lost voucher).")
@click.option("--new-code", "new", is_flag=True, help="Send a new code; the old one is revoked.")
@click.option("--reason", help="Why, recorded on the events (e.g. 'reported lost by phone').")
@click.option(
    "--show-code",
    is_flag=True,
    help="Also print the code itself (it is otherwise only on the letter: a terminal's scroll-back and "
    "logs are no place for it).",
)
@json_option
def reissue_command(
    name: str, person: str, same: bool, new: bool, reason: str | None, show_code: bool, as_json: bool
) -> None:
    """Send a person's letter of campaign NAME again, as a new piece outside the waves.

    With --same-code the new letter carries the same, still valid code; with --new-code it gets a new
    code and the old one is revoked. The replaced piece ends as `reissued`; each step is an event.
    The code is printed only with --show-code.
    """
    if same == new:  # neither, or both (the last flag used to win silently)
        raise click.UsageError("choose one of --same-code or --new-code")
    settings = current_app().settings
    keys = configured_keys()
    with write_transaction(open_database()) as connection:
        done = reissue_piece(
            connection,
            name,
            person,
            same_code=same,
            keys=keys,
            actor=settings.actor,
            reason=reason,
        )
    facts = done.to_json()
    if not show_code:
        del facts["code"]
    if as_json:
        echo_json(facts)
        return
    what = "same code" if done.same_code else f"new code (code {done.revoked_code_id} revoked)"
    click.echo(f"piece {done.old_piece_id} re-issued as piece {done.new_piece_id} with the {what}")
    if show_code:
        click.echo(f"code: {done.code}")


@codes.command("revoke")
@click.argument("code")
@click.option("--reason", required=True, help="Why, recorded on the event (e.g. 'reported stolen').")
def revoke_command(code: str, reason: str) -> None:
    """Revoke a personal CODE for good: it no longer books or redeems anything.

    To send the person a replacement, use `courrier codes reissue NAME --person ID --new-code`, which
    revokes the old code itself.
    """
    settings = current_app().settings
    keys = configured_keys()
    with write_transaction(open_database()) as connection:
        found = revoke_typed_code(connection, keys, code, actor=settings.actor, reason=reason)
    click.echo(
        f"{format_code(parse_code(code))}: revoked (campaign {found.campaign}, person {found.person_id})"
    )


@codes.command("export-revocations")
@click.argument("name")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
def export_revocations_command(name: str, output: Path) -> None:
    """Write the revocation list of campaign NAME, signed, for offline verifiers (`codes verify
    --revocations`): the ids of its revoked codes, whose tokens must no longer be accepted.

    Never over an existing file. Export it again after codes are revoked; the file says when it was made.
    """
    from courrier.codes.keys import write_new_file

    with open_database().connect() as connection:
        document = revocation_document(connection, name, configured_keys(), utcnow())
    try:
        write_new_file(output, document, mode=0o644)
    except FileExistsError:
        raise ConflictError(f"{output} already exists: not overwritten", code="file_exists") from None
    listed = json.loads(document)
    click.echo(
        f"{output}: {len(listed['code_ids'])} revoked codes of campaign {name} "
        f"(verify with --campaign {listed['campaign_id']})"
    )
