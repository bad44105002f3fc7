"""How a code is kept in the database: a keyed HMAC to find it, a ciphertext to print it again.

``hmac``: the first 16 bytes of HMAC-SHA256(hmac_key, compact code in ASCII). 128 bits make an accidental
collision between two different codes negligible, while the column stays small and unique.

``ciphertext`` (AES-256-GCM), self-describing::

    offset  size  field
    0       2     encryption key id, big-endian
    2       12    nonce (random from ``secrets``)
    14      30    AES-GCM(code ASCII, 14 bytes) followed by its 16-byte tag

The associated data is the constant ``b"courrier-code/1"``. 96-bit random nonces under one key stay far
below the 2**32-message bound NIST sets for them even for tens of millions of codes; rotate the encryption
key before a billion.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from courrier.codes.keys import Keys
from courrier.errors import CodeError, ConfigError

HMAC_BYTES = 16
_NONCE_BYTES = 12
_ASSOCIATED = b"courrier-code/1"


def code_hmac(keys: Keys, code: str) -> bytes:
    # A code is ASCII, but what a person typed may not be ("é", a throttle's key): UTF-8 writes both
    # (the same bytes for ASCII), where an ASCII encoding failed the request with a 500.
    return hmac.digest(keys.hmac_key, code.encode("utf-8", "surrogatepass"), "sha256")[:HMAC_BYTES]


def seal_codes(keys: Keys, codes: Sequence[str]) -> tuple[list[bytes], list[bytes]]:
    """``(hmacs, ciphertexts)`` of ``codes``, in order."""
    hmac_key = keys.hmac_key
    key_id = keys.encryption_key_id
    cipher = AESGCM(keys.encryption_keys[key_id])
    prefix = key_id.to_bytes(2, "big")
    nonces = secrets.token_bytes(_NONCE_BYTES * len(codes))
    hmacs: list[bytes] = []
    ciphertexts: list[bytes] = []
    digest = hmac.digest
    encrypt = cipher.encrypt
    for index, code in enumerate(codes):
        plain = code.encode("ascii")
        hmacs.append(digest(hmac_key, plain, "sha256")[:HMAC_BYTES])
        nonce = nonces[index * _NONCE_BYTES : (index + 1) * _NONCE_BYTES]
        ciphertexts.append(prefix + nonce + encrypt(nonce, plain, _ASSOCIATED))
    return hmacs, ciphertexts


def reveal_code(keys: Keys, ciphertext: bytes) -> str:
    """The compact code sealed in ``ciphertext`` (to print the same code again)."""
    key_id = int.from_bytes(ciphertext[:2], "big")
    if key_id not in keys.encryption_keys:
        raise ConfigError(f"no encryption key with id {key_id} in the key file", code="unknown_key")
    nonce = ciphertext[2 : 2 + _NONCE_BYTES]
    try:
        plain = AESGCM(keys.encryption_keys[key_id]).decrypt(
            nonce, ciphertext[2 + _NONCE_BYTES :], _ASSOCIATED
        )
    except InvalidTag:
        raise CodeError(
            "stored code does not decrypt with the key file's key", code="bad_ciphertext"
        ) from None
    return plain.decode("ascii")
