"""Helpers for the page tests: read a page's forms and links as a browser without JavaScript would."""

from __future__ import annotations

import re
from html import unescape

from fastapi.testclient import TestClient
from httpx import Response


def form_token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "no form token on the page"
    return unescape(found.group(1))


def hidden(page: str, name: str) -> str:
    found = re.search(rf'type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden field {name}"
    return unescape(found.group(1))


def radio_values(page: str, name: str) -> list[str]:
    return [unescape(v) for v in re.findall(rf'type="radio" name="{name}" id="[^"]*" value="([^"]*)"', page)]


def link(page: str, element_id: str) -> str:
    found = re.search(rf'<a id="{element_id}"[^>]* href="([^"]*)"', page) or re.search(
        rf'<a [^>]*id="{element_id}"[^>]*href="([^"]*)"', page
    )
    assert found, f"no link #{element_id}"
    return unescape(found.group(1))


def enter_code(client: TestClient, code: str, lang: str | None = None) -> Response:
    landing = client.get("/", params={"lang": lang} if lang else None)
    assert landing.status_code == 200
    return client.post(
        "/code", data={"code": code, "csrf_token": form_token(landing.text)}, follow_redirects=False
    )


def answer_questions(client: TestClient, page: str, choose: str = "no") -> Response:
    """Answer every question of the questions page with ``choose`` (or its first answer)."""
    action = re.search(r'id="questions-form" method="post" action="([^"]*)"', page)
    assert action
    data = {"csrf_token": form_token(page)}
    if 'type="hidden" name="centre"' in page:
        data["centre"] = hidden(page, "centre")
    for question in re.findall(r'<fieldset id="q-([a-z0-9_-]+)"', page):
        answers = radio_values(page, f"q-{question}")
        data[f"q-{question}"] = choose if choose in answers else answers[0]
    return client.post(action.group(1), data=data)


def book_through_forms(client: TestClient, start: str, centre: str, day_index: int = 0) -> Response:
    """From a step address (``/book/1``, a move's ``.../move/centre``): the questions if asked (all
    "no"), centre, day, first time, book."""
    page = client.get(start)
    assert page.status_code == 200, page.text
    if 'id="questions-form"' in page.text:
        page = answer_questions(client, page.text)
        assert page.status_code == 200, page.text
    if 'id="centre-form"' in page.text:
        assert centre in radio_values(page.text, "centre")
        action = re.search(r'id="centre-form" method="get" action="([^"]*)"', page.text)
        assert action
        page = client.get(action.group(1), params={"centre": centre})
        assert page.status_code == 200, page.text
    days = radio_values(page.text, "day")
    action = re.search(r'id="day-form" method="get" action="([^"]*)"', page.text)
    assert days, page.text
    assert action
    page = client.get(action.group(1), params={"centre": centre, "day": days[day_index]})
    assert page.status_code == 200, page.text
    slots = radio_values(page.text, "slot")
    action = re.search(r'id="slot-form" method="post" action="([^"]*)"', page.text)
    assert slots, page.text
    assert action
    return client.post(
        action.group(1),
        data={
            "slot": slots[0],
            "csrf_token": form_token(page.text),
            "idempotency_key": hidden(page.text, "idempotency_key"),
            "centre": centre,
            "day": days[day_index],
        },
        follow_redirects=False,
    )
