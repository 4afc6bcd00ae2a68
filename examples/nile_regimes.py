"""The Nile's annual flow, 1871-1970: a two-state Gaussian HMM finds the 1898 drop.

Run: python examples/nile_regimes.py
"""

import numpy as np

import emkit
from emkit.datasets import load_nile

nile = load_nile()
X = nile.data.reshape(-1, 1)
hmm = emkit.GaussianHMM(n_components=2, random_state=0).fit(X)
states = hmm.predict(X)                                  # the Viterbi path
change = np.flatnonzero(np.diff(states))[0] + 1
print(f"regime change between {nile.years[change - 1]} and {nile.years[change]}")
print("state means (10^8 m^3):", np.sort(hmm.means_.ravel()).round())
print("transition matrix\n", hmm.transmat_.round(3))
