"""``courrier keys``: the key file (HMAC, encryption and signing keys), rotation, public key export."""

from __future__ import annotations

from pathlib import Path

import click

from courrier.cli.common import configured_keys, current_app
from courrier.codes.keys import add_signing_key, create_key_file, export_public_key

_KEY_FILE_HELP = "Key file to use. Default: COURRIER_KEY_FILE (courrier.keys)."


def _key_file(path: Path | None) -> Path:
    return path if path is not None else Path(current_app().settings.key_file)


@click.group()
def keys() -> None:
    """The secret keys of personal codes and signed tokens (never stored in the database)."""


@keys.command("create")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), help=_KEY_FILE_HELP)
def create_command(path: Path | None) -> None:
    """Write a new key file (mode 0600): an HMAC key, an encryption key and signing key 1.

    Refuses to overwrite an existing file: it holds the keys of the codes already issued. Keep a copy
    somewhere safe; without it issued codes can neither be looked up nor printed again.
    """
    target = _key_file(path)
    create_key_file(target)
    click.echo(f"{target}: new key file (signing key id 1)")


@keys.command("rotate")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), help=_KEY_FILE_HELP)
def rotate_command(path: Path | None) -> None:
    """Add a new signing key; new tokens use it, tokens signed with older key ids still verify."""
    target = _key_file(path)
    key_id = add_signing_key(target, allow_shared=current_app().settings.allow_shared_key_file)
    click.echo(f"{target}: new signing key id {key_id}; export it with `courrier keys export-public`")


@keys.command("export-public")
@click.option("--key-id", type=int, help="Signing key id. Default: the newest.")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="File to write."
)
def export_public_command(key_id: int | None, output: Path) -> None:
    """Write the public key that verifies signed tokens, for offline verifiers (centres, hotels).

    Never over an existing file: writing it over the key file would lose every key."""
    loaded = configured_keys()
    chosen = loaded.signing_key_id if key_id is None else key_id
    export_public_key(loaded, chosen, output)
    click.echo(f"{output}: public key id {chosen}")
