"""Records for ``courrier template render``: JSON Lines, or CSV whose columns name nested fields with dots.

A CSV column ``person.family_name`` becomes ``record["person"]["family_name"]``. An unreadable line fails
the whole file in one line naming it: a mail merge with a broken record list is not worth printing.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from courrier.errors import InputFileError


def read_records(path: Path) -> Iterator[dict[str, Any]]:
    """The file's records; a file that is not UTF-8 (Latin-1, binary) or a CSV the csv module cannot
    parse fails in one line naming the file (``bad_record``), never a traceback."""
    try:
        yield from _records(path)
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"{path}: not UTF-8 text (byte {error.start}): save the records as UTF-8", code="bad_record"
        ) from error
    except csv.Error as error:
        raise InputFileError(f"{path}: not a readable CSV: {error}", code="bad_record") from error


def _records(path: Path) -> Iterator[dict[str, Any]]:
    if not path.is_file():
        raise InputFileError(f"{path} is not a file", code="unreadable_file")
    if path.suffix.lower() == ".csv":
        yield from _csv_records(path)
        return
    with path.open(encoding="utf-8-sig") as file:
        for line_number, line in enumerate(file, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise InputFileError(
                    f"{path}, line {line_number}: not JSON: {error.msg}", code="bad_record"
                ) from error
            if not isinstance(record, dict):
                raise InputFileError(
                    f"{path}, line {line_number}: a record must be an object", code="bad_record"
                )
            yield _checked(record, f"{path}, line {line_number}")


def _csv_records(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as file:
        sample = file.readline()
        file.seek(0)
        reader = csv.DictReader(file, delimiter=";" if sample.count(";") > sample.count(",") else ",")
        for row in reader:
            record: dict[str, Any] = {}
            for key, value in row.items():
                if key is None:
                    continue
                target = record
                *parents, leaf = key.strip().split(".")
                for parent in parents:
                    target = target.setdefault(parent, {})
                    if not isinstance(target, dict):
                        raise InputFileError(
                            f"{path}: the column {key!r} is inside {parent!r}, which is a column of its own",
                            code="bad_record",
                        )
                if isinstance(target.get(leaf), dict):
                    raise InputFileError(
                        f"{path}: the column {key!r} is also a group of dotted columns", code="bad_record"
                    )
                target[leaf] = value
            yield _checked(record, f"{path}, line {reader.line_num}")


def _checked(record: dict[str, Any], where: str) -> dict[str, Any]:
    """A record as the composer reads one: ``person`` an object of plain values, each written as text
    (a number in a JSON file is the digits it shows; null is empty)."""
    person = record.get("person")
    if person is None:
        return record
    if not isinstance(person, dict):
        raise InputFileError(f"{where}: person must be an object of fields", code="bad_record")
    fields: dict[str, str] = {}
    for name, value in person.items():
        if isinstance(value, dict | list):
            raise InputFileError(f"{where}: person.{name} must be a plain value, not a list or object",
                                 code="bad_record")  # fmt: skip
        fields[name] = "" if value is None else str(value)
    return {**record, "person": fields}
