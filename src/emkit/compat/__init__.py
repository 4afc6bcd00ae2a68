"""Adapters that let code written for other libraries run on emkit's models.

:mod:`emkit.compat.hmmlearn` has hmmlearn's HMM classes (``GaussianHMM``,
``GMMHMM``, ``CategoricalHMM``, ``PoissonHMM``) with hmmlearn's signatures.
"""
