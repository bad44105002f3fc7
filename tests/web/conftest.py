"""A web app on the test database, with a clock the tests move, and staff accounts of every role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from courrier.accounts.passwords import hash_password
from courrier.accounts.roles import CENTRE_ROLES, ESTABLISHMENT_ROLES, ROLES
from courrier.accounts.sessions import open_session
from courrier.accounts.users import add_user, get_user
from courrier.codes.keys import Keys, new_keys
from courrier.db.schema import staff_users
from courrier.db.transaction import write_transaction
from courrier.web.app import create_app
from courrier.web.context import WebContext

NOW = dt.datetime(2021, 1, 20, 9, 0, tzinfo=dt.UTC)
PASSWORD = "correct horse battery"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="session")
def keys() -> Keys:
    return new_keys()


@pytest.fixture
def make_client(engine: Engine, keys: Keys, clock: Clock) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**options: object) -> TestClient:
        ctx = WebContext(engine=engine, keys=keys, clock=clock, secure_cookies=False, **options)  # type: ignore[arg-type]
        client = TestClient(create_app(ctx), base_url="http://testserver")
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def add_staff(engine: Engine, username: str, role: str) -> None:
    centre = "C01" if role in CENTRE_ROLES else None
    establishment = "E01" if role in ESTABLISHMENT_ROLES else None
    with write_transaction(engine) as connection:
        add_user(
            connection, username, PASSWORD, role, now=NOW, centre_id=centre, establishment_id=establishment
        )


@pytest.fixture(scope="session")
def password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def staff_tokens(engine: Engine, password_hash: str) -> dict[str, str]:
    """A session token for one account of each role (hashed once: argon2 is slow on purpose; the
    sign-in route itself is tested on its own)."""
    tokens = {}
    with write_transaction(engine) as connection:
        for role in ROLES:
            connection.execute(
                staff_users.insert().values(
                    username=f"{role}1",
                    password_hash=password_hash,
                    role=role,
                    centre_id="C01" if role in CENTRE_ROLES else None,
                    establishment_id="E01" if role in ESTABLISHMENT_ROLES else None,
                    disabled=False,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
            tokens[role] = open_session(connection, get_user(connection, f"{role}1"), now=NOW).token
    return tokens


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
