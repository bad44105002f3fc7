"""``courrier serve``: the web app (booking, helpline, staff API) under uvicorn."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import click

from courrier.cli.common import open_database


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535), help="TCP port.")
@click.option(
    "--workers",
    default=2,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Server processes (one per core is a good start); a worker that dies is started again.",
)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send cookies without the Secure flag (plain-HTTP demos on localhost only).",
)
@click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Logs on stderr as text lines or as JSON lines (one object a line, for a log collector).",
)
@click.option(
    "--access-log",
    is_flag=True,
    help="Log every request: method, route template, status, duration (never the path: it can hold a code).",
)
@click.option(
    "--forwarded-allow-ips",
    default="127.0.0.1",
    show_default=True,
    help="Reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are trusted (comma-separated).",
)
def serve_command(
    host: str,
    port: int,
    workers: int,
    insecure_cookies: bool,
    log_format: str,
    access_log: bool,
    forwarded_allow_ips: str,
) -> None:
    """Run the web app: citizens' booking pages, the JSON API under /api/v1 (OpenAPI at
    /api/openapi.json), staff sign-in, on the configured database and keys. Prometheus metrics are at
    /metrics for clients on this machine (or with COURRIER_METRICS_TOKEN); see docs/operations.md."""
    import uvicorn

    from courrier.web.logs import log_config
    from courrier.web.serve import INSECURE_COOKIES_ENV, app_from_environment

    open_database().dispose()  # a one-line error now rather than one per worker
    if insecure_cookies:
        os.environ[INSECURE_COOKIES_ENV] = "1"
    metrics_dir = _multiprocess_metrics(workers)
    app_from_environment()  # and the key file, likewise
    click.echo(f"serving on http://{host}:{port} with {workers} worker(s)", err=True)
    try:
        uvicorn.run(
            "courrier.web.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # uvicorn's access log prints paths, which can hold a code
            log_config=log_config(log_format, "warning" if not access_log else "info"),
            log_level="warning" if not access_log else "info",
            # uvicorn kills a worker that does not answer its health check in time: 5 s by default,
            # which a worker starting on a loaded machine missed again and again.
            timeout_worker_healthcheck=30,
            proxy_headers=True,
            forwarded_allow_ips=forwarded_allow_ips,
        )
    finally:
        if metrics_dir is not None:
            shutil.rmtree(metrics_dir, ignore_errors=True)


def _multiprocess_metrics(workers: int) -> Path | None:
    """Several workers share their request metrics through files in PROMETHEUS_MULTIPROC_DIR, which must
    be set before any worker imports prometheus_client, and empty at start (old files would add a
    previous run's counts). Returns the folder made here, to remove at the end."""
    if workers == 1:
        return None
    given = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if given:
        for stale in Path(given).glob("*.db"):
            stale.unlink()
        return None
    made = Path(tempfile.mkdtemp(prefix="courrier-metrics-"))
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(made)
    return made
