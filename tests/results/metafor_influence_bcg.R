# Regenerate metafor_influence_bcg.csv: leave-one-out and influence diagnostics of metafor, the
# reference numbers that tests/test_sensitivity.py checks synth.sensitivity against, plus the
# t(k - 2) prediction interval that tests/test_meta.py checks.
#
# Usage (from tests/results/):  Rscript metafor_influence_bcg.R
# Needs R with metafor (made with metafor 3.8-1; Debian: apt-get install r-cran-metafor). Input:
# dat_bcg.csv beside this script (BCG vaccine trials, yi = log risk ratio, vi its sampling
# variance). Model: rma(yi, vi, method = "REML"), metafor's default control settings.
# Output: metafor_influence_bcg.csv in long format (analysis, study, quantity, value), study =
# trial number (0 for a whole-model quantity), values with 10 significant digits.

library(metafor)

dat <- read.csv("dat_bcg.csv", skip = 1)
fit <- rma(yi, vi, data = dat, method = "REML")

rows <- list()
add <- function(analysis, study, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(
    analysis = analysis, study = study, quantity = quantity,
    value = trimws(formatC(value, format = "g", digits = 10))
  )
}

# Leave-one-out: the model refitted without each study (REML, z test).
l1o <- leave1out(fit)
for (q in c("estimate", "se", "ci.lb", "ci.ub", "tau2", "I2", "Q", "Qp")) {
  for (i in seq_along(dat$trial)) add("leave1out", dat$trial[i], q, l1o[[q]][i])
}

# Influence diagnostics (influence.rma.uni): externally studentized residuals, DFFITS, Cook's
# distances, covariance ratios, leave-one-out tau2 and QE, hat values and weights (percent).
inf <- influence(fit)$inf
for (q in c("rstudent", "dffits", "cook.d", "cov.r", "tau2.del", "QE.del", "hat", "weight")) {
  for (i in seq_along(dat$trial)) add("influence", dat$trial[i], q, inf[[q]][i])
}
for (i in seq_along(dat$trial)) add("influence", dat$trial[i], "inf", as.numeric(inf$inf[i] == "*"))

# Baujat plot coordinates: contribution to Q (x) and influence on the estimate (y).
pdf(NULL)
bj <- baujat(fit)
invisible(dev.off())
for (i in seq_along(dat$trial)) add("baujat", dat$trial[i], "x", bj$x[i])
for (i in seq_along(dat$trial)) add("baujat", dat$trial[i], "y", bj$y[i])

# Prediction interval with t(k - 2): estimate -/+ qt(0.975, k - 2) sqrt(se^2 + tau2), the formula
# of metamisc's calcPredInt (Higgins et al. 2009), on this REML fit. (metamisc itself is not
# packaged for Debian; metafor's pi.type = "Riley" uses other degrees of freedom.)
half <- qt(0.975, fit$k - 2) * sqrt(fit$se^2 + fit$tau2)
add("predict_tk2", 0, "pi.lb", as.numeric(coef(fit)) - half)
add("predict_tk2", 0, "pi.ub", as.numeric(coef(fit)) + half)

out <- do.call(rbind, rows)
con <- file("metafor_influence_bcg.csv", "w")
writeLines(sprintf("# Made by metafor_influence_bcg.R with metafor %s on dat_bcg.csv (REML).",
                   packageVersion("metafor")), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
