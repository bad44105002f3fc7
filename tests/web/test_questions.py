"""Health questions from the campaign file, judged in the booking; centres nearest the person first."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from courrier.booking.nearest import distance_km, order_by_distance
from courrier.booking.questions import judge_answers, questions_in
from courrier.campaigns.definition import parse_definition, read_definition
from courrier.centres.centres_file import read_centres
from courrier.db.schema import bookings, persons
from courrier.errors import ConflictError, CourrierError
from courrier.languages import LANGUAGES
from courrier.register.communes import communes

from ..campaigns.conftest import CAMPAIGN
from .conftest import CENTRES_FILE, bearer, citizen_token, first_slot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "campaigns"
QUESTIONS = """
[[questions]]
id = "allergy"
doctor = ["yes"]
text = { fr = "Allergie grave ?", de = "Schwere Allergie?", en = "Severe allergy?" }

[[questions]]
id = "arm"
text = { fr = "Quel bras ?", de = "Welcher Arm?" }
answers = [
    { id = "left", text = { fr = "Gauche", de = "Links" } },
    { id = "right", text = { fr = "Droit", de = "Rechts" } },
]
"""


def test_the_example_vaccination_campaigns_ask_their_questions_in_five_languages():
    for path in sorted(EXAMPLES.glob("vaccination-*.toml")):
        questions = read_definition(path).questions
        assert [question.id for question in questions] == ["allergy", "unwell", "anticoagulant"], path
        for language in LANGUAGES:
            shown = questions_in(questions, language)
            assert all(
                question["text"] == q.text[language] for question, q in zip(shown, questions, strict=True)
            )
            assert [answer["id"] for answer in shown[0]["answers"]] == ["yes", "no"]
        assert [answer.doctor for answer in questions[2].answers] == [False, False]


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (QUESTIONS.replace('doctor = ["yes"]', 'doctor = ["perhaps"]'), "doctor: 'perhaps'"),
        (QUESTIONS.replace(', de = "Schwere Allergie?"', ""), "missing 'de'"),
        (QUESTIONS.replace('id = "arm"', 'id = "allergy"'), "used twice"),
        (QUESTIONS.replace('id = "arm"', 'id = "Arm!"'), "id: lower-case"),
        (QUESTIONS.replace("doctor =", "doktor ="), "unknown key 'doktor'"),
    ],
)
def test_a_wrong_question_in_the_campaign_file_is_refused_naming_it(broken, says):
    with pytest.raises(CourrierError) as raised:
        parse_definition(CAMPAIGN + broken)
    assert raised.value.code == "bad_campaign_file"
    assert says in str(raised.value)


def test_answers_are_judged_and_the_doctor_answer_refuses():
    questions = parse_definition(CAMPAIGN + QUESTIONS).questions
    assert judge_answers(questions, {"arm": "left", "allergy": "no"}) == {"allergy": "no", "arm": "left"}
    for answers, code in [
        ({"allergy": "yes", "arm": "left"}, "see_your_doctor"),
        ({"allergy": "no"}, "answer_missing"),
        ({"allergy": "no", "arm": "middle"}, "unknown_answer"),
        ({"allergy": "no", "arm": "left", "other": "x"}, "unknown_answer"),
    ]:
        with pytest.raises(ConflictError) as raised:
            judge_answers(questions, answers)
        assert raised.value.code == code, answers
    # A language the campaign does not write in falls back to French.
    assert questions_in(questions, "pt")[1]["text"] == "Quel bras ?"


def test_the_api_shows_the_questions_and_a_booking_is_judged_and_keeps_its_answers(
    client: TestClient, make_world, engine
):
    world = make_world(campaign_extra=QUESTIONS)
    token = citizen_token(client, world.codes[0][1])
    shown = client.get("/api/v1/questions?lang=de", headers=bearer(token)).json()
    assert shown["language"] == "de"
    assert [q["text"] for q in shown["questions"]] == ["Schwere Allergie?", "Welcher Arm?"]
    assert "doctor" not in json.dumps(shown)
    anonymous = client.get("/api/v1/questions", params={"campaign": world.campaign}).json()
    assert anonymous["questions"][0]["text"] == "Allergie grave ?"

    slot = first_slot(engine, world.campaign_id)
    for answers, status, code in [
        ({"allergy": "yes", "arm": "left"}, 409, "see_your_doctor"),
        ({"allergy": "no"}, 422, "answer_missing"),
        ({}, 422, "answer_missing"),
    ]:
        refused = client.post(
            "/api/v1/bookings?lang=pt",
            json={"slot": slot, "dose": 1, "answers": answers},
            headers=bearer(token),
        )
        assert refused.status_code == status, refused.text
        assert refused.json()["error"]["code"] == code
        assert refused.json()["error"]["question"] in ("allergy", "arm")
    assert (
        "médico"
        in client.post(
            "/api/v1/bookings?lang=pt",
            json={"slot": slot, "dose": 1, "answers": {"allergy": "yes", "arm": "left"}},
            headers=bearer(token),
        ).json()["error"]["message"]
    )
    with engine.connect() as connection:
        assert connection.execute(select(bookings.c.id)).first() is None  # nothing booked, no place taken
    booked = client.post(
        "/api/v1/bookings",
        json={"slot": slot, "dose": 1, "answers": {"arm": "right", "allergy": "no"}},
        headers=bearer(token),
    )
    assert booked.status_code == 201, booked.text
    with engine.connect() as connection:
        stored = connection.execute(select(bookings.c.answers)).scalar_one()
    assert json.loads(stored) == {"allergy": "no", "arm": "right"}


def test_a_campaign_without_questions_books_without_answers(client: TestClient, make_world, engine):
    world = make_world()
    token = citizen_token(client, world.codes[0][1])
    assert client.get("/api/v1/questions", headers=bearer(token)).json()["questions"] == []
    slot = first_slot(engine, world.campaign_id)
    assert client.post("/api/v1/bookings", json={"slot": slot}, headers=bearer(token)).status_code == 201


def test_every_commune_has_a_place_in_luxembourg_and_distances_are_sane():
    for commune in communes():
        assert 49.44 <= commune.latitude <= 50.19, commune.name
        assert 5.73 <= commune.longitude <= 6.53, commune.name
    assert distance_km("Luxembourg", "Luxembourg") == 0
    assert 13 < (distance_km("Luxembourg", "Esch-sur-Alzette") or 0) < 17
    assert 45 < (distance_km("Troisvierges", "Schengen") or 0) < 80
    assert distance_km("Luxembourg", "Trier") is None


def test_centres_are_ordered_nearest_to_the_commune_first():
    centres = read_centres(CENTRES_FILE)

    def order(commune: str) -> list[str]:
        return [near.centre.commune for near in order_by_distance(centres, commune)]

    assert order("Dudelange")[0] == "Esch-sur-Alzette"
    assert order("Wiltz")[0] == "Ettelbruck"
    assert order("Remich")[0] in ("Luxembourg", "Grevenmacher")
    assert order("Mondorf-les-Bains")[:1] != ["Ettelbruck"]
    # Unknown commune (an address abroad): the centres in id order, no distance.
    abroad = order_by_distance(centres, "")
    assert [near.centre.id for near in abroad] == sorted(centre.id for centre in centres)
    assert all(near.distance_km is None for near in abroad)


def test_the_api_orders_centres_for_a_citizen_session(client: TestClient, make_world, engine):
    world = make_world()
    with engine.begin() as connection:
        connection.execute(persons.update().values(commune="Wiltz", postcode="L-9501"))
    token = citizen_token(client, world.codes[0][1])
    ordered = client.get("/api/v1/centres", headers=bearer(token)).json()["centres"]
    assert ordered[0]["commune"] == "Ettelbruck"
    distances = [centre["distance_km"] for centre in ordered]
    assert distances == sorted(distances)
    anonymous = client.get("/api/v1/centres").json()["centres"]
    assert "distance_km" not in anonymous[0]
    assert len(anonymous) == len(ordered)


def test_questions_come_in_the_person_s_language_and_the_helpline_reads_them_by_campaign(
    client: TestClient, make_world, engine, staff_tokens
):
    world = make_world(campaign_extra=QUESTIONS)
    with engine.begin() as connection:
        connection.execute(persons.update().values(language="de"))
    token = citizen_token(client, world.codes[0][1])
    shown = client.get("/api/v1/questions", headers=bearer(token)).json()
    assert shown["language"] == "de"
    assert shown["questions"][0]["text"] == "Schwere Allergie?"
    helpline = client.get(
        "/api/v1/questions", params={"campaign": world.campaign}, headers=bearer(staff_tokens["helpline"])
    )
    assert helpline.status_code == 200, helpline.text
    assert [question["id"] for question in helpline.json()["questions"]] == ["allergy", "arm"]
