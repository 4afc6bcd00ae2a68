"""emkit's ``predict_proba`` against onnxruntime running ``export_onnx``'s graph.

Usage::

    python benchmarks/bench_onnx.py [--samples 100000] [--features 5]
        [--components 4] [--repeats 5] [--threads 0]

Fits a GaussianMixture per covariance type on a small sample, then times
one scoring call over ``samples`` x ``features`` held-out data (median of
``repeats`` calls after a warm-up call): emkit's ``predict_proba`` on
float64 and float32 input, and onnxruntime on the float32 and float64
graphs (each run returns the label, probabilities and log-likelihood
together). It also prints the largest probability difference to emkit's
float64 result, so a fast but wrong graph shows. ``--threads`` sets
onnxruntime's intra-op threads (0: its default, all cores).
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings

import numpy as np


def median_seconds(call, repeats):
    call()  # warm-up: compilation, allocation, thread pools
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=5)
    parser.add_argument("--components", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=0)
    args = parser.parse_args()

    import onnxruntime

    from emkit import GaussianMixture
    from emkit.onnx_export import export_onnx

    rng = np.random.default_rng(0)
    D, K = args.features, args.components
    centres = rng.normal(scale=4.0, size=(K, D))

    def draw(n):
        return centres[rng.integers(K, size=n)] + rng.normal(size=(n, D)) + 10.0

    X_train, X = draw(5000), draw(args.samples)
    X32 = X.astype(np.float32)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    print(f"{args.samples} x {D}, {K} components; median of {args.repeats} calls, seconds "
          f"(onnxruntime {onnxruntime.__version__}, intra-op threads "
          f"{args.threads or 'default'})")
    print(f"{'covariance':>10} {'emkit f64':>10} {'emkit f32':>10} {'ort f32':>10} "
          f"{'ort f64':>10} {'f64/ort32':>10} {'err f32':>9} {'err f64':>9}")
    for covariance_type in ("full", "tied", "diag", "spherical", "VVV", "EEE", "VVI", "VII"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = GaussianMixture(K, covariance_type=covariance_type, n_init=1,
                                    random_state=0).fit(X_train)
        reference = model.predict_proba(X)
        emkit64 = median_seconds(lambda: model.predict_proba(X), args.repeats)
        emkit32 = median_seconds(lambda: model.predict_proba(X32), args.repeats)
        row, errors = [], []
        for dtype, inputs in ((np.float32, X32), (np.float64, X)):
            session = onnxruntime.InferenceSession(
                export_onnx(model, dtype=dtype).SerializeToString(), options,
                providers=["CPUExecutionProvider"])
            feed = {"X": inputs}
            row.append(median_seconds(lambda: session.run(None, feed), args.repeats))
            errors.append(np.abs(session.run(None, feed)[1] - reference).max())
        print(f"{covariance_type:>10} {emkit64:10.4f} {emkit32:10.4f} {row[0]:10.4f} "
              f"{row[1]:10.4f} {emkit64 / row[0]:10.2f} {errors[0]:9.1e} {errors[1]:9.1e}")


if __name__ == "__main__":
    main()
