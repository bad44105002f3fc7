"""`courrier users` and `courrier audit`."""

from __future__ import annotations

import json

from click.testing import CliRunner

from courrier.accounts.audit import audit
from courrier.accounts.users import authenticate, get_user
from courrier.cli import courrier
from courrier.db.transaction import write_transaction

from .conftest import NOW, PASSWORD


def test_users_add_list_passwd_disable(cli_env, engine):
    runner = CliRunner()
    added = runner.invoke(
        courrier,
        ["users", "add", "rita", "--role", "reception", "--centre", "C01", "--password-stdin"],
        input=PASSWORD + "\n",
    )
    assert added.exit_code == 0, added.output
    listed = json.loads(runner.invoke(courrier, ["users", "list", "--json"]).output)
    assert listed == [
        {"username": "rita", "role": "reception", "centre": "C01", "establishment": None, "disabled": False}
    ]
    changed = runner.invoke(
        courrier, ["users", "passwd", "rita", "--password-stdin"], input="another long one\n"
    )
    assert changed.exit_code == 0, changed.output
    with write_transaction(engine) as connection:
        assert authenticate(connection, "rita", "another long one", client="t", now=NOW).username == "rita"
    assert runner.invoke(courrier, ["users", "disable", "rita"]).exit_code == 0
    with engine.connect() as connection:
        assert get_user(connection, "rita").disabled


def test_users_add_refuses_a_missing_scope_a_short_password_and_a_duplicate(cli_env):
    runner = CliRunner()
    no_centre = runner.invoke(
        courrier, ["users", "add", "rita", "--role", "reception", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert no_centre.exit_code == 1
    assert "[scope_required]" in no_centre.output
    short = runner.invoke(
        courrier, ["users", "add", "ann", "--role", "admin", "--password-stdin"], input="x\n"
    )
    assert "[password_too_short]" in short.output
    ok = runner.invoke(
        courrier, ["users", "add", "ann", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert ok.exit_code == 0
    again = runner.invoke(
        courrier, ["users", "add", "ann", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n"
    )
    assert "[user_exists]" in again.output


def test_audit_lists_what_staff_looked_at(cli_env, engine):
    runner = CliRunner()
    runner.invoke(
        courrier, ["users", "add", "hana", "--role", "helpline", "--password-stdin"], input=PASSWORD + "\n"
    )
    with write_transaction(engine) as connection:
        audit(connection, get_user(connection, "hana"), "code.viewed", "person:7", now=NOW)
    shown = runner.invoke(courrier, ["audit", "--json"])
    assert shown.exit_code == 0
    (entry,) = json.loads(shown.output)
    assert (entry["username"], entry["action"], entry["subject"]) == ("hana", "code.viewed", "person:7")
