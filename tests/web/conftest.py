"""A web app on the test database, with a clock the tests move, and staff accounts of every role."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from courrier.accounts.passwords import hash_password
from courrier.accounts.roles import CENTRE_ROLES, ESTABLISHMENT_ROLES, ROLES
from courrier.accounts.sessions import open_session
from courrier.accounts.users import add_user, get_user
from courrier.campaigns.plan import plan_campaign
from courrier.campaigns.store import create_campaign, get_campaign
from courrier.centres.centres_file import read_centres
from courrier.centres.store import import_centres, open_slots
from courrier.codes.issue import issue_codes
from courrier.codes.keys import Keys, new_keys
from courrier.codes.sealing import reveal_code
from courrier.db.schema import codes, slots, staff_users
from courrier.db.transaction import write_transaction
from courrier.web.app import create_app
from courrier.web.context import WebContext

from ..campaigns.conftest import CAMPAIGN, MakeDefinition, add_persons, make_definition, template_dir
from ..campaigns.conftest import NOW as CAMPAIGN_NOW

__all__ = ["make_definition", "template_dir"]

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


# --- a campaign with issued codes, centres and open slots ---

CENTRES_FILE = Path(__file__).resolve().parents[2] / "examples" / "centres" / "centres.toml"
SLOT_DAY = dt.date(2021, 1, 25)


@dataclass(frozen=True)
class World:
    campaign: str
    campaign_id: int
    codes: list[tuple[int, str]]  # (code id, compact code)


@pytest.fixture
def make_world(engine: Engine, keys: Keys, make_definition: MakeDefinition) -> Callable[..., World]:
    """A vaccination campaign with ``people`` issued codes (all in wave 1), the example centres and
    their slots open from 2021-01-25 to 2021-03-15; ``campaign_extra`` is appended to its file."""

    def make(people: int = 3, campaign_extra: str = "") -> World:
        add_persons(
            engine, *[{"birth_date": dt.date(1930, 1, 1) + dt.timedelta(days=n)} for n in range(people)]
        )
        definition = make_definition(CAMPAIGN + campaign_extra, size=f"size = {people}")
        create_campaign(engine, definition, actor="t", now=CAMPAIGN_NOW)
        plan_campaign(engine, definition.name, actor="t", now=CAMPAIGN_NOW)
        issue_codes(engine, definition.name, keys=keys, actor="t", now=CAMPAIGN_NOW)
        with write_transaction(engine) as connection:
            campaign = get_campaign(connection, definition.name)
            import_centres(connection, read_centres(CENTRES_FILE), now=CAMPAIGN_NOW)
            open_slots(connection, campaign.id, SLOT_DAY, dt.date(2021, 3, 15))
            found = [
                (row.id, reveal_code(keys, row.ciphertext))
                for row in connection.execute(select(codes.c.id, codes.c.ciphertext).order_by(codes.c.id))
            ]
        return World(definition.name, campaign.id, found)

    return make


def first_slot(engine: Engine, campaign_id: int, centre: str = "LUX-VH", day: dt.date = SLOT_DAY) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(slots.c.id)
                .where(
                    slots.c.campaign_id == campaign_id,
                    slots.c.centre_id == centre,
                    slots.c.starts_at >= dt.datetime.combine(day, dt.time(), dt.UTC),
                )
                .order_by(slots.c.starts_at)
                .limit(1)
            ).scalar_one()
        )


def citizen_token(client: TestClient, code: str) -> str:
    answer = client.post("/api/v1/sessions", json={"code": code})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])
