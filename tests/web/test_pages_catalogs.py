"""The pages' message catalogs: every text of the pages translated in all five languages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from courrier.languages import LANGUAGES
from courrier.web.pages.render import environment
from courrier.web.pages.translations import LOCALE, catalog_path, translations

WEB = LOCALE.parent
METHODS = [("pages/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {
    "templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _source_messages() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(WEB, METHODS, OPTIONS):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_the_extraction_config_is_the_one_the_docs_give():
    assert (WEB / "babel.cfg").read_text(encoding="utf-8").count("[") == 2


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_catalog_translates_every_text_of_the_pages(language: str):
    wanted = _source_messages()
    assert len(wanted) > 50
    with catalog_path(language).open("rb") as source:
        catalog = read_po(source, locale=language)
    have = {
        message.id if isinstance(message.id, str) else message.id[0]: message
        for message in catalog
        if message.id
    }
    assert sorted(wanted - set(have)) == [], f"{language}: untranslated"
    assert sorted(set(have) - wanted) == [], f"{language}: texts no page uses any more"
    for key, message in have.items():
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(strings), (language, key)
        assert not message.fuzzy, (language, key)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        for string in strings:
            assert set(PLACEHOLDER.findall(string)) == set(PLACEHOLDER.findall(ids[-1])), (language, key)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_catalog_gives_one_text_twice(language: str):
    # Two entries of one msgid: babel keeps the last, so the first translation is silently lost (appends
    # by two engineers at once made such doubles).
    ids = re.findall(r'^msgid "(.+)"$', catalog_path(language).read_text(encoding="utf-8"), re.MULTILINE)
    assert sorted({text for text in ids if ids.count(text) > 1}) == []


def test_a_missing_compiled_catalog_is_compiled_from_its_po(tmp_path: Path, monkeypatch):
    # The texts are the .po's whether or not the install compiled the .mo.
    for language in ("de", "lb"):
        assert translations(language).gettext("Continue") != "Continue"
    assert (
        environment("pt").get_template("landing.html").render(languages=[], lang="pt").count("Continuar") == 1
    )


# A plain space before one of these, or inside « »: a narrow page may begin a line with the sign.
FRENCH_BREAKABLE = re.compile(r" [:;?!»]|« ")


def test_french_texts_are_shown_with_no_break_spaces_before_colons_and_question_marks():
    # The catalog keeps plain spaces, as typed; the pages get each text with French's no-break ones.
    with catalog_path("fr").open("rb") as source:
        catalog = read_po(source, locale="fr")
    french = translations("fr")
    typed = [message for message in catalog if message.id and isinstance(message.id, str)]
    assert sum(bool(FRENCH_BREAKABLE.search(message.string)) for message in typed) > 20
    for message in typed:
        shown = french.gettext(message.id)
        assert not FRENCH_BREAKABLE.search(shown), shown
        assert shown.replace("\xa0", " ") == message.string
    plural = next(message for message in catalog if isinstance(message.id, tuple))
    assert french.ngettext(*plural.id, 2).replace("\xa0", " ") == plural.string[1]
    # The other languages as their catalogs have them.
    assert translations("de").gettext("Continue") == "Weiter"


@pytest.mark.parametrize(("language", "shown"), [("fr", "Campagne\xa0: "), ("en", "Campaign: ")])
def test_a_label_takes_its_colon_as_the_language_sets_it(language: str, shown: str):
    page = environment(language).from_string('{{ _("Campaign")|colon }} <strong>x</strong>').render()
    assert page == f"{shown}<strong>x</strong>"
