"""Reading a machine's text file (inserter results, returned-mail scans) defensively: bounded in size,
never binary, UTF-8 (a BOM allowed). Each refusal is one ``InputFileError`` naming the file."""

from __future__ import annotations

from pathlib import Path

from courrier.errors import InputFileError


def read_text_file(path: Path, *, max_bytes: int, kind: str) -> str:
    """The text of ``path``; ``kind`` names what the file should be ("an inserter results file")."""
    try:
        with path.open("rb") as file:
            # One byte past the limit tells a file at the limit from a larger one without reading it all.
            data = file.read(max_bytes + 1)
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}", code="unreadable_file") from error
    if len(data) > max_bytes:
        raise InputFileError(
            f"{path} is larger than {max_bytes // 1024 // 1024} MB: not {kind}", code="file_too_large"
        )
    if b"\0" in data:
        line = data[: data.index(b"\0")].count(b"\n") + 1
        message = f"{path}: a NUL byte on line {line}: a binary file, not {kind}"
        raise InputFileError(message, code="binary_file")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputFileError(f"{path}: not UTF-8 (line {line})", code="not_utf8") from error
