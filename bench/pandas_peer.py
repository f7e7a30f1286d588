#!/usr/bin/python3
"""Scores the "pandas subset" of a generated benchmark the way a data analyst would with pandas.

    pandas_peer.py --framework DIR/subset/framework.json --agencies DIR/agencies.csv \
                   --data DIR/data.csv [--repeat 3]

Reads the CSVs with pandas, pivots this year's results (and last year's baselines) to one row per
agency and one column per KPI, then scores every column with vectorised numpy, following the
rules of src/domain/engine.cpp for these forms:
  - between two targets a result scores by linear interpolation between their points;
  - at or above the advanced target it scores the top points; below the basic target, 0;
  - a target lower than the previous level's is raised to it (so equal targets give the
    higher level's points);
  - group KPIs choose each agency's group by its baseline and compute its targets from it;
  - a missing value (or baseline) scores 0.
Each agency's weighted total is computed too, as the engine does. Only the scoring is timed (not
reading or pivoting the CSVs, as esar_bench leaves out its layout step); the best of --repeat
passes is reported:

    pandas agencies=N kpis_scored=S seconds=T scores_per_s=R checksum=C

where the checksum is the sum of every (agency, KPI) score.
"""

import argparse
import json
import sys
import time

import numpy as np
import pandas as pd


def check_supported(kpi):
    """This script handles the subset only: plain levels and groups of plain levels."""
    def plain_levels(c):
        return (c["form"] == "levels" and c.get("direction", "higher") == "higher"
                and c.get("scoring", "interpolate") == "interpolate" and "below_basic" not in c
                and not any(isinstance(t, dict) for t in c["targets"]))
    c = kpi.get("criteria")
    ok = c is not None and len(kpi.get("variables", [])) == 1 and "result" not in kpi and (
        plain_levels(c) or (c["form"] == "groups" and all(plain_levels(g["criteria"]) for g in c["groups"])))
    if not ok:
        sys.exit("pandas_peer.py: KPI %s is not in the pandas subset (plain levels or groups of them)" % kpi["id"])


def in_range(s, r):
    """The rows whose baseline s falls in a group's range {at_least, above, at_most, below}."""
    mask = np.ones(len(s), dtype=bool)
    if "at_least" in r:
        mask &= s >= r["at_least"]
    if "above" in r:
        mask &= s > r["above"]
    if "at_most" in r:
        mask &= s <= r["at_most"]
    if "below" in r:
        mask &= s < r["below"]
    return mask


def target_values(targets, names):
    """Each level's target: a number, or a formula such as "s * 1.10" evaluated on the arrays."""
    return [t if isinstance(t, (int, float)) else eval(t, {"__builtins__": {}}, names) for t in targets]


def score_levels(result, targets, points):
    """Scores an array of results against per-level targets (numbers or arrays)."""
    # A missing level (null) is skipped.
    levels = [(t, p) for t, p in zip(targets, points) if t is not None]
    # A target lower than the previous level's is raised to it.
    raised = [levels[0][0]]
    for t, _ in levels[1:]:
        raised.append(np.maximum(t, raised[-1]))
    pts = [p for _, p in levels]
    # The highest level reached wins: top level first, then each level interpolated to the next.
    conditions = [result >= raised[-1]]
    choices = [pts[-1]]
    for i in range(len(raised) - 2, -1, -1):
        lo, hi = raised[i], raised[i + 1]
        conditions.append(result >= lo)
        choices.append(pts[i] + (result - lo) / (hi - lo) * (pts[i + 1] - pts[i]))
    # NaN (missing) results meet no condition and score 0, as below basic does.
    return np.select(conditions, choices, default=0.0)


def score(fw, results, baselines, weights):
    """One scoring pass: a DataFrame of scores (agency x KPI) and the agencies' weighted totals."""
    points = [level["points"] for level in fw["levels"]]
    scores = pd.DataFrame(index=results.index)
    with np.errstate(divide="ignore", invalid="ignore"):
        for kpi in fw["kpis"]:
            kid = kpi["id"]
            result = results[kid].to_numpy()
            criteria = kpi["criteria"]
            if criteria["form"] == "levels":
                scores[kid] = score_levels(result, criteria["targets"], points)
                continue
            # Groups chosen by a baseline (a reference such as s = pmqa in FY2566).
            by = baselines[kid].to_numpy()
            kpi_scores = np.zeros(len(result))
            for group in criteria["groups"]:
                rows = in_range(by, group["range"])
                targets = target_values(group["criteria"]["targets"], {criteria["by"]: by[rows]})
                kpi_scores[rows] = score_levels(result[rows], targets, points)
            scores[kid] = kpi_scores
    totals = scores.mul(weights).sum(axis=1) / 100
    return scores, totals


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--framework", required=True)
    ap.add_argument("--agencies", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    with open(args.framework, encoding="utf-8") as f:
        fw = json.load(f)
    for kpi in fw["kpis"]:
        check_supported(kpi)
    kpi_ids = [kpi["id"] for kpi in fw["kpis"]]
    weights = pd.Series({a["kpi"]: a["weight"] for rule in fw["assignments"] for a in rule["kpis"]})

    t0 = time.perf_counter()
    agencies = pd.read_csv(args.agencies, dtype=str, usecols=["code"])["code"]
    data = pd.read_csv(args.data, dtype={"agency": str, "kpi": str, "variable": str, "value": str})
    t1 = time.perf_counter()

    # Wide tables: one row per agency, one column per KPI (each subset KPI reports one number).
    data = data[data["kpi"].isin(kpi_ids)]
    data = data.assign(value=pd.to_numeric(data["value"]))
    current = data[(data["fiscal_year"] == fw["fiscal_year"]) & (data["round"] == 12)]
    results = current.pivot(index="agency", columns="kpi", values="value").reindex(index=agencies, columns=kpi_ids)
    baseline_year = {ref["fiscal_year"] for kpi in fw["kpis"] for ref in kpi.get("references", [])}
    past = data[data["fiscal_year"].isin(baseline_year) & (data["round"] == 12)]
    baselines = past.pivot(index="agency", columns="kpi", values="value").reindex(index=agencies)
    t2 = time.perf_counter()

    best = float("inf")
    for _ in range(max(args.repeat, 1)):
        start = time.perf_counter()
        scores, totals = score(fw, results, baselines, weights)
        best = min(best, time.perf_counter() - start)

    n = scores.size
    checksum = scores.to_numpy().sum()
    print("pandas: read %.2fs, pivot %.2fs, best scoring pass %.4fs" % (t1 - t0, t2 - t1, best), file=sys.stderr)
    print("pandas agencies=%d kpis_scored=%d seconds=%.6f scores_per_s=%.0f checksum=%.6f"
          % (len(agencies), n, best, n / best, checksum))


if __name__ == "__main__":
    main()
