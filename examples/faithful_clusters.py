"""Old Faithful: cluster the eruptions, and let BIC choose the model (mclust-style).

Run: python examples/faithful_clusters.py
"""

import emkit
from emkit.datasets import load_old_faithful

faithful = load_old_faithful()
X = faithful.data                                    # 272 eruptions x (duration, waiting)

# A fixed number of components, restarts screened by emEM.
gmm = emkit.GaussianMixture(n_components=2, random_state=0).fit(X)
print("weights", gmm.weights_.round(3))
print("means\n", gmm.means_.round(2))
print("log-likelihood", round(gmm.score(X) * len(X), 2), " BIC", round(gmm.bic(X), 2))

# Model selection over 1..5 components x four mclust structures.
selection = emkit.select_model(X, n_components=range(1, 6),
                               covariance_types=["EII", "VVI", "EEE", "VVV"])
print(selection.summary())
print("chosen:", selection.best_params_)
