"""Prometheus metrics at ``/metrics`` (prometheus_client), and the access log.

Two kinds of figures:

- **Requests and latencies**, counted in each server process by :class:`RequestMetrics`, an ASGI
  middleware: ``courrier_http_requests_total{method, route, status}`` and the histogram
  ``courrier_http_request_duration_seconds{method, route}``. The label is the route's template
  (``/api/v1/bookings/{reference}``), never the path a client sent: paths can hold a personal code, and
  one label per path would be unbounded. Under ``courrier serve --workers N`` each worker writes its
  figures to files in ``PROMETHEUS_MULTIPROC_DIR`` (prometheus_client's multiprocess mode, set up by
  the command before the workers start), so whichever worker answers a scrape gives the sum of all.
- **What the service did**, read from the database at scrape time (:class:`DatabaseCollector`), so they
  count every worker, the CLI and restarts alike: bookings by state, check-ins, doses recorded,
  redemptions (standing or undone), letters composed (the print jobs' letters). Read at
  most every ``DATABASE_FIGURES_TTL_S`` seconds per process: a scrape must not scan big tables often.

Who may read it: a client on the loopback interface (Prometheus on the same machine; behind nginx the
client is the one nginx names in X-Forwarded-For, which uvicorn trusts from 127.0.0.1 only), or one
sending ``Authorization: Bearer <COURRIER_METRICS_TOKEN>`` when that setting is set. Anyone else is
refused (403 ``forbidden``).
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from fastapi import FastAPI, Request, Response
from sqlalchemy import Engine, func, select

from courrier.db.schema import bookings, checkins, print_jobs, vaccinations
from courrier.errors import AccountError

METRICS_TOKEN_ENV = "COURRIER_METRICS_TOKEN"
DATABASE_FIGURES_TTL_S = 15.0
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
# Latencies a person notices start around 100 ms; the buckets are finer below that.
_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


class _Metrics:
    """The process's request metrics, made on first use (no work at import time)."""

    _made: _Metrics | None = None
    _lock = threading.Lock()

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.requests = Counter(
            "courrier_http_requests_total", "HTTP requests answered.", ["method", "route", "status"]
        )
        self.latency = Histogram(
            "courrier_http_request_duration_seconds",
            "Time from a request's start to its answer's last byte.",
            ["method", "route"],
            buckets=_BUCKETS_S,
        )

    @classmethod
    def get(cls) -> _Metrics:
        with cls._lock:
            if cls._made is None:
                cls._made = cls()
            return cls._made


def _route(scope: Scope) -> str:
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path is not None else "unmatched"


class RequestMetrics:
    """Counts and times every HTTP request (the access log is SecurityHeaders', at INFO)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.metrics = _Metrics.get()
        # The counter's and the histogram's children by (method, route, status): prometheus_client's
        # labels() checks, converts and joins the values and takes a lock on every call. As many as
        # the metrics' own label sets, so no more bounded or unbounded than they are.
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    async def __call__(
        self,
        scope: Scope,
        receive: Callable[[], Awaitable[Message]],
        send: Callable[[Message], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            elapsed = time.perf_counter() - started
            route, method = _route(scope), str(scope.get("method", ""))
            key = (method, route, status)
            children = self._children.get(key)
            if children is None:
                children = self._children[key] = (
                    self.metrics.requests.labels(method, route, str(status)),
                    self.metrics.latency.labels(method, route),
                )
            children[0].inc()
            children[1].observe(elapsed)


class DatabaseCollector:
    """Figures read from the database at scrape time (cached ``DATABASE_FIGURES_TTL_S``)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cached: tuple[float, list[Any]] | None = None
        self._lock = threading.Lock()

    def collect(self) -> Iterator[Any]:
        with self._lock:
            now = time.monotonic()
            if self._cached is None or now - self._cached[0] > DATABASE_FIGURES_TTL_S:
                self._cached = (now, self._read())
            return iter(self._cached[1])

    def _read(self) -> list[Any]:
        from prometheus_client.core import GaugeMetricFamily

        booked = GaugeMetricFamily(
            "courrier_bookings", "Bookings in the database, by state.", labels=["state"]
        )
        figures = [booked]
        with self.engine.connect() as connection:
            for state, count in connection.execute(
                select(bookings.c.state, func.count()).group_by(bookings.c.state)
            ):
                booked.add_metric([str(state)], float(count))
            for name, help_text, query in _counts(connection):
                figures.append(
                    GaugeMetricFamily(name, help_text, value=float(connection.execute(query).scalar() or 0))
                )
        return figures


def _counts(connection: Any) -> Iterator[tuple[str, str, Any]]:
    yield (
        "courrier_checkins",
        "Check-ins at the centres' reception desks.",
        select(func.count()).select_from(checkins),
    )
    yield (
        "courrier_vaccinations",
        "Vaccination records (doses given, corrections included).",
        select(func.count()).select_from(vaccinations),
    )
    composed = select(func.sum(print_jobs.c.pieces - print_jobs.c.failed)).where(
        print_jobs.c.state != "planned"
    )
    yield "courrier_letters_composed", "Letters composed into print jobs (reprints included).", composed


class _ProcessFigures:
    """This process's request metrics (prometheus_client's default registry), or, under several
    workers, every worker's (read from ``PROMETHEUS_MULTIPROC_DIR``)."""

    def __init__(self) -> None:
        from prometheus_client import REGISTRY

        self.source: Any = REGISTRY
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from prometheus_client import CollectorRegistry, multiprocess

            self.source = CollectorRegistry()
            multiprocess.MultiProcessCollector(self.source)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Any]:
        return iter(self.source.collect())


def _registry(engine: Engine) -> Any:
    """The registry a scrape reads: one per app (so apps on other databases, in tests, never mix), not
    described at registration (that would read the database while the app is being built)."""
    from prometheus_client import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ProcessFigures())
    registry.register(DatabaseCollector(engine))
    return registry


def _allowed(request: Request) -> bool:
    token = os.environ.get(METRICS_TOKEN_ENV, "")
    if token:
        sent = request.headers.get("authorization", "")
        if hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return True
    return request.client is not None and request.client.host in _LOOPBACK


def install_metrics(app: FastAPI, engine: Engine) -> None:
    """Count every request and serve ``/metrics`` (loopback clients or the metrics token only)."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

    app.add_middleware(RequestMetrics)
    registry = _registry(engine)

    @app.get("/metrics", include_in_schema=False)
    def metrics(request: Request) -> Response:
        if not _allowed(request):
            raise AccountError(
                "metrics are for this machine, or for a client with the metrics token", code="forbidden"
            )
        return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
