"""The harness itself: the real server answers the system Chromium, with its security headers."""

from __future__ import annotations

import json
from typing import Any

from .conftest import Site


def test_the_browser_reaches_the_real_server(page: Any, site: Site) -> None:
    answer = page.goto(site.url("/health"))
    assert answer.status == 200
    assert json.loads(page.inner_text("body"))["status"] == "ok"
    headers = answer.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
