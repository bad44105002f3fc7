"""Reading a register extract as a stream of rows: CSV (as spreadsheets export it) or Parquet.

Whole-file problems (not CSV or Parquet, not UTF-8, a required column missing) are found before the first
row is handed out, so an import that fails on them changes nothing. Row-level problems, such as one field
with a byte that is not UTF-8, are left to the row's validation: the other rows still count.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from courrier.errors import InputFileError
from courrier.register.rows import COLUMNS, REQUIRED_COLUMNS

PARQUET_MAGIC = b"PAR1"
# How much of a CSV file is checked for its encoding before anything is imported.
_ENCODING_SAMPLE_BYTES = 1 << 20
# A file where more than this share of sampled lines is not UTF-8 is in another encoding altogether.
_MAX_UNDECODABLE_SHARE = 0.02

# (line, fields): line is the CSV line a row ends on (the header is line 1), or a Parquet row's number
# counted the same way (the first row is 2), so reject reports read alike for both formats. fields are the
# row's values in COLUMNS order ("" for a column the file lacks), or, for a row that cannot be split into
# the header's columns, a string saying why.
Row = tuple[int, Sequence[str] | str]


@dataclass
class Extract:
    path: Path
    format: str
    columns: tuple[str, ...]
    extra_columns: tuple[str, ...]
    size_bytes: int

    def rows(self) -> Iterator[Row]:
        if self.format == "parquet":
            return _parquet_rows(self.path)
        return _csv_rows(self.path)


def open_extract(path: Path) -> Extract:
    """Check a file can be imported as a whole and say how to read it."""
    try:
        size = path.stat().st_size
        with path.open("rb") as file:
            head = file.read(_ENCODING_SAMPLE_BYTES)
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}", code="unreadable_file") from error
    if head.startswith(PARQUET_MAGIC):
        columns = _parquet_columns(path)
        fmt = "parquet"
    else:
        columns = _csv_columns(path, head)
        fmt = "csv"
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        raise InputFileError(
            f"{path}: required column(s) missing: {', '.join(missing)} (found: {', '.join(columns)})",
            code="missing_columns",
        )
    extra = tuple(name for name in columns if name not in COLUMNS)
    return Extract(path, fmt, columns, extra, size)


def _header_name(name: str) -> str:
    return name.strip().lower()


# --- CSV ---


def _csv_columns(path: Path, head: bytes) -> tuple[str, ...]:
    if not head.strip():
        raise InputFileError(f"{path} is empty", code="empty_file")
    if b"\x00" in head:
        raise InputFileError(
            f"{path} is not a CSV or Parquet file (binary content)", code="not_csv_or_parquet"
        )
    header_bytes = head.split(b"\n", 1)[0]
    try:
        header = header_bytes.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"{path} is not UTF-8: its header has byte {header_bytes[error.start]:#04x}", code="not_utf8"
        ) from error
    _check_encoding(path, head)
    if "\r" in header.rstrip("\r"):
        raise InputFileError(
            f"{path}: its lines end with a bare carriage return (old Mac line endings): export it with"
            " LF or CRLF line endings",
            code="bad_line_endings",
        )
    delimiter = ";" if header.count(";") > header.count(",") else ","
    try:
        names = next(csv.reader([header.rstrip("\r")], delimiter=delimiter))
    except csv.Error as error:
        raise InputFileError(f"{path}: its header is not CSV: {error}", code="not_csv_or_parquet") from error
    repeated = sorted({name for name in names if names.count(name) > 1})
    if repeated:
        raise InputFileError(
            f"{path}: the header names {repeated[0]!r} twice: which one to read is not for us to guess",
            code="duplicate_column",
        )
    if len(names) < 2:
        raise InputFileError(
            f"{path} is not a CSV or Parquet file (no `,` or `;` separated header)", code="not_csv_or_parquet"
        )
    return tuple(_header_name(name) for name in names)


def _check_encoding(path: Path, head: bytes) -> None:
    lines = head.split(b"\n")
    if len(head) == _ENCODING_SAMPLE_BYTES:
        lines = lines[:-1]  # the last one may be cut in the middle of a character
    bad = [number for number, line in enumerate(lines, start=1) if not _is_utf8(line)]
    if bad and len(bad) > _MAX_UNDECODABLE_SHARE * len(lines):
        raise InputFileError(
            f"{path} is not UTF-8 ({len(bad)} of its first {len(lines)} lines are not, the first is line"
            f" {bad[0]}); export it as UTF-8",
            code="not_utf8",
        )


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _csv_rows(path: Path) -> Iterator[Row]:
    with path.open("rb") as binary:
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        header_line = text.readline()
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        names = [_header_name(name) for name in next(csv.reader([header_line], delimiter=delimiter))]
        width = len(names)
        # Missing columns point one past the row's end, where an empty string is appended.
        pick = itemgetter(*[names.index(name) if name in names else width for name in COLUMNS])
        reader = csv.reader(text, delimiter=delimiter)
        last_line = 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                return
            except csv.Error as error:  # e.g. a stray quote making a field larger than the limit
                yield reader.line_num + 1, f"unreadable CSV: {error} (a stray quote?)"
                last_line = reader.line_num
                continue
            start, last_line = last_line + 1, reader.line_num
            if last_line > start:
                # A stray quote opened a field that swallowed the next lines: every person on them is
                # rejected with their own line, not lost inside one long field.
                for line in range(start, last_line + 1):
                    yield line + 1, f"inside a quoted field opened by a stray quote on line {start + 1}"
                continue
            if len(fields) != width:
                if not any(fields):
                    continue  # a blank line, as spreadsheets leave at the end
                yield reader.line_num + 1, f"has {len(fields)} fields, the header has {width}"
                continue
            fields.append("")
            yield reader.line_num + 1, pick(fields)


# --- Parquet ---


def _parquet_columns(path: Path) -> tuple[str, ...]:
    try:
        schema = pq.read_schema(path)
        names = tuple(_header_name(name) for name in schema.names)
        # A damaged page (a cut or corrupted file) is found before the first row is imported, so the
        # import refuses the whole file and changes nothing. Decoding every page costs one extra pass,
        # about a second for a whole country's extract, and holds one batch in memory at a time.
        parquet = pq.ParquetFile(path)
        wanted = [name for name in parquet.schema_arrow.names if _header_name(name) in COLUMNS]
        for _batch in parquet.iter_batches(batch_size=10_000, columns=wanted):
            pass
    except (pa.ArrowException, OSError, ValueError) as error:
        raise InputFileError(
            f"{path} is not a readable Parquet file: {_first_line(error)}", code="not_csv_or_parquet"
        ) from error
    return names


def _first_line(error: Exception) -> str:
    lines = str(error).strip().splitlines()
    return lines[0] if lines else type(error).__name__


def _parquet_rows(path: Path) -> Iterator[Row]:
    parquet = pq.ParquetFile(path)
    by_name = {_header_name(name): name for name in parquet.schema_arrow.names}
    wanted = [by_name[name] for name in COLUMNS if name in by_name]
    line = 1
    for batch in parquet.iter_batches(batch_size=10_000, columns=wanted):
        texts = {_header_name(name): _column_as_text(batch.column(name)) for name in batch.schema.names}
        empty = [""] * batch.num_rows
        for fields in zip(*(texts.get(name, empty) for name in COLUMNS), strict=True):
            line += 1
            yield line, fields


def _column_as_text(column: pa.Array) -> list[str]:
    if pa.types.is_boolean(column.type):
        column = pc.if_else(column, "1", "0")
    elif not pa.types.is_string(column.type) and not pa.types.is_large_string(column.type):
        column = pc.cast(column, pa.string())
    try:
        return [value if value is not None else "" for value in column.to_pylist()]
    except UnicodeDecodeError:
        # A value that is not UTF-8 is that row's problem (rejected by its validation, as in a CSV),
        # not the whole file's.
        raw = column.cast(pa.binary()).to_pylist()
        return [value.decode("utf-8", "surrogateescape") if value is not None else "" for value in raw]
