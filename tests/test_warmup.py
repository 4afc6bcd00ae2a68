"""The kernel warm-up that the build runs (emkit.kernels.warmup, issue 8).

If it broke, ``pip install`` would still succeed (setup.py goes on without
it) but every first session would compile the kernels again, so it is run
here; benchmarks/bench_cold_start.py measures what it buys.
"""

from emkit.kernels.warmup import warm_up


def test_warm_up_runs_every_model_family(capsys):
    seconds = warm_up(verbose=True)
    assert seconds > 0
    printed = capsys.readouterr().out
    for family in ("mixtures", "hmms", "topics"):
        assert f"emkit warm-up: {family}" in printed

