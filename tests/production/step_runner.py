"""Runs one ``courrier`` command in its own process, for the race and kill tests.

    python step_runner.py PAUSE GUARD -- ARGS...
    python step_runner.py --serve

``PAUSE`` is ``module:function`` or ``module:function@N`` (or ``-``): the first (N-th) call of that
function in that module waits,
after writing ``$STEP_RUNNER_DIR/paused``, until ``$STEP_RUNNER_DIR/go`` exists, so a test can start a
second command exactly while the first is inside its step. ``GUARD`` ``off`` replaces the production
steps' lock by nothing: the control that shows what the lock prevents.

``--serve`` imports courrier and the racing commands once, then for each request on stdin (one JSON line)
answers one line on stdout: ``{"op": "start", "pause", "guard", "args", "env", "cwd", "output",
"new_session"}`` forks a process of its own that runs the command as above (stdout and stderr to the file
``output``; in a session of its own with ``new_session``) and answers ``{"pid": N}``; ``{"op": "poll",
"pid": N}`` answers ``{"returncode": R}``, ``null`` while it runs (``-9`` when killed). Each run is still a
process of its own, racing the others for real; only the two seconds of imports are saved each time.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
import time
from pathlib import Path
from typing import Any

_WAIT_S = 600.0


def _pause_at(target: str, folder: Path) -> None:
    module_name, function_name = target.split(":")
    function_name, _, nth = function_name.partition("@")
    module = importlib.import_module(module_name)
    original = getattr(module, function_name)
    calls = 0

    def waiting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == int(nth or 1):
            (folder / "paused").touch()
            deadline = time.monotonic() + _WAIT_S
            while not (folder / "go").exists() and time.monotonic() < deadline:
                time.sleep(0.05)
        return original(*args, **kwargs)

    setattr(module, function_name, waiting)


def _unguarded() -> None:
    _short_sqlite_busy_timeout()
    for name in (
        "courrier.production.results",
        "courrier.production.compose_wave",
        "courrier.production.reprint",
    ):
        module = importlib.import_module(name)
        if hasattr(module, "step_lock"):
            module.step_lock = lambda *args, **kwargs: contextlib.nullcontext()  # type: ignore[attr-defined]


def _short_sqlite_busy_timeout() -> None:
    """Without the lock, the second of two SQLite runs waits for the first's transaction until the busy
    timeout and fails with "database is locked": the crash the control shows. It fails the same after
    1 s as after the 30 s a real run waits, and the test's worker is not left idle meanwhile."""
    from courrier.db import engine

    pragmas = engine._sqlite_pragmas

    def with_short_timeout(dbapi_connection: Any, record: Any) -> None:
        pragmas(dbapi_connection, record)
        dbapi_connection.execute("PRAGMA busy_timeout=1000")

    engine._sqlite_pragmas = with_short_timeout  # type: ignore[assignment]


def _command(pause: str, guard: str, args: list[str]) -> None:
    if pause != "-":
        _pause_at(pause, Path(os.environ["STEP_RUNNER_DIR"]))
    if guard == "off":
        _unguarded()
    from courrier.cli import courrier

    courrier.main(args=args, prog_name="courrier")


def main() -> None:
    pause, guard, separator, *args = sys.argv[1:]
    assert separator == "--"
    _command(pause, guard, args)


# What the racing commands import (compose, reprint, inserter results, status).
PRELOAD = (
    "courrier.cli",
    "courrier.cli.compose",
    "courrier.cli.production",
    "courrier.app",
    "courrier.production.compose_wave",
    "courrier.production.reprint",
    "courrier.production.results",
    "distributed",
)


def _child(request: dict[str, Any]) -> None:
    """The forked run: never returns."""
    code = 0
    try:
        if request["new_session"]:
            os.setsid()
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        output = os.open(request["output"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        os.dup2(output, 1)
        os.dup2(output, 2)
        _command(request["pause"], request["guard"], request["args"])
    except SystemExit as done:  # click's way out, as in a process of its own
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except BaseException:  # reported on the run's output, as a process would report it
        import traceback

        traceback.print_exc()
        code = 70
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def serve() -> None:
    import json

    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "start":
            pid = os.fork()
            if pid == 0:
                _child(request)
            answer: dict[str, Any] = {"pid": pid}
        else:
            done, status = os.waitpid(int(request["pid"]), os.WNOHANG)
            answer = {"returncode": os.waitstatus_to_exitcode(status) if done else None}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
