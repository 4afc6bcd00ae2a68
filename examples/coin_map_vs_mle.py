"""MAP versus MLE on a coin: with little data, a Beta prior's pseudo-counts help.

A coin lands heads with probability 0.5. After 6 tosses with 5 heads, maximum
likelihood says 5/6; a Beta(3, 3) prior (two pseudo-heads, two pseudo-tails)
gives the posterior Beta(8, 4), whose mode (the MAP estimate) is 0.70. Over
many repeated small experiments MAP is closer to the truth on average.

Run: python examples/coin_map_vs_mle.py
"""

import numpy as np

from emkit.priors import Beta

prior = Beta(3, 3)
posterior = prior.update(successes=5, trials=6)
print("MLE", round(5 / 6, 3), " MAP", round(posterior.mode(), 3),
      " posterior mean", round(posterior.mean(), 3))

rng = np.random.default_rng(0)
truth, tosses, repeats = 0.5, 6, 10_000
heads = rng.binomial(tosses, truth, size=repeats)
mle = heads / tosses
map_estimates = np.array([prior.update(successes=h, trials=tosses).mode() for h in heads])
print("mean squared error over", repeats, "experiments of", tosses, "tosses:")
print("  MLE", round(float(np.mean((mle - truth) ** 2)), 4),
      " MAP", round(float(np.mean((map_estimates - truth) ** 2)), 4))
