"""Compiled inference kernels operating on plain arrays."""

from .hmm import forward_backward, forward_log_likelihood, viterbi

__all__ = ["forward_backward", "forward_log_likelihood", "viterbi"]
