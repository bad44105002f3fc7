"""A body-equivalence table (tests/web/body_equivalence.py) sent to one world: every body by every caller,
each pair a subtest of its own, so that a failure names its body and its caller and the other pairs still
run. Making the world (a campaign, its centres' slots or its establishments, staff accounts, the app) is
nearly all of such a test's time, so it is made once per database rather than once per body."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select

from .web.body_equivalence import assert_answered_alike


def sweep_bodies(
    subtests: pytest.Subtests,
    client: TestClient,
    ours: str,
    reference: str,
    bodies: Iterable[tuple[bytes, str | None]],
    callers: Mapping[str, dict[str, str]],
) -> None:
    """Each body sent by each caller (name: headers) to ``ours`` is answered as ``reference`` answers it
    (``assert_answered_alike``). The bodies share the world: a table's bodies name no voucher or booking,
    so none is checked in or redeemed, and a refusal writes nothing another body could see."""
    for body, content_type in bodies:
        for caller, headers in callers.items():
            with subtests.test(route=ours, body=body, content_type=content_type, caller=caller):
                assert_answered_alike(client, ours, reference, body, content_type, [headers])


def assert_still_empty(engine: Engine, *tables: Table) -> None:
    """After a sweep: what a body judged could have written (a check-in, a redemption, an audit row for
    a person shown) was not, so no body's answer can have depended on another's."""
    with engine.connect() as connection:
        for table in tables:
            assert connection.execute(select(func.count()).select_from(table)).scalar_one() == 0, table.name
