"""The citizen's pages without JavaScript: code form, booking steps, dose 2, move, cancel, refusals."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from courrier.codes.format import format_code, random_codes
from courrier.db.schema import bookings, slots

from .pages import answer_questions, book_through_forms, enter_code, form_token, link

LANGUAGES = ("fr", "de", "en", "pt", "lb")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_whole_flow_through_forms_dose_1_dose_2_move_cancel(client: TestClient, make_world, engine, lang):
    world = make_world()
    entered = enter_code(client, format_code(world.codes[0][1]).lower(), lang=lang)
    assert entered.status_code == 303, entered.text
    assert entered.headers["location"] == "/book/1"
    cookie = entered.headers["set-cookie"]
    assert "courrier_citizen=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie.replace("Lax", "lax")

    booked = book_through_forms(client, "/book/1", "LUX-VH")
    assert booked.status_code == 303, booked.text
    confirmation = client.get(booked.headers["location"])
    assert confirmation.status_code == 200
    assert f'<html lang="{lang}">' in confirmation.text
    reference = re.search(r'id="booking-reference">([^<]+)<', confirmation.text)
    assert reference

    # Dose 2 is offered straight away, at the same centre, inside its window.
    dose2 = book_through_forms(client, link(confirmation.text, "book-dose-2"), "LUX-VH")
    assert dose2.status_code == 303, dose2.text
    dose2_page = client.get(dose2.headers["location"]).text
    dose2_id = int(dose2.headers["location"].rsplit("/", 1)[1])

    moved = book_through_forms(client, link(dose2_page, "move-booking"), "ESCH-HALL")
    assert moved.status_code == 303, moved.text
    assert client.get(moved.headers["location"]).status_code == 200

    first_id = int(booked.headers["location"].rsplit("/", 1)[1])
    cancel_page = client.get(f"/bookings/{first_id}/cancel")
    cancelled = client.post(
        f"/bookings/{first_id}/cancel",
        data={"csrf_token": form_token(cancel_page.text)},
        follow_redirects=False,
    )
    assert cancelled.status_code == 303
    with engine.connect() as connection:
        rows = connection.execute(select(bookings.c.id, bookings.c.state, bookings.c.slot_id)).all()
        assert {row.id: row.state for row in rows} == {first_id: "cancelled", dose2_id: "cancelled"}
        assert connection.execute(select(slots.c.taken).where(slots.c.taken > 0)).all() == []
    overview = client.get("/bookings")
    assert overview.status_code == 200
    assert 'id="book-dose-1"' in overview.text


def test_the_letters_qr_link_fills_the_code_in(client: TestClient, make_world):
    world = make_world()
    code = world.codes[0][1]
    page = client.get(f"/c/{code.lower()}")
    assert page.status_code == 200
    assert f'value="{format_code(code)}"' in page.text
    # The link alone opens no session.
    assert "courrier_citizen" not in page.headers.get("set-cookie", "")


@pytest.mark.parametrize(
    ("lang", "word"),
    [("fr", "groupe 2"), ("de", "Gruppe 2"), ("en", "group 2"), ("pt", "grupo 2"), ("lb", "Grupp 2")],
)
def test_a_mistyped_code_is_refused_in_the_persons_language_naming_the_group(
    client: TestClient, make_world, lang, word
):
    world = make_world()
    code = world.codes[0][1]
    typo = code[:5] + ("2" if code[5] != "2" else "3") + code[6:]
    answer = enter_code(client, typo, lang=lang)
    assert answer.status_code == 422
    assert f'<html lang="{lang}">' in answer.text
    assert 'aria-describedby="code-hint code-error"' in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert word in answer.text
    assert f'value="{typo}"' in answer.text


def test_refusals_say_why_and_are_tied_to_the_field(client: TestClient, make_world, engine):
    world = make_world()
    code = world.codes[0][1]
    short = enter_code(client, code[:-3], lang="en")
    assert short.status_code == 422
    assert "wrong length" in short.text
    assert 'id="code-error"' in short.text
    empty = enter_code(client, "   ", lang="de")
    assert empty.status_code == 422
    assert "Geben Sie den Code ein" in empty.text
    unknown = enter_code(client, random_codes(1)[0], lang="fr")
    assert unknown.status_code == 404
    assert "jamais été émis" in unknown.text


def test_a_full_slot_is_refused_on_the_time_page(client: TestClient, make_world, engine):
    world = make_world(2)
    enter_code(client, world.codes[0][1])
    page = client.get("/book/1/time", params={"centre": "LUX-VH", "day": "2021-01-25"})
    slot = re.search(r'name="slot" id="slot-(\d+)"', page.text)
    assert slot
    with engine.begin() as connection:
        connection.execute(
            slots.update().where(slots.c.id == int(slot.group(1))).values(taken=slots.c.capacity)
        )
    answer = client.post(
        "/book/1",
        data={
            "slot": slot.group(1),
            "csrf_token": form_token(page.text),
            "centre": "LUX-VH",
            "day": "2021-01-25",
        },
    )
    assert answer.status_code == 409
    assert 'id="slot-error"' in answer.text
    assert 'aria-describedby="slot-error"' in answer.text
    assert f'id="slot-{slot.group(1)}"' not in answer.text
    nothing = client.post(
        "/book/1", data={"csrf_token": form_token(page.text), "centre": "LUX-VH", "day": "2021-01-25"}
    )
    assert nothing.status_code == 422
    assert 'id="slot-error"' in nothing.text


def test_a_form_posted_without_its_token_is_refused(client: TestClient, make_world, engine):
    world = make_world()
    code = world.codes[0][1]
    client.get("/")
    assert client.post("/code", data={"code": code}).status_code == 403
    assert client.post("/code", data={"code": code, "csrf_token": "forged"}).status_code == 403
    assert "courrier_citizen" not in client.cookies
    enter_code(client, code)
    page = client.get("/book/1/time", params={"centre": "LUX-VH", "day": "2021-01-25"})
    slot = re.search(r'name="slot" id="slot-(\d+)"', page.text)
    assert slot
    refused = client.post("/book/1", data={"slot": slot.group(1), "centre": "LUX-VH", "day": "2021-01-25"})
    assert refused.status_code == 403
    assert 'data-code="bad_form_token"' in refused.text
    # Another session's token does not do either.
    other = TestClient(client.app, base_url="http://testserver")
    enter_code(other, world.codes[1][1])
    other_page = other.get("/book/1/time", params={"centre": "LUX-VH", "day": "2021-01-25"})
    stolen = client.post("/book/1", data={"slot": slot.group(1), "csrf_token": form_token(other_page.text)})
    assert stolen.status_code == 403
    with engine.connect() as connection:
        assert connection.execute(select(bookings.c.id)).all() == []


def test_pages_need_a_live_session(client: TestClient, make_world, clock):
    world = make_world()
    for path in ("/bookings", "/book/1", "/book/1/centre", "/book/1/day?centre=LUX-VH", "/bookings/1"):
        answer = client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"] == "/", path
    enter_code(client, world.codes[0][1])
    assert client.get("/bookings").status_code == 200
    clock.now += dt.timedelta(minutes=31)
    ended = client.get("/bookings", follow_redirects=False)
    assert ended.headers["location"] == "/?ended=1"
    assert 'id="session-ended"' in client.get("/?ended=1").text


def test_a_citizen_sees_only_their_own_bookings(client: TestClient, make_world):
    world = make_world(2)
    enter_code(client, world.codes[0][1])
    booked = book_through_forms(client, "/book/1", "LUX-VH")
    booking_id = booked.headers["location"].rsplit("/", 1)[1]
    other = TestClient(client.app, base_url="http://testserver")
    enter_code(other, world.codes[1][1])
    assert other.get(f"/bookings/{booking_id}").status_code == 404
    assert other.get(f"/bookings/{booking_id}/cancel").status_code == 404


def test_the_language_choice_sticks_and_beats_the_register_language(client: TestClient, make_world):
    world = make_world()
    enter_code(client, world.codes[0][1])
    assert '<html lang="fr">' in client.get("/bookings").text  # the register language
    assert '<html lang="pt">' in client.get("/bookings?lang=pt").text
    assert '<html lang="pt">' in client.get("/bookings").text  # kept in the lang cookie
    page = client.get("/bookings").text
    assert 'href="/bookings?lang=de"' in page
    assert 'id="lang-lb"' in page


QUESTIONS = """
[[questions]]
id = "allergy"
doctor = ["yes"]
text = { fr = "Allergie grave ?", de = "Schwere Allergie?" }

[[questions]]
id = "arm"
text = { fr = "Quel bras ?", de = "Welcher Arm?" }
answers = [
    { id = "left", text = { fr = "Gauche", de = "Links" } },
    { id = "right", text = { fr = "Droit", de = "Rechts" } },
]
"""


def test_the_health_questions_come_first_at_every_dose_and_their_answers_are_stored(
    client: TestClient, make_world, engine
):
    world = make_world(campaign_extra=QUESTIONS)
    enter_code(client, world.codes[0][1])
    # No step past the questions before they are answered.
    skipped = client.get("/book/1/time?centre=LUX-VH&day=2021-01-25", follow_redirects=False)
    assert skipped.headers["location"] == "/book/1/questions?centre=LUX-VH"
    page = client.get("/book/1")
    assert 'id="questions-form"' in page.text
    assert "Allergie grave ?" in page.text
    assert 'id="q-arm-left"' in page.text
    booked = book_through_forms(client, "/book/1", "LUX-VH")
    assert booked.status_code == 303, booked.text
    with engine.connect() as connection:
        stored = connection.execute(select(bookings.c.answers)).scalar_one()
    assert stored == '{"allergy": "no", "arm": "left"}'
    # Dose 2, offered at the same centre, asks them again, then goes to that centre's days.
    confirmation = client.get(booked.headers["location"]).text
    questions = client.get(link(confirmation, "book-dose-2"))
    assert 'id="questions-form"' in questions.text
    days = answer_questions(client, questions.text)
    assert 'id="day-form"' in days.text
    assert 'id="dose-window"' in days.text


def test_an_answer_that_calls_for_the_doctor_books_nothing(client: TestClient, make_world, engine):
    world = make_world(campaign_extra=QUESTIONS)
    enter_code(client, world.codes[0][1], lang="de")
    page = client.get("/book/1/questions")
    unanswered = client.post("/book/1/questions", data={"csrf_token": form_token(page.text), "q-arm": "left"})
    assert unanswered.status_code == 422
    assert 'aria-describedby="q-allergy-error"' in unanswered.text
    assert 'id="q-arm-error"' not in unanswered.text
    doctor = answer_questions(client, page.text, choose="yes")
    assert doctor.status_code == 200
    assert 'id="see-doctor"' in doctor.text
    assert "Arzt" in doctor.text
    refused = client.get("/book/1/centre", follow_redirects=False)
    assert refused.headers["location"] == "/book/1/questions"
    with engine.connect() as connection:
        assert connection.execute(select(bookings.c.id)).all() == []


def test_centres_nearest_the_persons_commune_come_first(client: TestClient, make_world, engine):
    world = make_world()
    from courrier.db.schema import persons

    with engine.begin() as connection:
        connection.execute(persons.update().values(commune="Ettelbruck"))
    enter_code(client, world.codes[0][1], lang="en")
    page = client.get("/book/1/centre").text
    order = re.findall(r'name="centre" id="centre-([A-Z-]+)"', page)
    assert order[0] == "ETT-NORD"
    assert len(order) == 5
    assert "km from your commune" in page
    # The centre in one's own commune is not "about 0 km" away.
    nearest = re.search(r'id="centre-ETT-NORD-address" class="hint">([^<]+)<', page)
    assert nearest
    assert "in or next to your commune" in nearest.group(1)
    assert "about 0 km" not in page


def test_the_confirmation_pdf_is_downloaded_from_the_booking_page(client: TestClient, make_world):
    world = make_world()
    enter_code(client, world.codes[0][1])
    booked = book_through_forms(client, "/book/1", "LUX-VH")
    page = client.get(booked.headers["location"]).text
    pdf = client.get(link(page, "confirmation-pdf"))
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert "attachment" in pdf.headers["content-disposition"]


@pytest.mark.parametrize(
    ("lang", "says"),
    [
        ("fr", "Ce code a expiré"),
        ("de", "abgelaufen"),
        ("en", "expired"),
        ("pt", "expirou"),
        ("lb", "ofgelaf"),
    ],
)
def test_an_expired_code_is_explained_in_the_persons_language(
    client: TestClient, make_world, engine, lang, says
):
    world = make_world()
    from courrier.db.schema import codes

    with engine.begin() as connection:
        connection.execute(codes.update().values(valid_until=dt.date(2021, 1, 19)))
    answer = enter_code(client, world.codes[0][1], lang=lang)
    assert answer.status_code in (403, 409)
    assert says in answer.text
    assert 'id="code-error"' in answer.text
    assert "courrier_citizen" not in answer.headers.get("set-cookie", "")


def test_code_entry_through_the_form_is_throttled(client: TestClient, make_world):
    world = make_world()
    code = world.codes[0][1]
    wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
    answers = [enter_code(client, wrong, lang="en").status_code for _ in range(6)]
    assert answers[-1] == 429
    blocked = enter_code(client, wrong, lang="en")
    assert int(blocked.headers["retry-after"]) > 0
    assert "Too many attempts" in blocked.text
    assert 'id="code-error"' in blocked.text


def _cancel_through_form(client: TestClient, booking_id: int) -> str:
    page = client.get(f"/bookings/{booking_id}/cancel")
    cancelled = client.post(
        f"/bookings/{booking_id}/cancel", data={"csrf_token": form_token(page.text)}, follow_redirects=False
    )
    assert cancelled.status_code == 303, cancelled.text
    return client.get(cancelled.headers["location"]).text


DOSE2_GOES_TOO = "An appointment for the second dose is cancelled with it."


def test_the_booked_page_shows_its_reference_once(client: TestClient, make_world):
    world = make_world()
    enter_code(client, format_code(world.codes[0][1]), lang="en")
    booked = book_through_forms(client, "/book/1", "LUX-VH")
    page = client.get(booked.headers["location"]).text
    reference = re.search(r'id="booking-reference">([^<]+)<', page)
    assert reference
    assert page.count(reference.group(1)) == 1


def test_cancelling_dose_1_mentions_dose_2_only_when_one_was_booked(client: TestClient, make_world):
    world = make_world()
    enter_code(client, format_code(world.codes[0][1]), lang="en")
    alone = book_through_forms(client, "/book/1", "LUX-VH")
    page = _cancel_through_form(client, int(alone.headers["location"].rsplit("/", 1)[1]))
    assert 'id="cancelled-notice"' in page
    assert DOSE2_GOES_TOO not in page

    enter_code(client, format_code(world.codes[1][1]), lang="en")
    first = book_through_forms(client, "/book/1", "LUX-VH")
    confirmation = client.get(first.headers["location"]).text
    second = book_through_forms(client, link(confirmation, "book-dose-2"), "LUX-VH")
    assert second.status_code == 303, second.text
    page = _cancel_through_form(client, int(first.headers["location"].rsplit("/", 1)[1]))
    assert DOSE2_GOES_TOO in page


def test_an_unknown_booking_page_keeps_the_way_back_to_ones_appointments(client: TestClient, make_world):
    world = make_world()
    enter_code(client, format_code(world.codes[0][1]), lang="en")
    page = client.get("/bookings/987654")
    assert page.status_code == 404
    assert 'id="error-message"' in page.text
    assert 'id="my-bookings" href="/bookings"' in page.text
    # Someone without a session gets no such bar.
    client.cookies.clear()
    assert 'id="my-bookings"' not in client.get("/bookings/987654").text


def test_an_error_page_keeps_the_citizens_leave_button_and_it_signs_out(
    client: TestClient, make_world, clock
):
    world = make_world()
    enter_code(client, format_code(world.codes[0][1]), lang="en")
    for page in (
        client.get("/bookings/987654"),  # a library error (unknown_booking)
        client.post("/leave", data={"csrf_token": "not this session's"}),  # a form token refused
    ):
        assert page.status_code in (403, 404)
        assert 'id="error-message"' in page.text
        assert 'id="leave-form" method="post" action="/leave"' in page.text
    leave = client.post("/leave", data={"csrf_token": form_token(page.text)}, follow_redirects=False)
    assert leave.status_code == 303
    assert leave.headers["location"] == "/"
    assert "courrier_citizen=" in leave.headers["set-cookie"]
    assert client.get("/bookings", follow_redirects=False).headers["location"] == "/"
    # A session that has ended gets neither the bar nor the button.
    enter_code(client, format_code(world.codes[0][1]), lang="en")
    assert 'id="leave-form"' in client.post("/code", data={}).text
    clock.now += dt.timedelta(minutes=31)
    ended = client.post("/code", data={})
    assert ended.status_code == 403
    assert 'data-code="bad_form_token"' in ended.text
    assert 'id="leave-form"' not in ended.text
    assert 'id="my-bookings"' not in ended.text
