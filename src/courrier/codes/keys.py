"""The key file: secrets for personal codes and token signing, never stored in the database.

A JSON object, written with mode 0600::

    {
      "format": "courrier-keys",
      "version": 1,
      "hmac_key": "<base64, 32 bytes>",            # HMAC-SHA256 key: looks codes up
      "encryption_keys": {"1": "<base64, 32 bytes>"},  # AES-256-GCM keys by id: print a code again
      "signing_keys": {"1": "<base64, 32 bytes>"}      # Ed25519 private keys by id: sign QR tokens
    }

The file is ``COURRIER_KEY_FILE``, readable by its owner only (else refused, see :func:`load_keys`);
``COURRIER_KEYS``, when set, holds the same JSON and takes precedence (for deployments that inject
secrets through the environment). New tokens and new ciphertexts use the
highest key id; older ids stay so that what they made still verifies and decrypts (rotation).

A public key file, for offline verifiers, holds one Ed25519 public key::

    {"format": "courrier-public-key", "key_id": 1, "ed25519": "<base64, 32 bytes>"}
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from courrier.errors import ConfigError, ConflictError

KEY_FILE_FORMAT = "courrier-keys"
PUBLIC_KEY_FORMAT = "courrier-public-key"
_KEY_BYTES = 32
_MAX_KEY_ID = 0xFFFF
_MAX_KEY_FILE_BYTES = 1 << 20


@dataclass(frozen=True)
class Keys:
    hmac_key: bytes
    encryption_keys: Mapping[int, bytes]
    signing_keys: Mapping[int, Ed25519PrivateKey]

    @property
    def encryption_key_id(self) -> int:
        return max(self.encryption_keys)

    @property
    def signing_key_id(self) -> int:
        if not self.signing_keys:
            raise ConfigError("the key file holds no signing key: run `courrier keys rotate`", code="no_key")
        return max(self.signing_keys)

    def public_key(self, key_id: int) -> Ed25519PublicKey:
        if key_id not in self.signing_keys:
            known = ", ".join(str(k) for k in sorted(self.signing_keys)) or "none"
            raise ConfigError(f"no signing key with id {key_id} (known: {known})", code="unknown_key")
        return self.signing_keys[key_id].public_key()

    @cached_property
    def verifying_keys(self) -> Mapping[int, Ed25519PublicKey]:
        """The public key of every signing key, by id, as :func:`courrier.codes.token.verify_token` takes
        them: derived once per :class:`Keys` (a process's keys do not change while it runs; a rotation
        writes a new key file, which a new ``load_keys`` reads), not on every scan verified."""
        return {key_id: key.public_key() for key_id, key in self.signing_keys.items()}


def new_keys() -> Keys:
    return Keys(
        hmac_key=secrets.token_bytes(_KEY_BYTES),
        encryption_keys={1: secrets.token_bytes(_KEY_BYTES)},
        signing_keys={1: Ed25519PrivateKey.generate()},
    )


def dump_keys(keys: Keys) -> str:
    def raw(key: Ed25519PrivateKey) -> bytes:
        return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())

    document = {
        "format": KEY_FILE_FORMAT,
        "version": 1,
        "hmac_key": _b64(keys.hmac_key),
        "encryption_keys": {str(k): _b64(v) for k, v in sorted(keys.encryption_keys.items())},
        "signing_keys": {str(k): _b64(raw(v)) for k, v in sorted(keys.signing_keys.items())},
    }
    return json.dumps(document, indent=2) + "\n"


def parse_keys(text: str, where: str) -> Keys:
    """Keys from the key file's JSON text; ``where`` names its origin in errors."""
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or document.get("format") != KEY_FILE_FORMAT:
            raise ValueError(f'not a key file (expected "format": "{KEY_FILE_FORMAT}")')
        hmac_key = _unb64(document["hmac_key"])
        encryption = {_key_id(k): _unb64(v) for k, v in document["encryption_keys"].items()}
        signing = {
            _key_id(k): Ed25519PrivateKey.from_private_bytes(_unb64(v))
            for k, v in document.get("signing_keys", {}).items()
        }
        if (
            len(hmac_key) != _KEY_BYTES
            or not encryption
            or any(len(v) != _KEY_BYTES for v in encryption.values())
        ):
            raise ValueError("keys must be 32 bytes, with at least one encryption key")
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise ConfigError(f"{where}: malformed key file: {error}", code="bad_key_file") from error
    return Keys(hmac_key=hmac_key, encryption_keys=encryption, signing_keys=signing)


def load_keys(key_file: str, keys_json: str = "", *, allow_shared: bool = False) -> Keys:
    """The keys from ``COURRIER_KEYS`` (``keys_json``) when set, else from the key file.

    A key file that its group or others may read or write is refused (``key_file_shared``), as ssh
    refuses such a private key, unless ``allow_shared`` (``COURRIER_ALLOW_SHARED_KEY_FILE=1``)."""
    if keys_json:
        return parse_keys(keys_json, "COURRIER_KEYS")
    path = Path(key_file)
    try:
        with path.open(encoding="utf-8") as file:
            mode = os.fstat(file.fileno()).st_mode
            text = file.read(_MAX_KEY_FILE_BYTES + 1)
    except FileNotFoundError:
        raise ConfigError(
            f"key file {path} not found: create one with `courrier keys create` (or set COURRIER_KEYS)",
            code="key_file_missing",
        ) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: unreadable key file: {error}", code="bad_key_file") from error
    if mode & 0o077 and not allow_shared:
        raise ConfigError(
            f"key file {path} has mode {stat.S_IMODE(mode):04o}: others than its owner may read it; "
            f"run `chmod 600 {path}` (or set COURRIER_ALLOW_SHARED_KEY_FILE=1)",
            code="key_file_shared",
        )
    if len(text) > _MAX_KEY_FILE_BYTES:
        raise ConfigError(f"{path}: not a key file (larger than 1 MB)", code="bad_key_file")
    return parse_keys(text, str(path))


def write_new_file(path: Path, text: str, mode: int = 0o600) -> None:
    """Write ``text`` to a file that did not exist (never through a symlink), on disk when this returns:
    ``O_CREAT | O_EXCL | O_NOFOLLOW``, ``mode``, fsync."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
    try:
        os.fchmod(descriptor, mode)  # whatever the umask
        os.write(descriptor, text.encode("utf-8"))
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def create_key_file(path: Path) -> Keys:
    """Write a new key file (mode 0600); refuses to overwrite an existing one."""
    keys = new_keys()
    try:
        write_new_file(path, dump_keys(keys))
    except FileExistsError:
        raise ConflictError(
            f"key file {path} already exists: it holds the keys of codes already issued; not overwritten",
            code="key_file_exists",
        ) from None
    return keys


def add_signing_key(path: Path, *, allow_shared: bool = False) -> int:
    """Add a new Ed25519 signing key to the key file (rotation); returns its id.

    The new file is written beside the old one under a name nobody can have prepared (random, created
    with ``O_EXCL | O_NOFOLLOW``, mode 0600, fsync), then renamed over it and the folder synced: a crash
    leaves the old file or the new one, never half of one, and never a copy readable by others. Two
    rotations at once are serialised by a lock on the key file."""
    with _locked(path):
        keys = load_keys(str(path), allow_shared=allow_shared)
        key_id = max(keys.signing_keys, default=0) + 1
        rotated = Keys(
            keys.hmac_key, keys.encryption_keys, {**keys.signing_keys, key_id: Ed25519PrivateKey.generate()}
        )
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.new")
        try:
            write_new_file(temporary, dump_keys(rotated))
            os.replace(temporary, path)
        except BaseException:
            temporary.unlink(missing_ok=True)
            raise
        _sync_folder(path.parent)
    return key_id


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on the key file now at ``path``. A rotation replaces the file: a process that
    waited on the replaced one's lock tries again on the new one."""
    while True:
        try:
            descriptor = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
        except FileNotFoundError:
            raise ConfigError(f"key file {path} not found", code="key_file_missing") from None
        except OSError as error:
            raise ConfigError(
                f"{path}: cannot open key file: {error.strerror}", code="bad_key_file"
            ) from error
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_ino == os.stat(path, follow_symlinks=False).st_ino:
                yield
                return
        finally:
            os.close(descriptor)


def _sync_folder(folder: Path) -> None:
    descriptor = os.open(folder or Path("."), os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def export_public_key(keys: Keys, key_id: int, output: Path) -> None:
    """Write the public key file; never over an existing file (a key file above all)."""
    try:
        write_new_file(output, dump_public_key(keys, key_id), mode=0o644)
    except FileExistsError:
        raise ConflictError(
            f"{output} already exists: not overwritten (choose a new file name)", code="file_exists"
        ) from None
    except OSError as error:
        raise ConfigError(f"cannot write {output}: {error.strerror}", code="unwritable_file") from error


def dump_public_key(keys: Keys, key_id: int) -> str:
    raw = keys.public_key(key_id).public_bytes(Encoding.Raw, PublicFormat.Raw)
    document = {"format": PUBLIC_KEY_FORMAT, "key_id": key_id, "ed25519": _b64(raw)}
    return json.dumps(document, indent=2) + "\n"


def read_public_key(path: Path) -> tuple[int, Ed25519PublicKey]:
    """``(key_id, key)`` from a public key file written by ``courrier keys export-public``."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8"))
        if document.get("format") != PUBLIC_KEY_FORMAT:
            raise ValueError(f'not a public key file (expected "format": "{PUBLIC_KEY_FORMAT}")')
        return _key_id(str(document["key_id"])), Ed25519PublicKey.from_public_bytes(
            _unb64(document["ed25519"])
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError, binascii.Error) as error:
        raise ConfigError(f"{path}: unreadable public key file: {error}", code="bad_key_file") from error


def _key_id(text: str) -> int:
    key_id = int(text)
    if not 1 <= key_id <= _MAX_KEY_ID:
        raise ValueError(f"key id {text} outside 1..{_MAX_KEY_ID}")
    return key_id


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
