"""Composing on a real Dask cluster (issue 17): a `dask scheduler` and two `dask worker` processes started
as an operator starts them on other machines, `courrier compose --scheduler` sending the wave to them.

The cluster makes the same jobs with the same pieces and the same bytes as the embedded LocalCluster,
and a worker killed with SIGKILL while it holds a job loses no job and duplicates none: the scheduler
gives the dead worker's tasks to the other one (a task carries its records, nothing lives only on a
worker), and the client writes each job's files and states once, when its result comes back.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import func, select

from courrier.db.schema import events, job_pieces, pieces, waves

from ..compose.conftest import EXAMPLES
from .test_crash import Databases, _rows, files, job_state, ok, piece_states
from .test_crash import databases as databases  # the fixture
from .test_promises import CAMPAIGN

NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)
DASK = Path(sys.executable).with_name("dask")
# Only a guard against a hang (a busy machine starts a worker in seconds, or minutes): never a timing.
START_TIMEOUT_S = 300


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Cluster:
    """A scheduler and named workers, each a process of its own (no nanny: a killed worker stays dead,
    as a machine that goes down does)."""

    folder: Path
    address: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def _spawn(self, name: str, *args: str) -> None:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        with log:
            self.processes[name] = subprocess.Popen(
                [str(DASK), *args], stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
            )

    def start_scheduler(self) -> None:
        port = _free_port()
        self.address = f"tcp://127.0.0.1:{port}"
        self._spawn(
            "scheduler", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--dashboard-address",
            "127.0.0.1:0", "--no-show",
        )  # fmt: skip

    def start_worker(self, name: str) -> None:
        self._spawn(
            name, "worker", self.address, "--name", name, "--nworkers", "1", "--nthreads", "1",
            "--no-nanny", "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
        )  # fmt: skip

    def client(self):  # type: ignore[no-untyped-def]
        from distributed import Client

        return Client(self.address, timeout=START_TIMEOUT_S)  # type: ignore[no-untyped-call]

    def wait_for_workers(self, names: set[str]) -> None:
        with self.client() as client:
            deadline = time.monotonic() + START_TIMEOUT_S
            while self.worker_names(client) != names:
                assert time.monotonic() < deadline, (
                    f"workers {names} did not join: {self.worker_names(client)}"
                )
                time.sleep(0.2)

    @staticmethod
    def worker_names(client) -> set[str]:  # type: ignore[no-untyped-def]
        return {str(info["name"]) for info in client.scheduler_info()["workers"].values()}

    def stop(self) -> None:
        for process in reversed(self.processes.values()):
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    if not DASK.exists():
        pytest.fail(f"the `dask` command is missing beside {sys.executable}")
    started = Cluster(tmp_path_factory.mktemp("dask-cluster"))
    try:
        started.start_scheduler()
        for name in ("w1", "w2"):
            started.start_worker(name)
        started.wait_for_workers({"w1", "w2"})
        yield started
    finally:
        started.stop()


class Killer(threading.Thread):
    """Waits until worker ``name`` holds a compose task, then kills it with SIGKILL (mid-run)."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        super().__init__(daemon=True)
        self.cluster, self.name = cluster, name
        self.held: list[str] = []  # the tasks the worker held when it was killed
        self.ready = threading.Event()
        self.stop = threading.Event()  # set when the compose is over: no fixed deadline, a busy machine

    def run(self) -> None:
        with self.cluster.client() as client:
            self.ready.set()
            while not self.stop.is_set():
                info = client.scheduler_info()["workers"]
                address = next((a for a, w in info.items() if str(w["name"]) == self.name), None)
                held = list(client.processing().get(address, ())) if address else []
                if any(str(key).startswith("compose-") for key in held):
                    os.kill(self.cluster.processes[self.name].pid, signal.SIGKILL)
                    self.held = [str(key) for key in held]
                    return
                time.sleep(0.005)


def _compose(url: str, out: Path, *args: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COURRIER_DATABASE_URL", url)
    ok("compose", "dist", "--wave", "1", "--job-size", "3", "--out", str(out), *args)


def _same_files(made: dict[str, bytes], out: Path, reference: dict[str, bytes], out_ref: Path) -> None:
    assert sorted(made) == sorted(reference)
    for name, content in made.items():
        expected = reference[name]
        if name.endswith(".ticket.json"):  # the ticket names its folder
            content, expected = (
                content.replace(str(out).encode(), b"OUT"),
                expected.replace(str(out_ref).encode(), b"OUT"),
            )
        assert content == expected, name


def test_a_wave_composed_on_a_dask_cluster_survives_a_killed_worker(
    cluster: Cluster,
    databases: Databases,
    cli_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):
    from courrier.cli import compose as compose_cli

    # The same clock for both runs: jobs are dated when they are planned, and their tickets say so.
    monkeypatch.setattr(compose_cli, "utcnow", lambda: NOW)
    monkeypatch.setenv("COURRIER_KEY_FILE", str(tmp_path / "courrier.keys"))
    template = tmp_path / "template"
    shutil.copytree(EXAMPLES / "mass-testing", template)
    campaign = tmp_path / "dist.toml"
    campaign.write_text(CAMPAIGN.format(template=template).replace("promises", "dist"), encoding="utf-8")
    ok("register", "generate", "--people", "24", "--cross-border", "3", "--seed", "5", "-o", "register.csv")
    ok("register", "import", "register.csv")
    ok("keys", "create")
    ok("campaign", "create", str(campaign))
    ok("campaign", "plan", "dist")
    ok("codes", "issue", "dist", "--wave", "1")
    embedded, distributed = databases.copy(cli_env, "embedded"), databases.copy(cli_env, "cluster")
    out_ref, out = tmp_path / "press-embedded", tmp_path / "press-cluster"

    _compose(embedded, out_ref, "--workers", "1", monkeypatch=monkeypatch)

    killer = Killer(cluster, "w2")
    killer.start()
    assert killer.ready.wait(START_TIMEOUT_S)
    try:
        _compose(distributed, out, "--scheduler", cluster.address, monkeypatch=monkeypatch)
    finally:
        killer.stop.set()
        killer.join(START_TIMEOUT_S)
        if cluster.processes["w2"].poll() is not None:  # the next database's run gets two workers again
            cluster.start_worker("w2")
            cluster.wait_for_workers({"w1", "w2"})
    assert killer.held, "worker w2 was never seen holding a job: nothing was killed mid-run"
    assert cluster.processes["w1"].poll() is None

    # Same jobs, the same pieces in each, the same states and the same bytes as the embedded cluster.
    jobs = job_state(distributed)
    assert len({row[0] for row in jobs}) >= 6
    assert jobs == job_state(embedded)
    assert piece_states(distributed) == piece_states(embedded)
    _same_files(files(out), out, files(out_ref), out_ref)
    # No job lost, none twice: every piece of the wave in exactly one job, composed once.
    wave = select(pieces.c.id).join(waves, waves.c.id == pieces.c.wave_id).where(waves.c.number == 1)
    in_jobs = _rows(distributed, select(job_pieces.c.piece_id, func.count()).group_by(job_pieces.c.piece_id))
    assert sorted(piece for piece, _ in in_jobs) == sorted(piece for (piece,) in _rows(distributed, wave))
    assert all(count == 1 for _, count in in_jobs)
    composed = _rows(distributed, select(func.count()).where(events.c.type == "piece.composed"))
    assert composed == _rows(embedded, select(func.count()).where(events.c.type == "piece.composed"))
    assert composed[0][0] == len(in_jobs)
