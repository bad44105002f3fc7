"""The pages' message catalogs: ``web/locale/<lang>/LC_MESSAGES/messages.po``, compiled to ``.mo`` by the
install (``make install``). A catalog whose ``.mo`` is missing or older than its ``.po`` (a fresh clone
run without make, or a ``.po`` just edited) is compiled in memory from the ``.po`` instead, so a page is
never shown with its texts silently untranslated.
"""

from __future__ import annotations

import functools
import gettext
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from courrier.languages import LANGUAGES

LOCALE = Path(__file__).resolve().parents[1] / "locale"
DOMAIN = "messages"


def catalog_path(language: str, suffix: str = ".po") -> Path:
    return LOCALE / language / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@functools.cache
def translations(language: str) -> gettext.GNUTranslations:
    """The compiled catalog of ``language`` (one of :data:`~courrier.languages.LANGUAGES`)."""
    assert language in LANGUAGES, language
    po, mo = catalog_path(language), catalog_path(language, ".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as compiled:
            return gettext.GNUTranslations(compiled)
    with po.open("rb") as source:
        catalog = read_po(source, locale=language)
    compiled_bytes = io.BytesIO()
    write_mo(compiled_bytes, catalog)
    compiled_bytes.seek(0)
    return gettext.GNUTranslations(compiled_bytes)
