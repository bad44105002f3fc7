"""The app as ``courrier serve`` runs it: settings, engine and keys from the environment, once per
server worker process."""

from __future__ import annotations

import os

from fastapi import FastAPI

from courrier.codes.keys import load_keys
from courrier.config import load_settings
from courrier.db import make_engine, require_current
from courrier.web.app import create_app
from courrier.web.context import WebContext
from courrier.web.writers import serialise_writers

# Set by `courrier serve --insecure-cookies` for plain-HTTP demos and tests; read by every worker.
INSECURE_COOKIES_ENV = "COURRIER_WEB_INSECURE_COOKIES"


def app_from_environment() -> FastAPI:
    settings = load_settings()
    engine = make_engine(settings.database_url)
    require_current(engine)
    serialise_writers(engine)
    keys = load_keys(settings.key_file, settings.keys_json)
    secure = os.environ.get(INSECURE_COOKIES_ENV) != "1"
    return create_app(
        WebContext(
            engine=engine,
            keys=keys,
            secure_cookies=secure,
            dcc_dir=settings.dcc_dir,
            allow_shared_key_file=settings.allow_shared_key_file,
            voucher_value_cents=settings.voucher_value_cents,
            redemption_undo_minutes=settings.redemption_undo_minutes,
        )
    )
