"""Numerical building blocks shared by the compiled kernels."""

from __future__ import annotations

from llvmlite import ir as llvm_ir
from numba import njit, types
from numba.extending import intrinsic

__all__ = ["exp_nonpos", "exp_array"]


# ---------------------------------------------------------------------------
# A vectorisable exp for non-positive arguments
# ---------------------------------------------------------------------------
# numba calls libm's scalar exp, which LLVM cannot vectorise without Intel's
# SVML; exponentiating the shifted emissions then dominates the run time of
# forward-backward.  This is a branch-free exp (Cody-Waite range reduction, a
# degree-13 polynomial evaluated by Estrin's scheme, and the power of two
# built from its bits), accurate to a few ulp, that LLVM turns into AVX code.


@intrinsic
def _f64_as_i64(typingctx, x):
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.IntType(64))

    return sig, codegen


@intrinsic
def _i64_as_f64(typingctx, x):
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], llvm_ir.DoubleType())

    return sig, codegen


_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # trailing zeros: n * _LN2_HI is exact
_LN2_LO = 1.90821492927058770002e-10
_ROUND_MAGIC = 6755399441055744.0  # 1.5 * 2**52
_C2, _C3, _C4, _C5 = 1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120
_C6, _C7, _C8, _C9 = 1.0 / 720, 1.0 / 5040, 1.0 / 40320, 1.0 / 362880
_C10, _C11 = 1.0 / 3628800, 1.0 / 39916800
_C12, _C13 = 1.0 / 479001600, 1.0 / 6227020800


# NB: never inline this at the numba-IR level (inline="always") into a
# function compiled with fastmath: re-association would cancel the rounding
# trick.  Plain calls are inlined by LLVM, which keeps the per-instruction
# flags of this function (no re-association, only FMA contraction).
@njit(cache=True, fastmath={"contract"})
def exp_nonpos(x):
    """exp(x) for x <= 0 (-inf -> 0; NaN -> 0, callers detect NaN apart)."""
    x = x if x > -746.0 else -746.0
    kf = x * _LOG2E + _ROUND_MAGIC  # rounds x*log2(e) to an integer n
    n = _f64_as_i64(kf) - _f64_as_i64(_ROUND_MAGIC)
    nf = kf - _ROUND_MAGIC
    r = (x - nf * _LN2_HI) - nf * _LN2_LO  # |r| <= ln(2)/2
    r2 = r * r
    r4 = r2 * r2
    r8 = r4 * r4
    q0 = (1.0 + r) + (_C2 + _C3 * r) * r2
    q1 = (_C4 + _C5 * r) + (_C6 + _C7 * r) * r2
    q2 = (_C8 + _C9 * r) + (_C10 + _C11 * r) * r2
    q3 = _C12 + _C13 * r
    p = (q0 + q1 * r4) + (q2 + q3 * r4) * r8
    # 2**n as a product of two normal numbers (n >= -1076: subnormal results)
    n1 = n >> 1
    n2 = n - n1
    return (p * _i64_as_f64((n1 + 1023) << 52)) * _i64_as_f64((n2 + 1023) << 52)


@njit(cache=True)
def exp_array(x, out):
    """out = exp(x) element-wise for x <= 0 (1-d arrays); used in tests."""
    for i in range(x.size):
        out[i] = exp_nonpos(x[i])
