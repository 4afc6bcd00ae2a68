"""Every script in examples/ runs on the bundled data and prints what it promises."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# A line each script must print (checked against numbers computed elsewhere
# in the suite: the Nile change point, the worked example, mclust's choice).
EXPECTED = {
    "faithful_clusters.py": "chosen: {'n_components': 3, 'covariance_type': 'EEE'}",
    "nile_regimes.py": "regime change between 1898 and 1899",
    "reuters_topics.py": "perplexity",
    "coin_map_vs_mle.py": "MAP 0.7",
    "em_teaching_view.py": "means after the first M-step: [-0.4934  1.0013]",
}


def test_every_example_is_listed():
    assert sorted(path.name for path in EXAMPLES.glob("*.py")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name, tmp_path):
    env = {**os.environ, "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(EXAMPLES / name)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert EXPECTED[name] in done.stdout, done.stdout[-2000:]
