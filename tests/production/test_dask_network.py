"""The embedded Dask cluster is reachable from this machine only."""

from __future__ import annotations

import psutil

from courrier.app import local_cluster


def test_the_embedded_cluster_listens_on_localhost_only():
    with local_cluster(1):
        me = psutil.Process()
        listening = [
            connection.laddr
            for process in (me, *me.children(recursive=True))
            for connection in process.net_connections(kind="inet")
            if connection.status == psutil.CONN_LISTEN
        ]
    assert listening  # the scheduler, the worker, the nanny, the dashboard
    assert {address.ip for address in listening} == {"127.0.0.1"}
