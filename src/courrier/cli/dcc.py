"""``courrier dcc``: EU Digital COVID Certificates — test PKI, trust list, issue, verify, revoke."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from courrier.cli.common import current_app, echo_json, json_option
from courrier.country import HOME_COUNTRY

if TYPE_CHECKING:
    from courrier.certificates.payload import Holder


def _folder() -> Path:
    return Path(current_app().settings.dcc_dir)


def _utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _parse_time(value: str | None) -> dt.datetime:
    if value is None:
        return _utcnow()
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time (2026-03-12T08:30:00Z)") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


@click.group()
def dcc() -> None:
    """EU Digital COVID Certificates: issue, verify, revoke.

    A test PKI (init) and the trust list verifiers load (trust-list). Keys and lists live in the DCC
    folder (COURRIER_DCC_DIR, default ./dcc): see docs/certificates.md.
    """


@dcc.command("init")
@click.option("--country", default=HOME_COUNTRY, show_default=True, help="ISO 3166-1 alpha-2 code.")
@click.option(
    "--kinds",
    default="v,t,r",
    show_default=True,
    help="Kinds the DSC may sign (v vaccination, t test, r recovery): its extended key usages.",
)
@click.option("--dsc-days", type=click.IntRange(min=1), default=730, show_default=True, help="DSC validity.")
@json_option
def init_command(country: str, kinds: str, dsc_days: int, as_json: bool) -> None:
    """Make a test PKI: a country signing CA and a document signer (ES256), keys mode 0600.

    For tests and demonstrations only: production keys are the operator's DSC key and certificate,
    issued by the national CSCA and put into the DCC folder (docs/certificates.md). Never overwrites.
    """
    from courrier.certificates.pki import init_pki

    chosen = [kind.strip() for kind in kinds.split(",") if kind.strip()]
    if not chosen or set(chosen) - {"v", "t", "r"} or len(country) != 2 or not country.isalpha():
        raise click.BadParameter("kinds are v, t, r (comma-separated); the country two letters")
    made = init_pki(_folder(), country.upper(), _utcnow(), chosen, dsc_days=dsc_days)
    if as_json:
        echo_json(made.to_json())
    else:
        click.echo(
            f"{made.folder}: test CSCA and DSC for {made.country}, kid {made.kid} ({', '.join(made.kinds)})"
        )


@dcc.command("trust-list")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="File to write.")
def trust_list_command(output: Path | None) -> None:
    """Print (or write) the trust list verifiers load: kid, country and certificate of each DSC."""
    from courrier.certificates.pki import folder_trust, trust_list_json
    from courrier.errors import ConfigError

    signers = folder_trust(_folder())
    if not signers:
        raise ConfigError(
            f"{_folder()}: no DSC certificate (dsc.crt): run `courrier dcc init`", code="dcc_no_signer"
        )
    text = trust_list_json(signers)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        click.echo(f"{output}: {len(signers)} signer(s)")


@dcc.command("issue")
@click.argument("record", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--qr", "qr_path", type=click.Path(dir_okay=False, path_type=Path), help="Write the QR as PNG.")
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the printed certificate (one A4 page, for a window envelope): RECORD then needs the "
    "holder's address.",
)
@click.option(
    "--language",
    type=click.Choice(["fr", "de", "en"]),
    default="fr",
    show_default=True,
    help="The printed certificate's language.",
)
@click.option("--validity-days", type=click.IntRange(min=1), default=365, show_default=True)
@json_option
def issue_command(
    record: Path,
    qr_path: Path | None,
    pdf_path: Path | None,
    language: str,
    validity_days: int,
    as_json: bool,
) -> None:
    """Issue the certificate of RECORD (a JSON file) and print its HC1: string.

    RECORD's "kind" is vaccination (the default), test or recovery. All kinds: family_name,
    given_name, birth_date, country, issuer. A vaccination: product, manufacturer, prophylaxis, dose,
    series, date. A test: test_type, sampled_at (ISO 8601 with its offset), result, centre, and
    test_name (NAA) or device (rapid antigen). A recovery: first_positive, valid_from, valid_until.
    With --pdf, "address": {street, house_number, postcode, locality, country} (docs/certificates.md).
    """
    from courrier.certificates.issue import issue_certificate
    from courrier.certificates.payload import read_facts
    from courrier.certificates.pki import load_signer
    from courrier.errors import InputFileError

    try:
        document = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise InputFileError(
            f"{record}: not a JSON certificate record: {error}", code="dcc_invalid_record"
        ) from None
    if not isinstance(document, dict):
        raise InputFileError(f"{record}: not a JSON object", code="dcc_invalid_record")
    signer = load_signer(_folder(), allow_shared=current_app().settings.allow_shared_key_file)
    facts = read_facts(document)
    holder = _holder_person(document, facts.holder, language) if pdf_path is not None else None
    issued = issue_certificate(facts, signer, _utcnow(), validity_days=validity_days)
    if pdf_path is not None and holder is not None:
        from courrier.certificates.letter import certificate_pdf

        pdf_path.write_bytes(certificate_pdf(issued, holder))
    if qr_path is not None:
        from PIL import Image

        from courrier.certificates.qr import hc1_matrix

        matrix = hc1_matrix(issued.hc1)
        image = Image.fromarray(((~matrix) * 255).astype("uint8"), "L")
        # 4 modules of quiet zone, 8 pixels a module.
        padded = Image.new("L", (image.width + 8, image.height + 8), 255)
        padded.paste(image, (4, 4))
        padded.resize((padded.width * 8, padded.height * 8), Image.Resampling.NEAREST).save(qr_path)
    if as_json:
        echo_json(issued.to_json())
    else:
        click.echo(issued.hc1)


def _holder_person(document: dict[str, Any], holder: Holder, language: str) -> dict[str, Any]:
    """The register-like person a printed certificate is addressed to: the holder's names and the
    record's ``address``; ``dcc_invalid_record`` without one (a window envelope needs it)."""
    from courrier.errors import InputFileError

    address = document.get("address")
    if not isinstance(address, dict) or not (address.get("postcode") or address.get("locality")):
        raise InputFileError(
            '--pdf: the record needs the holder\'s "address" (street, house_number, postcode, locality, '
            "country), for the envelope's window",
            code="dcc_invalid_record",
            field="address",
        )
    fields = ("care_of", "house_number", "street", "postcode", "locality")
    return {
        "id": 0,
        "family_name": holder.family_name,
        "given_names": holder.given_name,
        "sex": "",
        "language": language,
        **{name: str(address.get(name) or "") for name in fields},
        "country": str(address.get("country") or HOME_COUNTRY),
    }


@dcc.command("verify")
@click.argument("source")
@click.option(
    "--trust",
    "trust_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Trust list (`courrier dcc trust-list`) or a DSC certificate (PEM, or base64 DER). "
    "Default: the DSC certificates of the DCC folder.",
)
@click.option("--at", "at", help="Verify as at this ISO 8601 time (default: now).")
@click.option(
    "--revocations",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Revocation list. Default: revocations.json of the DCC folder, when there is one.",
)
@click.option("--page", type=click.IntRange(min=1), default=1, show_default=True, help="PDF page.")
@json_option
def verify_command(
    source: str, trust_path: Path | None, at: str | None, revocations: Path | None, page: int, as_json: bool
) -> None:
    """Verify a certificate step by step: SOURCE is an HC1: string, a PNG or a PDF (- reads stdin).

    Prints each step (prefix, base45, zlib, cose, kid, signature, key_usage, schema, value_sets,
    not_yet_valid, expired, revoked) and the first that fails; --json gives
    {"valid", "failed_step", "steps", "payload"}. Exit 0 when valid, 1 when not.
    """
    from courrier.certificates.pki import folder_trust, read_trust
    from courrier.certificates.qr import read_hc1
    from courrier.certificates.revocation import FILE_NAME, read_revocations
    from courrier.certificates.verify import verify_hc1

    moment = _parse_time(at)
    if source == "-":
        hc1 = sys.stdin.read()
    elif Path(source).is_file():
        hc1 = read_hc1(Path(source), page)
    else:
        hc1 = source
    trust = read_trust(trust_path) if trust_path is not None else folder_trust(_folder())
    revocation_file = revocations if revocations is not None else _folder() / FILE_NAME
    revoked = read_revocations(revocation_file) if revocation_file.exists() else None
    result = verify_hc1(hc1, trust, moment, revoked)
    if as_json:
        # Not sorted: the steps in the order they run.
        click.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        for step, outcome in result.steps.items():
            mark = {True: "ok", False: "FAILED", None: "-"}[outcome.ok]
            click.echo(f"{step:<14} {mark:<7} {outcome.detail}".rstrip())
        if result.valid and result.payload is not None:
            names = result.payload.get("nam", {})
            holder = f"{names.get('gn', '')} {names.get('fn', '')}".strip()
            click.echo(f"valid: {holder}, born {result.payload.get('dob')}")
        else:
            click.echo(f"invalid: {result.failed_step}")
    if not result.valid:
        click.get_current_context().exit(1)


@dcc.command("revoke")
@click.argument("uvci")
@json_option
def revoke_command(uvci: str, as_json: bool) -> None:
    """Put the certificate UVCI on the revocation list (its hash: the list names no one)."""
    from courrier.certificates.revocation import revoke

    revoked = revoke(_folder(), uvci)
    if as_json:
        echo_json(revoked.to_json())
    else:
        click.echo(f"{revoked.uvci}: revoked ({revoked.revocations} on {revoked.file})")
