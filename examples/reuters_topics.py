"""Reuters news stories: ten topics by variational EM (LDA).

Run: python examples/reuters_topics.py
"""

import emkit
from emkit.datasets import load_reuters

reuters = load_reuters()                        # 395 stories, word counts (CSR)
lda = emkit.LatentDirichletAllocation(n_components=10, max_iter=20, random_state=0)
lda.fit(reuters.data)
for k, words in enumerate(emkit.top_words(lda, reuters.vocabulary, n=8)):
    print(f"topic {k}: " + " ".join(words))
print("perplexity", round(lda.perplexity(reuters.data), 1))
