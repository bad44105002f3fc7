"""Every validation rule of a register row, one case each."""

from __future__ import annotations

import datetime as dt

import pytest

from courrier.register.matricule import make_matricule
from courrier.register.rows import COLUMNS, validate_row

TODAY = dt.date(2026, 11, 23)
GOOD_ID = make_matricule(dt.date(1983, 7, 14), 42)


def row(**changes: str) -> dict[str, str]:
    values = {
        "national_id": GOOD_ID,
        "family_name": "Müller",
        "given_names": "Anna",
        "birth_date": "1983-07-14",
        "sex": "F",
        "language": "de",
        "care_of": "",
        "house_number": "12",
        "street": "rue de la Gare",
        "postcode": "L-1234",
        "locality": "Luxembourg",
        "country": "LU",
        "deceased": "0",
    }
    return values | changes


def validate(raw: dict[str, str]) -> object:
    return validate_row([raw.get(name, "") for name in COLUMNS], 2, TODAY)


def rejected_fields(raw: dict[str, str]) -> set[str]:
    result = validate(raw)
    assert isinstance(result, list), f"row was accepted: {result}"
    return {reject.field for reject in result}


def accepted(raw: dict[str, str]) -> dict[str, object]:
    result = validate(raw)
    assert isinstance(result, dict), f"row was rejected: {result}"
    return result


def test_a_good_row_is_accepted_as_given():
    person = accepted(row())
    assert person["family_name"] == "Müller"
    assert person["birth_date"] == dt.date(1983, 7, 14)
    assert person["commune"] == "Luxembourg"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"national_id": "12345"}, "national_id"),
        ({"national_id": GOOD_ID[:-1] + str((int(GOOD_ID[-1]) + 1) % 10)}, "national_id"),
        ({"national_id": "1983023004213"}, "national_id"),
        ({"birth_date": "1983-02-30"}, "birth_date"),
        ({"birth_date": "14.07.1983"}, "birth_date"),
        ({"birth_date": "1983-07-15"}, "birth_date"),
        ({"family_name": "  "}, "family_name"),
        ({"street": ""}, "street"),
        ({"locality": ""}, "locality"),
        ({"sex": "W"}, "sex"),
        ({"language": "es"}, "language"),
        ({"deceased": "yes"}, "deceased"),
        ({"country": "XY"}, "country"),
        ({"postcode": "L-12A4"}, "postcode"),
        ({"postcode": "123"}, "postcode"),
        ({"country": "FR", "postcode": "5710"}, "postcode"),
        ({"country": "DE", "postcode": "L-5430"}, "postcode"),
        ({"given_names": "Anna\x00"}, "given_names"),
        ({"street": "x" * 201}, "street"),
        ({"source": "other"}, "source"),
        ({"locality": "P\udce9tange"}, "locality"),
    ],
)
def test_each_rule_rejects_its_field(changes, field):
    assert field in rejected_fields(row(**changes))


def test_a_birth_date_in_the_future_is_rejected():
    future = dt.date(2027, 1, 5)
    assert "birth_date" in rejected_fields(
        row(national_id=make_matricule(future, 1), birth_date=future.isoformat())
    )


def test_every_problem_of_a_row_is_reported():
    assert rejected_fields(row(sex="W", street="", postcode="?")) == {"sex", "street", "postcode"}


@pytest.mark.parametrize("spelling", ["1234", "L1234", "l-1234", "L 1234", "L - 1234", " L-1234 "])
def test_luxembourg_postcodes_are_written_one_way(spelling):
    assert accepted(row(postcode=spelling))["postcode"] == "L-1234"


@pytest.mark.parametrize(
    ("country", "spelling", "written"),
    [
        ("FR", "57100", "57100"),
        ("FR", "F-57100", "57100"),
        ("BE", "B-6700", "6700"),
        ("DE", "54290", "54290"),
    ],
)
def test_neighbouring_countries_postcodes(country, spelling, written):
    assert accepted(row(country=country, postcode=spelling))["postcode"] == written


def test_whitespace_is_collapsed_and_unicode_composed():
    decomposed = "Mu\u0308ller"  # u + combining diaeresis
    person = accepted(row(family_name=f"  {decomposed}\t", street="rue  de\u00a0la Gare "))
    assert person["family_name"] == "Müller"
    assert person["street"] == "rue de la Gare"


@pytest.mark.parametrize(
    "name", ["Müller", "Gonçalves", "Ngô", "Łukasz", "O'Brien-Fernández", "van der Berg", "ÉLODIE"]
)
def test_names_come_out_exactly_as_they_went_in(name):
    person = accepted(row(family_name=name, given_names=name))
    assert person["family_name"] == name
    assert person["given_names"] == name


def test_defaults_for_empty_language_country_sex_and_deceased():
    person = accepted(row(language="", country="", sex="", deceased=""))
    assert (person["language"], person["country"], person["sex"], person["deceased"]) == (
        "fr",
        "LU",
        "",
        False,
    )


def test_case_of_codes_is_normalised():
    person = accepted(row(language="DE", country="lu", sex="f", deceased="1"))
    assert (person["language"], person["country"], person["sex"], person["deceased"]) == (
        "de",
        "LU",
        "F",
        True,
    )


def test_abroad_has_no_commune():
    assert accepted(row(country="BE", postcode="6700", locality="Arlon"))["commune"] == ""
