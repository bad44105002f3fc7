"""The hot write routes read their body and caller themselves (web/json_body.py); these helpers hold one
to a reference route that takes FastAPI's own body parameter and dependency, body by body.

A table of bodies is sent to one world (``sweep_bodies``): every body by every caller, each pair a
subtest of its own, so that a failure names its body and its caller and the other pairs still run.
Making the world (a campaign, its centres' slots or its establishments, staff accounts, the app) is
nearly all of such a test's time, so it is made once per database rather than once per body."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, Table, func, select

JSON = "application/json"


def envelope_bodies(good: bytes) -> list[tuple[bytes, str | None]]:
    """Bodies refused (or read) for what they are rather than for a field: empty, not JSON, not an
    object, no fields, and ``good`` in another encoding or under other content types."""
    return [
        (b"", JSON),
        (b"{", JSON),
        (b"[]", JSON),
        (b'"scan"', JSON),
        (b"{}", JSON),
        (good.decode().encode("utf-16"), JSON),
        (good, "application/json; charset=utf-8"),
        (good, "application/vnd.courrier+json"),
        (good, "text/plain"),
        (good, None),
    ]


def preview_bodies(place: str) -> list[tuple[bytes, str | None]]:
    """A preview's bodies (one of ``scan`` and ``code``, and ``place``: admin's centre or
    establishment) refused or read for their fields: neither or both, each too long or of the wrong
    type, NaN, a 30-digit number, a lone surrogate, an unknown field; the envelopes of a good one."""
    name = place.encode()
    return [
        *envelope_bodies(b'{"scan": "a"}'),
        (b'{"' + name + b'": "X1"}', JSON),  # neither scan nor code
        (b'{"scan": null, "code": null}', JSON),
        (b'{"scan": "a", "code": "b"}', JSON),
        (b'{"code": "' + b"c" * 65 + b'"}', JSON),
        (b'{"scan": "' + b"s" * 2001 + b'"}', JSON),
        (b'{"scan": 5}', JSON),
        (b'{"code": ["a"]}', JSON),
        (b'{"scan": "a", "' + name + b'": 7}', JSON),
        (b'{"scan": "a", "' + name + b'": "' + b"p" * 33 + b'"}', JSON),
        (b'{"scan": NaN}', JSON),
        (b'{"scan": 123456789012345678901234567890}', JSON),
        (b'{"scan": "\\ud800"}', JSON),
        (b'{"code": "a", "unknown": 1}', JSON),
    ]


def with_reference(client: TestClient, path: str, endpoint: Callable[..., Any]) -> str:
    """``endpoint`` (taking FastAPI's body parameter and dependency) added to the app at ``path``."""
    client.app.router.add_api_route(path, endpoint, methods=["POST"])  # type: ignore[attr-defined]
    return path


def send(
    client: TestClient, path: str, body: bytes, content_type: str | None, headers: dict[str, str]
) -> Any:
    sent = dict(headers)
    if content_type is not None:
        sent["content-type"] = content_type
    return client.post(path, content=body, headers=sent)


def judged_ok_or_refused(answer: Any) -> bool:
    """A check-in's or a redemption's own answer: 201 ``ok`` or 200 ``refused``."""
    return answer.status_code in (200, 201) and answer.json()["status"] in ("ok", "refused")


def assert_answered_alike(
    client: TestClient,
    ours: str,
    reference: str,
    body: bytes,
    content_type: str | None,
    callers: Iterable[dict[str, str]],
    judged: Callable[[Any], bool] = judged_ok_or_refused,
) -> None:
    """``body`` sent by each caller (headers) to ``ours`` is refused with the reference's status and error,
    or, where the reference read it, judged by the route itself (``judged`` tells its own answers)."""
    for headers in callers:
        answer = send(client, ours, body, content_type, headers)
        theirs = send(client, reference, body, content_type, headers)
        if theirs.status_code == 200:  # read: the route judged it (its answer is its own)
            assert judged(answer), (body, headers, answer.status_code, answer.text)
        else:
            assert (answer.status_code, answer.json()) == (theirs.status_code, theirs.json()), (body, headers)


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
