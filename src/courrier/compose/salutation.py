"""The salutation of a letter: one mechanism for every template, every recorded sex, every language.

The register records ``F``, ``M``, ``X`` (neither) or nothing. ``F`` and ``M`` get the language's
formal address with the family name (``Madame Schmit``, ``Sehr geehrter Herr Müller``); ``X`` and an
unknown sex get a greeting that assumes no gender, with the full name (``Bonjour Alex Schmit``,
``Guten Tag Alex Schmit``), never "Sir or Madam" to someone whose name we know. Portuguese writes the
full name after the honorific, as its formal letters do. Templates write ``{{ person | salutation }}``;
a template may give its own forms as ``salutation_f``, ``salutation_m`` and ``salutation_x`` strings
(``{given_names}`` and ``{family_name}`` are filled in).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# language -> (female, male, neither or unknown)
FORMS: dict[str, tuple[str, str, str]] = {
    "fr": ("Madame {family_name},", "Monsieur {family_name},", "Bonjour {given_names} {family_name},"),
    "de": (
        "Sehr geehrte Frau {family_name},",
        "Sehr geehrter Herr {family_name},",
        "Guten Tag {given_names} {family_name},",
    ),
    "en": ("Dear Ms {family_name},", "Dear Mr {family_name},", "Dear {given_names} {family_name},"),
    "pt": (
        "Exma. Senhora {given_names} {family_name},",
        "Exmo. Senhor {given_names} {family_name},",
        "Bom dia, {given_names} {family_name},",
    ),
    "lb": (
        "Sehr geéiert Madame {family_name},",
        "Sehr geéierten Här {family_name},",
        "Gudde Moien {given_names} {family_name},",
    ),
}
_KEYS = ("salutation_f", "salutation_m", "salutation_x")


def salutation(person: Mapping[str, Any], language: str, strings: Mapping[str, Any] | None = None) -> str:
    sex = str(person.get("sex") or "").upper()
    which = 0 if sex == "F" else 1 if sex == "M" else 2
    form = (strings or {}).get(_KEYS[which]) or FORMS.get(language, FORMS["en"])[which]
    given = " ".join(str(person.get("given_names") or "").split())
    family = " ".join(str(person.get("family_name") or "").split())
    if not given and which == 2:  # no given name: the neutral form would start with a space
        form = form.replace("{given_names} ", "")
    return " ".join(form.format(given_names=given, family_name=family).split())
