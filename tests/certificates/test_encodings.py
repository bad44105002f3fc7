"""Base45, the UVCI check character and ICAO 9303 names: examples from the standards, round trips, fuzz."""

from __future__ import annotations

import re

import base45 as reference_base45
import pytest
from hypothesis import given
from hypothesis import strategies as st

from courrier import base45
from courrier.certificates.names import icao_transliterate
from courrier.certificates.uvci import CHARSET, check_character, check_uvci, new_uvci
from courrier.errors import CourrierError

# RFC 9285, section 4.
RFC_EXAMPLES = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("data", "text"), RFC_EXAMPLES)
def test_base45_rfc_examples(data: bytes, text: str):
    assert base45.encode(data) == text
    assert base45.decode(text) == data


@given(st.binary(max_size=700))
def test_base45_round_trip_agrees_with_the_reference_package(data: bytes):
    text = base45.encode(data)
    assert text == reference_base45.b45encode(data).decode("ascii")
    assert base45.decode(text) == data


@given(st.text(max_size=40))
def test_base45_decode_of_any_text_is_bytes_that_encode_back_or_a_value_error(text: str):
    try:
        data = base45.decode(text)
    except ValueError:
        return
    assert base45.encode(data) == text


@pytest.mark.parametrize("text", ["GGW", "A", "ABCD", "abc", "AB=", ":::"])
def test_base45_refuses(text: str):
    with pytest.raises(ValueError):  # noqa: PT011 (its message names the place)
        base45.decode(text)


# UVCIs of the official vectors (Austria's), whose check characters are right.
OFFICIAL_UVCIS = [
    "URN:UVCI:01:AT:10807843F94AEE0EE5093FBC254BD813#B",
    "URN:UVCI:01:AT:B5921A35D6A0D696421B3E2462178297#I",
    "URN:UVCI:01:AT:71EE2559DE38C6BF7304FB65A1A451EC#3",
    "URN:UVCI:01:AT:858CC18CFCF5965EF82F60E493349AA5#K",
]


@pytest.mark.parametrize("uvci", OFFICIAL_UVCIS)
def test_the_check_character_of_official_uvcis(uvci: str):
    assert check_uvci(uvci) == uvci
    assert check_uvci(uvci.lower()) == uvci


def test_our_uvcis_are_well_formed_and_differ():
    made = {new_uvci("LU") for _ in range(200)}
    assert len(made) == 200
    for uvci in made:
        assert re.fullmatch(r"URN:UVCI:01:LU:DCC/[A-Z0-9]{20}#[A-Z0-9/:]", uvci)
        assert check_uvci(uvci) == uvci


@given(st.data())
def test_any_single_substitution_is_caught(data: st.DataObject):
    uvci = new_uvci("LU")
    body = uvci.rsplit("#", 1)[0]
    position = data.draw(st.integers(min_value=0, max_value=len(body) - 1))
    other = data.draw(st.sampled_from([c for c in CHARSET if c != body[position]]))
    changed = body[:position] + other + body[position + 1 :]
    assert check_character(changed) != check_character(body)


@pytest.mark.parametrize("typed", ["", "URN:UVCI:01:LU", "URN:UVCI:01:LU:DCC/ABC#", "01:LU:ABC#Ä", "X" * 90])
def test_check_uvci_refuses_what_is_not_one(typed: str):
    with pytest.raises(CourrierError) as raised:
        check_uvci(typed)
    assert raised.value.code == "dcc_bad_uvci"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ngô", "NGO"),
        ("Łukasz", "LUKASZ"),
        ("Øystein", "OEYSTEIN"),
        ("Ağaoğlu", "AGAOGLU"),
        ("Ζωή", "ZOI"),
        ("Фёдор", "FEDOR"),
        ("Müller", "MUELLER"),
        ("D'Artagnan", "DARTAGNAN"),
        ("O’Brien", "OBRIEN"),
        ("Jean-Pierre", "JEAN<PIERRE"),
        ("van der Berg", "VAN<DER<BERG"),
        ("  Marie -  Louise ", "MARIE<LOUISE"),
        ("Щербаков", "SHCHERBAKOV"),
        ("Θεοδωράκης", "THEODORAKIS"),
        ("Åsa Ærø", "AASA<AEROE"),
        ("Gößinger", "GOESSINGER"),
        # From the official vectors: Musterfrau-Gößinger (common/CO1) and Lövström (common/CO28).
        ("Musterfrau-Gößinger", "MUSTERFRAU<GOESSINGER"),
        ("Lövström", "LOEVSTROEM"),
    ],
)
def test_icao_9303_transliteration(name: str, expected: str):
    assert icao_transliterate(name) == expected


def test_a_name_with_no_transliteration_is_refused():
    with pytest.raises(CourrierError) as raised:
        icao_transliterate("李")
    assert raised.value.code == "dcc_bad_name"


@given(st.text(max_size=120))
def test_any_name_gives_the_machine_readable_form_or_a_coded_refusal(name: str):
    try:
        written = icao_transliterate(name)
    except CourrierError as error:
        refusal = error.code
        written = ""
    else:
        refusal = "dcc_bad_name"
    assert refusal == "dcc_bad_name"
    assert re.fullmatch(r"([A-Z]+(<[A-Z]+)*)?", written), written
    assert len(written) <= 80
