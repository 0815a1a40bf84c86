# Regenerate dta_auditc_ref.csv: the reference numbers tests/test_bivariate.py checks
# synth.bivariate against.
#
# Usage (from tests/results/):  Rscript dta_auditc.R
# Needs R with metafor (Debian: r-cran-metafor; the pinned numbers come from metafor 3.8-1).
# mada is not packaged for Debian, so mada's definitions are re-implemented here from its source
# (mada 0.5.12, R/reitsma.R, R/AUC.R): the bivariate model is metafor::rma.mv with an
# unstructured 2x2 random effect (equal to mada::reitsma), fitted with a tight optimiser
# tolerance so that Ψ is pinned to ~1e-8 (metafor's default nlminb tolerance leaves Ψ[1,1]
# about 2e-6 from the optimum: the REML surface is that flat here); the SROC curve is the
# Rutter-Gatsonis curve from the HSROC parameters (Harbord et al. 2007), its AUC mada's
# trapezoid rule over FPR = 1:99/100 divided by 99, and the partial AUC the same rule over 99
# FPR values spanning the observed (uncorrected) FPR range clipped to 0.01-0.99.
# Input: dta_auditc.csv (mada's AuditC data, TP, FN, FP, TN). Output: dta_auditc_ref.csv in long
# format (analysis, method, quantity, value) at full precision (12 significant digits).

library(metafor)

raw <- read.csv("dta_auditc.csv")
k <- nrow(raw)
d <- raw + 0.5  # mada's zero-cell rule "all": studies 7 and 8 have a zero cell

long <- data.frame(study = rep(seq_len(k), each = 2),
                   outcome = factor(rep(c("sens", "fpr"), k), levels = c("sens", "fpr")))
long$yi <- as.vector(rbind(qlogis(d$TP / (d$TP + d$FN)), qlogis(d$FP / (d$FP + d$TN))))
long$vi <- as.vector(rbind(1 / d$TP + 1 / d$FN, 1 / d$FP + 1 / d$TN))
# A made-up binary covariate (the first seven studies against the rest), only to pin the
# meta-regression and its likelihood-ratio test.
long$group <- factor(ifelse(long$study <= 7, "a", "b"))

tight <- list(optimizer = "optim", optmethod = "Nelder-Mead", reltol = 1e-14, maxit = 100000)
fit_uni <- function(method, mods = ~ outcome - 1) {
  rma.mv(yi, vi, mods = mods, random = ~ outcome | study, struct = "UN", data = long,
         method = method, control = tight)
}

rows <- list()
add <- function(analysis, method, quantity, value) {
  rows[[length(rows) + 1]] <<- data.frame(analysis = analysis, method = method,
                                          quantity = quantity,
                                          value = trimws(formatC(value, digits = 12, format = "g")))
}

rg_auc <- function(mu, psi, fpr) {  # mada's AUC.default on the Rutter-Gatsonis curve
  s1 <- sqrt(psi[1, 1]); s2 <- sqrt(psi[2, 2])
  lambda <- sqrt(s2 / s1) * mu[1] - sqrt(s1 / s2) * mu[2]
  beta <- log(s2 / s1)
  s <- plogis(lambda * exp(-beta / 2) + exp(-beta) * qlogis(fpr))
  n <- length(fpr)
  (s[1] / 2 + sum(s[2:(n - 1)]) + s[n] / 2) / n
}

for (method in c("REML", "ML")) {
  fit <- fit_uni(method)
  mu <- as.numeric(coef(fit))
  V <- vcov(fit)
  psi <- matrix(c(fit$tau2[1], rep(fit$rho * sqrt(prod(fit$tau2)), 2), fit$tau2[2]), 2)
  add("pool", method, "logit_sens", mu[1])
  add("pool", method, "logit_fpr", mu[2])
  add("pool", method, "se_logit_sens", sqrt(V[1, 1]))
  add("pool", method, "se_logit_fpr", sqrt(V[2, 2]))
  add("pool", method, "cov_logit", V[1, 2])
  add("pool", method, "tau2_sens", psi[1, 1])
  add("pool", method, "cov_psi", psi[1, 2])
  add("pool", method, "tau2_fpr", psi[2, 2])
  add("pool", method, "loglik", as.numeric(logLik(fit)))
  s1 <- sqrt(psi[1, 1]); s2 <- sqrt(psi[2, 2])
  add("pool", method, "hsroc_theta", 0.5 * (sqrt(s2 / s1) * mu[1] + sqrt(s1 / s2) * mu[2]))
  add("pool", method, "hsroc_lambda", sqrt(s2 / s1) * mu[1] - sqrt(s1 / s2) * mu[2])
  add("pool", method, "hsroc_beta", log(s2 / s1))
  add("pool", method, "hsroc_sigma2_theta", 0.5 * (s1 * s2 + psi[1, 2]))
  add("pool", method, "hsroc_sigma2_alpha", 2 * (s1 * s2 - psi[1, 2]))
  add("pool", method, "auc", rg_auc(mu, psi, 1:99 / 100))
  obs <- range(raw$FP / (raw$FP + raw$TN))
  grid <- seq(max(0.01, obs[1]), min(0.99, obs[2]), length.out = 99)
  add("pool", method, "pauc", rg_auc(mu, psi, grid))
  # Zhou-Dendukuri I2 exactly as mada's summary.reitsma computes it (squared SEs of the
  # summary logits, correlation from Psi, sizes TP + FP and TN + FN of the uncorrected data).
  ta <- V[1, 1]; tb <- V[2, 2]; rho2 <- fit$rho^2
  em <- ((exp(ta / 2 + mu[1]) + exp(ta / 2 - mu[1]) + 2) * sum(1 / (raw$TP + raw$FP)) / k) *
    ((exp(tb / 2 - mu[2]) + exp(tb / 2 + mu[2]) + 2) * sum(1 / (raw$TN + raw$FN)) / k)
  tau <- (1 - rho2) * ta * tb
  add("pool", method, "i2_zhou", 100 * sqrt(tau) / (sqrt(em) + sqrt(tau)))
}

# Bivariate meta-regression on the made-up group, and its likelihood-ratio test on ML fits.
full <- fit_uni("ML", mods = ~ outcome + outcome:group - 1)
null <- fit_uni("ML")
b <- coef(full)
add("metareg", "ML", "sens_groupb", b["outcomesens:groupb"])
add("metareg", "ML", "fpr_groupb", b["outcomefpr:groupb"])
add("metareg", "ML", "lr_statistic", 2 * (as.numeric(logLik(full)) - as.numeric(logLik(null))))
add("metareg", "ML", "lr_df", 2)
reml <- fit_uni("REML", mods = ~ outcome + outcome:group - 1)
add("metareg", "REML", "sens_groupb", coef(reml)["outcomesens:groupb"])
add("metareg", "REML", "se_sens_groupb", reml$se[names(coef(reml)) == "outcomesens:groupb"])

# Deeks' funnel test: ln DOR on 1/sqrt(ESS), weights ESS, 0.5 added to studies with a zero cell.
dk <- raw
zero <- apply(dk == 0, 1, any)
dk[zero, ] <- dk[zero, ] + 0.5
n1 <- dk$TP + dk$FN; n0 <- dk$FP + dk$TN
ess <- 4 * n1 * n0 / (n1 + n0)
lndor <- log(dk$TP * dk$TN / (dk$FP * dk$FN))
deeks <- summary(lm(lndor ~ I(1 / sqrt(ess)), weights = ess))$coefficients
add("deeks", "WLS", "slope", deeks[2, 1])
add("deeks", "WLS", "se", deeks[2, 2])
add("deeks", "WLS", "pvalue", deeks[2, 4])

write.csv(do.call(rbind, rows), "dta_auditc_ref.csv", row.names = FALSE, quote = FALSE)
