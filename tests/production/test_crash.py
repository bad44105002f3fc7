"""SIGKILL in the middle of the print chain's long commands, then run them again (issue 11).

`register import`, `codes issue`, `compose` and `inserter results` are each killed at a dozen points
(statements and commits of a real run, see crash_run.py), run again after each kill, and the result is
compared with an uninterrupted run from the same database: no person, piece, code or job lost or
duplicated, no file left half-written, the print files byte for byte the same. Each run is a process of
its own (forked from one that imported courrier once, crash_run.py --serve), killed by SIGKILL. Each
kill lands in the run resumed after the previous kill, so a crash while resuming is tried too. On SQLite
and PostgreSQL, KILLS distinct points per command and database, placed on the uninterrupted run's steps
(kill_points): right after each of its commits, the others spread over the whole run (a seeded one in
each stretch), so the kills walk through the job and land after the work it committed as well as before.
A command of KILLS steps or fewer is killed at every one of them.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from courrier.cli import courrier
from courrier.db import make_engine
from courrier.db.schema import (
    codes,
    events,
    inserter_results,
    job_pieces,
    persons,
    pieces,
    print_jobs,
    register_rejects,
)

from ..compose.conftest import EXAMPLES
from .test_promises import CAMPAIGN

CRASH_RUN = Path(__file__).with_name("crash_run.py")
KILLS = 12  # per command and database, as the issue asks (a dozen each, on both databases)
NOW = "2026-12-02T09:00:00+00:00"


def ok(*args: str) -> str:
    result = CliRunner().invoke(courrier, list(args))
    assert result.exit_code == 0, result.output
    return result.output


class Databases:
    """Copies of one database state: a file copy on SQLite, CREATE DATABASE ... TEMPLATE on PostgreSQL."""

    def __init__(self, url: str, admin_url: str | None, folder: Path) -> None:
        self.url, self.admin_url, self.folder = url, admin_url, folder
        self.made: list[str] = []

    def copy(self, url: str, name: str) -> str:
        if url.startswith("sqlite"):
            source = Path(make_url(url).database or "")
            target = self.folder / f"{name}.db"
            for suffix in ("", "-wal", "-shm"):
                if Path(f"{source}{suffix}").exists():
                    shutil.copyfile(f"{source}{suffix}", f"{target}{suffix}")
            return f"sqlite:///{target}"
        assert self.admin_url is not None
        source_name = make_url(url).database
        target_name = f"{source_name}_{name}".replace("-", "_")[:60]
        admin = make_engine(self.admin_url).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            # A killed process's backend may linger a moment: a template database must have no session.
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name"),
                {"name": source_name},
            )
            connection.execute(text(f"DROP DATABASE IF EXISTS {target_name} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {target_name} TEMPLATE {source_name}"))
        admin.dispose()
        self.made.append(target_name)
        return make_url(url).set(database=target_name).render_as_string(hide_password=False)

    def drop(self) -> None:
        if not self.made:
            return
        admin = make_engine(str(self.admin_url)).execution_options(isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for name in self.made:
                connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


class Runs:
    """`courrier ARGS` runs, each in a process of its own forked from one that imported courrier once
    (``crash_run.py --serve``): a run still dies by SIGKILL with nothing flushed, without paying a second
    of imports each time."""

    def __init__(self, folder: Path) -> None:
        import os

        self.folder = folder
        self.count = 0
        self.server = subprocess.Popen(
            [sys.executable, str(CRASH_RUN), "--serve"],
            env={**os.environ, "COURRIER_TEST_NOW": NOW},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, url: str, kill: tuple[int, int], count_file: Path, *args: str) -> int:
        """`courrier ARGS` on ``url`` in the current directory, killed at step ``kill`` (``(J, D)``: the
        D-th step after its J-th work commit, see crash_run.py; ``(0, 0)``: never)."""
        import os

        self.count += 1
        out, err = self.folder / f"run-{self.count}.out", self.folder / f"run-{self.count}.err"
        request = {
            "kill": list(kill),
            "count_file": str(count_file),
            "args": list(args),
            "env": {**os.environ, "COURRIER_DATABASE_URL": url, "COURRIER_TEST_NOW": NOW},
            "cwd": os.getcwd(),
            "stdout": str(out),
            "stderr": str(err),
        }
        assert self.server.stdin is not None
        assert self.server.stdout is not None
        self.server.stdin.write(json.dumps(request) + "\n")
        self.server.stdin.flush()
        answer = self.server.stdout.readline()
        assert answer, f"crash_run.py --serve ended with {self.server.wait()}"
        returncode = int(json.loads(answer)["returncode"])
        stdout, stderr = out.read_text(), err.read_text()
        assert returncode in (0, -9), (args, kill, returncode, stdout, stderr)
        assert "Traceback" not in stderr, stderr
        return returncode

    def close(self) -> None:
        """End the server and close both its pipes: an unclosed pipe is a ResourceWarning, which the suite
        turns into an error in whichever test the garbage collector happens to run in next."""
        assert self.server.stdin is not None
        assert self.server.stdout is not None
        self.server.stdin.close()
        try:
            self.server.wait(timeout=60)
        finally:
            if self.server.poll() is None:
                self.server.kill()
                self.server.wait()
            self.server.stdout.close()


def kill_points(steps: int, commits: list[int], work: list[int], seed: int) -> list[tuple[int, int]]:
    """Where to kill the chain's runs, from an uninterrupted run's ``steps`` and the steps of its
    ``commits`` and ``work`` commits (crash_run.py): KILLS distinct steps of that run (every one when it
    has no more), namely the step right after each of its commits (evenly chosen among them should there
    be more than KILLS), and a seeded step in each of the stretches left between those. In the order of
    the run, each as ``(J, D)`` for the run resumed after the previous kill: past J more work commits (a
    resumed run does not commit the work again, so the J-th work commit it makes is the job's next one),
    then D steps; ``(0, D)`` when the point adds no work commit, the run's D-th step (when the job has
    begun, a crash while resuming, taking the killed run's lock over)."""
    points = {commit + 1 for commit in commits if commit < steps}
    if len(points) > KILLS:
        every = sorted(points)
        points = {every[i * len(every) // KILLS] for i in range(KILLS)}
    rest = [step for step in range(1, steps + 1) if step not in points]
    wanted = min(KILLS - len(points), len(rest))
    rnd = random.Random(seed)
    points |= {
        rnd.choice(rest[i * len(rest) // wanted : (i + 1) * len(rest) // wanted]) for i in range(wanted)
    }
    kills, landed = [], 0
    for point in sorted(points):
        before = [0, *(commit for commit in work if commit < point)]
        kills.append((len(before) - 1 - landed, point - before[-1]))
        landed = len(before) - 1
    return kills


def crash_and_resume(
    run: Runs,
    url: str,
    reference_url: str,
    tmp_path: Path,
    seed: int,
    args: list[str],
    reference_args: list[str],
) -> tuple[int, int]:
    """Run ``reference_args`` uninterrupted on ``reference_url``; on ``url``, kill ``args`` at the
    kill_points of that run, each in the run resumed after the previous kill, then run it to the end.
    Returns how many runs were killed (a point past the end of a resumed run lets it finish), and how many
    of those after a work commit of their own."""
    counted = tmp_path / "steps"
    assert run(reference_url, (0, 0), counted, *reference_args) == 0
    reference = json.loads(counted.read_text())
    killed = after_work = 0
    for kill in kill_points(reference["steps"], reference["commits"], reference["work"], seed):
        if run(url, kill, counted, *args) == -9:
            killed += 1
            after_work += bool(json.loads(counted.read_text())["work"])
    assert run(url, (0, 0), counted, *args) == 0
    return killed, after_work


def _rows(url: str, query: Any) -> list[tuple[Any, ...]]:
    engine = make_engine(url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(query)]
    engine.dispose()
    return found


def register_state(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    people = [
        c
        for c in persons.c
        if c.name not in {"id", "last_import_id", "imported_at", "changed_at", "changed_fields"}
    ]
    return (
        _rows(url, select(*people).order_by(persons.c.national_id)),
        # The latest import's reject report (a run after a finished import is an import of its own).
        _rows(
            url,
            select(register_rejects.c.line, register_rejects.c.field, register_rejects.c.reason)
            .where(
                register_rejects.c.import_id
                == select(func.max(register_rejects.c.import_id)).scalar_subquery()
            )
            .order_by(register_rejects.c.line, register_rejects.c.field),
        ),
    )


def piece_states(url: str) -> list[tuple[Any, ...]]:
    return _rows(url, select(pieces.c.id, pieces.c.state, pieces.c.code_id).order_by(pieces.c.id))


def job_state(url: str) -> list[tuple[Any, ...]]:
    return _rows(
        url,
        select(
            print_jobs.c.name,
            print_jobs.c.state,
            print_jobs.c.pieces,
            print_jobs.c.sheets,
            print_jobs.c.pages,
            print_jobs.c.failed,
            print_jobs.c.pdf_sha256,
            job_pieces.c.piece_id,
            job_pieces.c.sequence,
            job_pieces.c.pages,
            job_pieces.c.sheets,
            job_pieces.c.country,
            job_pieces.c.error_code,
        )
        .join(job_pieces, job_pieces.c.job_id == print_jobs.c.id)
        .order_by(print_jobs.c.name, job_pieces.c.sequence),
    )


def event_counts(url: str) -> Counter[str]:
    return Counter(dict(_rows(url, select(events.c.type, func.count()).group_by(events.c.type))))


def files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


@pytest.fixture
def databases(db_url: str, request: pytest.FixtureRequest, tmp_path: Path):  # type: ignore[no-untyped-def]
    admin = request.getfixturevalue("postgres_admin_url") if db_url.startswith("postgresql") else None
    made = Databases(db_url, admin, tmp_path)
    yield made
    made.drop()


@pytest.fixture
def runs(tmp_path: Path) -> Iterator[Runs]:
    folder = tmp_path / "runs"
    folder.mkdir()
    started = Runs(folder)
    yield started
    started.close()


def test_killed_anywhere_the_chain_resumes_to_what_an_uninterrupted_run_makes(
    databases: Databases,
    runs: Runs,
    cli_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    dask_scheduler: str,
):
    monkeypatch.setenv("COURRIER_KEY_FILE", str(tmp_path / "courrier.keys"))
    template = tmp_path / "template"
    shutil.copytree(EXAMPLES / "mass-testing", template)
    campaign = tmp_path / "promises.toml"
    campaign.write_text(CAMPAIGN.format(template=template), encoding="utf-8")
    ok("keys", "create")
    ok("register", "generate", "--people", "30", "--cross-border", "5", "--seed", "3", "--bad-rows", "0.1",
       "-o", "register.csv")  # fmt: skip
    killed: dict[str, tuple[int, int]] = {}

    # register import: chunks of 4 rows, some rejected.
    base = cli_env
    work, reference = databases.copy(base, "import"), databases.copy(base, "import_ref")
    args = ["register", "import", "register.csv", "--chunk-rows", "4"]
    killed["register import"] = crash_and_resume(runs, work, reference, tmp_path, 1, args, args)
    assert register_state(work) == register_state(reference)
    assert len(register_state(work)[0]) > 25

    # codes issue: every planned piece gets exactly one code, none twice. Codes are random: compared
    # by what must hold, not by value.
    monkeypatch.setenv("COURRIER_DATABASE_URL", work)
    ok("campaign", "create", str(campaign))
    ok("campaign", "plan", "promises")
    issued, issued_ref = databases.copy(work, "codes"), databases.copy(work, "codes_ref")
    args = ["codes", "issue", "promises"]
    killed["codes issue"] = crash_and_resume(runs, issued, issued_ref, tmp_path, 2, args, args)
    planned = len(piece_states(issued))
    code_rows = _rows(issued, select(codes.c.id, codes.c.piece_id, codes.c.hmac))
    assert len(code_rows) == planned
    assert len({row[1] for row in code_rows}) == len({row[2] for row in code_rows}) == planned
    assert [code for _, _, code in piece_states(issued)] == sorted(row[0] for row in code_rows)
    assert sum(1 for _, state, _ in piece_states(issued) if state == "planned") == planned

    # compose: the same jobs with the same pieces, and the same bytes in every file.
    composing, composing_ref = databases.copy(issued, "compose"), databases.copy(issued, "compose_ref")
    args = ["compose", "promises", "--wave", "1", "--job-size", "8", "--scheduler", dask_scheduler]
    out, out_ref = tmp_path / "press", tmp_path / "press-ref"
    killed["compose"] = crash_and_resume(
        runs,
        composing,
        composing_ref,
        tmp_path,
        3,
        [*args, "--out", str(out)],
        [*args, "--out", str(out_ref)],
    )
    assert job_state(composing) == job_state(composing_ref)
    assert piece_states(composing) == piece_states(composing_ref)
    made, made_ref = files(out), files(out_ref)
    assert sorted(made) == sorted(made_ref)  # nothing half-written left beside them
    for name, content in made.items():
        if name.endswith(".ticket.json"):
            content, expected = (
                c.replace(str(o).encode(), b"OUT") for c, o in ((content, out), (made_ref[name], out_ref))
            )
            assert content == expected, name
        else:
            assert content == made_ref[name], name  # the PDFs byte for byte
    assert any(name.endswith(".pdf") for name in made)

    # inserter results: every record once, every piece moved once.
    monkeypatch.setenv("COURRIER_DATABASE_URL", composing)
    results = []
    for (name,) in _rows(composing, select(print_jobs.c.name).order_by(print_jobs.c.name)):
        ok("jobs", "mark", name, "printed")
        ok("inserter", "simulate", name, "--damage", "0.2", "--seed", "5", "-o", f"{name}.results.csv")
        results.append(f"{name}.results.csv")
    reading, reading_ref = databases.copy(composing, "results"), databases.copy(composing, "results_ref")
    args = ["inserter", "results", results[0]]  # the others are read whole, on both, by the reference
    killed["inserter results"] = crash_and_resume(runs, reading, reading_ref, tmp_path, 4, args, args)
    assert piece_states(reading) == piece_states(reading_ref)
    record = select(
        inserter_results.c.file_name,
        inserter_results.c.line,
        inserter_results.c.piece_id,
        inserter_results.c.status,
        inserter_results.c.outcome,
    ).order_by(inserter_results.c.file_name, inserter_results.c.line)
    assert _rows(reading, record) == _rows(reading_ref, record)
    assert event_counts(reading) == event_counts(reading_ref)
    # Most kill points must really kill: a point past the end of a run tests nothing. And each command
    # is killed after work it committed, not only before its first commit.
    assert all(count >= KILLS // 2 and after > 0 for count, after in killed.values()), killed
