"""The ``courrier`` command: ``courrier <noun> <verb>``.

Each noun is a click group in its own module; commands parse options, call the library and print.
Results go to stdout (``--json`` for machines), progress and logs to stderr. Exit status: 0 success,
1 an expected failure (a :class:`~courrier.errors.CourrierError`, one line), 2 a usage error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from courrier import __version__
from courrier.cli.db import db
from courrier.errors import CourrierError


class CourrierFailure(click.ClickException):
    """A library error shown as one line and exit status 1."""

    exit_code = 1

    def __init__(self, error: CourrierError) -> None:
        super().__init__(f"{error} [{error.code}]")
        self.error = error


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CourrierError as error:
            raise CourrierFailure(error) from error


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="courrier")
def courrier() -> None:
    """courrier: a government digital print shop.

    Turns an extract of the population register into individualised letters with personal codes,
    composes them into presorted print-ready PDF, drives the envelope inserters and reconciles what
    they report.

    Settings come from the environment (COURRIER_DATABASE_URL, default a SQLite file courrier.db in
    the working directory). Start with `courrier db upgrade`, then `courrier register import FILE`.
    """


courrier.add_command(db)


def _add_optional_commands() -> None:
    # Each area registers its group here once it exists; keeps this module free of their imports
    # until they are written.
    from importlib import import_module

    for module_name, attribute in (
        ("courrier.cli.register", "register"),
        ("courrier.cli.template", "template"),
        ("courrier.cli.campaign", "campaign"),
        ("courrier.cli.codes", "codes"),
        ("courrier.cli.keys", "keys"),
        ("courrier.cli.compose", "compose"),
        ("courrier.cli.compose", "reprint_command"),
        ("courrier.cli.production", "jobs"),
        ("courrier.cli.production", "inserter"),
        ("courrier.cli.production", "reconcile_command"),
        ("courrier.cli.production", "returns"),
        ("courrier.cli.production", "posting_command"),
        ("courrier.cli.production", "status_command"),
        ("courrier.cli.users", "users"),
        ("courrier.cli.users", "audit_command"),
        ("courrier.cli.serve", "serve_command"),
    ):
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as missing:
            if missing.name != module_name:
                raise
            continue
        courrier.add_command(getattr(module, attribute))


_add_optional_commands()


def main(argv: Sequence[str] | None = None) -> None:
    courrier.main(args=list(argv) if argv is not None else None, prog_name="courrier")
