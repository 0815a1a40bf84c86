# Regenerate appraisal_kappa.csv: Cohen's kappa of raters A and B per item on the demo, the
# reference numbers tests/test_appraisal.py checks synth.appraisal.item_agreement against.
#
# Usage (from tests/results/):  Rscript appraisal_kappa.R
# Needs R with psych (the pinned numbers come from psych 2.2.9; Debian: r-cran-psych). Input:
# ../../data/demo/metrics.csv, quadas2.csv and quality.csv (made by scripts/make_demo.py). Each
# item's levels are the answers either rater gave (as synth does), in sorted order. METRICS
# (yes / no / n/a) and QUADAS-2 (low / high / unclear) get the unweighted kappa; the RQS 1.0
# components answered in more than two points the linearly weighted one (disagreement weights
# |i - j| on the rank of the level). Output: appraisal_kappa.csv (instrument, item, weights,
# kappa), kappa rounded to 10 decimals; NA where kappa is undefined (one answer throughout).

library(psych)

kappa_of <- function(a, b, weighted) {
  levels <- sort(unique(c(a, b)))
  if (length(levels) < 2) return(NA_real_)
  x <- data.frame(a = factor(a, levels = levels), b = factor(b, levels = levels))
  x <- data.frame(a = as.integer(x$a), b = as.integer(x$b))
  k <- length(levels)
  w <- abs(outer(seq_len(k), seq_len(k), "-"))
  res <- suppressWarnings(cohen.kappa(x, w = w, levels = seq_len(k)))
  if (weighted) res$weighted.kappa else res$kappa
}

rows <- list()
pairs <- function(file, prefix, instrument, weighted_if) {
  d <- read.csv(file.path("..", "..", "data", "demo", file), colClasses = "character",
                na.strings = character(0))
  a <- d[d$rater == "A", ]
  b <- d[d$rater == "B", ]
  stopifnot(identical(a$study_id, b$study_id))
  for (col in grep(prefix, names(d), value = TRUE)) {
    va <- a[[col]]
    vb <- b[[col]]
    weighted <- weighted_if(c(va, vb))
    if (weighted) {
      va <- as.numeric(va)
      vb <- as.numeric(vb)
    }
    rows[[length(rows) + 1]] <<- data.frame(
      instrument = instrument, item = col, weights = if (weighted) "linear" else "none",
      kappa = round(kappa_of(va, vb, weighted), 10))
  }
}

never <- function(v) FALSE
pairs("metrics.csv", "^metrics_", "METRICS", never)
pairs("quadas2.csv", "^(rob|applicability)_", "QUADAS-2", never)
pairs("quality.csv", "^rqs_", "RQS", function(v) length(unique(v)) > 2)

out <- do.call(rbind, rows)
con <- file("appraisal_kappa.csv", "w")
writeLines(sprintf("# psych %s on data/demo (raters A and B); regenerate with appraisal_kappa.R",
                   packageVersion("psych")), con)
write.csv(out, con, row.names = FALSE)
close(con)
