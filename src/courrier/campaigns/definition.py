"""The campaign file (TOML): who gets which letter, when, with what code. Format in docs/campaigns.md.

Parsing checks every field and names the one that is wrong; unknown keys are refused, so a typo never
silently widens a cohort.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from courrier.country import REGISTER_SOURCES
from courrier.errors import InputFileError
from courrier.languages import LANGUAGES

KINDS = ("invitation", "voucher", "certificate", "notice")
ORDERS = ("oldest_first", "youngest_first", "postcode", "register")
_NAME_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_")
_MAX_QUESTIONS = 12
# The answers of a question that gives none of its own.
YES_NO = (
    ("yes", {"fr": "Oui", "de": "Ja", "en": "Yes", "pt": "Sim", "lb": "Jo"}),
    ("no", {"fr": "Non", "de": "Nein", "en": "No", "pt": "Não", "lb": "Neen"}),
)


@dataclass(frozen=True)
class Cohort:
    sources: tuple[str, ...] = REGISTER_SOURCES
    reference_date: dt.date | None = None
    min_age: int | None = None
    max_age: int | None = None
    communes: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    order: str = "oldest_first"


@dataclass(frozen=True)
class WavePlan:
    """Waves of ``size`` pieces; with ``start``, wave k is sent on start + (k-1)*days_per_wave."""

    size: int
    start: dt.date | None = None
    days_per_wave: int = 1


@dataclass(frozen=True)
class CodePolicy:
    validity_days: int | None = None
    valid_until: dt.date | None = None
    max_uses: int = 1


@dataclass(frozen=True)
class Answer:
    id: str
    text: dict[str, str]
    # This answer sends the person to their doctor instead of a slot.
    doctor: bool = False


@dataclass(frozen=True)
class Question:
    """A health question asked before a slot is booked (``[[questions]]``), in every campaign language."""

    id: str
    text: dict[str, str]
    answers: tuple[Answer, ...]


@dataclass(frozen=True)
class CampaignDefinition:
    name: str
    kind: str
    template: Path
    languages: tuple[str, ...]
    cohort: Cohort
    waves: WavePlan
    codes: CodePolicy
    qr_content: str
    qr_signed: bool
    text: str = field(repr=False, default="")
    questions: tuple[Question, ...] = ()
    # ``[title]``: the campaign's name for the public (the request page lists it) in every campaign
    # language; without one the pages show ``name``.
    titles: dict[str, str] = field(default_factory=dict)

    def title(self, language: str) -> str:
        return self.titles.get(language, self.name)


def read_definition(path: Path) -> CampaignDefinition:
    """The campaign in the file at ``path``; its template folder is relative to the file."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise InputFileError(f"{path}: cannot read the campaign file: {error.strerror}") from error
    except UnicodeDecodeError as error:
        raise InputFileError(
            f"{path} is not UTF-8 (byte {error.start}): save the campaign file as UTF-8", code="not_utf8"
        ) from error
    return parse_definition(text, base=path.parent, where=str(path))


def parse_definition(
    text: str, *, base: Path = Path("."), where: str = "campaign file"
) -> CampaignDefinition:
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise _bad(where, f"not valid TOML: {error}") from error
    reader = _Reader(where)
    reader.keys(
        document,
        "",
        {"name", "kind", "template", "languages", "title", "cohort", "waves", "codes", "qr", "questions"},
    )
    name = reader.required(document, "name", str)
    if not name or set(name) - _NAME_CHARACTERS or len(name) > 100:
        raise _bad(where, f"name: use lower-case letters, digits, '-' and '_' (at most 100), got {name!r}")
    kind = reader.choice(document, "kind", KINDS, None)
    template = reader.required(document, "template", str)
    languages = reader.choices(document, "languages", LANGUAGES, LANGUAGES)
    cohort = _cohort(reader, reader.table(document, "cohort"))
    waves = _waves(reader, reader.table(document, "waves"))
    if kind == "certificate":
        # Its letters carry each person's EU DCC, never a personal code.
        if "codes" in document:
            raise _bad(where, "[codes]: a campaign of kind certificate issues no codes; leave it out")
        codes = CodePolicy()
    else:
        codes = _codes(reader, reader.table(document, "codes"))
    if codes.valid_until is not None and waves.start is not None and codes.valid_until < waves.start:
        raise _bad(
            where,
            f"[codes] valid_until {codes.valid_until} is before the first wave is sent ({waves.start})",
        )
    qr = reader.table(document, "qr")
    reader.keys(qr, "qr", {"content", "signed"})
    signed = reader.optional(qr, "qr", "signed", bool, False)
    content = reader.optional(qr, "qr", "content", str, "{token}" if signed else "{code}")
    placeholder = "{token}" if signed else "{code}"
    if placeholder not in content:
        raise _bad(where, f"[qr] content: must contain {placeholder}, got {content!r}")
    return CampaignDefinition(
        name=name,
        kind=kind,
        template=(base / template).resolve(),
        languages=languages,
        cohort=cohort,
        waves=waves,
        codes=codes,
        qr_content=content,
        qr_signed=signed,
        text=text,
        questions=_questions(reader, document.get("questions", []), languages),
        titles=_texts(reader, document["title"], "title", languages) if "title" in document else {},
    )


def _questions(reader: _Reader, value: Any, languages: tuple[str, ...]) -> tuple[Question, ...]:
    """``[[questions]]``: ``id``, ``text`` in every campaign language, ``doctor`` (the answer ids that send
    the person to their doctor) and optional ``answers`` (``{id, text}``; yes / no by default)."""
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise _bad(reader.where, "[[questions]]: expected an array of tables")
    if len(value) > _MAX_QUESTIONS:
        raise _bad(reader.where, f"[[questions]]: at most {_MAX_QUESTIONS}, got {len(value)}")
    found: list[Question] = []
    for number, table in enumerate(value, start=1):
        place = f"questions {number}"
        reader.keys(table, place, {"id", "text", "answers", "doctor"})
        question_id = _identifier(reader, table, place)
        if any(question.id == question_id for question in found):
            raise _bad(reader.where, f"[{place}] id: {question_id!r} is used twice")
        text = _texts(reader, table.get("text"), f"{place}] [text", languages)
        given = table.get("answers")
        if given is None:
            pairs = [(answer_id, dict(labels)) for answer_id, labels in YES_NO]
        else:
            if not isinstance(given, list) or len(given) < 2 or not all(isinstance(a, dict) for a in given):
                raise _bad(reader.where, f"[{place}] answers: expected at least two {{id, text}} tables")
            pairs = []
            for answer in given:
                reader.keys(answer, f"{place}] [answers", {"id", "text"})
                answer_id = _identifier(reader, answer, f"{place}] [answers")
                labels = _texts(reader, answer.get("text"), f"{place}] [answers {answer_id}", languages)
                pairs.append((answer_id, labels))
        ids = [answer_id for answer_id, _ in pairs]
        if len(set(ids)) != len(ids):
            raise _bad(reader.where, f"[{place}] answers: an answer id is used twice in {ids}")
        doctor = reader.strings(table, place, "doctor")
        wrong = [answer_id for answer_id in doctor if answer_id not in ids]
        if wrong:
            raise _bad(reader.where, f"[{place}] doctor: {wrong[0]!r} is not one of its answers {ids}")
        answers = tuple(Answer(a, labels, a in doctor) for a, labels in pairs)
        found.append(Question(question_id, text, answers))
    return tuple(found)


def _identifier(reader: _Reader, table: dict[str, Any], place: str) -> str:
    value = table.get("id")
    if not isinstance(value, str) or not value or set(value) - _NAME_CHARACTERS or len(value) > 40:
        raise _bad(
            reader.where, f"[{place}] id: lower-case letters, digits, '-' and '_' (1-40), got {value!r}"
        )
    return value


def _texts(reader: _Reader, value: Any, place: str, languages: tuple[str, ...]) -> dict[str, str]:
    if not isinstance(value, dict) or not all(isinstance(v, str) and v.strip() for v in value.values()):
        raise _bad(reader.where, f"[{place}]: expected a table of non-empty texts by language, got {value!r}")
    missing = [language for language in languages if language not in value]
    unknown = [language for language in value if language not in LANGUAGES]
    if missing or unknown:
        what = f"missing {missing[0]!r}" if missing else f"unknown language {unknown[0]!r}"
        raise _bad(reader.where, f"[{place}]: {what} (the campaign's languages are {list(languages)})")
    return dict(value)


def _cohort(reader: _Reader, table: dict[str, Any]) -> Cohort:
    reader.keys(
        table,
        "cohort",
        {"sources", "reference_date", "min_age", "max_age", "communes", "countries", "languages", "order"},
    )
    min_age = reader.optional(table, "cohort", "min_age", int, None)
    max_age = reader.optional(table, "cohort", "max_age", int, None)
    for label, age in (("min_age", min_age), ("max_age", max_age)):
        if age is not None and not 0 <= age <= 150:
            raise _bad(reader.where, f"[cohort] {label}: expected 0..150, got {age}")
    if min_age is not None and max_age is not None and min_age > max_age:
        raise _bad(reader.where, f"[cohort] min_age {min_age} is above max_age {max_age}")
    reference = reader.optional(table, "cohort", "reference_date", dt.date, None)
    if reference is None and (min_age is not None or max_age is not None):
        raise _bad(reader.where, "[cohort] reference_date: needed to compute ages (YYYY-MM-DD)")
    countries = reader.strings(table, "cohort", "countries")
    if any(len(country) != 2 or not country.isupper() for country in countries):
        raise _bad(reader.where, f'[cohort] countries: ISO alpha-2 codes like "LU", got {list(countries)}')
    return Cohort(
        sources=reader.choices(table, "sources", REGISTER_SOURCES, REGISTER_SOURCES, section="cohort"),
        reference_date=reference,
        min_age=min_age,
        max_age=max_age,
        communes=reader.strings(table, "cohort", "communes"),
        countries=countries,
        languages=reader.choices(table, "languages", LANGUAGES, (), section="cohort"),
        order=reader.choice(table, "order", ORDERS, "oldest_first", section="cohort"),
    )


def _waves(reader: _Reader, table: dict[str, Any]) -> WavePlan:
    reader.keys(table, "waves", {"size", "start", "daily_capacity", "days_per_wave"})
    size = reader.optional(table, "waves", "size", int, None)
    capacity = reader.optional(table, "waves", "daily_capacity", int, None)
    days = reader.optional(table, "waves", "days_per_wave", int, 1)
    if (size is None) == (capacity is None):
        raise _bad(reader.where, "[waves]: give either size or daily_capacity")
    if days < 1:
        raise _bad(reader.where, f"[waves] days_per_wave: at least 1, got {days}")
    start = reader.optional(table, "waves", "start", dt.date, None)
    wave_size = size if size is not None else (capacity or 0) * days
    if wave_size < 1:
        raise _bad(reader.where, f"[waves]: a wave needs at least one piece, got {wave_size}")
    return WavePlan(size=wave_size, start=start, days_per_wave=days)


def _codes(reader: _Reader, table: dict[str, Any]) -> CodePolicy:
    reader.keys(table, "codes", {"validity_days", "valid_until", "max_uses"})
    days = reader.optional(table, "codes", "validity_days", int, None)
    until = reader.optional(table, "codes", "valid_until", dt.date, None)
    if (days is None) == (until is None):
        raise _bad(reader.where, "[codes]: give either validity_days or valid_until")
    if days is not None and days < 1:
        raise _bad(reader.where, f"[codes] validity_days: at least 1, got {days}")
    max_uses = reader.optional(table, "codes", "max_uses", int, 1)
    if max_uses < 1:
        raise _bad(reader.where, f"[codes] max_uses: at least 1, got {max_uses}")
    return CodePolicy(validity_days=days, valid_until=until, max_uses=max_uses)


class _Reader:
    def __init__(self, where: str) -> None:
        self.where = where

    def keys(self, table: dict[str, Any], section: str, allowed: set[str]) -> None:
        unknown = sorted(set(table) - allowed)
        if unknown:
            place = f"[{section}] " if section else ""
            raise _bad(self.where, f"{place}unknown key {unknown[0]!r} (expected one of {sorted(allowed)})")

    def table(self, document: dict[str, Any], key: str) -> dict[str, Any]:
        value = document.get(key, {})
        if not isinstance(value, dict):
            raise _bad(self.where, f"[{key}]: expected a table")
        return value

    def required(self, table: dict[str, Any], key: str, kind: type[Any]) -> Any:
        if key not in table:
            raise _bad(self.where, f"{key}: missing")
        return self.optional(table, "", key, kind, None)

    def optional(self, table: dict[str, Any], section: str, key: str, kind: type[Any], default: Any) -> Any:
        if key not in table:
            return default
        value = table[key]
        # bool is an int and datetime a date in Python: refuse both where they do not belong.
        wrong_bool = kind is int and isinstance(value, bool)
        wrong_datetime = kind is dt.date and isinstance(value, dt.datetime)
        if not isinstance(value, kind) or wrong_bool or wrong_datetime:
            place = f"[{section}] " if section else ""
            expected = "a date (YYYY-MM-DD)" if kind is dt.date else f"a {kind.__name__}"
            raise _bad(self.where, f"{place}{key}: expected {expected}, got {value!r}")
        return value

    def strings(self, table: dict[str, Any], section: str, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise _bad(self.where, f"[{section}] {key}: expected a list of strings, got {value!r}")
        return tuple(value)

    def choice(
        self,
        table: dict[str, Any],
        key: str,
        allowed: tuple[str, ...],
        default: str | None,
        section: str = "",
    ) -> str:
        if key not in table and default is not None:
            return default
        value = (
            self.required(table, key, str) if not section else self.optional(table, section, key, str, None)
        )
        if value not in allowed:
            place = f"[{section}] " if section else ""
            raise _bad(self.where, f"{place}{key}: expected one of {list(allowed)}, got {value!r}")
        return str(value)

    def choices(
        self,
        table: dict[str, Any],
        key: str,
        allowed: tuple[str, ...],
        default: tuple[str, ...],
        section: str = "",
    ) -> tuple[str, ...]:
        if key not in table:
            return default
        values = self.strings(table, section, key)
        wrong = [value for value in values if value not in allowed]
        if wrong or not values:
            place = f"[{section}] " if section else ""
            raise _bad(self.where, f"{place}{key}: expected some of {list(allowed)}, got {list(values)}")
        return values


def _bad(where: str, message: str) -> InputFileError:
    return InputFileError(f"{where}: {message}", code="bad_campaign_file")
