#!/usr/bin/env python3
"""Spearman rank correlation of the final k-NN with the label-free signals, over the runs of
bench/quality.sh (its QUALITY_TSV rows: label, seed, steps, k-NN, linear, RankMe, JEPA loss,
SIGReg statistic). Usage: bench/spearman.py TSV... [--without LABEL_SUBSTRING]"""
import argparse
import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("tsv", nargs="+"); ap.add_argument("--without", default=None)
a = ap.parse_args()
rows = [line.rstrip("\n").split("\t") for path in a.tsv for line in open(path) if line.strip()]
if a.without:
    rows = [r for r in rows if a.without not in r[0]]


def ranks(v):  # average ranks of ties, as Spearman's rho needs
    v = np.asarray(v, float)
    order = np.argsort(v, kind="stable")
    r = np.empty(len(v))
    r[order] = np.arange(len(v))
    for x in np.unique(v):
        r[v == x] = r[v == x].mean()
    return r


knn = ranks([float(r[3]) for r in rows])
print(f"{len(rows)} runs; Spearman with the final k-NN:", ", ".join(
    f"{name} {np.corrcoef(knn, ranks([float(r[col]) for r in rows]))[0, 1]:+.2f}"
    for name, col in (("RankMe", 5), ("JEPA loss", 6), ("label-free SIGReg statistic", 7))))
