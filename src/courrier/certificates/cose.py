"""COSE_Sign1 (RFC 9052) as the DCC uses it: ES256 to sign; ES256 and PS256 to verify.

    COSE_Sign1 = #6.18([ protected: bstr .cbor {1: alg, 4: kid}, unprotected: {}, payload: bstr,
                         signature: bstr ])
    signed bytes = Sig_structure = ["Signature1", protected, external_aad: h'', payload]

An ES256 signature is r || s, 32 bytes each (not DER). PS256 (RSA-PSS, SHA-256) is accepted when
verifying: some member states' signers use RSA.
"""

from __future__ import annotations

from typing import Any

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ES256 = -7
PS256 = -37
ALG = 1
KID = 4
COSE_SIGN1_TAG = 18
CWT_TAG = 61


def sig_structure(protected: bytes, payload: bytes) -> bytes:
    return cbor2.dumps(["Signature1", protected, b"", payload])


def sign1(
    payload: bytes, key: ec.EllipticCurvePrivateKey, kid: bytes, *, deterministic: bool = False
) -> bytes:
    """The tagged COSE_Sign1 message of ``payload``, kid in the protected header; ``deterministic``: the
    nonce derived from the key and the message (RFC 6979), so the same message signs to the same bytes."""
    protected = cbor2.dumps({ALG: ES256, KID: kid})
    algorithm = ec.ECDSA(hashes.SHA256(), deterministic_signing=deterministic)
    r, s = decode_dss_signature(key.sign(sig_structure(protected, payload), algorithm))
    signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return cbor2.dumps(cbor2.CBORTag(COSE_SIGN1_TAG, [protected, {}, payload, signature]))


def check_signature(public_key: Any, alg: Any, signed: bytes, signature: bytes) -> str:
    """ "" when ``signature`` of ``signed`` verifies with ``public_key`` under ``alg``, else why not."""
    try:
        if alg == ES256 and isinstance(public_key, ec.EllipticCurvePublicKey):
            if len(signature) != 64:
                return f"an ES256 signature has 64 bytes, not {len(signature)}"
            der = encode_dss_signature(
                int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
            )
            public_key.verify(der, signed, ec.ECDSA(hashes.SHA256()))
            return ""
        if alg == PS256 and isinstance(public_key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.AUTO)
            public_key.verify(signature, signed, pss, hashes.SHA256())
            return ""
    except InvalidSignature:
        return "the signature does not match the content: altered, or signed by another key"
    kind = type(public_key).__name__.lstrip("_")
    return f"algorithm {alg!r} with a {kind} key is not supported (ES256, PS256)"
