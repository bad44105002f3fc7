"""The real ``courrier serve`` on a small database, and Playwright driving the system Chromium.

One server for the whole browser session (starting uvicorn and opening slots costs seconds), a fresh
browser context and page for each test. Each test takes codes of its own from the pool, so tests do not
see each other's bookings. Without Chromium, Playwright or the npm packages (``make dev`` runs ``npm ci``)
the tests skip; under ``COURRIER_REQUIRE_ALL=1`` (CI) they fail.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from courrier.accounts.users import add_user
from courrier.campaigns.definition import parse_definition
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, get_campaign
from courrier.centres.centres_file import read_centres
from courrier.centres.store import import_centres, open_slots
from courrier.codes.format import format_code
from courrier.codes.issue import issue_codes
from courrier.codes.keys import create_key_file
from courrier.codes.sealing import reveal_code
from courrier.db import make_engine, upgrade
from courrier.db.schema import codes, persons, pieces
from courrier.db.transaction import write_transaction
from courrier.db.types import utcnow
from courrier.languages import LANGUAGES

from ...campaigns.conftest import add_persons
from ...conftest import _free_port, skip_or_fail

ROOT = Path(__file__).resolve().parents[3]
CAMPAIGN_FILE = ROOT / "examples" / "campaigns" / "vaccination-75plus.toml"
CENTRES_FILE = ROOT / "examples" / "centres" / "centres.toml"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = "/usr/bin/chromium"
LOCAL = ("http://127.0.0.1:", "data:", "blob:", "about:")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu"]
SERVE = [
    sys.executable,
    "-m",
    "courrier",
    "serve",
    "--host",
    "127.0.0.1",
    "--workers",
    "1",
    "--insecure-cookies",
]
PEOPLE_PER_LANGUAGE = 8
# Where the people live: the page lists the centre nearest to one's commune first.
COMMUNES = ["Luxembourg", "Esch-sur-Alzette", "Ettelbruck", "Mersch", "Grevenmacher"]

HELPLINE_USER = "helpline1"
HELPLINE_PASSWORD = "correct horse battery"
OPERATOR_USER = "operator1"

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@dataclass
class Site:
    """The running server and the unused codes of its register, by the person's language."""

    base_url: str
    campaign: str
    database_url: str
    unused: dict[str, list[str]] = field(default_factory=dict)
    # A helpline account and a print shop operator's: (user name, password).
    helpline: tuple[str, str] = (HELPLINE_USER, HELPLINE_PASSWORD)
    operator: tuple[str, str] = (OPERATOR_USER, HELPLINE_PASSWORD)

    def code(self, language: str = "fr") -> str:
        """A printed code (grouped, as on the letter) not used yet, of someone speaking ``language``."""
        if not self.unused[language]:
            raise AssertionError(f"the browser tests' register has no unused code left for {language}")
        return self.unused[language].pop()

    def url(self, path: str) -> str:
        return self.base_url + path


def _build_database(folder: Path) -> tuple[str, Path, str, dict[str, list[str]]]:
    """A register of a few people in every language, the 75+ vaccination campaign (its health questions
    included) with codes valid from today, the example centres and their slots from tomorrow for 45
    days (dose 2 included); a helpline account and an operator's."""
    url = f"sqlite:///{folder / 'courrier.db'}"
    key_file = folder / "courrier.keys"
    keys = create_key_file(key_file)
    engine = make_engine(url)
    upgrade(engine)
    now = utcnow()
    people = [
        {
            "birth_date": dt.date(1930, 1, 1) + dt.timedelta(days=number),
            "language": language,
            "commune": COMMUNES[number % len(COMMUNES)],
        }
        for number, language in enumerate(LANGUAGES * PEOPLE_PER_LANGUAGE)
    ]
    add_persons(engine, *people)
    definition = parse_definition(CAMPAIGN_FILE.read_text(), base=CAMPAIGN_FILE.parent)
    create_campaign(engine, definition, actor="browser-tests", now=now)
    plan_campaign(engine, definition.name, actor="browser-tests", now=now)
    issue_codes(engine, definition.name, keys=keys, actor="browser-tests", now=now)
    today = now.date()
    unused: dict[str, list[str]] = {language: [] for language in LANGUAGES}
    with write_transaction(engine) as connection:
        campaign = get_campaign(connection, definition.name)
        import_centres(connection, read_centres(CENTRES_FILE), now=now)
        add_user(connection, HELPLINE_USER, HELPLINE_PASSWORD, "helpline", now=now)
        add_user(connection, OPERATOR_USER, HELPLINE_PASSWORD, "operator", now=now)
        open_slots(connection, campaign.id, today + dt.timedelta(days=1), today + dt.timedelta(days=45))
        rows = connection.execute(
            select(codes.c.ciphertext, persons.c.language)
            .join(pieces, pieces.c.code_id == codes.c.id)
            .join(persons, persons.c.id == pieces.c.person_id)
            .order_by(codes.c.id)
        )
        for ciphertext, language in rows:
            unused[language].append(format_code(reveal_code(keys, ciphertext)))
    engine.dispose()
    return url, key_file, definition.name, unused


# Only a guard against a server that hangs: under a load of 35 on two cores, starting took over 60 s.
HEALTH_WAIT_S = 300
# Playwright's wait for an element, a navigation or a click: only a guard against a page that hangs (a
# busy machine answers in seconds, sometimes tens of them), never a timing.
PAGE_WAIT_MS = 120_000


def _wait_for_health(base_url: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + HEALTH_WAIT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"courrier serve exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=2) as answer:
                if json.load(answer)["status"] == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(
        f"courrier serve did not answer /health within {HEALTH_WAIT_S} s:\n{log.read_text()}"
    )


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """``courrier serve`` (one worker, plain HTTP) on 127.0.0.1 and a free port, on its own database."""
    folder = tmp_path_factory.mktemp("browser-site")
    url, key_file, campaign, unused = _build_database(folder)
    with serving(folder, url, key_file) as base_url:
        yield Site(base_url=base_url, campaign=campaign, database_url=url, unused=unused)


@contextlib.contextmanager
def serving(
    folder: Path, url: str, key_file: Path, *, env: dict[str, str] | None = None, port: int | None = None
) -> Iterator[str]:
    """``courrier serve`` (one worker, plain HTTP) on 127.0.0.1 and ``port`` (a free one if not given), on
    the database ``url`` with ``key_file`` and the settings ``env`` adds, its log in ``folder``; yields its
    base URL once it answers /health."""
    port = port or _free_port()
    log = folder / "serve.log"
    env = os.environ | {"COURRIER_DATABASE_URL": url, "COURRIER_KEY_FILE": str(key_file)} | (env or {})
    with log.open("wb") as output:
        server = subprocess.Popen(
            [*SERVE, "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_for_health(base_url, server, log)
        yield base_url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


# --- Playwright on the system Chromium ---


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not Path(CHROMIUM).exists():
        skip_or_fail(f"{CHROMIUM} is not installed (Debian package chromium)")
    return CHROMIUM


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("the playwright package is not installed (make dev)")
    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_instance: Any, chromium_path: str) -> Iterator[Any]:
    # Playwright's own browser download does not work here; the Debian Chromium does.
    browser = playwright_instance.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def new_page(browser: Any) -> Iterator[Any]:
    """``new_page(**context_options)``: a page in a context of its own (cookies, viewport, JavaScript);
    with ``axe=True``, axe-core in each of its documents (``axe_violations``). Every context is closed at
    the end of the test. The test then fails if a page asked for anything
    from another site or the browser logged an error (a CSP refusal is one)."""
    contexts: list[Any] = []
    foreign: list[str] = []
    errors: list[str] = []

    def on_console(message: Any) -> None:
        # An error status (a refused code is a 4xx page) is logged too; it is not a page fault.
        if message.type == "error" and "Failed to load resource" not in message.text:
            errors.append(message.text)

    def make(*, axe: bool = False, **options: Any) -> Any:
        options.setdefault("viewport", DESKTOP)
        # axe-core is added to every document of the context as it starts (0.19 s of Chromium's work a
        # page, against 0.24 s for injecting its 550 KB by script tag on each page a crawl checks). Its
        # script is inline, which the pages' CSP (script-src 'self') rightly refuses: bypassed here only.
        options["bypass_csp"] = axe or options.get("bypass_csp", False)
        context = browser.new_context(**options)
        if axe:
            context.add_init_script(path=str(AXE))
        context.set_default_timeout(PAGE_WAIT_MS)
        context.on(
            "request",
            lambda request: None if request.url.startswith(LOCAL) else foreign.append(request.url),
        )
        contexts.append(context)
        page = context.new_page()
        page.on("console", on_console)
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield make
    for context in contexts:
        context.close()
    assert foreign == [], "pages asked for something from another site"
    assert errors == [], "the browser logged errors"


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()


@pytest.fixture(scope="session")
def axe_path() -> Path:
    if not AXE.exists():
        skip_or_fail(f"{AXE.relative_to(ROOT)} is missing: `make dev` installs it with npm ci")
    return AXE


def locale(language: str) -> str:
    """The browser's language for a page in ``language`` (Accept-Language)."""
    return f"{language}-LU"


# --- what every page test checks ---

SERIOUS = ("serious", "critical")
SCREENSHOTS = ROOT / "build" / "screenshots"
DOCS_IMAGES = ROOT / "docs" / "images" / "web"


def axe_violations(page: Any, axe_path: Path) -> list[str]:
    """axe-core's serious and critical violations on the page as it is now, one line each (rule, impact,
    the elements' selectors). The page's context needs ``bypass_csp=True``: unless its page was made by
    ``new_page(axe=True)``, axe is injected here as an inline script, which the pages' CSP
    (``script-src 'self'``) rightly refuses."""
    if not page.evaluate("() => typeof window.axe === 'object'"):  # once per document
        page.add_script_tag(path=str(axe_path))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(" ".join(node["target"]) for node in violation["nodes"][:5])
        for violation in result["violations"]
        if violation["impact"] in SERIOUS
    ]


# axe at the desktop's size in every language and at the phone's in this one: the texts change with the
# language, the layout with the size.
AXE_PHONE_LANGUAGE = "en"
# The language of docs/web.md's screenshots. COURRIER_SCREENSHOTS=all takes every page in every language
# (to look at them all before a release: about a minute more).
DOCS_LANGUAGE = "en"
SCREENSHOT_LANGUAGES = LANGUAGES if os.environ.get("COURRIER_SCREENSHOTS") == "all" else (DOCS_LANGUAGE,)
SIZES = {"desktop": DESKTOP, "phone": PHONE}


def look_at_both_sizes(
    page: Any, axe_path: Path, language: str, name: str, *, docs: bool = False
) -> list[str]:
    """axe's violations on the page as it is now (at the desktop's size, and at the phone's in
    AXE_PHONE_LANGUAGE), each line naming the page and the size; a screenshot at each size in
    SCREENSHOT_LANGUAGES (build/screenshots/LANG/NAME-SIZE.png; with ``docs``, in DOCS_LANGUAGE, into
    docs/images/web/ too). Leaves the page at the desktop's size."""
    found = []
    for size, viewport in SIZES.items():
        run_axe = size == "desktop" or language == AXE_PHONE_LANGUAGE
        take = language in SCREENSHOT_LANGUAGES
        if not (run_axe or take):
            continue  # no layout at a size nothing looks at
        page.set_viewport_size(viewport)
        if run_axe:
            found += [f"{name} ({size}): {violation}" for violation in axe_violations(page, axe_path)]
        if take:
            screenshot(page, f"{language}/{name}-{size}", docs=docs and language == DOCS_LANGUAGE)
    page.set_viewport_size(DESKTOP)
    return found


def screenshot(page: Any, name: str, *, docs: bool = False) -> Path:
    """A full-page PNG under build/screenshots/ (to look at); with ``docs``, under
    COURRIER_UPDATE_SCREENSHOTS=1, also under docs/images/web/ (what docs/web.md shows, committed)."""
    path = SCREENSHOTS / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("COURRIER_UPDATE_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / path.name)
    return path
