# Regenerate metafor_bcg.csv: the reference numbers that tests/test_meta.py checks synth.meta against.
#
# Usage (from tests/results/):  Rscript metafor_bcg.R
# Needs R with metafor (the pinned numbers come from metafor 3.8). Input: dat_bcg.csv beside this
# script (BCG vaccine trials, yi = log risk ratio, vi its sampling variance, full precision; the
# first line is a comment). Output: metafor_bcg.csv in long format
# (analysis, method, test, quantity, value), rounded as transcribed: 6 decimals for pooled results,
# 4 for I2 and for the regtest z and p, 2 for R2. Everything uses metafor's default control settings.

library(metafor)

dat <- read.csv("dat_bcg.csv", skip = 1)

rows <- list()
add <- function(analysis, method, test, quantity, value, digits) {
  rows[[length(rows) + 1]] <<- data.frame(
    analysis = analysis, method = method, test = test, quantity = quantity,
    value = formatC(round(value, digits), format = "f", digits = digits)
  )
}

# Random-effects pooling: REML, DL, PM, each with the normal test and with Knapp-Hartung
# (test = "knha": t with k - 1 df for the CI and, through predict(), for the prediction interval).
for (test in c("z", "knha")) {
  for (method in c("REML", "DL", "PM")) {
    fit  <- rma(yi, vi, data = dat, method = method, test = test)
    pred <- predict(fit)
    add("pool", method, test, "estimate", coef(fit), 6)
    add("pool", method, test, "se", fit$se, 6)
    if (test == "z") {  # tau2 and I2 do not depend on the test
      add("pool", method, test, "tau2", fit$tau2, 6)
      add("pool", method, test, "i2", fit$I2, 4)
    }
    add("pool", method, test, "ci_low", fit$ci.lb, 6)
    add("pool", method, test, "ci_high", fit$ci.ub, 6)
    add("pool", method, test, "pi_low", pred$pi.lb, 6)
    add("pool", method, test, "pi_high", pred$pi.ub, 6)
  }
}

# Fixed (common) effect, inverse-variance weights, with Cochran's Q.
fe <- rma(yi, vi, data = dat, method = "FE")
add("pool", "FE", "z", "estimate", coef(fe), 6)
add("pool", "FE", "z", "se", fe$se, 6)
add("pool", "FE", "z", "q", fe$QE, 6)
add("pool", "FE", "z", "q_df", fe$k - fe$p, 0)

# Mixed-effects meta-regression on absolute latitude (REML).
mr <- rma(yi, vi, mods = ~ ablat, data = dat, method = "REML")
add("metareg_ablat", "REML", "z", "intercept", coef(mr)[1], 6)
add("metareg_ablat", "REML", "z", "intercept_se", mr$se[1], 6)
add("metareg_ablat", "REML", "z", "slope", coef(mr)[2], 6)
add("metareg_ablat", "REML", "z", "slope_se", mr$se[2], 6)
add("metareg_ablat", "REML", "z", "tau2", mr$tau2, 6)
add("metareg_ablat", "REML", "z", "r2", mr$R2, 2)

# Egger-type regression test: regtest() default (mixed-effects model, predictor = sei, z test).
eg <- regtest(rma(yi, vi, data = dat, method = "REML"))
add("regtest", "REML", "z", "z", eg$zval, 4)
add("regtest", "REML", "z", "pvalue", eg$pval, 4)

out <- do.call(rbind, rows)
con <- file("metafor_bcg.csv", "w")
writeLines(paste0("# metafor ", packageVersion("metafor"), " on dat_bcg.csv; ",
                  "regenerate with metafor_bcg.R"), con)
write.csv(out, con, row.names = FALSE, quote = FALSE)
close(con)
