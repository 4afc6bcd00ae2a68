"""The shared real-cluster fixture of the Dask tests.

``client``: a ``distributed.LocalCluster`` of two worker processes (one
thread each) that import the emkit under test, and a client on it; one per
test module that uses it. Tests that use it are skipped where dask or
distributed are not installed. ``e_step_tasks``: the block E-step tasks of a
task stream, to check where they ran.
"""

import os
import re
from pathlib import Path

import pytest

import emkit


@pytest.fixture(scope="module")
def client():
    """Two worker processes with one thread each, importing this emkit."""
    distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")
    pytest.importorskip("dask.array", reason="the Dask strategy needs dask[array]")
    # Worker processes inherit the environment: point them at the emkit
    # under test (not some other installed copy).
    source = str(Path(emkit.__file__).resolve().parents[1])
    previous = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([source] + ([previous] if previous else []))
    try:
        cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                           dashboard_address=None)
    finally:
        if previous is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = previous
    client = distributed.Client(cluster)
    files = set(client.run(lambda: __import__("emkit").__file__).values())
    assert files == {emkit.__file__}
    yield client
    client.close()
    cluster.close()


def e_step_tasks(records):
    """Block E-step tasks in a task stream, by iteration token: {token: {block: worker}}."""
    tasks = {}
    for record in records:
        match = re.fullmatch(r"emkit-e-step-([0-9a-f]{32})-(\d+)", str(record["key"]))
        if match:
            tasks.setdefault(match.group(1), {})[int(match.group(2))] = record["worker"]
    return tasks
