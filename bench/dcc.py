"""Benchmark: EU Digital COVID Certificates issued, verified and composed as letters per second on one core.

Issue targets (issue 15): issuing (payload and its schema check, sign, compress, base45, QR matrix)
at least 2,000 certificates/s; verifying (every step, revocation list included) at least 5,000/s;
certificate letters composed at least 1,000/s. Measured in the same run, on the same core, as
baselines: a plain ES256 signature and a plain ES256 verification of a certificate-sized message with
`cryptography`, the least either can cost, and the composer's reference letter (bench/compose.py's,
issue 10) for the letters.

The letters go the way a certificate campaign's do (``production.records.job_records``): each
person's certificate issued, :func:`courrier.certificates.letter.certificate_fields` of it in the
person's language beside the register's fields (fr, de and en in turn), then one print file of them all by
``compose_job`` with the certificate template (``certificates/certificate_template``). The letters'
rate is the composer's (the records are made first, as a job's are before it is shipped to a
worker); issuing and composing one after the other is given beside it.

Rates are by CPU time (``time.process_time``, the process being pinned to one core), steadier than
wall time on a shared machine; the load average is printed beside them.

    flock /tmp/courrier-bench.lock python bench/dcc.py [--count 2000] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import zxingcpp
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec

from courrier.certificates.issue import IssuedCertificate, issue_certificate
from courrier.certificates.letter import certificate_fields, certificate_template
from courrier.certificates.payload import Holder, Vaccination
from courrier.certificates.pki import init_pki, load_signer
from courrier.certificates.qr import hc1_matrix
from courrier.certificates.revocation import uci_hash
from courrier.certificates.verify import verify_hc1
from courrier.compose import Template, compose_job, load_template
from courrier.production.piece_ids import format_piece_id

sys.path.insert(0, str(Path(__file__).resolve().parent))
from compose import TEMPLATE as REFERENCE_LETTER
from compose import records as reference_records

NOW = dt.datetime(2026, 3, 12, 8, 30, tzinfo=dt.UTC)
ISSUE_TARGET = 2_000
VERIFY_TARGET = 5_000
LETTER_TARGET = 1_000
LANGUAGES = ("fr", "de", "en")
FAMILY_NAMES = ("Ağaoğlu-Müller", "Ngô", "D'Souza", "Фёдорова", "Schmit", "Da Silva Pereira", "Weber")
GIVEN_NAMES = ("Łukasz", "Zoé", "Øystein", "Ζωή", "Marie-Louise", "Jang", "Ana")


def _zxing_matrix(hc1: str) -> Any:
    """The same symbol by zxing-cpp (level Q, mask 2), the encoder ours replaced."""
    symbol = zxingcpp.create_barcode(hc1, zxingcpp.BarcodeFormat.QRCode, ec_level="Q", dataMask="2")
    return np.asarray(symbol.to_image(scale=1, add_quiet_zones=False)) < 128


def _record(number: int) -> Vaccination:
    return Vaccination(
        Holder(
            FAMILY_NAMES[number % len(FAMILY_NAMES)],
            GIVEN_NAMES[number % len(GIVEN_NAMES)],
            f"19{40 + number % 60:02d}-0{1 + number % 9}-1{number % 10}",
        ),
        product="EU/1/20/1528",
        manufacturer="ORG-100030215",
        prophylaxis="J07BX03",
        dose=1 + number % 2,
        series=2,
        date=dt.date(2026, 3, 1) + dt.timedelta(days=number % 10),
        country="LU",
        issuer="Ministère de la Santé",
    )


def _rate(count: int, run: Callable[[int], object]) -> float:
    started = time.process_time()
    for number in range(count):
        run(number)
    return count / (time.process_time() - started)


def _letter_record(number: int, issued: IssuedCertificate) -> dict[str, Any]:
    """A certificate campaign's record (production.records.job_records): the register's person, the
    piece, no code, the certificate's fields in the person's language."""
    holder = _record(number).holder
    language = LANGUAGES[number % len(LANGUAGES)]
    person = {
        "id": number + 1,
        "family_name": holder.family_name,
        "given_names": holder.given_name,
        "sex": "F" if number % 2 else "M",
        "language": language,
        "care_of": "",
        "house_number": str(number % 120 + 1),
        "street": "rue de la Gare",
        "postcode": f"L-{1000 + number % 8000}",
        "locality": "Luxembourg",
        "country": "LU",
    }
    return {
        "piece_id": str(number + 1),
        "piece_ref": format_piece_id(number + 1),
        "sequence": number + 1,
        "person": person,
        "campaign": "certificates-2026",
        "letter_date": "2026-03-12",
        "code": "",
        "qr": "",
        "valid_from": "",
        "valid_until": "",
    } | certificate_fields(issued, language)


def _letters_rate(template: Template, records: list[dict[str, Any]]) -> float:
    """Letters composed per second of CPU, one print file of ``records``."""
    compose_job(template, records[:50], io.BytesIO())  # fonts loaded and texts compiled outside the timing
    with tempfile.TemporaryFile() as out:  # a real file, as a print run writes
        started = time.process_time()
        result = compose_job(template, records, out)
        seconds = time.process_time() - started
    assert result.letters == len(records), result.failures[:3]
    return len(records) / seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2_000)
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core
    with tempfile.TemporaryDirectory() as folder:
        init_pki(Path(folder) / "dcc", "LU", NOW - dt.timedelta(days=1))
        signer = load_signer(Path(folder) / "dcc")
    records = [_record(number) for number in range(options.count)]
    trust = [signer.trusted()]
    revoked = frozenset(uci_hash(f"URN:UVCI:01:LU:DCC/{n:020d}#A") for n in range(10_000))

    message = issue_certificate(records[0], signer, NOW).hc1.encode("ascii")[:300]
    public = signer.key.public_key()
    signature = signer.key.sign(message, ec.ECDSA(hashes.SHA256()))
    results = {
        "baseline_sign_per_s": _rate(
            options.count, lambda _: signer.key.sign(message, ec.ECDSA(hashes.SHA256()))
        ),
        "baseline_verify_per_s": _rate(
            options.count, lambda _: public.verify(signature, message, ec.ECDSA(hashes.SHA256()))
        ),
    }
    issued: list[str] = []

    def issue(number: int) -> None:
        certificate = issue_certificate(records[number], signer, NOW)
        hc1_matrix(certificate.hc1)
        issued.append(certificate.hc1)

    results["issue_per_s"] = _rate(options.count, issue)
    results["issue_without_qr_per_s"] = _rate(
        options.count, lambda n: issue_certificate(records[n], signer, NOW)
    )
    results["qr_matrix_per_s"] = _rate(options.count, lambda n: hc1_matrix(issued[n]))
    results["qr_matrix_zxing_per_s"] = _rate(options.count, lambda n: _zxing_matrix(issued[n]))

    def verify(number: int) -> None:
        result = verify_hc1(issued[number], trust, NOW, revoked)
        assert result.valid, result.steps

    results["verify_per_s"] = _rate(options.count, verify)

    certificates = [issue_certificate(record, signer, NOW) for record in records]
    letters = [_letter_record(number, issued) for number, issued in enumerate(certificates)]
    results["baseline_reference_letter_per_s"] = _letters_rate(
        load_template(REFERENCE_LETTER), list(reference_records(options.count))
    )
    results["letter_per_s"] = _letters_rate(certificate_template(), letters)
    started = time.process_time()
    issued_and_composed = [
        _letter_record(number, issue_certificate(record, signer, NOW))
        for number, record in enumerate(records)
    ]
    issuing = time.process_time() - started
    results["issue_and_letter_per_s"] = 1 / (
        issuing / options.count + 1 / _letters_rate(certificate_template(), issued_and_composed)
    )
    results["load_average_1min"] = os.getloadavg()[0]
    if options.json:
        print(json.dumps(results, indent=2))
        return
    print(f"load average (1 min) {results['load_average_1min']:.2f} on {os.cpu_count()} cores; one core used")
    print(f"baseline ES256 sign    {results['baseline_sign_per_s']:9,.0f} /s")
    print(f"baseline ES256 verify  {results['baseline_verify_per_s']:9,.0f} /s")
    reference = results["baseline_reference_letter_per_s"]
    print(f"baseline reference letter {reference:6,.0f} /s (bench/compose.py's)")
    for name, target, baseline in (
        ("issue", ISSUE_TARGET, "baseline_sign_per_s"),
        ("verify", VERIFY_TARGET, "baseline_verify_per_s"),
        ("letter", LETTER_TARGET, "baseline_reference_letter_per_s"),
    ):
        rate = results[f"{name}_per_s"]
        verdict = "meets" if rate >= target else "misses"
        print(
            f"{name:<22} {rate:9,.0f} /s  ({rate / results[baseline]:.2f} x the baseline; "
            f"target {target:,}: {verdict})"
        )
    print(f"  issue without the QR {results['issue_without_qr_per_s']:9,.0f} /s")
    print(f"  QR matrix alone      {results['qr_matrix_per_s']:9,.0f} /s")
    print(f"  the same by zxing-cpp{results['qr_matrix_zxing_per_s']:9,.0f} /s")
    print(f"  issue, then letter   {results['issue_and_letter_per_s']:9,.0f} /s")


if __name__ == "__main__":
    main()
