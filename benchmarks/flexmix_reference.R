# Reference fits from R flexmix for emkit's regression-mixture tests.
#
# Run from the repository root:
#     Rscript benchmarks/flexmix_reference.R
# Needs R with flexmix (Debian: apt-get install r-cran-flexmix). Produced with
# flexmix 2.3.18, R 4.2 (Debian bookworm). R is NOT a test dependency: the
# tests only read the files.
#
# Files written to tests/data/:
#   flexmix_npreg.csv      flexmix's artificial NPreg data: x, yn, class
#   flexmix_reference.csv  one row per fitted component:
#     model "regmix":  flexmix(yn ~ x + I(x^2), k = 2), a mixture of regressions;
#     model "experts": flexmix(yn ~ x, k = 2, concomitant = FLXPmultinom(~ x)),
#                      a mixture of experts with multinomial gating on x;
#   both started from the true classes (cluster = class) and run to a relative
#   log-likelihood change of 1e-12. Columns: model, component, intercept,
#   coef_x, coef_x2 (NA for "experts"), sigma (flexmix's: the ML residual
#   standard deviation), weight (prior; NA for "experts"), gating_intercept,
#   gating_x (the multinomial gating relative to component 1; NA for
#   "regmix"), loglik, iterations.

suppressPackageStartupMessages(library(flexmix))

out <- file.path("tests", "data")
dir.create(out, showWarnings = FALSE, recursive = TRUE)
data("NPreg", package = "flexmix")
write.csv(NPreg[, c("x", "yn", "class")], file.path(out, "flexmix_npreg.csv"),
          row.names = FALSE)

control <- list(tolerance = 1e-12, iter.max = 10000)
regmix <- flexmix(yn ~ x + I(x^2), data = NPreg, k = 2, cluster = NPreg$class,
                  control = control)
experts <- flexmix(yn ~ x, data = NPreg, k = 2, cluster = NPreg$class,
                   concomitant = FLXPmultinom(~ x), control = control)

rows <- list()
p <- parameters(regmix)
for (k in 1:2) {
  rows[[length(rows) + 1]] <- data.frame(
    model = "regmix", component = k, intercept = p[1, k], coef_x = p[2, k],
    coef_x2 = p[3, k], sigma = p[4, k], weight = prior(regmix)[k],
    gating_intercept = NA, gating_x = NA, loglik = as.numeric(logLik(regmix)),
    iterations = regmix@iter)
}
p <- parameters(experts)
gating <- parameters(experts, which = "concomitant")  # 2 x 2: rows (Intercept), x
for (k in 1:2) {
  rows[[length(rows) + 1]] <- data.frame(
    model = "experts", component = k, intercept = p[1, k], coef_x = p[2, k],
    coef_x2 = NA, sigma = p[3, k], weight = NA,
    gating_intercept = gating[1, k], gating_x = gating[2, k],
    loglik = as.numeric(logLik(experts)), iterations = experts@iter)
}
write.csv(do.call(rbind, rows), file.path(out, "flexmix_reference.csv"), row.names = FALSE)
