"""Fit gensim's LdaModel on a saved corpus; write its topics and fit time.

Run by ``bench_lda.py`` in a subprocess, so gensim may live in its own
virtual environment (with its own numpy/scipy) when installing it next to
emkit would change their versions::

    python -m venv /tmp/gensim-venv && /tmp/gensim-venv/bin/pip install gensim
    python benchmarks/bench_lda.py --gensim-python /tmp/gensim-venv/bin/python

Usage: ``python _gensim_lda.py CORPUS.npz OUT.npz N_TOPICS PASSES SEED REPEAT``.
``CORPUS.npz`` holds a CSR matrix as ``data``, ``indices``, ``indptr``, ``shape``.
``OUT.npz`` gets ``topic_word`` (gensim's lambda, shape (K, V)), ``alpha`` (K,)
and ``seconds`` (the fastest of REPEAT fits; corpus conversion not timed).
Exit status 3 when gensim cannot be imported.
"""

import sys
import time

import numpy as np


def main(corpus_path, out_path, n_topics, passes, seed, repeat):
    try:
        from gensim.models import LdaModel
    except ImportError as error:
        print(f"gensim is not importable here ({error})", file=sys.stderr)
        return 3
    saved = np.load(corpus_path)
    data, indices, indptr = saved["data"], saved["indices"], saved["indptr"]
    n_words = int(saved["shape"][1])
    corpus = [list(zip(indices[indptr[d]:indptr[d + 1]].tolist(),
                       data[indptr[d]:indptr[d + 1]].tolist()))
              for d in range(len(indptr) - 1)]
    id2word = {w: str(w) for w in range(n_words)}
    best, model = np.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        # gensim's defaults (online VB on chunks of 2000 documents, alpha = eta =
        # 1/K, 50 iterations per document) with 10 passes; eval_every=None
        # switches off its per-chunk perplexity logging, which costs time.
        model = LdaModel(corpus=corpus, id2word=id2word, num_topics=n_topics, passes=passes,
                         random_state=seed, eval_every=None)
        best = min(best, time.perf_counter() - started)
    np.savez(out_path, topic_word=model.state.get_lambda(),
             alpha=np.asarray(model.alpha, dtype=np.float64), seconds=best)
    return 0


if __name__ == "__main__":
    path_in, path_out, k, n_passes, random_seed, n_repeat = sys.argv[1:7]
    sys.exit(main(path_in, path_out, int(k), int(n_passes), int(random_seed), int(n_repeat)))
