"""Importing a register extract: stream, validate, upsert by national id, chunk by chunk.

Each chunk of ``chunk_rows`` rows is one transaction that writes its persons, its rejects and the import's
counters together. An interrupted import of the same file is therefore resumed after its last committed
chunk, and ends in the same state, with the same counts, as one uninterrupted run.

A national id seen twice in one file keeps its first row: every row this import accepted carries
``last_import_id`` = this import, so a later row finding its person already marked is a duplicate.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, bindparam, select

from courrier.country import REGISTER_SOURCES
from courrier.db import write_transaction
from courrier.db.bulk import bulk_execute, bulk_insert, select_where_in, update_where_in
from courrier.db.schema import persons, register_imports, register_rejects
from courrier.db.types import utcnow
from courrier.errors import InputFileError
from courrier.register.extract import Row, open_extract
from courrier.register.rows import Reject, validate_row
from courrier.result import Result

DEFAULT_CHUNK_ROWS = 25_000

DATA_FIELDS = (
    "source",
    "family_name",
    "given_names",
    "birth_date",
    "sex",
    "language",
    "care_of",
    "house_number",
    "street",
    "postcode",
    "locality",
    "country",
    "commune",
    "deceased",
)
ADDRESS_FIELDS = frozenset({"care_of", "house_number", "street", "postcode", "locality", "country"})
_DUPLICATE = "appears more than once; the first row is kept"
SUMMARY_KEYS = ("read", "inserted", "updated", "unchanged", "rejected")


@dataclass(frozen=True)
class ImportSummary(Result):
    import_id: int
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    resumed: bool
    extra_columns: tuple[str, ...]
    rejects_path: Path

    def to_json(self) -> dict[str, Any]:
        # The counts only: what a script compares between runs (the rest is said on stderr).
        return {key: getattr(self, key) for key in SUMMARY_KEYS}


def default_rejects_path(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def import_register(
    engine: Engine,
    path: Path,
    *,
    source: str = "rnpp",
    rejects_path: Path | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
    now: Callable[[], dt.datetime] = utcnow,
    on_progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import ``path`` into the register; see the module docstring for the guarantees."""
    if source not in REGISTER_SOURCES:
        raise InputFileError(
            f"unknown source {source!r}: expected one of {', '.join(REGISTER_SOURCES)}", code="bad_source"
        )
    extract = open_extract(path)
    rejects_path = rejects_path or default_rejects_path(path)
    import_id, chunks_done = _start_or_resume(engine, path, _sha256(path), source, chunk_rows, now())

    rows = extract.rows()
    for chunk_number, chunk in enumerate(_chunks(rows, chunk_rows)):
        if chunk_number >= chunks_done:
            with write_transaction(engine) as connection:
                _load_chunk(connection, import_id, source, chunk, now())
        if on_progress:
            on_progress(chunk_number * chunk_rows + len(chunk))

    with write_transaction(engine) as connection:
        connection.execute(
            register_imports.update().where(register_imports.c.id == import_id).values(finished_at=now())
        )
        counters = connection.execute(
            select(register_imports).where(register_imports.c.id == import_id)
        ).one()
        _write_rejects(connection, import_id, rejects_path)
    return ImportSummary(
        import_id=import_id,
        read=counters.rows_read,
        inserted=counters.inserted,
        updated=counters.updated,
        unchanged=counters.unchanged,
        rejected=counters.rejected,
        resumed=chunks_done > 0,
        extra_columns=extract.extra_columns,
        rejects_path=rejects_path,
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _start_or_resume(
    engine: Engine, path: Path, sha256: str, source: str, chunk_rows: int, started_at: dt.datetime
) -> tuple[int, int]:
    with write_transaction(engine) as connection:
        unfinished = connection.execute(
            select(register_imports.c.id, register_imports.c.chunks_done)
            .where(
                register_imports.c.file_sha256 == sha256,
                register_imports.c.source == source,
                register_imports.c.chunk_rows == chunk_rows,
                register_imports.c.finished_at.is_(None),
            )
            .order_by(register_imports.c.id.desc())
        ).first()
        if unfinished:
            return unfinished.id, unfinished.chunks_done
        result = connection.execute(
            register_imports.insert().values(
                file_name=path.name,
                file_sha256=sha256,
                source=source,
                started_at=started_at,
                chunk_rows=chunk_rows,
                chunks_done=0,
                rows_read=0,
                inserted=0,
                updated=0,
                unchanged=0,
                rejected=0,
            )
        )
        assert result.inserted_primary_key is not None
        return int(result.inserted_primary_key[0]), 0


def _chunks(rows: Iterator[Row], size: int) -> Iterator[list[Row]]:
    while chunk := list(islice(rows, size)):
        yield chunk


def _load_chunk(
    connection: Connection, import_id: int, source: str, chunk: list[Row], at: dt.datetime
) -> None:
    accepted, rejects = _validate_chunk(chunk, at.date())
    existing = _existing_persons(connection, sorted(accepted))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    unchanged: list[str] = []
    for national_id, (line, person) in accepted.items():
        person["source"] = person["source"] or source
        stored = existing.get(national_id)
        if stored is None:
            inserts.append(person)
            continue
        last_import_id, address_unknown, *stored_values = stored
        if last_import_id == import_id:
            rejects.append(Reject(line, national_id, "national_id", _DUPLICATE))
            continue
        changed = [name for name, old in zip(DATA_FIELDS, stored_values, strict=True) if person[name] != old]
        if changed:
            updates.append(_changed_person(person, address_unknown, changed, import_id, at))
        else:
            unchanged.append(national_id)

    # In key order, so the unique index on national_id is filled page by page, not at random.
    inserts.sort(key=lambda person: person["national_id"])
    new_person = {
        "address_unknown": False,
        "last_import_id": import_id,
        "imported_at": at,
        "changed_at": at,
        "changed_fields": "",
    }
    bulk_insert(connection, persons, inserts, constants=new_person)
    bulk_execute(connection, _UPDATE_PERSON, persons, updates)
    update_where_in(
        connection,
        persons,
        persons.c.national_id,
        unchanged,
        {"last_import_id": import_id, "imported_at": at},
    )
    bulk_insert(
        connection, register_rejects, [{"import_id": import_id, **asdict(reject)} for reject in rejects]
    )
    connection.execute(
        register_imports.update()
        .where(register_imports.c.id == import_id)
        .values(
            chunks_done=register_imports.c.chunks_done + 1,
            rows_read=register_imports.c.rows_read + len(chunk),
            inserted=register_imports.c.inserted + len(inserts),
            updated=register_imports.c.updated + len(updates),
            unchanged=register_imports.c.unchanged + len(unchanged),
            rejected=register_imports.c.rejected + len({reject.line for reject in rejects}),
        )
    )


def _validate_chunk(
    chunk: list[Row], today: dt.date
) -> tuple[dict[str, tuple[int, dict[str, Any]]], list[Reject]]:
    accepted: dict[str, tuple[int, dict[str, Any]]] = {}
    rejects: list[Reject] = []
    for line, fields in chunk:
        if isinstance(fields, str):  # the reader could not split the row into the header's columns
            rejects.append(Reject(line, "", "", fields))
            continue
        result = validate_row(fields, line, today)
        if isinstance(result, list):
            rejects.extend(result)
        elif result["national_id"] in accepted:
            rejects.append(Reject(line, result["national_id"], "national_id", _DUPLICATE))
        else:
            accepted[result["national_id"]] = (line, result)
    return accepted, rejects


def _existing_persons(connection: Connection, national_ids: list[str]) -> dict[str, tuple[Any, ...]]:
    """By national id: (last_import_id, address_unknown, *DATA_FIELDS) of those already registered."""
    columns = [persons.c.national_id, persons.c.last_import_id, persons.c.address_unknown]
    columns += [persons.c[name] for name in DATA_FIELDS]
    rows = select_where_in(connection, columns, persons.c.national_id, national_ids)
    return {row[0]: row[1:] for row in rows}


def _changed_person(
    person: dict[str, Any], address_unknown: bool, changed: list[str], import_id: int, at: dt.datetime
) -> dict[str, Any]:
    # A new address clears the address-unknown flag that returned mail set.
    address_unknown = address_unknown and not ADDRESS_FIELDS.intersection(changed)
    values = {name: person[name] for name in DATA_FIELDS}
    values |= {
        "address_unknown": address_unknown,
        "last_import_id": import_id,
        "imported_at": at,
        "changed_at": at,
        "changed_fields": ",".join(changed),
    }
    return {f"b_{name}": value for name, value in values.items()} | {"b_national_id": person["national_id"]}


_UPDATE_COLUMNS = (
    *DATA_FIELDS,
    "address_unknown",
    "last_import_id",
    "imported_at",
    "changed_at",
    "changed_fields",
)
_UPDATE_PERSON = (
    persons.update()
    .where(persons.c.national_id == bindparam("b_national_id"))
    .values({name: bindparam(f"b_{name}") for name in _UPDATE_COLUMNS})
)


def _write_rejects(connection: Connection, import_id: int, path: Path) -> None:
    """The reject report, written whole or not at all (through a temporary file)."""
    query = (
        select(
            register_rejects.c.line,
            register_rejects.c.national_id,
            register_rejects.c.field,
            register_rejects.c.reason,
        )
        .where(register_rejects.c.import_id == import_id)
        .order_by(register_rejects.c.line, register_rejects.c.id)
    )
    partial = path.with_name(f".{path.name}.partial")
    # utf-8-sig so that a spreadsheet opening the report shows accented names right.
    with partial.open("w", encoding="utf-8-sig", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["line", "national_id", "field", "reason"])
        writer.writerows(connection.execute(query))
    os.replace(partial, path)
