"""A hotel's front desk in a real browser with a fake camera: the voucher letter composed by our
composer, rendered by Ghostscript, its QR filmed (a Y4M, tests/web/browser/y4m.py) and decoded by the
WebAssembly decoder the page loads; the signature is checked in the browser, the page shows the name on
the voucher, the desk redeems it with the stay and its booking reference, and the voucher is paid once.
A token with one byte changed, typed as a keyboard scanner would, is refused as forged. The campsite's
staff find its reimbursement statement (issued by the CLI for a voucher it redeemed) and download it.

A server of its own, on a database the CLI builds as an operator would: a synthetic register, the
example voucher campaign (signed QR), wave 1's codes, the example establishments and a desk account.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import base45
import pytest
from sqlalchemy import func, select

from courrier.campaigns.store import get_campaign
from courrier.codes.format import format_code
from courrier.codes.keys import load_keys
from courrier.codes.sealing import reveal_code
from courrier.codes.store import qr_content
from courrier.db import make_engine
from courrier.db.schema import codes, redemptions
from courrier.languages import LANGUAGES

from ...conftest import _free_port
from .conftest import ROOT, SERVE, _wait_for_health, look_at_both_sizes
from .y4m import camera_page, letter_video

PASSWORD = "correct horse battery"
HOTEL = "H-0001"
CAMPSITE = "C-0002"


@dataclass(frozen=True)
class Hotel:
    base_url: str
    database_url: str
    letter: Path
    qr: str
    name: str
    spare_qr: str

    def url(self, path: str) -> str:
        return self.base_url + path


def _courrier(env: dict[str, str], *args: str, stdin: str | None = None) -> None:
    """A command as the operator runs it, in this process (its import paid once, not by each of the
    fourteen commands that make the site); the server itself is a process of its own."""
    from click.testing import CliRunner

    from courrier.cli import courrier

    result = CliRunner().invoke(courrier, list(args), env=env, input=stdin)
    assert result.exit_code == 0, (args, result.output, result.exception)


def _letter(env: dict[str, str], folder: Path) -> tuple[Path, str, str, str]:
    """The first voucher's letter (the example template, the code and QR as printed), its QR text and
    name, and the second voucher's QR text (never redeemed here)."""
    engine = make_engine(env["COURRIER_DATABASE_URL"])
    keys = load_keys(env["COURRIER_KEY_FILE"])
    from courrier.db.schema import persons

    with engine.connect() as connection:
        campaign = get_campaign(connection, "hotel-voucher")
        rows = connection.execute(
            select(codes, persons.c.given_names, persons.c.family_name)
            .join(persons, persons.c.id == codes.c.person_id)
            .where(codes.c.campaign_id == campaign.id)
            .order_by(codes.c.id)
            .limit(2)
        ).all()
    engine.dispose()
    row, second = rows
    code = reveal_code(keys, row.ciphertext)
    qr = qr_content(
        campaign, code, keys=keys, code_id=row.id, valid_from=row.valid_from, valid_until=row.valid_until
    )
    spare = qr_content(
        campaign,
        reveal_code(keys, second.ciphertext),
        keys=keys,
        code_id=second.id,
        valid_from=second.valid_from,
        valid_until=second.valid_until,
    )
    sample = json.loads(
        (ROOT / "examples" / "templates" / "voucher" / "sample.jsonl").read_text().splitlines()[0]
    )
    record = sample | {"code": format_code(code), "qr": qr, "valid_until": row.valid_until.isoformat()}
    records = folder / "voucher.jsonl"
    records.write_text(json.dumps(record) + "\n")
    pdf = folder / "voucher.pdf"
    _courrier(
        env,
        "template",
        "render",
        str(ROOT / "examples" / "templates" / "voucher"),
        "--records",
        str(records),
        "-o",
        str(pdf),
    )
    return pdf, qr, f"{row.given_names} {row.family_name}", spare


def _campsite_statement(env: dict[str, str], folder: Path) -> None:
    """The third voucher redeemed at the campsite (not the hotel, whose redemptions the camera test
    counts), then today's statements issued as an operator would (``--early``)."""
    import datetime as dt

    from courrier.db.transaction import write_transaction
    from courrier.vouchers.redemption import Scan, Stay, redeem_voucher
    from courrier.vouchers.statements import LOCAL

    engine = make_engine(env["COURRIER_DATABASE_URL"])
    keys = load_keys(env["COURRIER_KEY_FILE"])
    now = dt.datetime.now(dt.UTC)
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, "hotel-voucher")
        third = connection.execute(
            select(codes).where(codes.c.campaign_id == campaign.id).order_by(codes.c.id).offset(2).limit(1)
        ).one()
        answer = redeem_voucher(
            connection,
            keys,
            Scan(reveal_code(keys, third.ciphertext), False, "browser-statement", "camp1"),
            Stay(now.date(), now.date() + dt.timedelta(days=1), "SURE-0001"),
            establishment_id=CAMPSITE,
            amount_cents=5000,
            now=now,
        )
    engine.dispose()
    assert answer.status == "ok", answer
    today = now.astimezone(LOCAL).date().isoformat()
    _courrier(
        env,
        "vouchers",
        "statements",
        "--period",
        f"{today}..{today}",
        "--early",
        "--out",
        str(folder / "statements"),
        "--payer",
        str(ROOT / "examples" / "vouchers" / "payer-account.toml"),
    )


def _sign_in_campsite(page: Any, hotel: Hotel, language: str = "en") -> None:
    page.goto(hotel.url(f"/staff/sign-in?lang={language}"))
    page.fill("#username", "camp1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url(hotel.url("/staff"))
    page.click("#statements-link")
    page.wait_for_selector("#statements")


@pytest.fixture(scope="module")
def hotel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hotel]:
    folder = tmp_path_factory.mktemp("hotel-site")
    url = f"sqlite:///{folder / 'courrier.db'}"
    env = os.environ | {"COURRIER_DATABASE_URL": url, "COURRIER_KEY_FILE": str(folder / "courrier.keys")}
    _courrier(env, "db", "upgrade")
    _courrier(env, "keys", "create")
    _courrier(
        env, "register", "generate", "--people", "40", "--seed", "5", "-o", str(folder / "register.csv")
    )
    _courrier(env, "register", "import", str(folder / "register.csv"))
    _courrier(env, "campaign", "create", str(ROOT / "examples" / "campaigns" / "hotel-voucher.toml"))
    _courrier(env, "campaign", "plan", "hotel-voucher")
    _courrier(env, "codes", "issue", "hotel-voucher", "--wave", "1")
    _courrier(
        env,
        "establishments",
        "import",
        str(ROOT / "examples" / "vouchers" / "establishments.csv"),
        "--rejects",
        str(folder / "rejects.csv"),
    )
    _courrier(
        env,
        "users",
        "add",
        "parc1",
        "--role",
        "establishment",
        "--establishment",
        HOTEL,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    _courrier(
        env,
        "users",
        "add",
        "camp1",
        "--role",
        "establishment",
        "--establishment",
        CAMPSITE,
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    letter, qr, name, spare = _letter(env, folder)
    _campsite_statement(env, folder)
    port = _free_port()
    log = folder / "serve.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*SERVE, "--port", str(port)], env=env, stdout=output, stderr=subprocess.STDOUT
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base_url, server, log)
        yield Hotel(base_url, url, letter, qr, name, spare)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _sign_in(page: Any, hotel: Hotel, language: str = "en") -> None:
    page.goto(hotel.url(f"/staff/sign-in?lang={language}"))
    page.fill("#username", "parc1")
    page.fill("#password", PASSWORD)
    page.click("#sign-in-submit")
    page.wait_for_url(hotel.url("/staff"))
    page.click("#establishment-link")
    page.wait_for_selector("#scan-area[data-ready='true']")


def _redemptions(hotel: Hotel) -> int:
    engine = make_engine(hotel.database_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count())
                    .select_from(redemptions)
                    .where(redemptions.c.undone_at.is_(None), redemptions.c.establishment_id == HOTEL)
                ).scalar_one()
            )
    finally:
        engine.dispose()


@pytest.fixture
def camera(hotel: Hotel, playwright_instance: Any, chromium_path: str, tmp_path: Path) -> Iterator[Any]:
    if not (
        ROOT
        / "src"
        / "courrier"
        / "web"
        / "static"
        / "vendor"
        / "zxing-wasm"
        / "reader"
        / "zxing_reader.wasm"
    ).exists():
        from ...conftest import skip_or_fail

        skip_or_fail("zxing-wasm is not installed (npm): no camera scanning")
    video = letter_video(hotel.letter, tmp_path / "voucher.y4m")
    yield from camera_page(playwright_instance, chromium_path, video)


def test_a_printed_voucher_scanned_with_the_camera_is_redeemed_once(hotel: Hotel, camera: Any):
    page = camera
    _sign_in(page, hotel)
    page.wait_for_selector("#scan-area[data-decoder='ready']")
    page.click("#camera-toggle")
    # The page's script decodes the QR, checks its signature, and sends the page's own form.
    page.wait_for_selector("#voucher-ready", timeout=60_000)
    assert page.text_content("#voucher-authentic").strip() == "Genuine voucher: its signature is valid"
    assert page.text_content("#voucher-name").strip() == hotel.name
    page.fill("#reference", "PARC-0042")
    page.click("#redeem-submit")
    page.wait_for_selector("#redeem-done")
    assert "Redeemed: deduct 50.00 EUR from the bill" in page.text_content("#redeem-done")
    assert page.locator("#redemptions tbody tr").count() == 1
    assert _redemptions(hotel) == 1
    # The same voucher typed again (a keyboard scanner types the QR) is refused: when, never where.
    page.fill("#voucher-code", hotel.qr)
    page.click("#voucher-check")
    page.wait_for_selector("#voucher-refusal")
    assert page.get_attribute("#voucher-refusal", "data-reason") == "already_redeemed"
    assert _redemptions(hotel) == 1


def test_a_token_with_one_byte_changed_is_refused_as_forged(hotel: Hotel, camera: Any):
    page = camera
    _sign_in(page, hotel)
    raw = bytearray(base45.b45decode(hotel.qr))
    raw[9] ^= 0x01  # the code id: another voucher's, with this one's signature
    page.fill("#voucher-code", base45.b45encode(bytes(raw)).decode())
    page.click("#voucher-check")
    page.wait_for_selector("#voucher-refusal")
    assert page.get_attribute("#voucher-refusal", "data-reason") == "voucher_forged"


def test_the_campsite_downloads_its_statement(hotel: Hotel, new_page: Any, tmp_path: Path):
    page = new_page(accept_downloads=True)
    _sign_in_campsite(page, hotel)
    rows = page.locator("#statements tbody tr")
    assert rows.count() == 1
    number = (rows.first.get_attribute("id") or "").removeprefix("statement-")
    with page.expect_download() as download:
        page.click(f"#statement-{number}-pdf")
    path = tmp_path / download.value.suggested_filename
    download.value.save_as(path)
    assert path.name == f"{number}.pdf"
    assert path.read_bytes().startswith(b"%PDF-")
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    assert "SURE-0001" in text
    with page.expect_download() as download:
        page.click(f"#statement-{number}-csv")
    csv_path = tmp_path / download.value.suggested_filename
    download.value.save_as(csv_path)
    assert "SURE-0001" in csv_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_hotel_pages_pass_axe(hotel: Hotel, new_page: Any, axe_path: Path, language: str):
    # Nothing is redeemed here: the camera test counts the redemptions of this module's server.
    page = new_page(axe=True)
    found = []
    page.goto(hotel.url(f"/establishments/register?lang={language}"))
    found += look_at_both_sizes(page, axe_path, language, "50-register")
    # One field wrong (the form answers one field's error at a time), then put right.
    page.fill("#name", "Auberge du Test (synthetic)")
    page.check("#kind-youth_hostel")
    for field, value in {
        "licence_number": f"AUB-2020-{LANGUAGES.index(language):04d}",
        "address": "Rue du Test 3",
        "postcode": "L-1750",
        "iban": "LU00 1234",
        "contact": "desk@auberge.example.lu",
    }.items():
        page.fill(f"#{field}", value)
    page.click("#register-submit")
    page.wait_for_selector("#iban-error")
    found += look_at_both_sizes(page, axe_path, language, "51-register-refused")
    page.fill("#iban", "LU28 0019 4006 4475 0000")
    page.click("#register-submit")
    page.wait_for_selector("#register-received")
    found += look_at_both_sizes(page, axe_path, language, "52-registered")

    _sign_in(page, hotel, language)
    found += look_at_both_sizes(page, axe_path, language, "53-establishment")
    page.fill("#voucher-code", hotel.spare_qr)
    page.click("#voucher-check")
    page.wait_for_selector("#voucher-ready")
    found += look_at_both_sizes(page, axe_path, language, "54-voucher-ready")
    raw = bytearray(base45.b45decode(hotel.spare_qr))
    raw[9] ^= 0x01
    page.fill("#voucher-code", base45.b45encode(bytes(raw)).decode())
    page.click("#voucher-check")
    page.wait_for_selector("#voucher-refusal")
    found += look_at_both_sizes(page, axe_path, language, "55-voucher-forged")
    page.click("#statements-link")
    page.wait_for_selector("#no-statements")
    found += look_at_both_sizes(page, axe_path, language, "56-no-statements")
    page.context.clear_cookies()
    _sign_in_campsite(page, hotel, language)
    found += look_at_both_sizes(page, axe_path, language, "57-statements")
    assert found == [], "\n".join(found)
