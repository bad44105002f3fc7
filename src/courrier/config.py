"""Settings, read from the environment.

One registry of (name, default, help); ``docs/settings.md`` lists them and a test keeps the two in step.
Nothing is read at import time: call :func:`load_settings`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from courrier.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "COURRIER_DATABASE_URL",
        "sqlite:///courrier.db",
        "SQLAlchemy URL of the database: a SQLite file (default, in the working directory) or "
        "postgresql+psycopg://user@host/dbname.",
    ),
    Setting(
        "COURRIER_KEY_FILE",
        "courrier.keys",
        "Path of the key file holding the secret keys for personal codes (HMAC and encryption) "
        "and token signing; never stored in the database.",
    ),
    Setting(
        "COURRIER_KEYS",
        "",
        "The key file's JSON content itself; when set it takes precedence over COURRIER_KEY_FILE "
        "(for deployments that inject secrets through the environment).",
    ),
    Setting(
        "COURRIER_ALLOW_SHARED_KEY_FILE",
        "",
        "1 to use a key file that its group or others may read (refused otherwise, as ssh refuses "
        "such a private key).",
    ),
    Setting(
        "COURRIER_PRINTER_PROFILE",
        "",
        "Path of the printer profile (TOML: media, plex, colour, paper weight) compose uses; "
        "default: the built-in colour press.",
    ),
    Setting(
        "COURRIER_INSERTER_PROFILE",
        "",
        "Path of the inserter profile (TOML: envelope, fold, postage class, sheet mark layout and "
        "position, control file header/trailer) compose uses; default: the built-in C5 inserter.",
    ),
    Setting(
        "COURRIER_ACTOR",
        "",
        "Who is acting, recorded on every event; defaults to the login name of the user.",
    ),
    Setting(
        "COURRIER_DCC_DIR",
        "dcc",
        "Folder of the EU Digital COVID Certificate keys and lists: the document signer's key and "
        "certificate (dsc.key, dsc.crt), the CSCA's certificate and the revocation list.",
    ),
    Setting(
        "COURRIER_PURGE_AFTER_DAYS",
        "90",
        "Days after a campaign ends (its last code valid, slot or dose given) from which courrier purge "
        "may remove its personal data.",
    ),
    Setting(
        "COURRIER_TASKS_KEEP_DAYS",
        "30",
        "Days an ended task of the operator's page is kept; then courrier tasks prune, or a running task "
        "worker (hourly), deletes it. A failed or interrupted one is kept until the same work has finished "
        "since (or its campaign was purged); a queued or running one is never deleted.",
    ),
    Setting(
        "COURRIER_VOUCHER_VALUE_CENTS",
        "5000",
        "What one voucher pays an establishment, in euro cents (each redemption records it).",
    ),
    Setting(
        "COURRIER_REDEMPTION_UNDO_MINUTES",
        "15",
        "How long after a redemption its establishment may undo it (a mistaken scan).",
    ),
    Setting(
        "COURRIER_METRICS_TOKEN",
        "",
        "A secret that lets a client from another machine read /metrics with Authorization: Bearer "
        "<token>; without it only clients on the loopback interface may.",
    ),
    Setting(
        "COURRIER_ARGON2_MEMORY_KIB",
        "",
        "Memory cost of new staff password hashes (argon2id), in KiB; default pwdlib's 65536. Each hash "
        "records its parameters, so older hashes still verify. The test suite sets 1024.",
    ),
    Setting(
        "COURRIER_PAYER_ACCOUNT",
        "payer-account.toml",
        "Path of the TOML file naming the account reimbursement statements are paid from (name, iban, "
        "bic): the debtor of the SEPA credit transfer file.",
    ),
)


@dataclass(frozen=True)
class Settings:
    database_url: str
    key_file: str
    actor: str
    keys_json: str = ""
    allow_shared_key_file: bool = False
    printer_profile: str = ""
    inserter_profile: str = ""
    dcc_dir: str = "dcc"
    purge_after_days: int = 90
    tasks_keep_days: int = 30
    voucher_value_cents: int = 5000
    redemption_undo_minutes: int = 15
    payer_account: str = "payer-account.toml"


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    values = {s.name: env.get(s.name) or s.default for s in SETTINGS}
    actor = values["COURRIER_ACTOR"] or env.get("USER") or env.get("LOGNAME") or _login_name()
    return Settings(
        database_url=values["COURRIER_DATABASE_URL"],
        key_file=values["COURRIER_KEY_FILE"],
        actor=actor,
        keys_json=values["COURRIER_KEYS"],
        allow_shared_key_file=values["COURRIER_ALLOW_SHARED_KEY_FILE"] == "1",
        printer_profile=values["COURRIER_PRINTER_PROFILE"],
        inserter_profile=values["COURRIER_INSERTER_PROFILE"],
        dcc_dir=values["COURRIER_DCC_DIR"],
        purge_after_days=_days("COURRIER_PURGE_AFTER_DAYS", values["COURRIER_PURGE_AFTER_DAYS"]),
        tasks_keep_days=_days("COURRIER_TASKS_KEEP_DAYS", values["COURRIER_TASKS_KEEP_DAYS"]),
        voucher_value_cents=_days("COURRIER_VOUCHER_VALUE_CENTS", values["COURRIER_VOUCHER_VALUE_CENTS"]),
        redemption_undo_minutes=_days(
            "COURRIER_REDEMPTION_UNDO_MINUTES", values["COURRIER_REDEMPTION_UNDO_MINUTES"]
        ),
        payer_account=values["COURRIER_PAYER_ACCOUNT"],
    )


def _days(name: str, value: str) -> int:
    """A whole number of 0 or more (days, minutes, cents)."""
    if not value.isascii() or not value.isdigit():
        raise ConfigError(f"{name} must be a whole number (0 or more), not {value!r}")
    return int(value)


def _login_name() -> str:
    """The account running the command, when the environment does not say (cron, containers)."""
    import pwd

    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return f"uid {os.getuid()}"
