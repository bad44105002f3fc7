"""Run `courrier` commands and kill them with SIGKILL after their N-th database step (issue 11's crash test).

    python crash_run.py N COUNT_FILE -- courrier arguments...
    python crash_run.py --serve

A step is a statement executed or a transaction committed, counted on every engine of the process; at
step N the process sends itself SIGKILL, so no ``finally``, no rollback, no flush runs: what is left is
what a power cut leaves. N = 0 runs to the end and writes the number of steps to COUNT_FILE, which is how
the test picks its seeded kill points within a real run. The clock is fixed (COURRIER_TEST_NOW), so a
resumed compose and an uninterrupted one date their print files alike and can be compared byte for byte.

``--serve`` imports courrier and the commands once, then for each request on stdin (one JSON line:
``limit``, ``count_file``, ``args``, ``env``, ``cwd``, ``stdout``, ``stderr``) forks a process of its own
that runs the command as above, and answers with its exit status on stdout (``-9`` when it was killed).
Each run is still a process of its own, killed by SIGKILL; only the second of imports is saved each time.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path


def _install(limit_of: list[int]) -> list[int]:
    """The fixed clock and the step counter, before any command module binds ``utcnow``."""
    import courrier.db.types

    fixed = dt.datetime.fromisoformat(os.environ["COURRIER_TEST_NOW"])
    courrier.db.types.utcnow = lambda: fixed

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    steps = [0]

    def step(*_args: object) -> None:
        steps[0] += 1
        if steps[0] == limit_of[0]:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "after_cursor_execute", step)
    event.listen(Engine, "commit", step)
    return steps


def _run(argv: list[str], count_file: Path, steps: list[int]) -> int:
    from courrier.cli import courrier as command

    try:
        command.main(args=argv, prog_name="courrier", standalone_mode=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        count_file.write_text(str(steps[0]), encoding="utf-8")
    return 0


def main() -> None:
    limit, count_file = int(sys.argv[1]), Path(sys.argv[2])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    steps = _install([limit])
    sys.exit(_run(argv, count_file, steps))


# What the crash test's commands import (register import, codes issue, compose, inserter results).
PRELOAD = (
    "courrier.cli.register",
    "courrier.cli.campaign",
    "courrier.cli.codes",
    "courrier.cli.compose",
    "courrier.cli.production",
    "courrier.app",
    "courrier.register",
    "courrier.codes.issue",
    "courrier.production.compose_wave",
    "courrier.production.results",
    "distributed",
)


def serve() -> None:
    import importlib
    import json

    limit_of = [0]
    steps = _install(limit_of)
    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the run: a process of its own, which SIGKILL ends like a power cut
            try:
                limit_of[0] = int(request["limit"])
                os.environ.clear()
                os.environ.update(request["env"])
                os.chdir(request["cwd"])
                signal.alarm(300)  # a hung run ends with SIGALRM, which the test reports
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                for fd, name in ((1, "stdout"), (2, "stderr")):
                    target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(target, fd)
                code = _run(request["args"], Path(request["count_file"]), steps)
            except BaseException:  # reported on the run's stderr, as a process would report it
                import traceback

                traceback.print_exc()
                code = 70
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"returncode": os.waitstatus_to_exitcode(status)}), flush=True)


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        main()
