"""The certificate verifier's page in a real browser with a fake camera: Chromium plays a Y4M of the
QR of a printed certificate (composed by our composer, rendered by Ghostscript), the page decodes it
with the WebAssembly decoder we serve, asks the server, and shows valid with only the name and date
of birth; revoked meanwhile, the same certificate scanned again shows not valid and no name.

A server of its own (``courrier serve``) whose DCC folder holds a test PKI, on an empty database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageFilter

from courrier.certificates.issue import IssuedCertificate, issue_certificate
from courrier.certificates.letter import certificate_pdf
from courrier.certificates.payload import Holder, Vaccination
from courrier.certificates.pki import init_pki, load_signer
from courrier.certificates.revocation import revoke
from courrier.codes.keys import create_key_file
from courrier.db import make_engine, upgrade
from courrier.db.types import utcnow

from .conftest import axe_violations, serving
from .y4m import DESK_GRAY, camera_page, qr_crop, write_y4m

# A certificate's QR has some 80 modules: the frame is larger than the check-in letter's, so each
# module gets about 7 camera pixels, as a phone held over the paper gives.
WIDTH, HEIGHT = 800, 720
PERSON = {"family_name": "Ağaoğlu-Müller", "given_names": "Zoé", "sex": "F", "language": "en",
          "care_of": "", "house_number": "1", "street": "rue de la Gare", "postcode": "L-1234",
          "locality": "Luxembourg", "country": "LU"}  # fmt: skip


@dataclass
class Verifier:
    base_url: str
    folder: Path
    issued: IssuedCertificate
    letter: Path


@pytest.fixture(scope="module")
def verifier(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Verifier]:
    folder = tmp_path_factory.mktemp("verifier-site")
    url = f"sqlite:///{folder / 'courrier.db'}"
    key_file = folder / "courrier.keys"
    create_key_file(key_file)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    dcc = folder / "dcc"
    now = utcnow()
    init_pki(dcc, "LU", now - dt.timedelta(days=1))
    vaccination = Vaccination(
        Holder(PERSON["family_name"], PERSON["given_names"], "1971-02-03"),
        product="EU/1/20/1528",
        manufacturer="ORG-100030215",
        prophylaxis="J07BX03",
        dose=2,
        series=2,
        date=now.date() - dt.timedelta(days=3),
        country="LU",
        issuer="Ministère de la Santé",
    )
    issued = issue_certificate(vaccination, load_signer(dcc), now - dt.timedelta(minutes=5))
    letter = folder / "certificate.pdf"
    letter.write_bytes(certificate_pdf(issued, PERSON))
    with serving(folder, url, key_file, env={"COURRIER_DCC_DIR": str(dcc)}) as base_url:
        yield Verifier(base_url, dcc, issued, letter)


def certificate_frames(pdf: Path, count: int = 6) -> list[Image.Image]:
    """The printed certificate's QR under the camera: cropped from a Ghostscript rendering, scaled to
    most of the frame's height, slightly blurred, drifting a few pixels from frame to frame."""
    crop = qr_crop(pdf, resolution=300)
    side = HEIGHT * 9 // 10
    qr = crop.resize((side, side), Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(0.7))
    frames = []
    for number in range(count):
        frame = Image.new("L", (WIDTH, HEIGHT), DESK_GRAY)
        frame.paste(qr, ((WIDTH - side) // 2 + 2 * number - 6, (HEIGHT - side) // 2 + number - 3))
        frames.append(frame)
    return frames


def test_a_scanned_certificate_is_valid_with_the_name_and_birth_date_then_revoked_not_valid(
    playwright_instance: Any, chromium_path: str, verifier: Verifier, tmp_path: Path, axe_path: Path
) -> None:
    video = write_y4m(tmp_path / "certificate.y4m", certificate_frames(verifier.letter))
    # CSP bypassed for axe-core's inline script only.
    for page in camera_page(playwright_instance, chromium_path, video, bypass_csp=True):
        page.goto(verifier.base_url + "/verify?lang=en")
        page.wait_for_selector("#verify-area[data-decoder='ready']")
        page.click("#camera-toggle")
        page.wait_for_selector("#verify-area[data-camera='on']")
        outcome = page.wait_for_selector("#verify-result #verify-outcome")
        assert outcome.get_attribute("data-valid") == "true", outcome.inner_text()
        shown = outcome.inner_text()
        assert page.inner_text("#verify-name") == "Zoé Ağaoğlu-Müller"
        assert page.inner_text("#verify-birth-date") == "February 3, 1971"
        # Only the name and the birth date: nothing else the certificate holds.
        for other in ("Comirnaty", "EU/1/20/1528", "URN:UVCI", "AGAOGLU", "Ministère", "2/2"):
            assert other not in shown
        assert axe_violations(page, axe_path) == []
        # Revoked meanwhile (the server reads its list at each verification): scanned again, not valid.
        revoke(verifier.folder, verifier.issued.uvci)
        page.click("#scan-next")
        refused = page.wait_for_selector("#verify-outcome[data-valid='false']")
        assert refused.get_attribute("data-failed-step") == "revoked"
        assert "Zoé" not in refused.inner_text()
        assert "Not valid" in refused.inner_text()
