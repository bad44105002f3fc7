"""The embedded Dask cluster is reachable from this machine only."""

from __future__ import annotations

import psutil

from courrier.app import local_cluster


def _listening() -> set[tuple[str, int]]:
    me = psutil.Process()
    return {
        (connection.laddr.ip, connection.laddr.port)
        for process in (me, *me.children(recursive=True))
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    }


def test_the_embedded_cluster_listens_on_localhost_only():
    # Only the sockets the cluster opens: an earlier test in the same pytest worker may have left a
    # process of its own (a browser, a server) listening elsewhere.
    before = _listening()
    with local_cluster(1):
        opened = _listening() - before
    assert opened  # the scheduler, the worker, the nanny, the dashboard
    assert {ip for ip, _ in opened} == {"127.0.0.1"}
