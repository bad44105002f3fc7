"""Run one `courrier` command and kill it with SIGKILL after its N-th database step (issue 11's crash test).

    python crash_run.py N COUNT_FILE -- courrier arguments...

A step is a statement executed or a transaction committed, counted on every engine of the process; at
step N the process sends itself SIGKILL, so no ``finally``, no rollback, no flush runs: what is left is
what a power cut leaves. N = 0 runs to the end and writes the number of steps to COUNT_FILE, which is how
the test picks its seeded kill points within a real run. The clock is fixed (COURRIER_TEST_NOW), so a
resumed compose and an uninterrupted one date their print files alike and can be compared byte for byte.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import sys
from pathlib import Path


def main() -> None:
    limit, count_file = int(sys.argv[1]), Path(sys.argv[2])
    argv = sys.argv[sys.argv.index("--") + 1 :]
    import courrier.db.types

    fixed = dt.datetime.fromisoformat(os.environ["COURRIER_TEST_NOW"])
    courrier.db.types.utcnow = lambda: fixed  # before any command module binds it

    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    steps = [0]

    def step(*_args: object) -> None:
        steps[0] += 1
        if steps[0] == limit:
            os.kill(os.getpid(), signal.SIGKILL)

    event.listen(Engine, "after_cursor_execute", step)
    event.listen(Engine, "commit", step)
    from courrier.cli import courrier as command

    try:
        command.main(args=argv, prog_name="courrier", standalone_mode=True)
    finally:
        count_file.write_text(str(steps[0]), encoding="utf-8")


if __name__ == "__main__":
    main()
