"""The pages' message catalogs: ``web/locale/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` by the
install (``make install``). A catalog whose ``.mo`` is missing or older than its ``.po`` (a fresh clone
run without make, or a ``.po`` just edited) is compiled in memory from the ``.po`` instead, so a page is
never shown with its texts silently untranslated.

The French catalog's texts are shown as French is printed (``languages.french_spacing``): the spaces
before ``: ; ? !`` and inside « » are no-break ones, so that no line of a page begins with a colon.
The catalog itself keeps plain spaces, as its translators type them.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from courrier.languages import LANGUAGES, french_spacing

LOCALE = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def catalog_path(language: str, suffix: str = ".po") -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


class FrenchTranslations(gettext.GNUTranslations):
    """The French catalog, its texts with French's no-break spaces (the pages' formatting of
    ``%(name)s`` comes after, so what it puts in is shown as it is)."""

    def gettext(self, message: str) -> str:
        return french_spacing(super().gettext(message))

    def ngettext(self, msgid1: str, msgid2: str, n: int) -> str:
        return french_spacing(super().ngettext(msgid1, msgid2, n))

    def pgettext(self, context: str, message: str) -> str:
        return french_spacing(super().pgettext(context, message))

    def npgettext(self, context: str, msgid1: str, msgid2: str, n: int) -> str:
        return french_spacing(super().npgettext(context, msgid1, msgid2, n))


@functools.cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``language`` (one of :data:`~courrier.languages.LANGUAGES`)."""
    assert language in LANGUAGES, language
    kind = FrenchTranslations if language == "fr" else gettext.GNUTranslations
    po, mo = catalog_path(language), catalog_path(language, ".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return kind(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled_bytes = io.BytesIO()
    write_mo(compiled_bytes, catalog)
    compiled_bytes.seek(0)
    return kind(compiled_bytes)
