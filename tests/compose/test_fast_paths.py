"""The composer's per-letter shortcuts give what the general paths give."""

from __future__ import annotations

import random

import jinja2
import numpy as np
import pytest

from courrier.compose.barcodes import (
    datamatrix_matrix,
    datamatrix_samples,
    image_mask_operators,
    vector_operators,
)
from courrier.compose.sandbox import escape_markup, letter_environment, unescape_markup

ALPHABET = "abcXYZ0123-/:*#\n\ré\ue000\ue001 "


def _contents(count: int) -> list[str]:
    rnd = random.Random(10)
    return ["".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(1, 90))) for _ in range(count)]


def test_samples_draw_as_the_matrix() -> None:
    # zxing-cpp's Data Matrix samples (0 dark, 255 light) are drawn as they are.
    for content in _contents(150):
        content = content.strip() or "x"
        samples, matrix = datamatrix_samples(content), datamatrix_matrix(content)
        assert set(np.unique(samples).tolist()) <= {0, 255}
        for draw in (image_mask_operators, vector_operators):
            assert draw(samples, 10.0, 20.5, 70.8661) == draw(matrix, 10.0, 20.5, 70.8661)


def test_escapes_as_translate() -> None:
    from courrier.compose.sandbox import _ESCAPES, UNESCAPE

    for text in _contents(500):
        escaped = escape_markup(text)
        expected = text.translate(_ESCAPES)
        if expected[:1] in ("-", "#"):
            expected = {"-": "\ue001", "#": "\ue002"}[expected[0]] + expected[1:]
        assert escaped == expected
        assert unescape_markup(text) == text.translate(UNESCAPE)


def test_dict_attributes_as_jinja_resolves_them() -> None:
    environment = letter_environment({})
    person = {"family_name": "Schmit", "_hidden": "h", "items": "not the method"}
    render = lambda source: environment.from_string(source).render(person=person)  # noqa: E731
    assert render("{{ person.family_name }}") == "Schmit"
    assert render("{{ person._hidden }}") == "h"  # a key, not an attribute: as before
    assert "built-in method items" in render("{{ person.items }}")  # the method wins, as in Jinja
    with pytest.raises(jinja2.UndefinedError):
        render("{{ person.given_names }}")
    with pytest.raises(jinja2.exceptions.SecurityError):
        render("{{ person.pop('family_name') }}")


def _paragraph_sources_as_before(text: str) -> list[str]:
    """``paragraph_sources`` as it was before its shortcuts: one regular expression, every space split."""
    from courrier.compose.layout import _PARAGRAPH_BREAK, _bullet_blocks

    def collapse(text: str) -> str:
        text = text.replace("\n", " ").replace("\t", " ").replace("\r", " ")
        return " ".join(filter(None, text.split(" ")))

    if "\n" not in text:
        source = collapse(text)
        return [source] if source else []
    sources = []
    for raw in _PARAGRAPH_BREAK.split(text.strip()):
        for block in _bullet_blocks(raw) if "- " in raw else (raw,):
            source = collapse(block)
            if source:
                sources.append(source)
    return sources


def test_paragraph_sources_as_the_regular_expression() -> None:
    from courrier.compose.layout import paragraph_sources

    rnd = random.Random(11)
    pieces = ["a", "bé", " ", "  ", "\n", "\n\n", "\n \n", "\t", "\r\n", "\xa0", "- ", "## ", "*x*", "\u2009"]
    texts = ["".join(rnd.choice(pieces) for _ in range(rnd.randint(0, 30))) for _ in range(5_000)]
    texts += ["Madame,\n\nLe texte.\n\n\nFin", "a\n\n\n\nb", " a \n\n b ", "- un\n- deux\n\ntrois"]
    for text in texts:
        assert paragraph_sources(text) == _paragraph_sources_as_before(text), repr(text)


@pytest.mark.parametrize("language", ["fr", "de", "en", "pt", "lb"])
def test_money_from_the_cache_is_babels_for_every_value(language: str) -> None:
    """Equal values that Babel prints differently (0.0 and -0.0, Decimal("-0")) are not one cache entry."""
    from decimal import Decimal

    from babel.numbers import format_currency

    from courrier.compose.formats import format_money, locale_of

    values = [0.0, -0.0, 0, Decimal("-0"), Decimal("0.00"), 50, 50.0, Decimal("50.005"), -12.5, 1234567.891]
    for _round in range(2):  # the second round is served from the cache
        for value in values:
            expected = format_currency(value, "EUR", locale=locale_of(language, "LU"))
            assert format_money(value, language, "EUR", "LU") == expected, value
