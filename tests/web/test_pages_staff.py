"""Staff pages: sign-in and sign-out, the helpline's pages for a caller (audited), and who may see which
page: anonymous, citizen, each staff role."""

from __future__ import annotations

import html
import re

import pytest
from fastapi.testclient import TestClient

from courrier.accounts.audit import list_audit
from courrier.accounts.roles import ROLES
from courrier.catalogue import message
from courrier.codes.format import format_code
from courrier.errors import ConflictError

from .conftest import PASSWORD
from .pages import answer_questions, book_through_forms, enter_code, form_token, link

STAFF_COOKIE = "courrier_staff"


def signed_in(client: TestClient, token: str) -> TestClient:
    client.cookies.set(STAFF_COOKIE, token)
    return client


def test_sign_in_and_out_through_the_forms(client: TestClient, staff_tokens):
    page = client.get("/staff/sign-in?lang=de")
    assert page.status_code == 200
    assert 'id="sign-in-form"' in page.text
    wrong = client.post(
        "/staff/sign-in",
        data={"username": "helpline1", "password": "not the password", "csrf_token": form_token(page.text)},
    )
    assert wrong.status_code == 401
    assert 'id="sign-in-error"' in wrong.text
    assert 'aria-describedby="sign-in-error"' in wrong.text
    assert "Passwort falsch" in wrong.text
    answer = client.post(
        "/staff/sign-in",
        data={"username": "helpline1", "password": PASSWORD, "csrf_token": form_token(wrong.text)},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/staff"
    cookie = answer.headers["set-cookie"]
    assert f"{STAFF_COOKIE}=" in cookie
    assert "HttpOnly" in cookie
    home = client.get("/staff")
    assert 'id="staff-role">Hotline<' in home.text  # the role by its German name, not its id
    assert 'id="helpline-link"' in home.text
    assert client.post("/staff/sign-out", data={}).status_code == 403
    out = client.post("/staff/sign-out", data={"csrf_token": form_token(home.text)}, follow_redirects=False)
    assert out.status_code == 303
    client.cookies.set(STAFF_COOKIE, re.search(rf"{STAFF_COOKIE}=([^;]+)", cookie).group(1))  # type: ignore[union-attr]
    # The session is over on the server, even with the old cookie.
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/staff/sign-in"


def test_sign_in_needs_its_form_token_and_is_throttled(client: TestClient, staff_tokens):
    client.get("/staff/sign-in")
    refused = client.post("/staff/sign-in", data={"username": "helpline1", "password": PASSWORD})
    assert refused.status_code == 403
    page = client.get("/staff/sign-in")
    for _ in range(10):
        client.post(
            "/staff/sign-in",
            data={"username": "nobody", "password": "wrong password!", "csrf_token": form_token(page.text)},
        )
    blocked = client.post(
        "/staff/sign-in",
        data={"username": "nobody", "password": "wrong password!", "csrf_token": form_token(page.text)},
    )
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
    assert 'id="sign-in-error"' in blocked.text


@pytest.mark.parametrize("lang", ["fr", "lb"])
def test_the_helpline_finds_a_caller_and_books_moves_cancels_for_them_audited(
    client: TestClient, make_world, engine, staff_tokens, lang
):
    world = make_world()
    signed_in(client, staff_tokens["helpline"])
    find = client.get(f"/helpline?lang={lang}")
    assert find.status_code == 200
    assert f'<html lang="{lang}">' in find.text
    typo = world.codes[0][1][:5] + ("2" if world.codes[0][1][5] != "2" else "3") + world.codes[0][1][6:]
    refused = client.post("/helpline/callers", data={"code": typo, "csrf_token": form_token(find.text)})
    assert refused.status_code == 422
    assert 'aria-describedby="caller-code-hint caller-code-error"' in refused.text
    found = client.post(
        "/helpline/callers",
        data={"code": format_code(world.codes[0][1]).lower(), "csrf_token": form_token(find.text)},
        follow_redirects=False,
    )
    assert found.status_code == 303
    caller = found.headers["location"]
    assert re.fullmatch(r"/helpline/callers/\d+-[\w-]+", caller)
    page = client.get(caller)
    assert 'id="caller"' in page.text
    booked = book_through_forms(client, link(page.text, "book-dose-1"), "LUX-VH")
    assert booked.status_code == 303, booked.text
    assert booked.headers["location"].startswith(caller + "/bookings/")
    confirmation = client.get(booked.headers["location"]).text
    pdf = client.get(link(confirmation, "confirmation-pdf"))
    assert pdf.content.startswith(b"%PDF-")
    moved = book_through_forms(client, link(confirmation, "move-booking"), "MERSCH")
    assert moved.status_code == 303, moved.text
    cancel = client.get(link(client.get(moved.headers["location"]).text, "cancel-booking"))
    action = re.search(r'id="cancel-form" method="post" action="([^"]*)"', cancel.text)
    assert action
    assert client.post(action.group(1), data={}).status_code == 403
    done = client.post(action.group(1), data={"csrf_token": form_token(cancel.text)}, follow_redirects=False)
    assert done.status_code == 303
    with engine.connect() as connection:
        actions = [entry.action for entry in reversed(list_audit(connection, username="helpline1"))]
    assert actions[0] == "code.viewed"
    for action_name in ("booking.created", "confirmation.printed", "booking.moved", "booking.cancelled"):
        assert action_name in actions
    with engine.connect() as connection:
        subjects = {entry.subject for entry in list_audit(connection, username="helpline1")}
    assert subjects == {f"code:{world.codes[0][0]}"}


def test_a_callers_pages_need_the_session_that_found_them(client: TestClient, make_world, staff_tokens):
    world = make_world()
    signed_in(client, staff_tokens["helpline"])
    find = client.get("/helpline")
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(find.text)},
        follow_redirects=False,
    ).headers["location"]
    other = signed_in(TestClient(client.app, base_url="http://testserver"), staff_tokens["admin"])
    assert other.get(caller, follow_redirects=False).headers["location"] == "/helpline"
    code_id = caller.rsplit("/", 1)[1].split("-")[0]
    assert (
        client.get(f"/helpline/callers/{code_id}", follow_redirects=False).headers["location"] == "/helpline"
    )
    assert client.get(f"/helpline/callers/{int(code_id) + 1}-x", follow_redirects=False).status_code == 303


STAFF_PAGES = ["/staff"]
HELPLINE_PAGES = ["/helpline"]
CITIZEN_PAGES = ["/bookings", "/book/1/centre"]


def test_who_may_see_which_page(client: TestClient, make_world, staff_tokens):
    world = make_world()
    public = ["/", f"/c/{world.codes[0][1]}", "/staff/sign-in"]
    # Anonymous: the public pages; citizen pages send to the code form, staff pages to sign-in.
    for path in public:
        assert client.get(path).status_code == 200, path
    for path in CITIZEN_PAGES:
        assert client.get(path, follow_redirects=False).headers["location"] == "/", path
    for path in STAFF_PAGES + HELPLINE_PAGES:
        assert client.get(path, follow_redirects=False).headers["location"] == "/staff/sign-in", path
    # A citizen: their pages, not the staff's.
    citizen = TestClient(client.app, base_url="http://testserver")
    enter_code(citizen, world.codes[0][1])
    for path in CITIZEN_PAGES:
        assert citizen.get(path).status_code == 200, path
    for path in STAFF_PAGES + HELPLINE_PAGES:
        assert citizen.get(path, follow_redirects=False).headers["location"] == "/staff/sign-in", path
    # Each staff role: the staff home; the helpline's pages for helpline and admin only; no citizen page.
    for role in ROLES:
        staff = signed_in(TestClient(client.app, base_url="http://testserver"), staff_tokens[role])
        assert staff.get("/staff").status_code == 200, role
        assert staff.get("/staff/sign-in", follow_redirects=False).headers["location"] == "/staff", role
        for path in HELPLINE_PAGES:
            answer = staff.get(path)
            if role in ("helpline", "admin"):
                assert answer.status_code == 200, (role, path)
            else:
                assert answer.status_code == 403, (role, path)
                assert 'data-code="forbidden"' in answer.text
        # Without the form token (helpline, admin) or the role (the others): refused either way.
        refused = staff.post("/helpline/callers", data={"code": world.codes[0][1]})
        assert refused.status_code == 403, role
        for path in CITIZEN_PAGES:
            assert staff.get(path, follow_redirects=False).headers["location"] == "/", (role, path)


def test_staff_pages_carry_the_staff_footer_not_the_citizens(client: TestClient, staff_tokens):
    citizen_footer = "Call the helpline"
    assert citizen_footer in client.get("/?lang=en").text
    sign_in = client.get("/staff/sign-in?lang=en").text
    assert citizen_footer not in sign_in
    assert 'id="staff-link"' not in sign_in
    home = signed_in(client, staff_tokens["helpline"]).get("/staff?lang=en").text
    assert citizen_footer not in home
    assert 'id="staff-footer"' in home


@pytest.mark.parametrize("lang", ["fr", "de", "en", "pt", "lb"])
def test_the_helpline_form_speaks_to_staff_about_the_callers_letter(
    client: TestClient, make_world, staff_tokens, lang
):
    from html import unescape

    from courrier.web.pages.translations import translations

    world = make_world()
    gettext = translations(lang).gettext
    citizens_hint = gettext(
        "As printed on your letter, for example ABCD-EFGH-JKMN-PP. Capitals and dashes do not matter."
    )
    staff_hint = gettext(
        "As printed on the caller's letter, for example ABCD-EFGH-JKMN-PP. Capitals and dashes do not matter."
    )
    assert staff_hint != citizens_hint
    signed_in(client, staff_tokens["helpline"])
    find = client.get(f"/helpline?lang={lang}").text
    assert staff_hint in unescape(find)
    assert citizens_hint not in unescape(find)
    typo = world.codes[0][1][:5] + ("2" if world.codes[0][1][5] != "2" else "3") + world.codes[0][1][6:]
    refused = unescape(
        client.post("/helpline/callers", data={"code": typo, "csrf_token": form_token(find)}).text
    )
    citizens_group = gettext(
        "The check character shows that the mistake is in group %(group)s of your code (counting the groups"
        " of four characters from the left)."
    ) % {"group": 2}
    staff_group = gettext(
        "The check character shows that the mistake is in group %(group)s of the caller's code (counting the"
        " groups of four characters from the left)."
    ) % {"group": 2}
    assert staff_group in refused
    assert citizens_group not in refused


def test_a_staff_error_page_keeps_the_staff_bar_with_sign_out(client: TestClient, make_world, staff_tokens):
    make_world()
    # The centre's pages too: a helpline account on the reception desk's page.
    signed_in(client, staff_tokens["helpline"])
    for path in ("/reception?lang=en", "/physician?lang=en"):
        other = client.get(path)
        assert other.status_code == 403, path
        assert 'id="sign-out-form"' in other.text, path
    signed_in(client, staff_tokens["reception"])
    forbidden = client.get("/helpline?lang=en")
    assert forbidden.status_code == 403
    assert 'data-code="forbidden"' in forbidden.text
    assert 'id="sign-out-form"' in forbidden.text
    assert 'id="staff-footer"' in forbidden.text
    out = client.post(
        "/staff/sign-out", data={"csrf_token": form_token(forbidden.text)}, follow_redirects=False
    )
    assert out.status_code == 303
    assert client.get("/staff", follow_redirects=False).headers["location"] == "/staff/sign-in"


def test_the_caller_page_names_the_callers_language(client: TestClient, make_world, staff_tokens):
    world = make_world()
    signed_in(client, staff_tokens["helpline"])
    find = client.get("/helpline?lang=en").text
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(find)},
        follow_redirects=False,
    ).headers["location"]
    page = client.get(caller).text
    assert "<dd>Français</dd>" in page  # the world's people speak French: its name, not "fr"


def test_the_helpline_centre_step_gives_the_distance_from_the_callers_commune(
    client: TestClient, make_world, staff_tokens
):
    world = make_world()
    signed_in(client, staff_tokens["helpline"])
    find = client.get("/helpline?lang=en").text
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(find)},
        follow_redirects=False,
    ).headers["location"]
    page = client.get(f"{caller}/book/1/centre", follow_redirects=True).text
    if 'id="questions-form"' in page:
        from .pages import answer_questions

        page = answer_questions(client, page).text
    assert 'id="centre-form"' in page
    assert "the caller&#39;s commune" in page or "the caller's commune" in page
    assert "your commune" not in page


# What the citizen's own pages say to them, and what the same pages say to the helpline about the caller.
CITIZEN_WORDS = (
    "Your answers help the centre prepare. Some answers mean you should see your doctor first.",
    "Please see your doctor first",
    "From your answers, your doctor should advise you before you are vaccinated.",
    "Change my answers",
    "Your appointment for dose %(dose)s is booked",
    "this confirmation, printed or on your phone;",
    "your social-security card.",
    "Book your second dose now",
    "Your second dose can be given from %(earliest)s to %(latest)s.",
    "Moving your appointment for dose %(dose)s",
)
STAFF_WORDS = {
    "questions": (
        "The caller's answers help the centre prepare."
        " Some answers mean the caller should see their doctor first.",
    ),
    "doctor": ("The caller should see their doctor first", "Change the caller's answers"),
    "booked": (
        "The caller's appointment for dose %(dose)s is booked",
        "What the caller should bring",
        "the confirmation, printed or on their phone: send it to the caller or read them its reference;",
        "their social-security card.",
        "Book the caller's second dose now",
        "The caller's second dose can be given from %(earliest)s to %(latest)s.",
    ),
    "dose2_day": ("The caller's second dose can be given from %(earliest)s to %(latest)s.",),
    "move": ("Moving the caller's appointment for dose %(dose)s",),
}


def _shown(lang: str, msgid: str) -> str:
    """The text of ``msgid`` in ``lang`` as far as its first placeholder (the rest is the page's data)."""
    from courrier.web.pages.translations import translations

    return translations(lang).gettext(msgid).split("%(")[0]


def _speaks_to_staff(lang: str, page: str, step: str) -> None:
    text = html.unescape(page)
    for msgid in STAFF_WORDS[step]:
        assert _shown(lang, msgid) in text, (lang, step, msgid)
    for msgid in CITIZEN_WORDS:
        assert _shown(lang, msgid) not in text, (lang, step, msgid)


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
def test_the_helpline_booking_pages_speak_to_staff_about_the_caller(
    client: TestClient, make_world, staff_tokens, lang
):
    from .test_questions import QUESTIONS

    world = make_world(campaign_extra=QUESTIONS)
    signed_in(client, staff_tokens["helpline"])
    find = client.get(f"/helpline?lang={lang}").text
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(find)},
        follow_redirects=False,
    ).headers["location"]
    questions = client.get(f"{caller}/book/1", follow_redirects=True)
    assert 'id="questions-form"' in questions.text
    _speaks_to_staff(lang, questions.text, "questions")
    doctor = answer_questions(client, questions.text, choose="yes")
    assert 'id="see-doctor"' in doctor.text
    _speaks_to_staff(lang, doctor.text, "doctor")
    booked = book_through_forms(client, f"{caller}/book/1", "LUX-VH")
    assert booked.status_code == 303, booked.text
    confirmation = client.get(booked.headers["location"]).text
    assert 'id="dose-2"' in confirmation
    _speaks_to_staff(lang, confirmation, "booked")
    dose2_day = client.get(link(confirmation, "book-dose-2"), follow_redirects=True)
    if 'id="questions-form"' in dose2_day.text:
        dose2_day = answer_questions(client, dose2_day.text)
    assert 'id="dose-window"' in dose2_day.text
    _speaks_to_staff(lang, dose2_day.text, "dose2_day")
    move = client.get(link(confirmation, "move-booking"), follow_redirects=True)
    if 'id="questions-form"' in move.text:
        move = answer_questions(client, move.text)
    _speaks_to_staff(lang, move.text, "move")


@pytest.mark.parametrize("lang", ["fr", "de", "en", "pt", "lb"])
def test_the_citizen_booking_pages_still_speak_to_the_citizen(client: TestClient, make_world, lang):
    from .test_questions import QUESTIONS

    world = make_world(campaign_extra=QUESTIONS)
    assert enter_code(client, world.codes[0][1], lang).status_code == 303
    questions = client.get("/book/1", follow_redirects=True).text
    assert _shown(lang, CITIZEN_WORDS[0]) in html.unescape(questions)
    assert _shown(lang, STAFF_WORDS["questions"][0]) not in html.unescape(questions)
    booked = book_through_forms(client, "/book/1", "LUX-VH")
    confirmation = html.unescape(client.get(booked.headers["location"]).text)
    for msgid in ("this confirmation, printed or on your phone;", "Book your second dose now"):
        assert _shown(lang, msgid) in confirmation
    for msgid in STAFF_WORDS["booked"]:
        assert _shown(lang, msgid) not in confirmation


@pytest.mark.parametrize("lang", ["fr", "de", "en", "pt", "lb"])
def test_staff_pages_name_their_own_service_not_the_citizens_booking(client: TestClient, staff_tokens, lang):
    from courrier.web.pages.translations import translations

    gettext = translations(lang).gettext
    booking = f'">{gettext("Vaccination booking")}</a>'

    def brand(page: str) -> str:
        shown = re.search(r'<a class="brand" href="[^"]*">([^<]*)</a>', page)
        assert shown, page
        return html.unescape(shown.group(1))

    assert brand(client.get(f"/?lang={lang}").text) == gettext("Vaccination booking")
    assert brand(client.get(f"/staff/sign-in?lang={lang}").text) == gettext("Staff services")
    signed_in(client, staff_tokens["reception"])
    assert brand(client.get(f"/staff?lang={lang}").text) == gettext("Staff services")
    reception = client.get(f"/reception?lang={lang}").text
    assert brand(reception) == gettext("Vaccination centre")
    assert booking not in reception


@pytest.mark.parametrize("lang", ["fr", "de", "en", "pt", "lb"])
def test_the_staff_home_names_the_role_in_the_pages_language(client: TestClient, staff_tokens, lang):
    from courrier.web.pages.translations import translations

    for role in ("helpline", "reception", "operator"):
        signed_in(client, staff_tokens[role])
        home = client.get(f"/staff?lang={lang}").text
        shown = re.search(r'id="staff-role">([^<]*)<', home)
        assert shown, home
        assert html.unescape(shown.group(1)) == translations(lang).gettext(
            {"helpline": "Helpline", "reception": "Reception", "operator": "Print-shop operator"}[role]
        )
        assert shown.group(1) != role


@pytest.mark.parametrize("lang", ["en", "de", "fr"])
def test_a_refusal_on_the_helpline_is_said_about_the_caller(
    client: TestClient, make_world, staff_tokens, lang
):
    """The catalogue speaks to the person ("You already have…"); the helpline reads it about the caller."""
    world = make_world()
    signed_in(client, staff_tokens["helpline"])
    find = client.get(f"/helpline?lang={lang}").text
    caller = client.post(
        "/helpline/callers",
        data={"code": world.codes[0][1], "csrf_token": form_token(find)},
        follow_redirects=False,
    ).headers["location"]
    assert book_through_forms(client, f"{caller}/book/1", "LUX-VH").status_code == 303
    again = book_through_forms(client, f"{caller}/book/1", "LUX-VH", day_index=1)
    assert again.status_code == 409, again.text
    text = html.unescape(again.text)
    assert _shown(lang, "The caller already has an appointment for this dose.") in text
    assert message(ConflictError("booked", code="already_booked"), lang) not in text
