"""The address block: the destination's line order, and long names fitted to the window."""

from __future__ import annotations

import pytest

from courrier.compose.address import MIN_SIZE_PT, address_lines, fit_address
from courrier.errors import CompositionError

from .conftest import person


@pytest.mark.parametrize(
    ("country", "postcode", "locality", "expected"),
    [
        ("LU", "L-1616", "Luxembourg", ["Anna Muller", "12, rue de la Gare", "L-1616 LUXEMBOURG"]),
        ("LU", "1616", "Luxembourg", ["Anna Muller", "12, rue de la Gare", "L-1616 LUXEMBOURG"]),
        ("FR", "57100", "Thionville", ["Anna Muller", "12 rue de la Gare", "57100 THIONVILLE", "FRANCE"]),
        ("BE", "6700", "Arlon", ["Anna Muller", "rue de la Gare 12", "6700 ARLON", "BELGIQUE"]),
        ("DE", "54290", "Trier", ["Anna Muller", "rue de la Gare 12", "54290 TRIER", "ALLEMAGNE"]),
        # The UK writes the postcode on a line of its own, under the town.
        (
            "GB",
            "SW1A 1AA",
            "London",
            ["Anna Muller", "12 rue de la Gare", "LONDON", "SW1A 1AA", "ROYAUME-UNI"],
        ),
        # A country beyond the neighbours gets its name, not its ISO code.
        (
            "VN",
            "700000",
            "Hồ Chí Minh",
            ["Anna Muller", "12 rue de la Gare", "HỒ CHÍ MINH", "700000", "VIÊT NAM"],
        ),
        ("CH", "1200", "Genève", ["Anna Muller", "rue de la Gare 12", "CH-1200 Genève", "SUISSE"]),
    ],
)
def test_address_follows_the_destination(country, postcode, locality, expected):
    lines = address_lines(person("Muller", postcode=postcode, locality=locality, country=country))
    assert lines == expected


def test_care_of_comes_after_the_recipient():
    lines = address_lines(
        person("Muller", care_of="c/o Weber", country="DE", postcode="54290", locality="Trier")
    )
    assert lines[:3] == ["Anna Muller", "c/o Weber", "rue de la Gare 12"]


def test_an_unknown_country_code_fails_the_letter():
    with pytest.raises(CompositionError) as caught:
        address_lines(person("Muller", country="QQ", postcode="1234"))
    assert caught.value.code == "address_incomplete"


@pytest.mark.parametrize(
    "missing", [{"family_name": "", "given_names": ""}, {"postcode": "", "locality": ""}]
)
def test_an_address_without_name_or_town_is_refused(missing):
    with pytest.raises(CompositionError) as caught:
        address_lines(person("Muller") | missing)
    assert (caught.value.code, caught.value.field) == ("address_incomplete", "address")


def width(text: str, size: float) -> float:
    """A monospaced stand-in for the font: each character half the size wide."""
    return len(text) * size * 0.5


def fitted(given: str, family: str, room_chars: float, **other: str) -> list[tuple[str, float]]:
    lines = fit_address(person(family, given, **other), width, room_chars * 5, 10.0)
    return [(line.text, line.size) for line in lines]


def test_a_name_that_fits_keeps_its_size():
    assert fitted("Anna", "Muller", 30)[0] == ("Anna Muller", 10.0)


def test_a_long_name_is_first_set_smaller():
    name = "Maria Fernanda Gonçalves"  # 24 characters in room for 20 at 10 pt
    assert fitted("Maria Fernanda", "Gonçalves", 20)[0] == (name, 8.0)


def test_then_given_names_become_initials_the_last_first_never_the_family_name():
    lines = fitted("Maria da Conceição", "Ferreira dos Santos", 30)
    assert lines[0][0] == "Maria da C. Ferreira dos Santos"
    assert fitted("Maria da Conceição", "Ferreira dos Santos", 22)[0][0] == "M. C. Ferreira dos Santos"
    assert fitted("Jean-Claude", "Weber-Schmitt-Hoffmann", 23)[0][0] == "J.-C. Weber-Schmitt-Hoffmann"


def test_then_the_name_goes_over_two_lines_when_one_is_free():
    lines = fitted("Maria", "Ferreira dos Santos Gonçalves Pereira", 25)
    assert [text for text, _ in lines[:2]] == ["M. Ferreira dos Santos", "Gonçalves Pereira"]
    assert all(size >= MIN_SIZE_PT for _, size in lines)


def test_a_letter_fails_only_when_nothing_fits_and_says_why():
    with pytest.raises(CompositionError) as caught:
        fitted("Maria", "Ferreiradossantosgonçalvespereira", 20)
    assert caught.value.code == "address_too_long"
    assert "even at 8 pt" in str(caught.value)


def test_no_line_is_free_when_the_block_has_six():
    crowded = {"care_of": "c/o Weber", "country": "GB", "postcode": "SW1A 1AA", "locality": "London"}
    with pytest.raises(CompositionError) as caught:
        fitted("Maria", "Ferreira dos Santos Gonçalves Pereira", 25, **crowded)
    assert "no line is free" in str(caught.value)
