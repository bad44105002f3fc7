"""The revocation list: which codes of a campaign are revoked, for verifiers that work offline.

A signed token verifies with the public key alone, so a revoked code's token would still look genuine
to a hotel or a centre without a connection. ``courrier codes export-revocations`` writes the list, and
``courrier codes verify --revocations FILE`` refuses a token whose code is on it. The file is JSON,
signed with the newest signing key so that a verifier can trust it as much as the tokens::

    {"format": "courrier-revocations", "version": 1, "campaign": "voucher-2026", "campaign_id": 3,
     "generated_at": "2026-12-02T11:00:00+00:00", "key_id": 2, "code_ids": [17, 4711],
     "signature": "<base64 Ed25519 signature>"}

The signature covers the document without ``signature``, serialised with sorted keys and no spaces.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from courrier.codes.keys import Keys
from courrier.db.schema import campaigns, codes
from courrier.errors import CodeError, ConfigError, ConflictError, NotFoundError

FORMAT = "courrier-revocations"
_MAX_BYTES = 256 * 1024 * 1024


@dataclass(frozen=True)
class RevocationList:
    campaign: str
    campaign_id: int
    generated_at: str
    code_ids: frozenset[int]


def revocation_document(connection: Connection, campaign: str, keys: Keys, now: dt.datetime) -> str:
    """The signed revocation list of ``campaign`` as it is now."""
    campaign_id = connection.execute(select(campaigns.c.id).where(campaigns.c.name == campaign)).scalar()
    if campaign_id is None:
        raise NotFoundError(f"no campaign named {campaign!r}")
    revoked = connection.execute(
        select(codes.c.id)
        .where(codes.c.campaign_id == campaign_id, codes.c.status == "revoked")
        .order_by(codes.c.id)
    ).scalars()
    key_id = keys.signing_key_id
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "campaign": campaign,
        "campaign_id": int(campaign_id),
        "generated_at": now.isoformat(timespec="seconds"),
        "key_id": key_id,
        "code_ids": [int(code_id) for code_id in revoked],
    }
    signature = keys.signing_keys[key_id].sign(_signed_bytes(document))
    document["signature"] = base64.b64encode(signature).decode("ascii")
    return json.dumps(document, indent=1) + "\n"


def read_revocation_list(path: Path, public_keys: Mapping[int, Ed25519PublicKey]) -> RevocationList:
    """The list in ``path``, its signature checked with one of ``public_keys``."""
    try:
        with path.open("rb") as file:
            data = file.read(_MAX_BYTES + 1)
        if len(data) > _MAX_BYTES:
            raise ValueError("larger than 256 MB")
        document = json.loads(data)
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f'not a revocation list (expected "format": "{FORMAT}")')
        signature = base64.b64decode(document.pop("signature"), validate=True)
        key_id = document["key_id"]
        listed = RevocationList(
            str(document["campaign"]),
            _integer(document["campaign_id"]),
            str(document["generated_at"]),
            frozenset(_integer(code_id) for code_id in document["code_ids"]),
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise ConfigError(
            f"{path}: unreadable revocation list: {error}", code="bad_revocation_list"
        ) from error
    if not isinstance(key_id, int) or key_id not in public_keys:
        raise CodeError(f"{path}: signed with key id {key_id}, not one given", code="unknown_key")
    try:
        public_keys[key_id].verify(signature, _signed_bytes(document))
    except InvalidSignature:
        raise CodeError(f"{path}: the revocation list is forged or altered", code="bad_signature") from None
    return listed


def revoked_code_ids(
    path: Path, public_keys: Mapping[int, Ed25519PublicKey], campaign_id: int
) -> frozenset[int]:
    """The code ids a revocation list revokes, once checked to be genuine and of ``campaign_id``
    (``wrong_campaign`` otherwise: a verifier must not accept another campaign's list as its own)."""
    listed = read_revocation_list(path, public_keys)
    if listed.campaign_id != campaign_id:
        raise ConflictError(
            f"{path} is the revocation list of campaign {listed.campaign_id} "
            f"({listed.campaign}), not of campaign {campaign_id}",
            code="wrong_campaign",
        )
    return listed.code_ids


def _signed_bytes(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _integer(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{value!r} is not an id")
    return value
