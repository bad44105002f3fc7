"""The ``courrier`` command: ``courrier <noun> <verb>``.

Each noun is a click group in its own module; commands parse options, call the library and print.
Results go to stdout (``--json`` for machines), progress and logs to stderr. Exit status: 0 success,
1 an expected failure (a :class:`~courrier.errors.CourrierError`, one line), 2 a usage error.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

import click

from courrier import __version__
from courrier.errors import CourrierError

# name -> (module, attribute, the short help `courrier --help` shows). Commands are imported only when
# run: `courrier --help` must not pay for the composer, Dask, Faker, pyarrow or alembic (a test keeps
# each short help equal to its command's own).
COMMANDS: dict[str, tuple[str, str, str]] = {
    "audit": ("courrier.cli.users", "audit_command", "Every view or change of personal data by staff."),
    "campaign": (
        "courrier.cli.campaign",
        "campaign",
        "Campaigns: who gets which letter, when, with what code.",
    ),
    "centres": ("courrier.cli.centres", "centres", "Vaccination centres: import the centres file."),
    "codes": ("courrier.cli.codes", "codes", "Personal codes: issue, check, look up, re-issue, revoke."),
    "compose": ("courrier.cli.compose", "compose", "Compose a campaign's wave into presorted print jobs."),
    "db": ("courrier.cli.db", "db", "Create and migrate the database (COURRIER_DATABASE_URL)."),
    "dcc": ("courrier.cli.dcc", "dcc", "EU Digital COVID Certificates: issue, verify, revoke."),
    "establishments": (
        "courrier.cli.establishments",
        "establishments",
        "Establishments that take the vouchers: import, list, approve.",
    ),
    "inserter": (
        "courrier.cli.production",
        "inserter",
        "The envelope inserter: read or simulate its results.",
    ),
    "jobs": ("courrier.cli.production", "jobs", "Print jobs: list them, mark them printed or posted."),
    "keys": ("courrier.cli.keys", "keys", "The secret keys of personal codes and signed tokens."),
    "posting": ("courrier.cli.production", "posting_command", "The posting statement for the post office."),
    "reconcile": ("courrier.cli.production", "reconcile_command", "Per job: expected against reported."),
    "purge": (
        "courrier.cli.purge",
        "purge_command",
        "Remove a campaign's personal data once its retention time is over.",
    ),
    "register": ("courrier.cli.register", "register", "The population register: import, generate, stats."),
    "requests": ("courrier.cli.requests", "requests", "Requests from people: letter again, waiting list."),
    "reprint": ("courrier.cli.compose", "reprint_command", "Reprint exactly the pieces not inserted."),
    "returns": ("courrier.cli.production", "returns", "Returned mail."),
    "serve": ("courrier.cli.serve", "serve_command", "Run the web app (booking pages, JSON API)."),
    "slots": ("courrier.cli.centres", "slots", "A campaign's time slots at the centres: open, list."),
    "status": ("courrier.cli.production", "status_command", "The operator's morning view of a campaign."),
    "tasks": (
        "courrier.cli.tasks",
        "tasks",
        "Long work started from the operator's page: composes, reprints, large results files.",
    ),
    "template": ("courrier.cli.template", "template", "Letter templates: check one, render letters."),
    "vouchers": (
        "courrier.cli.vouchers",
        "vouchers",
        "Hotel vouchers: reimbursement statements and their SEPA file.",
    ),
    "users": (
        "courrier.cli.users",
        "users",
        "Staff accounts: add, list, disable, change a password, prune ended sessions.",
    ),
}


class CourrierFailure(click.ClickException):
    """A library error shown as one line and exit status 1 (with ``--json``: ``{"error": {"code",
    "message"}}`` on stdout, so a script reading stdout learns why)."""

    exit_code = 1

    def __init__(self, error: CourrierError, *, as_json: bool = False) -> None:
        super().__init__(f"{error} [{error.code}]")
        self.error = error
        self.as_json = as_json

    def show(self, file: Any = None) -> None:
        if self.as_json:
            payload = {"error": {"code": self.error.code, "message": str(self.error)}}
            click.echo(json.dumps(payload, indent=2, ensure_ascii=False))
        super().show(file)


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        from importlib import import_module

        module, attribute, _ = COMMANDS[cmd_name]
        command: click.Command = getattr(import_module(module), attribute)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, short) for name, (_, _, short) in sorted(COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["courrier.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CourrierError as error:
            raise CourrierFailure(error, as_json=ctx.meta.get("courrier.json", False)) from error
        except Exception as error:
            known = _database_error(error)
            if known is None:
                raise
            raise CourrierFailure(known, as_json=ctx.meta.get("courrier.json", False)) from error


def _database_error(error: Exception) -> CourrierError | None:
    """A database that cannot be reached or opened, as one line (not SQLAlchemy's 40-line trace)."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import DBAPIError, OperationalError

    if isinstance(error, OperationalError | DBAPIError) and error.connection_invalidated is False:
        reason = str(error.orig).strip().splitlines()[0] if error.orig is not None else str(error)
        if isinstance(error, OperationalError):
            from courrier.errors import ConfigError

            return ConfigError(f"cannot use the database: {reason}", code="database_unreachable")
    return None


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


def main(argv: Sequence[str] | None = None) -> None:
    courrier.main(args=list(argv) if argv is not None else None, prog_name="courrier")
