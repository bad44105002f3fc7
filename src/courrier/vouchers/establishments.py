"""Establishments that take the vouchers: checking their details, importing the list, registering,
approving.

An establishment is known by its ``id`` (1-32 letters, digits and dashes, as a centre is; establishment
staff accounts are scoped to it) and its licence number (UNIQUE). Its IBAN is checked with schwifty
(country, length, check digits, the national bank code where schwifty knows the country's registry) and
stored compact and upper case. Its commune comes from its Luxembourg postcode and its region is that
commune's canton: the ministry's aggregates group by them. Only ``approved`` establishments redeem; one
that registers on the form is ``pending`` until an operator approves it (``establishment.approved``).
Its ``language`` (fr, de, en, pt, lb; French unless given) is the one its reimbursement statements are
printed in: an optional column of the file, a choice of the form, and the operator's to change
(``establishment.language_set``).

Every problem with a field is an ``InputFileError`` with a catalogue code and the ``field``, so the
import's rejects file and the registration form say the same thing, the form in the visitor's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import secrets
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from courrier.codes.format import ALPHABET
from courrier.db.schema import establishments
from courrier.errors import ConflictError, CourrierError, InputFileError, NotFoundError
from courrier.languages import LANGUAGES
from courrier.ledger.events import record_event
from courrier.register.communes import communes
from courrier.register.fields import clean_text, has_control_character, normalise_postcode
from courrier.result import Result

KINDS = ("hotel", "campsite", "youth_hostel", "holiday_home")
STATUSES = ("pending", "approved")
# The columns of the establishments file, in order (a file may hold them in any order; `id` may be
# left empty on the registration form only).
COLUMNS = ("id", "name", "kind", "licence_number", "address", "postcode", "iban", "contact")
# A column a file may have: empty or absent, a new establishment's statements are in French and a known
# one's language is kept (an operator may have set it).
OPTIONAL_COLUMNS = ("language",)
DEFAULT_LANGUAGE = "fr"
MAX_TEXT = 200
_ID = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,31})")
_LICENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.-]{0,31}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Establishment(Result):
    id: str
    name: str
    kind: str
    licence_number: str
    address: str
    postcode: str
    commune: str
    region: str
    iban: str
    contact: str
    language: str
    status: str
    approved_by: str | None
    approved_at: dt.datetime | None


def check_establishment(values: Mapping[str, str]) -> tuple[dict[str, str], list[CourrierError]]:
    """The establishment's columns from ``values`` (text as typed or read from a file), or every
    problem found; an empty ``id`` stays empty (the registration form draws one)."""
    problems: list[CourrierError] = []
    found: dict[str, str] = {}
    for name in COLUMNS:
        raw = values.get(name) or ""
        text = clean_text(raw)
        if any("\udc80" <= character <= "\udcff" for character in raw):
            problems.append(InputFileError("is not UTF-8 text", code="bad_text", field=name))
            text = ""
        elif has_control_character(raw):
            problems.append(InputFileError("holds a control character", code="bad_text", field=name))
            text = ""
        elif len(text) > MAX_TEXT:
            problems.append(
                InputFileError(f"is longer than {MAX_TEXT} characters", code="field_too_long", field=name)
            )
            text = ""
        elif not text and name != "id":
            problems.append(InputFileError("is empty", code="missing_field", field=name))
        found[name] = text
    if found["id"] and not _ID.fullmatch(found["id"]):
        problems.append(
            InputFileError("is not 1-32 letters, digits, dashes", code="bad_establishment_id", field="id")
        )
    found["id"] = found["id"].upper()
    kind = found["kind"].lower().replace(" ", "_").replace("-", "_")
    if found["kind"] and kind not in KINDS:
        problems.append(
            InputFileError(f"is not one of {', '.join(KINDS)}", code="bad_establishment_kind", field="kind")
        )
    found["kind"] = kind
    if found["licence_number"] and not _LICENCE.fullmatch(found["licence_number"]):
        problems.append(
            InputFileError("is not 1-32 letters, digits", code="bad_licence_number", field="licence_number")
        )
    found["licence_number"] = found["licence_number"].upper()
    if found["postcode"]:
        postcode = normalise_postcode(found["postcode"], "LU")
        commune = _commune(postcode)
        if commune is None:
            problems.append(
                InputFileError("is not a Luxembourg postcode", code="bad_postcode", field="postcode")
            )
        else:
            found["postcode"], found["commune"], found["region"] = postcode or "", commune[0], commune[1]
    if found["iban"]:
        iban = checked_iban(found["iban"])
        if iban is None:
            problems.append(InputFileError("is not a valid IBAN", code="bad_iban", field="iban"))
        found["iban"] = iban or ""
    if found["contact"] and not _EMAIL.fullmatch(found["contact"]):
        problems.append(InputFileError("is not an e-mail address", code="bad_contact", field="contact"))
    language = clean_text(values.get("language") or "").lower()
    if language and language not in LANGUAGES:
        problems.append(_bad_language())
    found["language"] = language if language in LANGUAGES else ""
    return found, problems


def _bad_language() -> InputFileError:
    return InputFileError(
        f"is not one of {', '.join(LANGUAGES)}", code="bad_establishment_language", field="language"
    )


def checked_iban(text: str) -> str | None:
    """The IBAN compact and upper case, or None when schwifty refuses it."""
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        return str(IBAN(text).compact)
    except (SchwiftyException, ValueError):
        return None


def _commune(postcode: str | None) -> tuple[str, str] | None:
    if postcode is None or not postcode[2:].isdigit():
        return None
    number = int(postcode[2:])
    for commune in communes():
        if commune.postcode_from <= number <= commune.postcode_to:
            return commune.name, commune.canton
    return None


def _establishment(row: Any) -> Establishment:
    return Establishment(
        id=row.id,
        name=row.name,
        kind=row.kind,
        licence_number=row.licence_number,
        address=row.address,
        postcode=row.postcode,
        commune=row.commune,
        region=row.region,
        iban=row.iban,
        contact=row.contact,
        language=row.language,
        status=row.status,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
    )


def get_establishment(connection: Connection, establishment_id: str) -> Establishment:
    row = connection.execute(
        select(establishments).where(establishments.c.id == establishment_id)
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"no establishment {establishment_id!r}", code="unknown_establishment")
    return _establishment(row)


def list_establishments(connection: Connection, status: str | None = None) -> list[Establishment]:
    query = select(establishments).order_by(establishments.c.id)
    if status is not None:
        query = query.where(establishments.c.status == status)
    return [_establishment(row) for row in connection.execute(query)]


@dataclass(frozen=True)
class Reject:
    """A row of the establishments file that was not imported: its line, the field and why."""

    line: int
    id: str
    field: str
    code: str
    reason: str


@dataclass(frozen=True)
class ImportReport(Result):
    added: int
    updated: int
    rejected: int
    rejects: list[Reject]


def upsert_establishment(
    connection: Connection, found: Mapping[str, str], *, status: str, now: dt.datetime
) -> bool:
    """Insert the establishment (True) or update a known one's details (False; its status is kept, and
    its language unless ``found`` has one). ``licence_taken`` when another establishment holds the
    licence number."""
    owner = connection.execute(
        select(establishments.c.id).where(establishments.c.licence_number == found["licence_number"])
    ).scalar()
    if owner is not None and owner != found["id"]:
        raise ConflictError(
            f"licence number {found['licence_number']} is establishment {owner}'s",
            code="licence_taken",
            field="licence_number",
        )
    details = {name: found[name] for name in (*COLUMNS, "commune", "region")}
    if found.get("language"):
        details["language"] = found["language"]
    updated = connection.execute(
        establishments.update().where(establishments.c.id == found["id"]).values(**details, updated_at=now)
    ).rowcount
    if updated:
        return False
    try:
        with connection.begin_nested():
            connection.execute(
                establishments.insert().values(
                    **{"language": DEFAULT_LANGUAGE, **details},
                    status=status,
                    approved_by=None,
                    approved_at=now if status == "approved" else None,
                    created_at=now,
                    updated_at=now,
                )
            )
    except IntegrityError:
        raise ConflictError(
            f"licence number {found['licence_number']} is another establishment's",
            code="licence_taken",
            field="licence_number",
        ) from None
    return True


def import_establishments(
    connection: Connection,
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    actor: str,
    now: dt.datetime,
    status: str = "approved",
) -> ImportReport:
    """Add or update the establishments of ``rows`` (line number, values), in the caller's transaction.
    A row with a problem is rejected as a whole with every problem found; the good rows are imported.
    An id or licence number seen twice in one file: the later row is rejected."""
    added = updated = 0
    rejects: list[Reject] = []
    seen_ids: set[str] = set()
    seen_licences: set[str] = set()
    for line, values in rows:
        found, problems = check_establishment(values)
        if not found["id"] and not any(problem.facts["field"] == "id" for problem in problems):
            problems.insert(0, InputFileError("is empty", code="missing_field", field="id"))
        if found["id"] in seen_ids:
            problems.append(
                InputFileError("is on an earlier line", code="duplicate_establishment", field="id")
            )
        if found["licence_number"] and found["licence_number"] in seen_licences:
            problems.append(
                InputFileError("is on an earlier line", code="licence_taken", field="licence_number")
            )
        if not problems:
            try:
                if upsert_establishment(connection, found, status=status, now=now):
                    added += 1
                else:
                    updated += 1
            except ConflictError as error:
                problems.append(error)
        if problems:
            rejects.extend(Reject(line, found["id"], p.facts["field"], p.code, str(p)) for p in problems)
            continue
        seen_ids.add(found["id"])
        seen_licences.add(found["licence_number"])
    rejected = len({reject.line for reject in rejects})
    record_event(
        connection,
        "establishments.imported",
        actor,
        details={"added": added, "updated": updated, "rejected": rejected},
        at=now,
    )
    return ImportReport(added, updated, rejected, rejects)


def register_establishment(
    connection: Connection, values: Mapping[str, str], *, now: dt.datetime
) -> Establishment:
    """An establishment's own registration (the form): ``pending`` until an operator approves it, under
    a drawn id (``R-`` and 8 characters of the code alphabet). The first problem is raised, with its
    ``field``; ``licence_taken`` when the licence number is known already."""
    found, problems = check_establishment({**values, "id": ""})
    if problems:
        raise problems[0]
    for _attempt in range(10):
        found["id"] = "R-" + "".join(secrets.choice(ALPHABET) for _ in range(8))
        if get_or_none(connection, found["id"]) is None:
            break
    upsert_establishment(connection, found, status="pending", now=now)
    record_event(
        connection, "establishment.registered", "form", details={"establishment": found["id"]}, at=now
    )
    return get_establishment(connection, found["id"])


def get_or_none(connection: Connection, establishment_id: str) -> Establishment | None:
    try:
        return get_establishment(connection, establishment_id)
    except NotFoundError:
        return None


def approve_establishment(
    connection: Connection, establishment_id: str, *, actor: str, now: dt.datetime
) -> Establishment:
    """Approve a pending establishment (it may redeem from now on); ``already_approved`` otherwise."""
    found = get_establishment(connection, establishment_id)
    approved = connection.execute(
        establishments.update()
        .where(establishments.c.id == found.id, establishments.c.status == "pending")
        .values(status="approved", approved_by=actor[:64], approved_at=now, updated_at=now)
    ).rowcount
    if approved != 1:
        raise ConflictError(f"establishment {found.id} is approved already", code="already_approved")
    record_event(connection, "establishment.approved", actor, details={"establishment": found.id}, at=now)
    return get_establishment(connection, found.id)


def set_language(
    connection: Connection, establishment_id: str, language: str, *, actor: str, now: dt.datetime
) -> Establishment:
    """Set the language the establishment's statements are printed in (the next ones: an issued
    statement keeps its own); ``bad_establishment_language`` for one we do not write."""
    language = language.strip().lower()
    if language not in LANGUAGES:
        raise _bad_language()
    found = get_establishment(connection, establishment_id)
    if found.language != language:
        connection.execute(
            establishments.update()
            .where(establishments.c.id == found.id)
            .values(language=language, updated_at=now)
        )
        record_event(
            connection,
            "establishment.language_set",
            actor,
            details={"establishment": found.id, "language": language, "was": found.language},
            at=now,
        )
    return get_establishment(connection, found.id)


def read_establishments_file(path: Path) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of an establishments file (CSV, UTF-8, a header naming :data:`COLUMNS` in any order,
    and any of :data:`OPTIONAL_COLUMNS`),
    each with its line number; a row that is not UTF-8 comes through with its bad bytes kept (and is
    rejected by :func:`check_establishment`), a short row with its missing columns empty. The whole
    file is refused only when it cannot be read or lacks a column (``missing_columns``)."""
    try:
        file = path.open(encoding="utf-8-sig", errors="surrogateescape", newline="")
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}", code="unreadable_file") from error
    with file:
        reader = csv.reader(file)
        header = [name.strip().lower() for name in next(reader, [])]
        missing = [name for name in COLUMNS if name not in header]
        if missing:
            raise InputFileError(
                f"{path}: required column(s) missing: {', '.join(missing)}", code="missing_columns"
            )
        try:
            for fields in reader:
                if not any(field.strip() for field in fields):
                    continue
                yield (
                    reader.line_num,
                    {name: fields[index] if index < len(fields) else "" for index, name in enumerate(header)},
                )
        except csv.Error as error:
            # Past csv's own limits (a field of more than 128 KiB): not a file of establishments.
            raise InputFileError(
                f"{path}, line {reader.line_num}: not CSV ({error})", code="unreadable_file"
            ) from None


def write_rejects(rejects: Iterable[Reject], path: Path) -> None:
    """The rejects file beside an import: one line per problem, the line of the file and the field."""
    with path.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=["line", "id", "field", "code", "reason"])
        writer.writeheader()
        writer.writerows(asdict(reject) for reject in rejects)
