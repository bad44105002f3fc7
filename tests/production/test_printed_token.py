"""A signed campaign's QR code as printed: composed through the real record path (codes issued, the wave
composer on Dask), read back from the rendered page and checked with the public key alone, on SQLite
and PostgreSQL."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, get_campaign
from courrier.codes.issue import issue_codes
from courrier.codes.keys import export_public_key, new_keys, read_public_key
from courrier.codes.sealing import reveal_code
from courrier.codes.store import qr_content
from courrier.codes.token import quote_token, sign_token, token_in_qr, verify_token
from courrier.db.schema import codes, pieces
from courrier.errors import CodeError
from courrier.production.compose_wave import compose_wave
from courrier.register.generate import generate_register
from courrier.register.load import import_register

from ..compose.conftest import EXAMPLES, PdfTools
from .conftest import AT

URL = "https://verify.example.lu/v/"
VOUCHER = """
name = "voucher"
kind = "voucher"
template = "{template}"
languages = ["fr", "de", "en", "pt", "lb"]
[cohort]
sources = ["rnpp", "ccss"]
reference_date = 2026-03-01
min_age = 16
order = "postcode"
[waves]
size = 10000
[codes]
valid_until = 2026-12-31
max_uses = 1
[qr]
signed = true
content = "{url}{{token}}"
"""


def test_the_printed_qr_code_of_a_signed_campaign_is_its_url_with_a_token_that_verifies(
    engine, tmp_path: Path, dask_client
):
    register = tmp_path / "register.csv"
    generate_register(register, people=12, cross_border=3, seed=11)
    import_register(engine, register)
    definition = parse_definition(VOUCHER.format(template=EXAMPLES / "voucher", url=URL), base=tmp_path)
    create_campaign(engine, definition, actor="test", now=AT)
    plan_campaign(engine, "voucher", actor="test", now=AT)
    keys = new_keys()
    issue_codes(engine, "voucher", keys=keys, actor="test", now=AT)
    summary = compose_wave(
        engine, "voucher", 1, out=tmp_path / "out", keys=keys, actor="test", now=AT, client=dask_client
    )
    assert summary.failures == []
    job = summary.jobs[0]
    with (summary.folder / f"{job}.manifest.csv").open(encoding="utf-8") as file:
        first = next(csv.DictReader(file))
    scanned = PdfTools().barcodes(summary.folder / f"{job}.pdf", 1)["QRCode"]

    # What a hotel's scanner reads is the campaign's URL; its token verifies with the public key file.
    assert scanned.startswith(URL)
    public_file = tmp_path / "public.json"
    export_public_key(keys, keys.signing_key_id, public_file)
    public_keys = dict([read_public_key(public_file)])
    claims = verify_token(token_in_qr(scanned), public_keys, dt.date(2026, 6, 1))
    with engine.connect() as connection:
        campaign = get_campaign(connection, "voucher")
        code = connection.execute(
            select(codes)
            .join(pieces, pieces.c.code_id == codes.c.id)
            .where(pieces.c.id == int(first["piece_id"]))
        ).one()
    assert (claims.campaign_id, claims.code_id) == (campaign.id, code.id)
    assert claims.valid_until == dt.date(2026, 12, 31)
    # The function a service checks a letter with gives exactly what was printed.
    expected = qr_content(
        campaign,
        reveal_code(keys, code.ciphertext),
        keys=keys,
        code_id=code.id,
        valid_from=code.valid_from,
        valid_until=code.valid_until,
    )
    assert scanned == expected
    # Tampered with, it fails (so the check above can fail).
    forged = scanned[:-3] + ("A" if scanned[-3] != "A" else "B") + scanned[-2:]
    with pytest.raises(CodeError):
        verify_token(token_in_qr(forged), public_keys, dt.date(2026, 6, 1))


@pytest.mark.parametrize(
    "content", ["{token}", "https://verify.example.lu/v/{token}", "https://verify.example.lu/v?t={token}"]
)
def test_a_token_goes_into_the_qr_content_and_comes_back_out(content: str):
    keys = new_keys()
    prefix = content.removesuffix("{token}")
    for code_id in range(1, 3000, 37):  # tokens holding each of base45's / % + and space
        token = sign_token(keys, campaign_id=5, code_id=code_id, valid_from=AT.date(), valid_until=AT.date())
        filled = content.replace("{token}", quote_token(content, token))
        assert token_in_qr(filled) == token
        if prefix:  # in a URL, only characters a URL may hold as they are
            assert re.fullmatch(r"[A-Za-z0-9._~%-]+", filled.removeprefix(prefix)), filled
