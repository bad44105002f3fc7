"""Two production steps at once, in two real processes: the first held inside its step while the second
runs from start to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

RUNNER = Path(__file__).with_name("step_runner.py")
_WAIT_S = 600.0


@dataclass(frozen=True)
class Run:
    code: int
    output: str


def _environment(db_url: str, folder: Path, extra: dict[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"COURRIER_DATABASE_URL": db_url, "COURRIER_ACTOR": "race", "STEP_RUNNER_DIR": str(folder)})
    env.update(extra)
    return env


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
    guard_flag = "on" if guard else "off"
    first = subprocess.Popen(
        [sys.executable, str(RUNNER), pause_at, guard_flag, "--", *args],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder,
    )
    deadline = time.monotonic() + _WAIT_S
    while not (folder / "paused").exists():
        if first.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the first run never reached {pause_at}: {first.communicate()[0]}")
        time.sleep(0.05)
    second = subprocess.run(
        [sys.executable, str(RUNNER), "-", guard_flag, "--", *args],
        env=environment,
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    (folder / "go").touch()
    output, _ = first.communicate(timeout=_WAIT_S)
    return Run(first.returncode, output), Run(second.returncode, second.stdout + second.stderr)


def start_paused(
    db_url: str, folder: Path, args: list[str], *, pause_at: str, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """A command started in a session of its own (its Dask workers too) and held at ``pause_at``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "paused").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, str(RUNNER), pause_at, "on", "--", *args],
        env=_environment(db_url, folder, env or {}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=folder,
        start_new_session=True,
    )
    deadline = time.monotonic() + _WAIT_S
    while not (folder / "paused").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"the run never reached {pause_at}: {process.communicate()[0]}")
        time.sleep(0.05)
    return process


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL the command and every process of its session (the Dask scheduler's workers)."""
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def run(db_url: str, folder: Path, args: list[str], *, env: dict[str, str] | None = None) -> Run:
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, str(RUNNER), "-", "on", "--", *args],
        env=_environment(db_url, folder, env or {}),
        capture_output=True,
        text=True,
        cwd=folder,
        check=False,
    )
    return Run(done.returncode, done.stdout + done.stderr)
