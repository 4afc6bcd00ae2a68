# Reference values from R mclust for emkit's tests (tests/data/mclust_*).
#
# Run from the repository root:
#     Rscript benchmarks/mclust_reference.R
# Needs R with mclust and jsonlite (Debian: apt-get install r-base-core
# r-cran-mclust r-cran-jsonlite).  Produced with mclust 6.0.0, R 4.2 (Debian
# bookworm).  R is NOT a test dependency: the tests only read the files.
#
# Files written to tests/data/:
#   mclust_faithful_bic.csv      mclustBIC(faithful, G = 1:9): G, model, BIC,
#                                loglik (refit of each cell from the same
#                                hc initialisation), npar; NA where mclust fails
#   mclust_faithful_fits.json    fitted pro / mean / sigma / loglik of each cell
#   mclust_faithful_hc.csv       hclass(hc(faithful, "VVV", use = "SVD"), 1:9)
#   mclust_faithful_hcpairs.csv  the 271 merges of that hc (1-based row ids)
#   mclust_iris_hc.csv           R's iris (4 columns) + hclass(hc(iris), 1:9)
#   mclust_faithful_z.csv        responsibilities z3_*, z4_* (VVV fits, G = 3, 4)
#   mclust_mstep.json            mstep() of every model from those z (default
#                                and tight inner tolerance), and with
#                                priorControl(); univariate E/V on waiting
#   mclust_faithful_bic_prior.csv mclustBIC(faithful, G = 1:4, prior = priorControl())
#   mclust_nparams.csv           nMclustParams(model, d, G) table
#   mclust_timing.json           median of 5 timings of mclustBIC(faithful)
#
# Measured on the emkit development machine (2 cores):
#   median of 5 mclustBIC(faithful) (G = 1:9, 14 models) = 0.987 s
#   (runs 0.987, 0.949, 0.974, 1.428, 1.847 s; an earlier run: median 0.800 s;
#   mclust 6.0.0, R 4.2.2)

suppressPackageStartupMessages({
  library(mclust)
  library(jsonlite)
})

out <- file.path("tests", "data")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
X <- as.matrix(faithful)
n <- nrow(X)
models <- mclust.options("emModelNames")
stopifnot(length(models) == 14)
wjson <- function(x, file) {
  writeLines(toJSON(x, digits = NA, auto_unbox = TRUE, matrix = "columnmajor",
                    na = "null"), file.path(out, file))
}

## ---- BIC table, per-cell log-likelihoods and fitted parameters ---------------
bic <- mclustBIC(X, G = 1:9)
hcp <- hc(X, modelName = "VVV", use = "SVD")
rows <- list()
fits <- list()
for (g in 1:9) {
  for (m in models) {
    b <- bic[as.character(g), m]
    ll <- NA_real_
    if (!is.na(b)) {
      fit <- Mclust(X, G = g, modelNames = m, verbose = FALSE,
                    initialization = list(hcPairs = hcp))
      if (!is.null(fit)) {
        ll <- fit$loglik
        stopifnot(abs(fit$bic - b) < 1e-8 * abs(b))
        fits[[paste(m, g, sep = "_")]] <- list(
          model = m, G = g, loglik = fit$loglik, bic = fit$bic,
          pro = fit$parameters$pro,
          mean = fit$parameters$mean,                           # d x G -> JSON [G][d]
          sigma = fit$parameters$variance$sigma)                # d x d x G
      }
    }
    rows[[length(rows) + 1]] <- data.frame(
      G = g, model = m, BIC = b, loglik = ll,
      npar = nMclustParams(m, ncol(X), g))
  }
}
tab <- do.call(rbind, rows)
write.csv(tab, file.path(out, "mclust_faithful_bic.csv"), row.names = FALSE, na = "NA")
wjson(fits, "mclust_faithful_fits.json")
best <- tab[which.max(tab$BIC), ]
cat(sprintf("best: %s G=%d BIC=%.3f loglik=%.3f\n", best$model, best$G, best$BIC, best$loglik))

## ---- hierarchical initialisation -------------------------------------------
cl <- hclass(hcp, 1:9)
colnames(cl) <- paste0("K", 1:9)
write.csv(cl, file.path(out, "mclust_faithful_hc.csv"), row.names = FALSE)
pairs <- t(hcp)
colnames(pairs) <- c("i", "j")
write.csv(pairs, file.path(out, "mclust_faithful_hcpairs.csv"), row.names = FALSE)
Xi <- as.matrix(iris[, 1:4])
cli <- hclass(hc(Xi, modelName = "VVV", use = "SVD"), 1:9)
colnames(cli) <- paste0("K", 1:9)
write.csv(cbind(Xi, cli), file.path(out, "mclust_iris_hc.csv"), row.names = FALSE)

## ---- single M-steps from given responsibilities ----------------------------
z3 <- Mclust(X, G = 3, modelNames = "VVV", verbose = FALSE)$z
z4 <- Mclust(X, G = 4, modelNames = "VVV", verbose = FALSE)$z
zz <- cbind(z3, z4)
colnames(zz) <- c(paste0("z3_", 1:3), paste0("z4_", 1:4))
write.csv(zz, file.path(out, "mclust_faithful_z.csv"), row.names = FALSE)
tight <- emControl(tol = c(1e-5, 1e-15))
ms <- list()
for (zn in c("z3", "z4")) {
  z <- if (zn == "z3") z3 else z4
  for (m in models) {
    for (tl in c("default", "tight")) {
      r <- mstep(modelName = m, data = X, z = z,
                 control = if (tl == "tight") tight else emControl())
      ms[[paste(m, zn, tl, sep = "_")]] <- list(
        model = m, z = zn, tol = tl, prior = FALSE,
        mean = r$parameters$mean, sigma = r$parameters$variance$sigma)
    }
    if (m %in% c("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "VVV")) {
      r <- mstep(modelName = m, data = X, z = z, prior = priorControl(), control = tight)
      pp <- defaultPrior(X, ncol(z), m)
      ms[[paste(m, zn, "prior", sep = "_")]] <- list(
        model = m, z = zn, tol = "tight", prior = TRUE,
        prior_params = list(shrinkage = pp$shrinkage, mean = pp$mean, dof = pp$dof,
                            scale = as.matrix(pp$scale)),
        mean = r$parameters$mean, sigma = r$parameters$variance$sigma)
    }
  }
}
w <- faithful$waiting
z2 <- Mclust(w, G = 2, modelNames = "V", verbose = FALSE)$z
for (m in c("E", "V")) {
  r <- mstep(modelName = m, data = w, z = z2)
  ms[[paste(m, "z2w", sep = "_")]] <- list(model = m, z = "z2w", prior = FALSE,
    mean = r$parameters$mean, sigmasq = r$parameters$variance$sigmasq)
  r <- mstep(modelName = m, data = w, z = z2, prior = priorControl())
  pp <- defaultPrior(w, 2, m)
  ms[[paste(m, "z2w_prior", sep = "_")]] <- list(model = m, z = "z2w", prior = TRUE,
    prior_params = list(shrinkage = pp$shrinkage, mean = pp$mean, dof = pp$dof,
                        scale = as.matrix(pp$scale)),
    mean = r$parameters$mean, sigmasq = r$parameters$variance$sigmasq)
}
wjson(list(z2w = z2, steps = ms), "mclust_mstep.json")

## ---- BIC with the default conjugate prior ----------------------------------
bp <- mclustBIC(X, G = 1:4, prior = priorControl())
# mclust has a prior for 10 of the 14 models; the others are NA here
tp <- data.frame(G = rep(1:4, times = 14), model = rep(models, each = 4),
                 BIC = as.vector(sapply(models, function(m)
                   if (m %in% colnames(bp)) bp[, m] else rep(NA_real_, 4))))
write.csv(tp, file.path(out, "mclust_faithful_bic_prior.csv"), row.names = FALSE, na = "NA")

## ---- parameter counts -------------------------------------------------------
np_rows <- list()
for (m in models) for (d in c(1, 2, 3, 5)) for (g in c(1, 2, 3, 5, 9))
  np_rows[[length(np_rows) + 1]] <- data.frame(model = m, d = d, G = g,
                                               npar = nMclustParams(m, d, g))
for (m in c("E", "V")) for (g in c(1, 2, 3, 5, 9))
  np_rows[[length(np_rows) + 1]] <- data.frame(model = m, d = 1, G = g,
                                               npar = nMclustParams(m, 1, g))
write.csv(do.call(rbind, np_rows), file.path(out, "mclust_nparams.csv"), row.names = FALSE)

## ---- timing -------------------------------------------------------------------
invisible(mclustBIC(X))  # warm-up
times <- sapply(1:5, function(i) system.time(mclustBIC(X))[["elapsed"]])
cat(sprintf("mclustBIC(faithful) median of 5: %.3f s (runs: %s)\n", median(times),
            paste(sprintf("%.3f", times), collapse = ", ")))
wjson(list(what = "mclustBIC(faithful), default G = 1:9, all 14 models",
           median_seconds = median(times), runs_seconds = times,
           mclust_version = as.character(packageVersion("mclust")),
           R_version = R.version.string,
           cores = parallel::detectCores()), "mclust_timing.json")
