"""The packages form layers: each imports only the layers below it, so no import runs back up.

A web layer (``web/``) will sit beside ``cli/`` at the top; the domain packages of the services will sit
with the stages, above ``ledger/``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import courrier

SOURCE = Path(courrier.__file__).parent

# Each package with the packages (and top-level modules) it may import, besides itself.
MAY_IMPORT: dict[str, set[str]] = {
    "languages": set(),
    "country": set(),
    "result": set(),
    "errors": set(),
    # Our QR encoder, below both of its users (the composer and the certificates).
    "qr": set(),
    # Base45 (RFC 9285), below its two users: the letters' signed tokens and the certificates.
    "base45": set(),
    "config": {"languages", "country", "result", "errors"},
    "db": {"languages", "country", "result", "errors", "config"},
    "ledger": {"languages", "country", "result", "errors", "db"},
    "compose": {"languages", "country", "result", "errors", "qr"},
    "register": {"languages", "country", "result", "errors", "config", "db", "ledger"},
    "campaigns": {"languages", "country", "result", "errors", "config", "db", "ledger"},
    "codes": {"languages", "country", "result", "errors", "config", "db", "ledger", "campaigns", "base45"},
    # Specimen records for tests, benchmarks and docs, drawn from the synthetic register (and printed
    # with the piece's reference, as production makes it).
    "specimens": {"languages", "country", "result", "errors", "codes", "register", "production"},
    "production": {
        "languages",
        "country",
        "result",
        "errors",
        "config",
        "db",
        "ledger",
        "campaigns",
        "codes",
        "compose",
        "register",
        # A certificate campaign's letters: each person's EU DCC from their vaccination record.
        "certificates",
        "checkin",
        # The task worker's hourly housekeeping prunes the staff sessions and failure counters too.
        "accounts",
    },
    # Staff accounts, their sessions, the audit log and the failure counters: over the database only.
    "accounts": {"errors", "db"},
    # The centre's side: check-in and the vaccination record, over the booking it follows.
    "checkin": {
        "languages",
        "country",
        "result",
        "errors",
        "config",
        "db",
        "ledger",
        "codes",
        "booking",
        "centres",
        # A record's EU DCC certificate and its printed form.
        "certificates",
        # The national id's check digits, for a walk-in typed by their social-security card.
        "register",
    },
    # Hotel vouchers: establishments (their commune from the register's communes) and redemption (the
    # voucher's code, read as the booking site reads a typed code).
    "vouchers": {
        "languages",
        "country",
        "result",
        "errors",
        "config",
        "db",
        "ledger",
        "codes",
        "register",
        "booking",
        # Reimbursement statements are composed by our composer.
        "compose",
    },
    # The dashboards' counts: over the stages and the services, below web/.
    "dashboards": {"languages", "country", "result", "errors", "config", "db", "campaigns", "centres"},
    "catalogue": {"languages", "country", "result", "errors"},
    # EU DCC: files, no database; the key file writer of codes; the composer for the printed certificate;
    # the QR encoder and base45.
    "certificates": {
        "languages",
        "country",
        "result",
        "errors",
        "config",
        "codes",
        "compose",
        "qr",
        "base45",
    },
    "app": {"languages", "country", "result", "errors", "config", "db", "codes"},
}


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("courrier."):
            names.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            names |= {alias.name.split(".")[1] for alias in node.names if alias.name.startswith("courrier.")}
    return names


def test_no_import_runs_back_up_a_layer():
    wrong = []
    for package, allowed in MAY_IMPORT.items():
        files = [SOURCE / f"{package}.py"] if (SOURCE / f"{package}.py").exists() else []
        files += sorted((SOURCE / package).rglob("*.py")) if (SOURCE / package).is_dir() else []
        assert files, package
        for path in files:
            for name in _imported(path) - allowed - {package}:
                wrong.append(f"{path.relative_to(SOURCE)} imports courrier.{name}")
    assert wrong == []
