"""A server process trusts a staff session it found for a few seconds (accounts.session_cache): never
past its expiry, not after a sign-out or a disabled account in the same process, and for at most
CACHE_S seconds after another process ended it."""

from __future__ import annotations

import datetime as dt

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from courrier.accounts import session_cache
from courrier.accounts.sessions import SESSION_HOURS
from courrier.accounts.users import disable_user
from courrier.db.schema import staff_sessions
from courrier.db.transaction import write_transaction

from .conftest import NOW, bearer


class Monotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


@pytest.fixture
def monotonic(monkeypatch: pytest.MonkeyPatch) -> Monotonic:
    fake = Monotonic()
    monkeypatch.setattr(session_cache, "time", fake)
    return fake


def _me(client: TestClient, token: str) -> int:
    return client.get("/api/v1/staff/me", headers=bearer(token)).status_code


def _end_elsewhere(engine: Engine) -> None:
    """What another server worker's sign-out writes (this process's caches are not told)."""
    with write_transaction(engine) as connection:
        connection.execute(staff_sessions.update().values(ended_at=NOW))


def test_a_session_ended_by_another_process_stops_within_the_cache_time(
    engine: Engine, client: TestClient, staff_tokens: dict[str, str], monotonic: Monotonic
):
    token = staff_tokens["reception"]
    assert _me(client, token) == 200
    _end_elsewhere(engine)
    monotonic.now += session_cache.CACHE_S
    assert _me(client, token) == 401


def test_control_within_the_cache_time_the_session_found_is_trusted(
    engine: Engine, client: TestClient, staff_tokens: dict[str, str], monotonic: Monotonic
):
    token = staff_tokens["reception"]
    assert _me(client, token) == 200
    _end_elsewhere(engine)
    monotonic.now += session_cache.CACHE_S / 2
    assert _me(client, token) == 200


def test_a_cached_session_is_not_used_past_its_expiry(
    client: TestClient, staff_tokens: dict[str, str], clock, monotonic: Monotonic
):
    token = staff_tokens["reception"]
    assert _me(client, token) == 200
    clock.now = NOW + dt.timedelta(hours=SESSION_HOURS)
    assert _me(client, token) == 401


def test_a_sign_out_in_this_process_ends_the_session_at_once(
    client: TestClient, staff_tokens: dict[str, str], monotonic: Monotonic
):
    token = staff_tokens["reception"]
    assert _me(client, token) == 200
    assert client.delete("/api/v1/staff/sessions/current", headers=bearer(token)).status_code == 204
    assert _me(client, token) == 401


def test_an_account_disabled_in_this_process_loses_its_cached_sessions_at_once(
    engine: Engine, client: TestClient, staff_tokens: dict[str, str], monotonic: Monotonic
):
    token = staff_tokens["reception"]
    assert _me(client, token) == 200
    with write_transaction(engine) as connection:
        disable_user(connection, "reception1", now=NOW)
    assert _me(client, token) == 401
    assert _me(client, staff_tokens["admin"]) == 200
