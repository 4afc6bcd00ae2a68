"""The EM teaching view: log-likelihood, ELBO and the KL gap, half-step by half-step.

The E-step sets q(z) to the posterior, so the ELBO equals the log-likelihood
(KL = 0); the M-step raises the ELBO over the parameters, and the
log-likelihood rises further, by the KL gap that opens (the next E-step
closes it). The six points are the seeds' worked example.

Run: python examples/em_teaching_view.py
"""

import numpy as np

import emkit

x = np.array([-1.2, -0.8, -0.5, 0.9, 1.3, 1.8])[:, None]
start = emkit.GaussianMixture(2, covariance_type="spherical", weights_init=[0.5, 0.5],
                              means_init=[[-0.5], [1.0]], precisions_init=[1.0, 1.0])
trace = emkit.explain_em(start, x, n_iter=4)
print(trace)
print("responsibilities after the first E-step:",
      trace.responsibilities[0][:, 0].round(3))
print("means after the first M-step:", trace.params[1]["means"].ravel().round(4))
