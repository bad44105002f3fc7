"""The hot write routes read their body and caller themselves (web/json_body.py); these helpers hold one
to a reference route that takes FastAPI's own body parameter and dependency, body by body."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi.testclient import TestClient

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
