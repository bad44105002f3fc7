"""The citizen's session token: proof that the bearer typed a valid code, without a database write.

Layout (then base64url without padding)::

    offset size field
    0      1    version (1)
    1      8    code id, big-endian
    9      4    expiry, Unix seconds, big-endian
    13     16   HMAC-SHA256(session key, bytes 0-12), truncated

The session key is derived from the key file's HMAC key (``HMAC(hmac_key, "courrier-web-session/1")``),
so every server worker shares it and nothing is stored. The token holds no personal data; the booking
transaction checks the code again (a revoked code books nothing even with a live token).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hmac
import struct

from courrier.codes.keys import Keys
from courrier.errors import CodeError

SESSION_MINUTES = 30
_LAYOUT = struct.Struct(">BQI")
_MAC_BYTES = 16
_VERSION = 1


def _session_key(keys: Keys) -> bytes:
    return _derive(keys.hmac_key)


@functools.lru_cache(maxsize=8)
def _derive(hmac_key: bytes) -> bytes:
    return hmac.digest(hmac_key, b"courrier-web-session/1", "sha256")


def make_token(keys: Keys, code_id: int, now: dt.datetime) -> str:
    expires = int(now.timestamp()) + SESSION_MINUTES * 60
    body = _LAYOUT.pack(_VERSION, code_id, expires)
    mac = hmac.digest(_session_key(keys), body, "sha256")[:_MAC_BYTES]
    return base64.urlsafe_b64encode(body + mac).rstrip(b"=").decode()


def read_token(keys: Keys, token: str, now: dt.datetime) -> int:
    """The code id of a live token; ``bad_session`` otherwise (forged, damaged or expired)."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != _LAYOUT.size + _MAC_BYTES:
        raise CodeError("sign in again with your code", code="bad_session")
    body, mac = raw[: _LAYOUT.size], raw[_LAYOUT.size :]
    if not hmac.compare_digest(mac, hmac.digest(_session_key(keys), body, "sha256")[:_MAC_BYTES]):
        raise CodeError("sign in again with your code", code="bad_session")
    version, code_id, expires = _LAYOUT.unpack(body)
    if version != _VERSION or expires < now.timestamp():
        raise CodeError("your session has ended: type your code again", code="bad_session")
    return int(code_id)
