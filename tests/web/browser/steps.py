"""Moving through the pages as a person does: with the keyboard only (Tab, arrows, Space, Enter), or
with the mouse in a browser without JavaScript."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

TAB_LIMIT = 80


def focused(page: Any, selector: str) -> bool:
    return bool(
        page.evaluate("s => document.activeElement !== null && document.activeElement.matches(s)", selector)
    )


def tab_to(page: Any, selector: str) -> None:
    """Press Tab until ``selector`` has the focus: what a keyboard user does to reach it, so an element
    that cannot be reached this way fails the test. On a fresh page, when the element is in the main
    content, the first Tab must reach the "skip to main content" link, and Enter on it skips the header."""
    fresh = "s => document.activeElement === document.body && document.querySelector('main').querySelector(s)"
    if page.evaluate(f"{fresh} !== null", selector):
        page.keyboard.press("Tab")
        assert focused(page, "a.skip-link"), f"the first Tab does not reach the skip link on {page.url}"
        page.keyboard.press("Enter")
    for _ in range(TAB_LIMIT):
        page.keyboard.press("Tab")
        if focused(page, selector):
            return
    raise AssertionError(f"{selector} is not reached with Tab on {page.url}")


def press(page: Any, selector: str, key: str, then: str) -> None:
    """Tab to ``selector``, press ``key`` and wait for the address to match the regular expression
    ``then``."""
    tab_to(page, selector)
    page.keyboard.press(key)
    page.wait_for_url(re.compile(then))


def type_into(page: Any, selector: str, text: str) -> None:
    tab_to(page, selector)
    page.keyboard.type(text)


def choose(page: Any, name: str, index: int = 0) -> str:
    """Tab into the radio group ``name``, move to its ``index``-th choice with the arrow keys and check it
    with Space; returns the checked value."""
    tab_to(page, f'input[type="radio"][name="{name}"]')
    values = page.eval_on_selector_all(f'input[type="radio"][name="{name}"]', "els => els.map(e => e.value)")
    target = values[index]
    for _ in range(len(values)):
        if page.evaluate("() => document.activeElement.value") == target:
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    checked = page.eval_on_selector(f'input[type="radio"][name="{name}"]:checked', "e => e.value")
    assert checked == target, f"{name}: {checked} checked, {target} wanted"
    return str(checked)


def remaining(base_url: str, campaign: str, centre: str, day: str, slot: int) -> int:
    """The places left in a slot, as the API tells anyone."""
    url = f"{base_url}/api/v1/slots?campaign={campaign}&centre={centre}&date={day}"
    with urllib.request.urlopen(url, timeout=10) as answer:
        found = json.load(answer)["slots"]
    return next(int(s["remaining"]) for s in found if s["id"] == slot)


def question_groups(page: Any) -> list[str]:
    """The names of the health questions' radio groups on the page, in order."""
    names = page.eval_on_selector_all('#questions-form input[type="radio"]', "els => els.map(e => e.name)")
    return list(dict.fromkeys(names))


def answer_no_with_the_keyboard(page: Any) -> None:
    for name in question_groups(page):
        values = page.eval_on_selector_all(
            f'input[type="radio"][name="{name}"]', "els => els.map(e => e.value)"
        )
        choose(page, name, values.index("no"))
