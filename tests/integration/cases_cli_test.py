#!/usr/bin/python3
"""`esar cases` end to end (issue 11 §1): the OCS example's generated case log judged case by case
against the verdicts its generator states (examples/ocs-2567/cases/expected-verdicts.csv), for
KPIs 1 and 2 in both rounds; the JSON's exact shape; the data rows that enter scoring; a bad log
refused with every bad row listed in Thai and English and nothing on stdout; an agency not
assigned the KPI. Usage: cases_cli_test.py ESAR"""
import csv
import json
import os
import subprocess
import sys
import tempfile

ESAR = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, "examples", "ocs-2567")
FRAMEWORK = os.path.join(EX, "framework.json")
CASES = os.path.join(EX, "cases", "cases.csv")
PAUSES = os.path.join(EX, "cases", "pauses.csv")
failures = 0
passed = 0


def check(ok, what):
    global failures, passed
    if ok:
        passed += 1
    else:
        failures += 1
        print("FAIL", what)


def esar(*args, lang=None):
    cmd = [ESAR] + (["--lang", lang] if lang else []) + list(args)
    return subprocess.run(cmd, capture_output=True, text=True)


def cases_cmd(kpi, rnd, *extra, cases=CASES, pauses=PAUSES, agency="OCS"):
    args = ["cases", "--framework", FRAMEWORK, "--kpi", kpi, "--agency", agency, "--round", str(rnd),
            "--cases", cases]
    if pauses:
        args += ["--pauses", pauses]
    return esar(*(args + list(extra)))


# 1. Every case's verdict as the generator meant it, in each KPI and round.
expected = {}
with open(os.path.join(EX, "cases", "expected-verdicts.csv"), encoding="utf-8") as f:
    for row in csv.DictReader(f):
        expected[(row["case_id"], row["kpi"], int(row["round"]))] = row["verdict"]
for kpi in ("1", "2"):
    for rnd in (6, 12):
        p = cases_cmd(kpi, rnd)
        check(p.returncode == 0, f"esar cases kpi {kpi} round {rnd}: {p.stderr[-300:]}")
        out = json.loads(p.stdout)
        check(list(out.keys()) == ["kpi", "round", "result", "counted", "on_time", "cases"],
              f"top-level keys {list(out.keys())}")
        mismatched = []
        on_time = counted = 0
        for c in out["cases"]:
            got = c["reason"] if not c["counted"] else ("on_time" if c["on_time"] else "late")
            want = expected[(c["case_id"], kpi, rnd)]
            if got != want:
                mismatched.append(f"{c['case_id']}: {got} (expected {want})")
            counted += c["counted"]
            on_time += bool(c["on_time"])
        check(not mismatched, f"KPI {kpi} round {rnd} verdicts: {mismatched[:5]}")
        check(len(out["cases"]) == 361, f"every case listed ({len(out['cases'])})")
        check(out["counted"] == counted and out["on_time"] == on_time, "counts agree with the list")
        check(abs(out["result"] - on_time * 100 / counted) < 1e-12, "result = on time / counted × 100")
        if (kpi, rnd) == ("1", 12):
            check((out["on_time"], out["counted"]) == (207, 208), "KPI 1: 207 of 208 (seed 002: 99.52)")
            check(out["result"] == 20700 / 208, "the result is not rounded")
        if (kpi, rnd) == ("2", 12):
            check((out["on_time"], out["counted"]) == (127, 129), "KPI 2: 127 of 129 (seed 002: 98.45)")

# 2. One case's entry, worked by hand: L-PAUSE-OVERLAP, received 1 Dec 2023, short (3 months:
# 29 Feb 2024), committee 5–14 Jan and outside 10–20 Jan merged into 16 days: due 16 Mar.
out = json.loads(cases_cmd("1", 12).stdout)
entry = next(c for c in out["cases"] if c["case_id"] == "L-PAUSE-OVERLAP")
check(entry == {"case_id": "L-PAUSE-OVERLAP", "counted": True, "reason": None, "class": "short",
                "standard": "3 months", "due": "2024-03-16", "paused_days": 16, "on_time": True,
                "late_days": 0}, f"L-PAUSE-OVERLAP entry {entry}")
entry = next(c for c in out["cases"] if c["case_id"] == "L-LATE")
check((entry["due"], entry["late_days"]) == ("2024-04-01", 10), f"L-LATE entry {entry}")
entry = next(c for c in out["cases"] if c["case_id"] == "B-ACT")
check((entry["class"], entry["standard"], entry["due"], entry["on_time"]) == (None, None, None, True),
      f"backlog entry {entry}")

# 3. The counts as rows of data.csv, the scoring input: with them, esar score gives OCS's
# published KPI 1 result.
p = cases_cmd("1", 12, "--format", "data")
check(p.stdout == "agency,kpi,variable,fiscal_year,round,value\n"
                  "OCS,1,completed_within_standard,2567,12,207\nOCS,1,received,2567,12,208\n",
      f"data rows: {p.stdout!r}")

with tempfile.TemporaryDirectory() as tmp:
    # 4. A bad log: every bad row named, in Thai by default and in English; nothing on stdout.
    bad_cases = os.path.join(tmp, "cases.csv")
    bad_pauses = os.path.join(tmp, "pauses.csv")
    with open(bad_cases, "w", encoding="utf-8") as f:
        f.write("case_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,completed,backlog\n"
                "A,act,5,,,,,2024-01-15,2024-02-01,\n"
                "B,act,5,,,,,15/1/67,,\n"
                "A,act,5,,,,,2024-01-15,,\n")
    with open(bad_pauses, "w", encoding="utf-8") as f:
        f.write("case_id,reason,start,end\nQ,ria,2024-01-01,\n")
    p = cases_cmd("1", 12, cases=bad_cases, pauses=bad_pauses)
    check(p.returncode == 1 and p.stdout == "", f"a bad log exits 1 with nothing on stdout ({p.returncode})")
    check("cases.csv:3: คอลัมน์ received:" in p.stderr, f"Thai problem line: {p.stderr}")
    check("cases.csv:4: คอลัมน์ case_id: รหัสเรื่อง \"A\" ซ้ำกับบรรทัด 2" in p.stderr, "duplicate named at its second line")
    check("pauses.csv:2: คอลัมน์ case_id: ไม่มีเรื่องรหัส \"Q\"" in p.stderr, "pause for an unknown case")
    p = esar("cases", "--framework", FRAMEWORK, "--kpi", "1", "--agency", "OCS", "--round", "12",
             "--cases", bad_cases, "--pauses", bad_pauses, lang="en")
    check("column received: the date \"15/1/67\" must be a date" in p.stderr, f"English: {p.stderr}")
    check("3 problems" in p.stderr, "the count of problems")

    # 5. An empty log: no counted case, result null with a reason.
    empty = os.path.join(tmp, "empty.csv")
    with open(empty, "w", encoding="utf-8") as f:
        f.write("case_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,completed,backlog\n")
    p = cases_cmd("2", 6, cases=empty, pauses=None)
    check(p.returncode == 0 and json.loads(p.stdout) == {"kpi": "2", "round": 6, "result": None,
          "reason": "no_counted_cases", "counted": 0, "on_time": 0, "cases": []}, f"empty log: {p.stdout}")

# 6. An agency without the KPI, a KPI without a case rule.
p = cases_cmd("1", 12, agency="BOI")
check(p.returncode == 2 and "BOI" in p.stderr, f"BOI has no KPI 1: {p.returncode} {p.stderr}")
p = cases_cmd("8", 12)
check(p.returncode == 2, "KPI 8 is not computed from cases")

print(f"{passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
