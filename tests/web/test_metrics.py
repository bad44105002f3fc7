"""Prometheus metrics at /metrics and the JSON-lines logs (issue 17): scraped from the app, and from a real
`courrier serve --workers 2` whose figures add up across its workers."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from courrier.booking.bookings import book_dose

from .conftest import NOW, first_slot

COURRIER = Path(sys.executable).with_name("courrier")
TOKEN = "metrics-test-token"


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_are_refused_to_other_clients_and_count_requests_by_route(
    engine, make_client, make_world, monkeypatch: pytest.MonkeyPatch
):
    world = make_world(2)
    book_dose(engine, world.codes[0][0], first_slot(engine, world.campaign_id), 1, booked_by="t", now=NOW)
    client: TestClient = make_client()
    refused = client.get("/metrics")  # the test client is not on the loopback
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    monkeypatch.setenv("COURRIER_METRICS_TOKEN", TOKEN)
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403

    code = world.codes[1][1]
    assert client.post("/api/v1/sessions", json={"code": code}).status_code == 201
    assert client.get("/health").status_code == 200
    scraped = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert scraped.status_code == 200
    assert scraped.headers["content-type"].startswith("text/plain")
    found = _samples(scraped.text)
    signed_in = (("method", "POST"), ("route", "/api/v1/sessions"), ("status", "201"))
    assert found[("courrier_http_requests_total", signed_in)] >= 1
    assert (
        "courrier_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/health")),
    ) in found
    assert found[("courrier_bookings", (("state", "active"),))] == 1
    assert found[("courrier_checkins", ())] == 0
    assert found[("courrier_letters_composed", ())] == 0
    assert code not in scraped.text  # routes are labelled by their template, never by the path sent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Only a guard against a server that hangs: under a load of 25-30 on two cores, two workers took over 90 s
# to start (as the browser tests' server, tests/web/browser/conftest.py).
UP_WAIT_S = 300


def _wait_until_up(base: str, server: subprocess.Popen[bytes]) -> int:
    """Waits for the server's first answer; returns how many /health requests it answered (none: it
    asks /metrics, whose count the test does not check, since a probe that timed out on a loaded
    machine may still have been answered and counted)."""
    deadline = time.monotonic() + UP_WAIT_S
    while time.monotonic() < deadline:
        assert server.poll() is None, "courrier serve ended"
        try:
            if httpx.get(f"{base}/metrics", timeout=2).status_code == 200:
                return 0
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"courrier serve did not answer within {UP_WAIT_S} s")


def _access_lines(stderr: Path) -> list[dict[str, object]]:
    lines = [json.loads(line) for line in stderr.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if line["logger"] == "courrier.web.requests"]


def test_serve_with_two_workers_adds_up_their_metrics_and_logs_json_lines(db_url: str, tmp_path: Path):
    env = {**os.environ, "COURRIER_DATABASE_URL": db_url, "COURRIER_KEY_FILE": str(tmp_path / "keys")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    subprocess.run([str(COURRIER), "keys", "create"], env=env, check=True, capture_output=True)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    stderr = tmp_path / "serve.err"
    with stderr.open("wb") as log:
        server = subprocess.Popen(
            [str(COURRIER), "serve", "--port", str(port), "--workers", "2", "--log-format", "json",
             "--access-log", "--insecure-cookies"],
            env=env, stderr=log, stdout=subprocess.DEVNULL,
        )  # fmt: skip

    def health(_: int) -> int:
        return httpx.get(f"{base}/health", headers={"Connection": "close"}, timeout=30).status_code

    try:
        answered = _wait_until_up(base, server)
        # Fresh connections, several at once, until both workers have answered some: the kernel hands
        # a new connection to whichever worker accepts first, often the same one on an idle server.
        with ThreadPoolExecutor(8) as pool:
            for _ in range(50):
                statuses = list(pool.map(health, range(16)))
                assert statuses == [200] * 16
                answered += len(statuses)
                if len({line["pid"] for line in _access_lines(stderr)}) == 2:
                    break
        found = _samples(httpx.get(f"{base}/metrics").text)
    finally:
        server.terminate()
        server.wait(timeout=60)
    access = _access_lines(stderr)
    assert len({line["pid"] for line in access}) == 2, "one worker answered every request"
    # Every worker's requests, whichever worker answered the scrape.
    health_200 = (("method", "GET"), ("route", "/health"), ("status", "200"))
    assert found[("courrier_http_requests_total", health_200)] == answered
    assert {line["route"] for line in access} == {"/health", "/metrics"}
    assert all(line["status"] == 200 and float(str(line["duration_ms"])) >= 0 for line in access)
