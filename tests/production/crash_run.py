"""Run `courrier` commands and kill them with SIGKILL at a chosen database step (issue 11's crash test).

    python crash_run.py J:D COUNT_FILE -- courrier arguments...
    python crash_run.py --serve

A step is a statement executed or a transaction committed, counted on every engine of the process. A
commit's step comes as it is sent, so a kill at it leaves the transaction rolled back; the step after it
is the first with the transaction committed. A *work commit* commits a transaction that wrote a row of a
table other than ``step_locks``: the job's progress, which a resumed run does not do again (taking or
giving back a production step's lock, or a transaction that only read, is not). ``J:D`` kills the
process at the D-th step after its J-th work commit (``0:D``: its D-th step; ``J:1``: right after the
J-th work commit), with SIGKILL, so no ``finally``, no rollback, no flush runs: what is left is what a
power cut leaves. ``0:0`` runs to the end.

COUNT_FILE says, as JSON, how far the run went: ``steps``, and the steps of its ``commits`` and of its
``work`` commits (the commit's own step), written at the end of the run or just before the kill, by this
harness and not by the command. That is how the test places its kill points within a real run. The clock
is fixed (COURRIER_TEST_NOW), so a resumed compose and an uninterrupted one date their print files alike
and can be compared byte for byte.

``--serve`` imports courrier and the commands once, then for each request on stdin (one JSON line:
``kill`` as ``[J, D]``, ``count_file``, ``args``, ``env``, ``cwd``, ``stdout``, ``stderr``) forks a
process of its own that runs the command as above, and answers with its exit status on stdout (``-9``
when it was killed). Each run is still a process of its own, killed by SIGKILL; only the second of
imports is saved each time.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import sys
from pathlib import Path


class Steps:
    """The step counter of one run, and where it kills the run."""

    def __init__(self) -> None:
        self.steps = 0
        self.commits: list[int] = []
        self.work: list[int] = []
        self.kill_after_work, self.kill_in = 0, 0
        self.kill_at = 0  # the step that kills, once known; 0: none
        self.count_file: Path | None = None
        self._wrote = False

    def start(self, kill: tuple[int, int], count_file: Path) -> None:
        self.kill_after_work, self.kill_in = kill
        self.kill_at = self.kill_in if self.kill_after_work == 0 else 0
        self.count_file = count_file

    def report(self) -> None:
        assert self.count_file is not None
        found = {"steps": self.steps, "commits": self.commits, "work": self.work}
        self.count_file.write_text(json.dumps(found), encoding="utf-8")

    def step(self) -> None:
        self.steps += 1
        if self.steps == self.kill_at:
            self.report()
            os.kill(os.getpid(), signal.SIGKILL)

    def statement(self, _connection: object, _cursor: object, statement: str, *_args: object) -> None:
        # Statements sent straight to the driver (db.prepared) come here too, with the SQL text only.
        # The table follows the verb (UPDATE t) or INSERT INTO / DELETE FROM.
        words = statement.split(None, 3)
        if words and words[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            table = words[1 if words[0].upper() == "UPDATE" else 2 : 3]
            self._wrote |= [name.strip('"') for name in table] != ["step_locks"]
        self.step()

    def commit(self, _connection: object) -> None:
        self.step()
        self.commits.append(self.steps)
        if self._wrote:
            self.work.append(self.steps)
            if len(self.work) == self.kill_after_work:
                self.kill_at = self.steps + self.kill_in
        self._wrote = False

    def rollback(self, _connection: object) -> None:
        self._wrote = False


def _install() -> Steps:
    """The fixed clock and the step counter, before any command module binds ``utcnow``."""
    import courrier.db.types

    fixed = dt.datetime.fromisoformat(os.environ["COURRIER_TEST_NOW"])
    courrier.db.types.utcnow = lambda: fixed

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    steps = Steps()
    event.listen(Engine, "after_cursor_execute", steps.statement)
    event.listen(Engine, "commit", steps.commit)
    event.listen(Engine, "rollback", steps.rollback)
    return steps


def _run(argv: list[str], steps: Steps) -> int:
    from courrier.cli import courrier as command

    try:
        command.main(args=argv, prog_name="courrier", standalone_mode=True)
    except SystemExit as done:
        return done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    finally:
        steps.report()
    return 0


def main() -> None:
    after_work, _, kill_in = sys.argv[1].partition(":")
    steps = _install()
    steps.start((int(after_work), int(kill_in)), Path(sys.argv[2]))
    sys.exit(_run(sys.argv[sys.argv.index("--") + 1 :], steps))


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

    steps = _install()
    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:  # the run: a process of its own, which SIGKILL ends like a power cut
            try:
                after_work, kill_in = request["kill"]
                steps.start((int(after_work), int(kill_in)), Path(request["count_file"]))
                os.environ.clear()
                os.environ.update(request["env"])
                os.chdir(request["cwd"])
                signal.alarm(300)  # a hung run ends with SIGALRM, which the test reports
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                for fd, name in ((1, "stdout"), (2, "stderr")):
                    target = os.open(request[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                    os.dup2(target, fd)
                code = _run(request["args"], steps)
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
