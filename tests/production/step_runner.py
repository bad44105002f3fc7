"""Runs one ``courrier`` command in its own process, for the race and kill tests.

    python step_runner.py PAUSE GUARD -- ARGS...

``PAUSE`` is ``module:function`` or ``module:function@N`` (or ``-``): the first (N-th) call of that
function in that module waits,
after writing ``$STEP_RUNNER_DIR/paused``, until ``$STEP_RUNNER_DIR/go`` exists, so a test can start a
second command exactly while the first is inside its step. ``GUARD`` ``off`` replaces the production
steps' lock by nothing: the control that shows what the lock prevents.
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
    for name in (
        "courrier.production.results",
        "courrier.production.compose_wave",
        "courrier.production.reprint",
    ):
        module = importlib.import_module(name)
        if hasattr(module, "step_lock"):
            module.step_lock = lambda *args, **kwargs: contextlib.nullcontext()  # type: ignore[attr-defined]


def main() -> None:
    pause, guard, separator, *args = sys.argv[1:]
    assert separator == "--"
    if pause != "-":
        _pause_at(pause, Path(os.environ["STEP_RUNNER_DIR"]))
    if guard == "off":
        _unguarded()
    from courrier.cli import courrier

    courrier.main(args=args, prog_name="courrier")


if __name__ == "__main__":
    main()
