"""The print chain keeps its promises (issue 11), driven through the CLI as an operator would, on SQLite
and PostgreSQL: the pieces' states decide what is composed, the template is frozen, and no step leaves
a person stuck."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from courrier.cli import courrier
from courrier.db import make_engine
from courrier.db.schema import events, pieces, print_jobs

from ..compose.conftest import EXAMPLES

CAMPAIGN = """
name = "promises"
kind = "invitation"
template = "{template}"
languages = ["fr", "de", "en", "pt", "lb"]
[cohort]
sources = ["rnpp", "ccss"]
order = "postcode"
[waves]
size = 30
[codes]
valid_until = 2099-12-31
max_uses = 1
[qr]
content = "https://test.example.lu/c/{{code}}"
"""


# The shared LocalCluster of the running test (see the `chain` fixture).
_scheduler = ""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(courrier, list(args))
    assert result.exit_code in (0, 1, 2), result.output + repr(result.exception)
    return result.exit_code, result.output


def ok(*args: str) -> str:
    code, out = run(*args)
    assert code == 0, out
    return out


def refused(code: str, *args: str) -> str:
    exit_code, out = run(*args)
    assert exit_code == 1, out
    assert f"[{code}]" in out, out
    assert "Traceback" not in out
    return out


@pytest.fixture
def chain(cli_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dask_scheduler: str) -> Path:
    """A register of about 35 people, keys, and a campaign on a copy of the mass-testing template,
    planned: wave 1 of 30 pieces and wave 2 of the rest. Returns the campaign file."""
    monkeypatch.setenv("COURRIER_KEY_FILE", str(tmp_path / "courrier.keys"))
    global _scheduler
    _scheduler = dask_scheduler
    template = tmp_path / "template"
    shutil.copytree(EXAMPLES / "mass-testing", template)
    campaign = tmp_path / "promises.toml"
    campaign.write_text(CAMPAIGN.format(template=template), encoding="utf-8")
    ok("register", "generate", "--people", "30", "--cross-border", "5", "--seed", "3", "-o", "register.csv")
    ok("register", "import", "register.csv")
    ok("keys", "create")
    ok("campaign", "create", str(campaign))
    ok("campaign", "plan", "promises")
    return campaign


def compose(*args: str) -> tuple[int, str]:
    return run("compose", "promises", "--scheduler", _scheduler, "--job-size", "12", *args)


def states(db_url: str, **where: object) -> dict[str, int]:
    engine = make_engine(db_url)
    with engine.connect() as connection:
        query = select(pieces.c.state, func.count()).group_by(pieces.c.state)
        for column, value in where.items():
            query = query.where(pieces.c[column] == value)
        found = {state: int(count) for state, count in connection.execute(query)}
    engine.dispose()
    return found


def jobs(*, json_list: bool = True) -> list[dict[str, object]]:
    return list(json.loads(ok("jobs", "list", "promises", "--json")))


def post_every_job() -> None:
    for job in jobs():
        name = str(job["name"])
        ok("jobs", "mark", name, "printed")
        ok("inserter", "simulate", name, "-o", f"{name}.results.csv")
        ok("inserter", "results", f"{name}.results.csv")
        ok("jobs", "mark", name, "posted")


def reissue_a_posted_letter(url: str) -> None:
    """Wave 1 issued, composed and posted, then one posted letter re-issued with its code (lost)."""
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    post_every_job()
    engine = make_engine(url)
    with engine.connect() as connection:
        person = connection.execute(select(pieces.c.person_id).where(pieces.c.state == "posted")).scalar()
    engine.dispose()
    ok("codes", "reissue", "promises", "--person", str(person), "--same-code", "--reason", "lost")


def test_posted_piece_is_never_composed_again(chain, cli_env, tmp_path: Path, monkeypatch):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    post_every_job()
    posted = states(cli_env)
    assert posted["posted"] == 30
    other = tmp_path / "other"
    code, out = compose("--wave", "1", "--out", str(other))
    assert code == 0, out
    assert "0 jobs composed" in out
    assert "already printed" in out
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # the default folder is the campaign's, not one relative to here
    code, out = compose("--wave", "1")
    assert code == 0, out
    assert "0 jobs composed" in out
    assert states(cli_env) == posted
    assert {job["state"] for job in jobs()} == {"posted"}
    assert not list(other.rglob("*.pdf"))
    assert not list(elsewhere.rglob("*.pdf"))


def test_print_files_go_to_the_campaigns_folder_fixed_at_first_compose(chain, cli_env, tmp_path, monkeypatch):
    ok("codes", "issue", "promises")
    assert compose("--wave", "1")[0] == 0
    folder = (tmp_path / "print-jobs" / "promises").resolve()
    assert sorted(Path(str(job["folder"])) for job in jobs()) == [folder] * len(jobs())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    code, out = compose("--wave", "2")
    assert code == 0, out
    assert str(folder) in out
    assert all(Path(str(job["folder"])) == folder for job in jobs())
    assert not (elsewhere / "print-jobs").exists()


def test_composed_job_with_missing_files_is_reported_not_remade(chain, cli_env, tmp_path: Path):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    first = jobs()[0]
    pdf = Path(str(first["folder"])) / f"{first['name']}.pdf"
    manifest = pdf.with_name(f"{first['name']}.manifest.csv")
    original = manifest.read_bytes()
    pdf.unlink()
    out = refused("job_files_changed", *["compose", "promises", "--wave", "1", "--workers", "1"])
    assert str(first["name"]) in out
    assert not pdf.exists()
    code, out = compose("--wave", "1", "--remake")
    assert code == 0, out
    assert pdf.exists()
    assert manifest.read_bytes() == original  # the same pieces in the same order
    engine = make_engine(cli_env)
    with engine.connect() as connection:
        remade = connection.execute(select(func.count()).where(events.c.type == "job.remade")).scalar_one()
    engine.dispose()
    assert remade == 1
    ok("jobs", "mark", str(first["name"]), "printed")
    pdf.unlink()
    code, out = compose("--wave", "1", "--remake")  # printed: done, never re-made
    assert code == 0, out
    assert not pdf.exists()


def test_compose_before_codes_are_issued_is_refused_naming_the_command(chain, cli_env):
    out = refused("codes_missing", "compose", "promises", "--wave", "1", "--workers", "1")
    assert "courrier codes issue promises --wave 1" in out
    assert states(cli_env) == {"planned": 35}
    assert jobs() == []


def test_a_job_never_has_zero_pages_and_failed_letters_are_composed_again(chain, cli_env):
    template = chain.parent / "template"
    text = template / "text.fr.md"
    good = text.read_text("utf-8")
    # A typo that `template check` cannot see: every French letter fails (its care-of line is empty).
    text.write_text(good.replace("{{ valid_from | date }}", "{{ person.care_of | date }}"), "utf-8")
    ok("codes", "issue", "promises", "--wave", "1")
    refused("template_changed", "compose", "promises", "--wave", "1", "--workers", "1")
    ok("campaign", "create", str(chain), "--update-template")
    code, out = compose("--wave", "1")
    assert code == 0, out
    failed = states(cli_env).get("failed", 0)
    assert failed > 0
    assert "--retry-failed" in out
    for job in jobs():
        assert job["state"] in ("composed", "empty")
        if job["state"] == "composed":
            assert int(str(job["sheets"])) > 0
    text.write_text(good, "utf-8")
    ok("campaign", "create", str(chain), "--update-template")
    code, out = compose("--wave", "1")  # a plain re-run makes nothing new
    assert code == 0, out
    assert "0 jobs composed" in out
    code, out = compose("--wave", "1", "--retry-failed")
    assert code == 0, out
    assert f"{failed:,} letter" in out
    assert states(cli_env, wave_id=1) == {"composed": 30}


def test_edited_template_is_refused_naming_the_changed_file(chain, cli_env):
    ok("codes", "issue", "promises", "--wave", "1")
    text = chain.parent / "template" / "text.de.md"
    text.write_text(text.read_text("utf-8") + "\nEin neuer Satz.\n", "utf-8")
    out = refused("template_changed", "compose", "promises", "--wave", "1", "--workers", "1")
    assert "text.de.md" in out
    assert jobs() == []


def test_template_cannot_change_once_a_job_is_printed(chain, cli_env):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    ok("jobs", "mark", str(jobs()[0]["name"]), "printed")
    text = chain.parent / "template" / "text.de.md"
    text.write_text(text.read_text("utf-8") + "\nEin neuer Satz.\n", "utf-8")
    refused("template_in_use", "campaign", "create", str(chain), "--update-template")


def test_reissued_piece_is_composed_with_reissues_and_shown_until_printed(chain, cli_env):
    reissue_a_posted_letter(cli_env)
    status = json.loads(ok("status", "promises", "--json"))
    assert status["pieces"]["reissues"] == {"planned": 1}
    code, out = compose("--reissues")
    assert code == 0, out
    assert "1 job composed" in out
    reprinted = [job for job in jobs() if job["wave_number"] is None]
    assert len(reprinted) == 1
    assert reprinted[0]["pieces"] == 1
    ticket = Path(str(reprinted[0]["folder"])) / f"{reprinted[0]['name']}.ticket.json"
    assert json.loads(ticket.read_text("utf-8"))["wave"] is None
    code, out = compose("--reissues")
    assert "0 jobs composed" in out


def test_reprint_writes_next_to_the_composed_jobs_with_each_jobs_own_wave(chain, cli_env, tmp_path: Path):
    ok("codes", "issue", "promises")
    assert compose("--wave", "1", "--out", str(tmp_path / "press"))[0] == 0
    assert compose("--wave", "2")[0] == 0
    folder = (tmp_path / "press" / "promises").resolve()
    for job in jobs():
        name = str(job["name"])
        ok("jobs", "mark", name, "printed")
        ok("inserter", "simulate", name, "--miss", "0.3", "--seed", "2", "-o", f"{name}.results.csv")
        ok("inserter", "results", f"{name}.results.csv")
    code, out = run("reprint", "promises", "--yes", "--scheduler", _scheduler)
    assert code == 0, out
    reprints = [job for job in jobs() if job["reprint_of"]]
    assert {job["wave_number"] for job in reprints} == {1, 2}
    wave_of = {str(job["name"]): job["wave_number"] for job in jobs()}
    for job in reprints:
        assert Path(str(job["folder"])) == folder
        ticket = json.loads((folder / f"{job['name']}.ticket.json").read_text("utf-8"))
        assert ticket["wave"] == wave_of[str(job["reprint_of"])]
    assert not (tmp_path / "print-jobs").exists()
    total = json.loads(ok("reconcile", "promises", "--json"))["total"]
    assert total["expected"] == 35  # each piece once, not once more per reprint


def test_reprint_json_has_one_shape_whether_or_not_anything_is_reprinted(chain, cli_env):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    name = str(jobs()[0]["name"])
    ok("jobs", "mark", name, "printed")
    ok("inserter", "simulate", name, "-o", "all.results.csv")
    ok("inserter", "results", "all.results.csv")
    nothing = json.loads(ok("reprint", "promises", "--yes", "--json", "--scheduler", _scheduler))
    assert nothing["composed"] is None
    assert nothing["plan"]["to_reprint"] == 0
    assert nothing["plan"]["expected"] == 12

    other = str(jobs()[1]["name"])
    ok("jobs", "mark", other, "printed")
    ok("inserter", "simulate", other, "--miss", "0.3", "--seed", "2", "-o", "some.results.csv")
    ok("inserter", "results", "some.results.csv")
    some = json.loads(ok("reprint", "promises", "--yes", "--json", "--scheduler", _scheduler))
    assert set(some) == set(nothing)
    assert some["plan"]["to_reprint"] > 0
    assert some["composed"]["letters"] == some["plan"]["to_reprint"]


def test_campaign_create_refuses_a_folder_that_is_not_a_template(cli_env, tmp_path: Path):
    for folder, code in (("nothing-here", "template_not_found"), ("not-a-template", "template_not_found")):
        (tmp_path / "not-a-template").mkdir(exist_ok=True)
        (tmp_path / "not-a-template" / "notes.txt").write_text("hello", "utf-8")
        campaign = tmp_path / f"{folder}.toml"
        campaign.write_text(CAMPAIGN.format(template=tmp_path / folder), encoding="utf-8")
        refused(code, "campaign", "create", str(campaign))
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLES / "mass-testing", broken)
    text = broken / "text.fr.md"
    text.write_text(text.read_text("utf-8").replace("{{ valid_from", "{{ valid_frm"), "utf-8")
    campaign = tmp_path / "broken.toml"
    campaign.write_text(CAMPAIGN.format(template=broken), encoding="utf-8")
    refused("unknown_placeholder", "campaign", "create", str(campaign))
    assert "no campaigns yet" in ok("campaign", "list")


def test_job_states_are_listed(chain, cli_env):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    engine = make_engine(cli_env)
    with engine.connect() as connection:
        assert set(connection.execute(select(print_jobs.c.state)).scalars()) == {"composed"}
    engine.dispose()


def _register_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    import csv

    with path.open(encoding="utf-8", newline="") as file:
        rows = list(csv.reader(file))
    return rows[0], rows[1:]


def _national_ids(db_url: str, wave: int) -> list[str]:
    from courrier.db.schema import persons, waves

    engine = make_engine(db_url)
    with engine.connect() as connection:
        found = list(
            connection.execute(
                select(persons.c.national_id)
                .join(pieces, pieces.c.person_id == persons.c.id)
                .join(waves, waves.c.id == pieces.c.wave_id)
                .where(waves.c.number == wave, persons.c.country == "LU")
                .order_by(pieces.c.id)
            ).scalars()
        )
    engine.dispose()
    return found


def _reimport(changes: dict[str, dict[str, str]]) -> None:
    """The register again, some people changed (moved, died), as a later extract."""
    import csv

    header, rows = _register_rows(Path("register.csv"))
    for row in rows:
        for column, value in changes.get(row[header.index("national_id")], {}).items():
            row[header.index(column)] = value
    with Path("register-later.csv").open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows([header, *rows])
    ok("register", "import", "register-later.csv")


def test_posting_statement_counts_what_was_printed_and_posted(chain, cli_env):
    """Reprints in place of the letters they replace (never twice), the country a letter was printed
    with (a person who moved abroad after compose is still domestic mail), withdrawn letters left out."""
    ok("codes", "issue", "promises")
    assert compose("--wave", "1")[0] == 0
    for job in jobs():
        name = str(job["name"])
        ok("jobs", "mark", name, "printed")
        ok("inserter", "simulate", name, "--damage", "0.25", "--seed", "4", "-o", f"{name}.results.csv")
        ok("inserter", "results", f"{name}.results.csv")
    assert states(cli_env, wave_id=1).get("damaged", 0) > 0
    code, out = run("reprint", "promises", "--yes", "--scheduler", _scheduler)
    assert code == 0, out
    for job in jobs():
        name = str(job["name"])
        if job["state"] == "composed":  # the reprints
            ok("jobs", "mark", name, "printed")
            ok("inserter", "simulate", name, "-o", f"{name}.results.csv")
            ok("inserter", "results", f"{name}.results.csv")
    mover = _national_ids(cli_env, 1)[0]
    died = _national_ids(cli_env, 2)[0]
    _reimport(
        {
            mover: {"country": "FR", "postcode": "57100", "locality": "Thionville", "street": "rue Neuve"},
            died: {"deceased": "1"},
        }
    )
    ok("campaign", "plan", "promises")  # withdraws the person who died from wave 2, not yet composed
    assert states(cli_env, wave_id=2).get("withdrawn") == 1
    for job in jobs():
        if job["state"] == "inserted":
            ok("jobs", "mark", str(job["name"]), "posted")
    statement = json.loads(ok("posting", "promises", "--wave", "1", "--json"))
    assert states(cli_env, wave_id=1) == {"posted": 30}
    assert statement["total"]["pieces"] == 30  # each letter once, the reprinted ones in their reprint
    reprints = {str(job["name"]) for job in jobs() if job["reprint_of"]}
    assert reprints & {row["job"] for row in statement["jobs"]}
    # What the print files hold: each piece in its latest job, by that job's presort bundle (the
    # country abroad); the mover's letter was printed for Luxembourg and is domestic mail.
    expected: dict[str, int] = {}
    latest: dict[str, str] = {}
    for job in sorted(jobs(), key=lambda job: str(job["name"])):  # J000001 < J000001.R1 < J000002
        if job["wave_number"] != 1:
            continue
        manifest = Path(str(job["folder"])) / f"{job['name']}.manifest.csv"
        for line in manifest.read_text("utf-8").splitlines()[1:]:
            piece, *_, bundle = line.split(",")
            latest[piece] = "domestic" if job["domestic"] else bundle
    for destination in latest.values():
        expected[destination] = expected.get(destination, 0) + 1
    assert statement["total"]["destination"] == expected
    assert sum(expected.values()) == 30
    # Wave 2: one person died before it was composed; their letter is in no statement.
    assert compose("--wave", "2")[0] == 0
    for job in jobs():
        name = str(job["name"])
        if job["state"] == "composed":
            ok("jobs", "mark", name, "printed")
            ok("inserter", "simulate", name, "-o", f"{name}.results.csv")
            ok("inserter", "results", f"{name}.results.csv")
            ok("jobs", "mark", name, "posted")
    second = json.loads(ok("posting", "promises", "--wave", "2", "--json"))
    assert second["total"]["pieces"] == states(cli_env, wave_id=2)["posted"] == 4
    everything = json.loads(ok("posting", "promises", "--json"))
    assert everything["total"]["pieces"] == 34
    text = ok("posting", "promises", "--wave", "1")
    assert text.splitlines()[-1].startswith("total")


def _count(db_url: str, table) -> int:  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    with engine.connect() as connection:
        found = int(connection.execute(select(func.count()).select_from(table)).scalar_one())
    engine.dispose()
    return found


def test_a_mis_created_campaign_is_renamed_or_deleted_until_a_letter_is_printed(chain, cli_env):
    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    assert "renamed promises-2026" in ok("campaign", "rename", "promises", "promises-2026")
    assert [job["state"] for job in json.loads(ok("jobs", "list", "promises-2026", "--json"))]
    shown = json.loads(ok("campaign", "show", "promises-2026", "--json"))
    assert 'name = "promises-2026"' in shown["definition"]
    refused("unknown_campaign", "campaign", "show", "promises")
    refused("bad_campaign_name", "campaign", "rename", "promises-2026", "Promises 2026")
    ok("campaign", "rename", "promises-2026", "promises")
    ok("jobs", "mark", str(jobs()[0]["name"]), "printed")
    refused("campaign_printed", "campaign", "rename", "promises", "other")
    refused("campaign_printed", "campaign", "delete", "promises", "--yes")
    assert json.loads(ok("campaign", "show", "promises", "--json"))["name"] == "promises"


def test_deleting_a_campaign_before_printing_removes_it_and_keeps_one_event(chain, cli_env):
    from courrier.db.schema import codes, persons

    ok("codes", "issue", "promises", "--wave", "1")
    assert compose("--wave", "1")[0] == 0
    people, made = _count(cli_env, persons), len(jobs())
    assert run("campaign", "delete", "promises")[0] == 1  # asks first; no answer, nothing deleted
    assert _count(cli_env, pieces) == 35
    out = ok("campaign", "delete", "promises", "--yes")
    assert f"2 wave(s), 35 piece(s), 30 code(s), {made} job(s)" in out
    assert "print files composed for it are left in" in out
    assert "no campaigns yet" in ok("campaign", "list")
    assert (_count(cli_env, pieces), _count(cli_env, codes), _count(cli_env, print_jobs)) == (0, 0, 0)
    assert _count(cli_env, persons) == people  # the register is not the campaign's
    engine = make_engine(cli_env)
    with engine.connect() as connection:
        kept = list(connection.execute(select(events.c.type, events.c.details)))
    engine.dispose()
    assert [kind for kind, _ in kept] == ["campaign.deleted"]
    assert json.loads(kept[0][1])["pieces"] == 35
    ok("campaign", "create", str(chain))  # the name is free again


_PROGRESS = re.compile(
    r"^(composing [\d,]+ jobs?, [\d,]+ letters?"
    r"|  \[[#-]+\]\s+\d+%\s+[\d,]+/[\d,]+ jobs\s+[\d,]+/[\d,]+ letters .*)$"
)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_a_compose_shows_the_user_only_our_own_lines_on_stderr(chain, cli_env, tmp_path: Path):
    """Dask's warnings stay off the terminal. Provoked here: Dask warns of a "large graph" above 1 kB
    and of an unresponsive event loop above 1 ms, as it does for a full-size job on a busy machine."""
    import os
    import subprocess
    import sys

    ok("codes", "issue", "promises", "--wave", "1")
    env = {
        **os.environ,
        "DASK_DISTRIBUTED__ADMIN__LARGE_GRAPH_WARNING_THRESHOLD": "1kB",
        "DASK_DISTRIBUTED__ADMIN__TICK__LIMIT": "1ms",
    }
    done = subprocess.run(
        [sys.executable, "-m", "courrier", "compose", "promises", "--wave", "1", "--workers", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "jobs composed" in done.stdout
    assert [line for line in done.stderr.splitlines() if not _PROGRESS.match(line)] == []


def test_compose_into_a_folder_that_cannot_be_made_is_one_line(chain, cli_env, tmp_path: Path):
    ok("codes", "issue", "promises", "--wave", "1")
    (tmp_path / "a-file").write_text("in the way", "utf-8")
    out = refused(
        "unwritable_folder", "compose", "promises", "--wave", "1", "--out", str(tmp_path / "a-file" / "x")
    )
    assert len(out.strip().splitlines()) == 1
    assert states(cli_env, wave_id=1) == {"planned": 30}


def test_a_template_folder_gone_since_create_is_one_line_without_a_dask_dump(chain, cli_env, tmp_path: Path):
    ok("codes", "issue", "promises", "--wave", "1")
    shutil.rmtree(tmp_path / "template")
    (tmp_path / "template").mkdir()
    (tmp_path / "template" / "notes.txt").write_text("not a template", "utf-8")
    code, out = compose("--wave", "1")
    assert code == 1, out
    assert len(out.strip().splitlines()) == 1, out
    assert re.search(r"\[template_[a-z_]+\]$", out.strip()), out
    assert states(cli_env, wave_id=1) == {"planned": 30}


def test_one_piece_is_said_in_the_singular(chain, cli_env):
    reissue_a_posted_letter(cli_env)
    assert "1 job composed" in compose("--reissues")[1]
    name = next(str(job["name"]) for job in jobs() if job["wave_number"] is None)
    assert ok("jobs", "mark", name, "printed").strip() == f"{name} marked printed: 1 piece"
