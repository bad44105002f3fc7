"""The unique vaccination certificate identifier (UVCI), with its check character.

Per the eHealth Network's guidelines (basic interoperability elements, annex 2): ``URN:UVCI:``,
the version ``01``, the issuing country, then blocks of ``A-Z 0-9`` separated by ``/``, then ``#`` and
a check character. The check character is Luhn mod N over the 38 characters
``A-Z 0-9 / :`` (N = 38), computed over everything before the ``#``, prefix included::

    URN:UVCI:01:LU:DCC/7K3Q9ZP2M4XW8HJ6TB5R#?   (? the check character)

Our identifiers: ``URN:UVCI:01:<country>:DCC/<20 random characters>#<check>``: opaque, no personal data.
For a stored record the 20 characters are derived from the record's name under the signer's key
(:func:`derived_uvci`): as unpredictable, and the same each time the record's certificate is issued.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from courrier.errors import CodeError

CHARSET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/:"
_INDEX = {character: index for index, character in enumerate(CHARSET)}
_RANDOM_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud on the phone
_SHAPE = re.compile(r"^(URN:UVCI:)?01[:/][A-Z]{2}[:/][A-Z0-9/:]+#[A-Z0-9/:]$")


def check_character(body: str) -> str:
    """The Luhn mod 38 check character of ``body`` (the UVCI before ``#``)."""
    n = len(CHARSET)
    factor = 2
    total = 0
    for character in reversed(body):
        try:
            addend = factor * _INDEX[character]
        except KeyError:
            raise CodeError(
                f"{character!r} cannot be in a UVCI (A-Z, 0-9, '/' and ':')", code="dcc_bad_uvci"
            ) from None
        factor = 3 - factor
        total += addend // n + addend % n
    return CHARSET[(n - total % n) % n]


def new_uvci(country: str, issuer_block: str = "DCC") -> str:
    body = f"URN:UVCI:01:{country}:{issuer_block}/" + "".join(
        secrets.choice(_RANDOM_ALPHABET) for _ in range(20)
    )
    return f"{body}#{check_character(body)}"


def derived_uvci(secret: bytes, country: str, subject: str, issuer_block: str = "DCC") -> str:
    """The UVCI of a stored record named ``subject`` (``vaccination:42``): its 20 characters from an
    HMAC-SHA256 of ``subject`` under ``secret`` (the signer's), 5 bits each, so the same record always
    gets the same identifier and nobody without the key can tell which record an identifier names."""
    digest = hmac.new(secret, subject.encode("utf-8"), hashlib.sha256).digest()
    bits = int.from_bytes(digest[:13], "big")  # 104 bits, 100 used
    random_part = "".join(_RANDOM_ALPHABET[(bits >> (5 * i)) & 31] for i in range(20))
    body = f"URN:UVCI:01:{country}:{issuer_block}/{random_part}"
    return f"{body}#{check_character(body)}"


def check_uvci(uvci: str) -> str:
    """``uvci`` upper-cased when well-formed with a right check character, else ``dcc_bad_uvci``."""
    typed = uvci.strip().upper()
    if not _SHAPE.match(typed):
        raise CodeError(f"{uvci!r} is not a UVCI (URN:UVCI:01:CC:...#C)", code="dcc_bad_uvci", uvci=uvci[:80])
    body, check = typed.rsplit("#", 1)
    if check_character(body) != check:
        raise CodeError(
            f"{uvci!r}: the check character is wrong (a typing error?)", code="dcc_bad_uvci", uvci=uvci[:80]
        )
    return typed
