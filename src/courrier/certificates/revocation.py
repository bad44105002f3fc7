"""The revocation list: the certificates withdrawn before they expire, as hashes of their UVCI.

As in the EU DCC revocation scheme (hash type ``UCI``), an entry is the first 16 bytes of the SHA-256
of the certificate's ``ci`` (the UVCI as written in the payload, prefix included), base64. The list
names no one: a verifier learns only whether the certificate in front of it is withdrawn. The file
``revocations.json`` in the DCC folder::

    {"format": "courrier-dcc-revocations", "version": 1, "hash_type": "UCI", "hashes": ["<base64>", ...]}
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import hashlib
import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from courrier.certificates.uvci import check_uvci
from courrier.errors import ConflictError, InputFileError
from courrier.result import Result

FORMAT = "courrier-dcc-revocations"
FILE_NAME = "revocations.json"


@dataclass(frozen=True)
class Revoked(Result):
    uvci: str
    hash: str
    revocations: int
    file: Path


def uci_hash(uvci: str) -> str:
    return base64.b64encode(hashlib.sha256(uvci.encode("utf-8")).digest()[:16]).decode("ascii")


def read_revocations(path: Path) -> frozenset[str]:
    """The hashes of the revocation list at ``path`` (none when there is no file)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return frozenset()
    except (OSError, UnicodeDecodeError) as error:
        raise InputFileError(
            f"{path}: unreadable revocation list: {error}", code="dcc_bad_revocations"
        ) from None
    try:
        document = json.loads(text)
        if document.get("format") != FORMAT or document.get("hash_type") != "UCI":
            raise ValueError(f'not a revocation list (expected "format": "{FORMAT}", "hash_type": "UCI")')
        hashes = frozenset(str(h) for h in document["hashes"])
        for value in hashes:
            if len(base64.b64decode(value, validate=True)) != 16:
                raise ValueError(f"{value!r} is not a 16-byte hash")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise InputFileError(
            f"{path}: malformed revocation list: {error}", code="dcc_bad_revocations"
        ) from None
    return hashes


def revoke(folder: Path, uvci: str) -> Revoked:
    """Add ``uvci`` to the folder's revocation list (written whole, then renamed over the old one)."""
    typed = check_uvci(uvci)
    path = folder / FILE_NAME
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    lock = os.open(folder / ".revocations.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        hashes = read_revocations(path)
        entry = uci_hash(typed)
        if entry in hashes:
            raise ConflictError(f"{typed} is already revoked", code="dcc_already_revoked")
        document = {"format": FORMAT, "version": 1, "hash_type": "UCI", "hashes": sorted(hashes | {entry})}
        temporary = path.with_name(f".{FILE_NAME}.{secrets.token_hex(8)}.new")
        temporary.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
        os.replace(temporary, path)
    finally:
        os.close(lock)
    return Revoked(typed, entry, len(hashes) + 1, path)
