"""Form tokens: every POST form carries one, and a post without the right one is refused.

- Staff pages: the staff session's own CSRF token (``accounts.sessions``).
- Citizen pages: ``HMAC(form key, "citizen:" + session token)``, tied to the session cookie.
- Forms before any session (the code form, staff sign-in): a signed double-submit token,
  ``HMAC(form key, "anonymous:" + nonce)`` with the nonce in its own cookie (``courrier_form``).

The form key is derived from the key file's HMAC key, so every worker agrees and nothing is stored.
"""

from __future__ import annotations

import base64
import hmac
import secrets

from courrier.codes.keys import Keys

FORM_COOKIE = "courrier_form"
FIELD = "csrf_token"


def _form_key(keys: Keys) -> bytes:
    return hmac.digest(keys.hmac_key, b"courrier-web-forms/1", "sha256")


def sign(keys: Keys, purpose: str, value: str) -> str:
    """A short MAC of ``value`` for ``purpose`` (also used for the helpline's caller references)."""
    mac = hmac.digest(_form_key(keys), f"{purpose}:{value}".encode(), "sha256")[:16]
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def matches(expected: str, submitted: str | None) -> bool:
    return submitted is not None and hmac.compare_digest(expected.encode(), submitted.encode())


def new_nonce() -> str:
    return secrets.token_urlsafe(16)
