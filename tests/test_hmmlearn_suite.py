"""hmmlearn's own test files, run against :mod:`emkit.compat.hmmlearn`.

Nothing is copied: the installed ``hmmlearn.tests`` modules are imported,
the name through which each refers to hmmlearn's classes (``hmm``, or
``GMMHMM`` in ``test_gmm_hmm_new``) is pointed at emkit's compatibility
module for the duration of every test, and their test classes/functions are
re-exported here so that pytest collects them. The tests then run unchanged
against emkit's models.

Left out, with the reason:

- ``test_base.py`` except ``TestMonitor``: the rest subclasses hmmlearn's
  ``BaseHMM`` at import time (``StubHMM``, via hmmlearn's private
  ``_compute_log_likelihood`` hook) or calls hmmlearn's C kernels
  (``hmmlearn._hmmc``) directly, so no name can point it at emkit.
  ``TestMonitor`` runs against ``emkit.compat.hmmlearn.ConvergenceMonitor``.
- ``test_gmm_hmm.py``: hmmlearn marks the whole module xfail itself (it tests
  the removed ``gmms_`` API).
- ``test_multinomial_hmm.py``: emkit has no multinomial (n_trials) emission.
- ``test_utils.py``, ``test_kl_divergence.py``: hmmlearn's private helpers.
- ``test_variational_*.py``: hmmlearn's variational-Bayes models, which emkit
  does not provide.

Every remaining failure is listed with its reason: :data:`DIFFERENCES` are
deliberate (xfail, strict: one that starts passing fails the suite so the
entry is removed); :data:`PENDING` fail because of known emkit defects that
issue 8 fixes elsewhere (xfail, not strict).
"""

import numpy as np
import pytest

pytest.importorskip("hmmlearn")

# hmmlearn.tests sets np.seterr(all="warn") at import; keep the rest of
# emkit's suite under its own error state.
_numpy_errors = np.geterr()
from hmmlearn.tests import (  # noqa: E402
    test_base,
    test_categorical_hmm,
    test_gaussian_hmm,
    test_gmm_hmm_multisequence,
    test_gmm_hmm_new,
    test_poisson_hmm,
)

np.seterr(**_numpy_errors)

from emkit.compat import hmmlearn as compat  # noqa: E402

# test id ("Class::test", every parametrisation, or "Class::test[params]") -> reason
DIFFERENCES = {
    "TestGaussianHMMWithSphericalCovars::test_underflow_from_scaling[scaling]":
        "expects implementation='scaling' to raise ValueError when its forward pass "
        "underflows on an outlier; emkit's forward-backward is always scaled and never "
        "underflows (implementation is accepted and ignored), so the fit succeeds.",
    "TestGMMHMMWithDiagCovars::test_score_samples_and_decode":
        "asserts that Viterbi recovers every sampled state; emkit's sample() draws from "
        "the RNG in a different order, and in its draw step 35 of 1000 is more likely "
        "under another state: hmmlearn's own decoder returns the same path and log "
        "probability on that draw.",
    **{f"TestGaussianHMMWith{kind}Covars::test_fit_with_priors":
       "emkit's start (the k-means partition, then its M-step: per-state covariances) is "
       "already at the optimum after the first single-iteration fit on these well-separated "
       "states, so the test's 20 further single-iteration fits cannot raise the "
       "log-likelihood by its 1.5e-8 threshold (they change it by < 1e-12); hmmlearn starts "
       "the covariances from the whole data's and needs several iterations."
       for kind in ("Spherical", "Diagonal", "Tied", "Full")},
    "TestCategoricalHMM::test__check_and_set_categorical_n_features":
        "passes the symbols as one row (np.array([[0, 0, 1, 3, 1]], np.uint8), shape "
        "(1, 5)); emkit requires one symbol per row, shape (n_samples, 1), the layout "
        "hmmlearn documents for CategoricalHMM.",
}
PENDING = {}


@pytest.fixture(autouse=True)
def _emkit_in_place_of_hmmlearn(monkeypatch, request):
    for module in (test_gaussian_hmm, test_categorical_hmm, test_poisson_hmm,
                   test_gmm_hmm_multisequence):
        monkeypatch.setattr(module, "hmm", compat)
    monkeypatch.setattr(test_gmm_hmm_new, "GMMHMM", compat.GMMHMM)
    monkeypatch.setattr(test_base, "ConvergenceMonitor", compat.ConvergenceMonitor)
    # hmmlearn's conftest seeds the global RNG some tests draw from; fixed here
    # so that a run is reproducible.
    np.random.seed(0)
    test_id = request.node.nodeid.split("::", 1)[1]
    for table, strict in ((DIFFERENCES, True), (PENDING, False)):
        for pattern, reason in table.items():
            if test_id == pattern or test_id.startswith(pattern + "["):
                request.node.add_marker(pytest.mark.xfail(reason=reason, strict=strict))


# -- re-exported for collection ------------------------------------------------
TestMonitor = test_base.TestMonitor

TestGaussianHMMWithSphericalCovars = test_gaussian_hmm.TestGaussianHMMWithSphericalCovars
TestGaussianHMMWithDiagonalCovars = test_gaussian_hmm.TestGaussianHMMWithDiagonalCovars
TestGaussianHMMWithTiedCovars = test_gaussian_hmm.TestGaussianHMMWithTiedCovars
TestGaussianHMMWithFullCovars = test_gaussian_hmm.TestGaussianHMMWithFullCovars

TestGMMHMMWithSphericalCovars = test_gmm_hmm_new.TestGMMHMMWithSphericalCovars
TestGMMHMMWithDiagCovars = test_gmm_hmm_new.TestGMMHMMWithDiagCovars
TestGMMHMMWithTiedCovars = test_gmm_hmm_new.TestGMMHMMWithTiedCovars
TestGMMHMMWithFullCovars = test_gmm_hmm_new.TestGMMHMMWithFullCovars
TestGMMHMM_KmeansInit = test_gmm_hmm_new.TestGMMHMM_KmeansInit
TestGMMHMM_MultiSequence = test_gmm_hmm_new.TestGMMHMM_MultiSequence
test_gmmhmm_multi_sequence_fit_invariant_to_sequence_ordering = \
    test_gmm_hmm_multisequence.test_gmmhmm_multi_sequence_fit_invariant_to_sequence_ordering

TestCategoricalAgainstWikipedia = test_categorical_hmm.TestCategoricalAgainstWikipedia
TestCategoricalHMM = test_categorical_hmm.TestCategoricalHMM

TestPoissonHMM = test_poisson_hmm.TestPoissonHMM
