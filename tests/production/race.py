"""Two production steps at once, in two real processes: the first held inside its step while the second
runs from start to end.

Each run is a process of its own, forked by ``step_runner.py --serve`` (one per test process, started on
first use) from one that imported courrier once: the races are still between processes, each with its own
database connections, and a killed run still dies by SIGKILL; only the import of courrier (two seconds of
CPU) is not paid again for every run.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RUNNER = Path(__file__).with_name("step_runner.py")
_WAIT_S = 600.0


@dataclass(frozen=True)
class Run:
    code: int
    output: str


class _Server:
    """``step_runner.py --serve``: forks the runs and reports how they ended."""

    def __init__(self) -> None:
        # The runs' outputs, outside the folders the tests look into.
        self.outputs = Path(tempfile.mkdtemp(prefix="step-runs-"))
        self.numbers = itertools.count(1)
        self.process = subprocess.Popen(
            [sys.executable, str(RUNNER), "--serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        answer = self.process.stdout.readline()
        assert answer, f"step_runner.py --serve ended with {self.process.wait()}"
        return dict(json.loads(answer))

    def close(self) -> None:
        """End the server and close both its pipes (an unclosed pipe is a ResourceWarning, an error in
        whichever test the garbage collector happens to run in next)."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=60)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self.process.stdout.close()
            shutil.rmtree(self.outputs, ignore_errors=True)


_server: _Server | None = None


def _runs() -> _Server:
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
    return _server


def close_server() -> None:
    """End this test process's server, if it started one (tests/production/conftest.py, at the end)."""
    global _server
    if _server is not None:
        _server.close()
        _server = None


class Started:
    """A run in a process of its own; its stdout and stderr go to one file."""

    def __init__(self, args: list[str], *, pause: str, guard: bool, env: dict[str, str], cwd: Path,
                 new_session: bool = False) -> None:  # fmt: skip
        server = _runs()
        self.output_path = server.outputs / f"run-{next(server.numbers)}.out"
        self.returncode: int | None = None
        self.pid = int(
            server.ask(
                {
                    "op": "start",
                    "pause": pause,
                    "guard": "on" if guard else "off",
                    "args": args,
                    "env": env,
                    "cwd": str(cwd),
                    "output": str(self.output_path),
                    "new_session": new_session,
                }
            )["pid"]
        )

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = _runs().ask({"op": "poll", "pid": self.pid})["returncode"]
        return self.returncode

    def communicate(self, timeout: float = _WAIT_S) -> str:
        """Its output once it has ended (AssertionError after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while self.poll() is None:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the run did not end within {timeout} s: {self.output_path.read_text()}"
                )
            time.sleep(0.05)
        return self.output_path.read_text()


def _environment(db_url: str, folder: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"COURRIER_DATABASE_URL": db_url, "COURRIER_ACTOR": "race", "STEP_RUNNER_DIR": str(folder)})
    env.update(extra)
    return env


def _wait_until_paused(process: Started, folder: Path, pause_at: str) -> None:
    deadline = time.monotonic() + _WAIT_S
    while not (folder / "paused").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the run never reached {pause_at}: {process.communicate()}")
        time.sleep(0.05)


def race(
    db_url: str,
    folder: Path,
    args: list[str],
    *,
    pause_at: str,
    guard: bool,
    env: dict[str, str] | None = None,
) -> tuple[Run, Run]:
    """(first, second): the first paused at ``pause_at`` while the second runs to its end."""
    folder.mkdir(parents=True, exist_ok=True)
    environment = _environment(db_url, folder, env or {})
    first = Started(args, pause=pause_at, guard=guard, env=environment, cwd=folder)
    _wait_until_paused(first, folder, pause_at)
    second = Started(args, pause="-", guard=guard, env=environment, cwd=folder)
    second_output = second.communicate()
    (folder / "go").touch()
    output = first.communicate()
    assert first.returncode is not None
    assert second.returncode is not None
    return Run(first.returncode, output), Run(second.returncode, second_output)


def start_paused(
    db_url: str, folder: Path, args: list[str], *, pause_at: str, env: dict[str, str] | None = None
) -> Started:
    """A command started in a session of its own (its Dask workers too) and held at ``pause_at``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paused").unlink(missing_ok=True)
    process = Started(
        args,
        pause=pause_at,
        guard=True,
        env=_environment(db_url, folder, env or {}),
        cwd=folder,
        new_session=True,
    )
    _wait_until_paused(process, folder, pause_at)
    return process


def kill(process: Started) -> None:
    """SIGKILL the command and every process of its session (the Dask scheduler's workers)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def run(db_url: str, folder: Path, args: list[str], *, env: dict[str, str] | None = None) -> Run:
    folder.mkdir(parents=True, exist_ok=True)
    done = Started(args, pause="-", guard=True, env=_environment(db_url, folder, env or {}), cwd=folder)
    output = done.communicate()
    assert done.returncode is not None
    return Run(done.returncode, output)
