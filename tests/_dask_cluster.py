"""A real distributed.LocalCluster for the Dask tests (shared by test_dask*.py).

Import the fixture into a test module (``from _dask_cluster import client``);
each importing module gets its own cluster (module scope).
"""

import os
from pathlib import Path

import pytest

distributed = pytest.importorskip("distributed", reason="the Dask tests need distributed")

import emkit  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """Two worker processes with one thread each, importing this emkit."""
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
    import re

    tasks = {}
    for record in records:
        match = re.fullmatch(r"emkit-e-step-([0-9a-f]{32})-(\d+)", str(record["key"]))
        if match:
            tasks.setdefault(match.group(1), {})[int(match.group(2))] = record["worker"]
    return tasks
