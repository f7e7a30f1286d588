#!/usr/bin/python3
"""Generates the OCS example's case log (cases.csv, pauses.csv) and the verdict every case is
meant to get (expected-verdicts.csv), for KPI 1 (draft laws) and KPI 2 (legal opinions) of
examples/ocs-2567/framework.json, in both rounds.

Fixed seed: running it again writes the same files. Standard library only.

    python3 examples/ocs-2567/cases/generate.py [OUT_DIR]     # default: this script's folder

The log is built from *features*, one or a few cases each, chosen so that every class, window,
pause rule, category, backlog rule, reason and round of issue 11 §1 occurs; each feature states
the verdict it must get, worked out by hand in its comment. Then *filler* cases, on time in both
rounds, bring the 12-month counts to those OCS published (seed 002): KPI 1 207 on time of 208
counted (99.52 %), KPI 2 127 of 129 (98.45 %). tests/integration/cases_cli_test.py compares
esar's verdicts with expected-verdicts.csv case by case.
"""
import calendar
import csv
import datetime
import os
import random
import sys

SEED = 2567
D = datetime.date
LAW_KINDS = ["act", "royal_decree", "ministerial_regulation"]
CUTOFF = {6: D(2024, 3, 31), 12: D(2024, 9, 30)}


def end_of_months(start, months):
    """Civil and Commercial Code s. 193/5: the day before the day of the N-th month bearing the
    start's number, or that month's last day when it has none."""
    index = start.month - 1 + months
    y, m = start.year + index // 12, index % 12 + 1
    last = calendar.monthrange(y, m)[1]
    if start.day <= last:
        return D(y, m, start.day) - datetime.timedelta(days=1)
    return D(y, m, last)


rng = random.Random(SEED)
cases = []    # dicts with the ten columns
pauses = []   # (case_id, reason, start, end or None)
expect = []   # (case_id, kpi, round, verdict): on_time, late or a reason code


def add(case_id, kind, received, completed=None, sections=None, maps=0, maps_complex=0, annex=0,
        category=0, backlog=0, k1=None, k2=None, pause_list=()):
    """One case; k1/k2 are its verdicts in KPI 1 and KPI 2 as (round 6, round 12)."""
    cases.append(dict(case_id=case_id, kind=kind, sections="" if sections is None else sections,
                      maps=maps or "", maps_complex=maps_complex or "", annex_pages=annex or "",
                      special_category=category or "", received=received, completed=completed,
                      backlog=backlog or ""))
    for reason, start, end in pause_list:
        pauses.append((case_id, reason, start, end))
    if k1 is None:
        k1 = ("kind", "kind")
    if k2 is None:
        k2 = ("kind", "kind")
    for kpi, verdicts in (("1", k1), ("2", k2)):
        for rnd, v in zip((6, 12), verdicts):
            expect.append((case_id, kpi, rnd, v))


BOTH_ON_TIME = ("on_time", "on_time")

# --- KPI 1: every class on time in both rounds (received inside its window, done early) -----
# Windows: 3 months 1 Jul 2023–30 Jun 2024; 4: 1 Jun 2023–31 May 2024; 6: 1 Apr 2023–31 Mar 2024;
# 8: 1 Feb 2023–31 Jan 2024; 12: 1 Oct 2022–30 Sep 2023.
classes = [  # id, fields, received, completed (before the due date and 31 Mar 2024)
    ("short", dict(sections=7), D(2023, 8, 15), D(2023, 10, 2)),            # due 14 Nov 2023
    ("medium", dict(sections=18), D(2023, 5, 2), D(2023, 10, 20)),          # due 1 Nov 2023
    ("long", dict(sections=45), D(2022, 11, 15), D(2023, 10, 20)),          # due 14 Nov 2023
    ("maps", dict(maps=1), D(2023, 6, 20), D(2023, 10, 1)),                 # due 19 Oct 2023
    ("maps_many", dict(maps=3), D(2023, 4, 10), D(2023, 9, 30)),            # due 9 Oct 2023
    ("maps_complex", dict(maps=2, maps_complex=1), D(2023, 3, 1), D(2023, 10, 31)),  # 31 Oct
    ("annex_1", dict(sections=4, annex=1), D(2023, 7, 3), D(2023, 11, 1)),  # 4 > 3 months: 2 Nov
    ("annex_2_10", dict(annex=6), D(2023, 9, 1), D(2024, 2, 29)),           # due 29 Feb 2024
    ("annex_11", dict(sections=12, annex=15), D(2023, 2, 1), D(2023, 9, 30)),  # 8 > 6: 30 Sep
]
for i, (cid, fields, received, completed) in enumerate(classes):
    add(f"L-CLASS-{cid}", LAW_KINDS[i % 3], received, completed, k1=BOTH_ON_TIME, **fields)

# --- KPI 1: one day outside each class's window (before it opens): outside_window ----------
before = {"short": D(2023, 6, 30), "medium": D(2023, 3, 31), "long": D(2022, 9, 30),
          "maps": D(2023, 5, 31), "maps_many": D(2023, 3, 31), "maps_complex": D(2023, 1, 31),
          "annex_1": D(2023, 5, 31), "annex_2_10": D(2023, 3, 31), "annex_11": D(2023, 1, 31)}
for i, (cid, fields, _, _) in enumerate(classes):
    if cid == "annex_1":
        fields = dict(annex=1)  # without sections: its window is the 4-month one
    r = before[cid]
    add(f"L-EARLY-{cid}", LAW_KINDS[i % 3], r, r + datetime.timedelta(days=20),
        k1=("outside_window", "outside_window"), **fields)
# ... and after the short window closes (30 Jun 2024): outside in both rounds, not after_cutoff
# in round 6 (the window is checked first).
add("L-LATE-RECEIPT", "act", D(2024, 7, 1), D(2024, 7, 20), sections=3,
    k1=("outside_window", "outside_window"))

# --- KPI 1: rounds --------------------------------------------------------------------------
# Received 10 Apr 2024, after round 6's cut-off but inside the short window: round 12 on time.
add("L-ROUND12-ONLY", "royal_decree", D(2024, 4, 10), D(2024, 5, 1), sections=9,
    k1=("after_cutoff", "on_time"))
# Received 1 Feb 2024, due 30 Apr 2024, open on 31 Mar: pending in round 6; done 15 Apr: on time.
add("L-PENDING6", "act", D(2024, 2, 1), D(2024, 4, 15), sections=2, k1=("pending", "on_time"))
# The one late law of round 12: medium, received 2 Oct 2023, due 1 Apr 2024, done 11 Apr:
# pending in round 6 (open on 31 Mar, due after it), late by 10 days in round 12.
add("L-LATE", "ministerial_regulation", D(2023, 10, 2), D(2024, 4, 11), sections=14,
    k1=("pending", "late"))

# --- KPI 1: pauses --------------------------------------------------------------------------
# RIA 10–19 Nov 2023 (10 days): due 31 Jan 2024 → 10 Feb; done 5 Feb: on time thanks to it.
add("L-PAUSE-RIA", "act", D(2023, 11, 1), D(2024, 2, 5), sections=6,
    pause_list=[("ria", D(2023, 11, 10), D(2023, 11, 19))], k1=BOTH_ON_TIME)
# Committee 5–14 Jan and outside 10–20 Jan 2024 overlap: 5–20 Jan, 16 days; due 29 Feb → 16 Mar;
# done 10 Mar: on time.
add("L-PAUSE-OVERLAP", "royal_decree", D(2023, 12, 1), D(2024, 3, 10), sections=8,
    pause_list=[("committee", D(2024, 1, 5), D(2024, 1, 14)), ("outside", D(2024, 1, 10), D(2024, 1, 20))],
    k1=BOTH_ON_TIME)
# A pause after completion counts nothing: done 3 Jan 2024, due 4 Jan; RIA 10 Jan – 10 Feb.
add("L-PAUSE-AFTER", "act", D(2023, 10, 5), D(2024, 1, 3), sections=10,
    pause_list=[("ria", D(2024, 1, 10), D(2024, 2, 10))], k1=BOTH_ON_TIME)
# A pause from before registration: RIA 1–14 Oct 2023 on a case registered 10 Oct counts
# 10–14 Oct (5 days): due 9 Jan 2024 → 14 Jan; done 12 Jan: on time.
add("L-PAUSE-BEFORE", "ministerial_regulation", D(2023, 10, 10), D(2024, 1, 12), sections=1,
    pause_list=[("ria", D(2023, 10, 1), D(2023, 10, 14))], k1=BOTH_ON_TIME)
# A pause across the round-6 cut-off: committee 20 Mar – 30 Apr 2024 on a medium law received
# 20 Nov 2023 (due 19 May 2024). Round 6: 20–31 Mar, 12 days, due 31 May, open on 31 Mar:
# pending. Round 12: done 25 May, 20 Mar – 30 Apr = 42 days, due 30 Jun: on time.
add("L-PAUSE-ACROSS", "act", D(2023, 11, 20), D(2024, 5, 25), sections=16,
    pause_list=[("committee", D(2024, 3, 20), D(2024, 4, 30))], k1=("pending", "on_time"))
# A pause still open: long law received 15 Sep 2023, due 14 Sep 2024; outside from 1 Sep 2024,
# no end: round 12 counts 1–30 Sep (30 days), due 14 Oct: open, pending. Round 6: no pause day
# before 31 Mar, due 14 Sep 2024: pending.
add("L-PAUSE-OPEN", "act", D(2023, 9, 15), None, sections=30,
    pause_list=[("outside", D(2024, 9, 1), None)], k1=("pending", "pending"))

# --- special categories 1–6: never counted ----------------------------------------------------
for cat in range(1, 7):
    add(f"L-SPECIAL-{cat}", LAW_KINDS[cat % 3], D(2023, 9, 1), D(2023, 10, 1), sections=5,
        category=cat, k1=("special_category", "special_category"))
add("O-SPECIAL-3", "opinion", D(2023, 9, 1), D(2023, 9, 20), category=3,
    k2=("special_category", "special_category"))

# --- kinds and classes ------------------------------------------------------------------------
add("X-TREATY", "treaty", D(2023, 9, 1), D(2023, 9, 20), sections=5)   # neither KPI counts it
add("L-NO-SIZE", "act", D(2024, 1, 10), D(2024, 2, 1), k1=("unclassified", "unclassified"))
add("L-ZERO-SECTIONS", "royal_decree", D(2024, 1, 10), D(2024, 2, 1), sections=0,
    k1=("unclassified", "unclassified"))

# --- backlog: received before FY2567, already past their standard on 30 Sep 2023 ---------------
# KPI 1 counts backlog acts, decrees, regulations and opinions in round 12 only: on time when
# done by 30 Sep 2024. KPI 2 counts no backlog (reason backlog); an act is not its kind.
add("B-ACT", "act", D(2022, 6, 1), D(2024, 2, 10), sections=25, backlog=1,
    k1=("backlog_round6", "on_time"))
add("B-OPINION", "opinion", D(2023, 3, 1), D(2024, 8, 1), backlog=1,
    k1=("backlog_round6", "on_time"), k2=("backlog", "backlog"))
add("B-SPECIAL", "royal_decree", D(2022, 1, 5), None, backlog=1, category=2,
    k1=("special_category", "special_category"))

# --- KPI 2: opinions, 53 days, no pause excluded ----------------------------------------------
# Received 15 Feb 2024: outside round 6's window (to 31 Jan), inside round 12's; due 7 Apr,
# done 20 Mar: on time.
add("O-ROUND12-ONLY", "opinion", D(2024, 2, 15), D(2024, 3, 20), k2=("outside_window", "on_time"))
add("O-BEFORE-WINDOW", "opinion", D(2023, 7, 31), D(2023, 8, 15),
    k2=("outside_window", "outside_window"))
add("O-AFTER-WINDOW", "opinion", D(2024, 8, 1), D(2024, 8, 15),
    k2=("outside_window", "outside_window"))
# Late 1: received 1 Sep 2023, due 23 Oct (1 Sep + 52 days), done 28 Oct: 5 days late.
add("O-LATE", "opinion", D(2023, 9, 1), D(2023, 10, 28), k2=("late", "late"))
# Late 2, still open: received 20 Jul 2024, due 10 Sep, open on 30 Sep: 20 days late.
add("O-LATE-OPEN", "opinion", D(2024, 7, 20), None, k2=("outside_window", "late"))
# An RIA pause does not count for KPI 2: received 10 Aug 2023, due 1 Oct; done 20 Sep: on time,
# paused_days 0.
add("O-PAUSE-IGNORED", "opinion", D(2023, 8, 10), D(2023, 9, 20),
    pause_list=[("ria", D(2023, 8, 15), D(2023, 8, 20))], k2=BOTH_ON_TIME)

# --- filler: on time in both rounds -------------------------------------------------------------
def counted(kpi):
    return sum(1 for c, k, r, v in expect if k == kpi and r == 12 and v in ("on_time", "late"))


def rand_date(a, b):
    return a + datetime.timedelta(days=rng.randint(0, (b - a).days))


n = 0
while counted("1") < 208:
    n += 1
    kind = rng.choice(LAW_KINDS)
    if rng.random() < 0.6:   # short: received Jul–Dec 2023
        sections, received = rng.randint(1, 10), rand_date(D(2023, 7, 1), D(2023, 12, 31))
        due = end_of_months(received, 3)
    else:                    # medium: received Apr–Sep 2023
        sections, received = rng.randint(11, 20), rand_date(D(2023, 4, 1), D(2023, 9, 30))
        due = end_of_months(received, 6)
    completed = rand_date(received, min(due, CUTOFF[6]))
    plist = []
    if rng.random() < 0.2 and (completed - received).days > 2:
        start = rand_date(received, completed)
        plist = [(rng.choice(["ria", "committee", "outside"]), start, rand_date(start, completed))]
    add(f"L-{n:04d}", kind, received, completed, sections=sections, pause_list=plist, k1=BOTH_ON_TIME)
n = 0
while counted("2") < 129:
    n += 1
    received = rand_date(D(2023, 8, 1), D(2024, 1, 31))
    add(f"O-{n:04d}", "opinion", received, received + datetime.timedelta(days=rng.randint(0, 52)),
        k2=BOTH_ON_TIME)

# --- write: dates as ISO or as Thai users write them (d/m/Buddhist year), in a shuffled order --
def date_text(d):
    if d is None:
        return ""
    return d.isoformat() if rng.random() < 0.5 else f"{d.day}/{d.month}/{d.year + 543}"


out = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
order = list(range(len(cases)))
rng.shuffle(order)
with open(os.path.join(out, "cases.csv"), "w", encoding="utf-8-sig", newline="") as f:  # BOM, as Excel
    w = csv.writer(f, lineterminator="\r\n")
    w.writerow(["case_id", "kind", "sections", "maps", "maps_complex", "annex_pages",
                "special_category", "received", "completed", "backlog"])
    for i in order:
        c = cases[i]
        w.writerow([c["case_id"], c["kind"], c["sections"], c["maps"], c["maps_complex"],
                    c["annex_pages"], c["special_category"], date_text(c["received"]),
                    date_text(c["completed"]), c["backlog"]])
with open(os.path.join(out, "pauses.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["case_id", "reason", "start", "end"])
    for p in pauses:
        w.writerow([p[0], p[1], date_text(p[2]), date_text(p[3])])
with open(os.path.join(out, "expected-verdicts.csv"), "w", encoding="utf-8", newline="") as f:
    w = csv.writer(f, lineterminator="\n")
    w.writerow(["case_id", "kpi", "round", "verdict"])
    for e in sorted(expect):
        w.writerow(e)
print(f"{len(cases)} cases, {len(pauses)} pauses; KPI 1 round 12: {counted('1')} counted; "
      f"KPI 2 round 12: {counted('2')} counted")
