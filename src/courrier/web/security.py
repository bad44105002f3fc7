"""Security headers on every response, and request logs without codes or personal data.

A plain ASGI middleware (not Starlette's ``BaseHTTPMiddleware``, which costs a task per request).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Nothing from another site, no inline script or style, no framing.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
# The reception desk's QR decoder compiles WebAssembly in a worker, whose script's own response sets
# the worker's policy: only there is 'wasm-unsafe-eval' allowed (pages keep the policy above).
WASM_WORKERS = frozenset({"/static/reception/decoder-worker.js"})
WASM_WORKER_POLICY = CONTENT_SECURITY_POLICY.replace(
    "script-src 'self'", "script-src 'self' 'wasm-unsafe-eval'"
)
_WORKER_CSP = (b"content-security-policy", WASM_WORKER_POLICY.encode())
_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(self), geolocation=(), microphone=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]
_NO_STORE = (b"cache-control", b"no-store")
# What an answer outside /static/ that sets none of these headers gets (every API answer): built once
# instead of filtered for each.
_DYNAMIC_HEADERS = [*_HEADERS, _NO_STORE]
_DYNAMIC_NAMES = frozenset(name for name, _ in _DYNAMIC_HEADERS)

log = logging.getLogger("courrier.web.requests")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        dynamic = not scope["path"].startswith("/static/")
        wasm_worker = scope["path"] in WASM_WORKERS

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                if dynamic and not wasm_worker and _DYNAMIC_NAMES.isdisjoint(present):
                    headers += _DYNAMIC_HEADERS
                else:
                    if wasm_worker:
                        headers.append(_WORKER_CSP)
                        present.add(_WORKER_CSP[0])
                    headers.extend(item for item in _HEADERS if item[0] not in present)
                    if dynamic and b"cache-control" not in present:
                        headers.append(_NO_STORE)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            if log.isEnabledFor(logging.INFO):
                # The route's pattern, never the path: a path can hold a code (the QR's /c/{code}).
                route = scope.get("route")
                pattern = getattr(route, "path", "-")
                elapsed_ms = (time.perf_counter() - started) * 1000
                fields = {"method": scope["method"], "route": pattern, "status": status}
                # The fields again, for a JSON-lines log (courrier serve --log-format json).
                extra = {**fields, "duration_ms": round(elapsed_ms, 1)}
                log.info("%s %s %d %.1fms", scope["method"], pattern, status, elapsed_ms, extra=extra)
