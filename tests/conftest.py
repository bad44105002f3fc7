"""Fixtures shared by the whole suite.

Database tests run twice, on SQLite and on PostgreSQL. PostgreSQL comes from
``COURRIER_TEST_DATABASE_URL`` (a server we may create databases on) or, when the PostgreSQL binaries
are installed, from a throwaway server the suite starts itself. Without either the PostgreSQL runs
skip with a reason; under ``COURRIER_REQUIRE_ALL=1`` (CI) a missing component fails instead.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from courrier.db import make_engine, upgrade
from courrier.db.schema import metadata

REQUIRE_ALL = os.environ.get("COURRIER_REQUIRE_ALL") == "1"
# How long a race test's threads wait for each other (a barrier, a join, a pool): only a guard against a
# hang, never a timing. At a load of 19 on 2 cores, a 30 s barrier of two page requests broke.
HANG_S = 300

# No test may depend on the machine's speed: a busy machine made a 200 ms Hypothesis deadline fail.
settings.register_profile("courrier", deadline=None)
settings.load_profile("courrier")


def pytest_configure(config: pytest.Config) -> None:
    # argon2 at pwdlib's memory cost is 0.2 s of CPU a hash, on purpose; the suite's hashes need
    # not be (1024 KiB: 4 ms). Set in the environment, so the servers and commands the tests start hash
    # the same way. tests/web/test_passwords.py tests both costs.
    os.environ.setdefault("COURRIER_ARGON2_MEMORY_KIB", "1024")


BROWSER_TESTS = Path(__file__).parent / "web" / "browser"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under ``pytest -n 2 --dist loadgroup`` (``make test``), the tests that share a costly fixture run on
    one pytest worker, which makes it once: the browser tests (a served site, Chromium) as one group, and
    each module with a module-scoped fixture (a cluster, a site, a composed batch) as a group of its own.
    Without ``--dist loadgroup`` the marks change nothing."""
    for item in items:
        path = Path(str(item.path))
        if path.is_relative_to(BROWSER_TESTS):
            item.add_marker(pytest.mark.xdist_group("browser"))
            continue
        fixtures = getattr(item, "_fixtureinfo", None)
        if fixtures is None:
            continue
        if any(
            definitions[-1].scope == "module"
            for definitions in fixtures.name2fixturedefs.values()
            if definitions
        ):
            item.add_marker(pytest.mark.xdist_group(path.stem))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node: Any, ids: list[str]) -> None:
    """Refuse a run that ``--dist loadgroup`` would not group. pytest-xdist tells its scheduler a test's
    group by appending ``@group`` to the test's id; when that is lost (pytest 9.2 with pytest-xdist
    3.8: pytest-xdist issue 1386), nothing fails, but every costly fixture is made on each worker,
    minutes of a run. The browser tests are always grouped, so an id of theirs without ``@`` says so.
    Runs in the controller, which has the workers' ids but not their marks."""
    if node.config.getoption("dist", None) != "loadgroup":
        return
    browser = f"{BROWSER_TESTS.relative_to(node.config.rootpath).as_posix()}/"
    lost = [nodeid for nodeid in ids if nodeid.startswith(browser) and "@" not in nodeid]
    if lost:
        raise pytest.UsageError(
            f"--dist loadgroup would not group the browser tests ({lost[0]}): this pytest and "
            "pytest-xdist do not work together (pytest-xdist issue 1386); install the versions "
            "pyproject.toml allows (make dev)"
        )


def skip_or_fail(reason: str) -> None:
    """Skip a test for a missing component; in CI (COURRIER_REQUIRE_ALL=1) fail instead."""
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {reason}", pytrace=False)
    pytest.skip(reason)


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        skip_or_fail(f"`{name}` is not installed")
    assert path is not None
    return path


def made_once(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[], Any]) -> Any:
    """``make()``, made by the first pytest-xdist worker that asks and read back (JSON) by the others:
    for test data that takes seconds to compute. Without xdist, simply ``make()``."""
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return make()
    shared = tmp_path_factory.getbasetemp().parent  # the run's folder, above each worker's own
    with (shared / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = shared / f"{name}.json"
        if not made.exists():
            made.write_text(json.dumps(make()))
        return json.loads(made.read_text())


# --- PostgreSQL ---


def _postgres_bindir() -> Path | None:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return candidates[0].parent if candidates else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(argv: list[str]) -> list[str]:
    # Debian's server refuses to run as root.
    return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else argv


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str]:
    """URL of a PostgreSQL server on which the suite may create a database."""
    configured = os.environ.get("COURRIER_TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    bindir = _postgres_bindir()
    if bindir is None:
        skip_or_fail("PostgreSQL is not installed and COURRIER_TEST_DATABASE_URL is not set")
    assert bindir is not None
    datadir = Path(tempfile.mkdtemp(prefix="courrier-pg-"))
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres_user(
            [
                str(bindir / "initdb"),
                "-D",
                str(datadir / "data"),
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
            ]
        ),
        check=True,
        capture_output=True,
    )
    options = f"-p {port} -k {datadir} -c listen_addresses='' -c fsync=off"
    subprocess.run(
        _as_postgres_user(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(datadir / "data"),
                "-o",
                options,
                "-l",
                str(datadir / "log"),
                "-w",
                "start",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={datadir}&port={port}"
    finally:
        subprocess.run(
            _as_postgres_user(
                [str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m", "immediate", "stop"]
            ),
            check=False,
            capture_output=True,
        )
        shutil.rmtree(datadir, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url(postgres_admin_url: str) -> Iterator[str]:
    """A migrated database of our own on that server, dropped at the end of the session."""
    name = f"courrier_test_{os.getpid()}"
    admin = make_engine(postgres_admin_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    url = make_url(postgres_admin_url).set(database=name).render_as_string(hide_password=False)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


# --- SQLite ---


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file; each test gets a copy (faster than migrating again)."""
    path = tmp_path_factory.mktemp("sqlite-template") / "courrier.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


# --- Dask ---


@pytest.fixture(scope="session")
def dask_client() -> Iterator[Any]:
    """One embedded cluster of two workers for the whole session, as a server process would hold it."""
    from distributed import Client

    from courrier.app import local_cluster

    with local_cluster(2) as cluster, Client(cluster) as client:
        yield client


# --- the database a test uses ---


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """URL of an empty, migrated database: once SQLite, once PostgreSQL."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "courrier.db"
        shutil.copyfile(template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_url")
    cleaner = request.getfixturevalue("postgres_cleaner")
    try:
        empty_postgres(cleaner)
    except DBAPIError as error:
        # A test that ends every session on the database (test_crash's template copies) ended the
        # cleaner's kept connection too. The engine has no ping before a checkout (db/engine.py): the
        # failed statement invalidated its pool, so the second try connects anew.
        if not error.connection_invalidated:
            raise
        empty_postgres(cleaner)
    return url


@pytest.fixture(scope="session")
def postgres_cleaner(postgres_url: str) -> Iterator[Engine]:
    """The engine that empties the PostgreSQL database before each test (one connection, kept)."""
    engine = make_engine(postgres_url)
    yield engine
    engine.dispose()


# A table a test left more rows than this in is emptied by TRUNCATE (DELETE is slower there).
SMALL_TABLE_ROWS = 1_000


def empty_postgres(engine: Engine) -> None:
    """Every table empty and every sequence back at its start, as ``TRUNCATE … RESTART IDENTITY`` leaves
    them. TRUNCATE costs the server new files for each table and index it empties, whatever they hold:
    0.6 s for our 35 tables under a load of 19, 0.04-0.13 s for one (with the tables referring to it,
    which CASCADE empties too). So only the tables holding over SMALL_TABLE_ROWS rows (the slots of a
    world of open centres, say) are truncated; the few rows most tests leave in a few tables DELETE
    removes in milliseconds."""
    tables = list(reversed(metadata.sorted_tables))  # children before the tables they refer to
    counts = " UNION ALL ".join(
        f"SELECT '{table.name}', (SELECT count(*) FROM (SELECT 1 FROM {table.name} LIMIT"
        f" {SMALL_TABLE_ROWS + 1}) AS kept)"
        for table in tables
    )
    with engine.begin() as connection:
        kept = {str(name): int(rows) for name, rows in connection.execute(text(counts))}
        large = [table.name for table in tables if kept[table.name] > SMALL_TABLE_ROWS]
        if large:
            connection.execute(text(f"TRUNCATE {', '.join(large)} RESTART IDENTITY CASCADE"))
        for table in tables:
            if kept[table.name] and table.name not in large:
                connection.execute(table.delete())  # no-op for a table CASCADE emptied
        # A sequence that handed out a value (even in a rolled-back transaction) starts again.
        connection.execute(
            text(
                "SELECT setval(format('%I.%I', schemaname, sequencename), start_value, false)"
                " FROM pg_sequences WHERE last_value IS NOT NULL"
            )
        )


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def cli_env(db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    """Point the CLI at the test database and run it in a scratch directory."""
    monkeypatch.setenv("COURRIER_DATABASE_URL", db_url)
    monkeypatch.setenv("COURRIER_ACTOR", "test")
    monkeypatch.chdir(tmp_path)
    return db_url
