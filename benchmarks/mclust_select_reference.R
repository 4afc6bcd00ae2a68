# Reference values from R mclust for tests/test_select.py (tests/data/mclust_faithful_icl.csv,
# tests/data/mclust_waiting_bic.csv).
#
# Run from the repository root:
#     Rscript benchmarks/mclust_select_reference.R
# Produced with mclust 6.0.0, R 4.2.2 (Debian bookworm). R is not a test
# dependency: the tests only read the file. (The BIC tables themselves come
# from benchmarks/mclust_reference.R.)
#
#   mclust_faithful_icl.csv   mclustICL(faithful, G = 1:9): G, model, ICL
#   mclust_waiting_bic.csv    (below)

suppressPackageStartupMessages(library(mclust))
X <- as.matrix(faithful)
models <- mclust.options("emModelNames")
icl <- mclustICL(X, G = 1:9)
rows <- list()
for (g in 1:9) for (m in models)
  rows[[length(rows) + 1]] <- data.frame(G = g, model = m, ICL = icl[as.character(g), m])
write.csv(do.call(rbind, rows), file.path("tests", "data", "mclust_faithful_icl.csv"),
          row.names = FALSE, na = "NA")
print(summary(icl, X))

#   mclust_waiting_bic.csv    mclustBIC(faithful$waiting, G = 1:6): G, model (E, V), BIC
w <- faithful$waiting
bw <- mclustBIC(w, G = 1:6)
rows <- list()
for (g in 1:6) for (m in c("E", "V"))
  rows[[length(rows) + 1]] <- data.frame(G = g, model = m, BIC = bw[as.character(g), m])
write.csv(do.call(rbind, rows), file.path("tests", "data", "mclust_waiting_bic.csv"),
          row.names = FALSE, na = "NA")
print(summary(bw, w))
