"""``courrier serve``: the web app (booking, helpline, staff API) under uvicorn."""

from __future__ import annotations

import os

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
    help="Server processes (one per core is a good start).",
)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send cookies without the Secure flag (plain-HTTP demos on localhost only).",
)
def serve_command(host: str, port: int, workers: int, insecure_cookies: bool) -> None:
    """Run the web app: citizens' booking pages, the JSON API under /api/v1 (OpenAPI at
    /api/openapi.json), staff sign-in, on the configured database and keys."""
    import uvicorn

    from courrier.web.serve import INSECURE_COOKIES_ENV, app_from_environment

    open_database().dispose()  # a one-line error now rather than one per worker
    app_from_environment()  # and the key file, likewise
    if insecure_cookies:
        os.environ[INSECURE_COOKIES_ENV] = "1"
    click.echo(f"serving on http://{host}:{port} with {workers} worker(s)", err=True)
    uvicorn.run(
        "courrier.web.serve:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        access_log=False,  # uvicorn's access log prints paths, which can hold a code
        log_level="warning",
    )
