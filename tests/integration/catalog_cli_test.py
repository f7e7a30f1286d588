#!/usr/bin/python3
"""`esar catalog check` end to end (issue 11 §3): the OPDC example's catalogs with hand-checked
expectations (examples/opdc-2565/catalog-draft.csv: 4 datasets, 2 complete; catalog.json: 10 of
10), the JSON and CSV shapes, the data rows that fill KPI 7's variables, and the score they give:
one dataset without its contact person costs the 15 points of KPI 7's metadata item, so the
points follow the catalog instead of a typed number. A malformed file is refused with its line in
Thai and English and nothing on stdout. Usage: catalog_cli_test.py ESAR"""
import csv
import io
import json
import os
import subprocess
import sys
import tempfile

ESAR = sys.argv[1]
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EX = os.path.join(ROOT, "examples", "opdc-2565")
FRAMEWORK = os.path.join(EX, "framework.json")
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


# The draft catalog, hand-checked: rows 3 and 4 have two faults each.
r = esar("catalog", "check", "--catalog", os.path.join(EX, "catalog-draft.csv"), "--format", "json")
check(r.returncode == 0, f"json exit {r.returncode}: {r.stderr}")
doc = json.loads(r.stdout)
check((doc["datasets"], doc["complete"], doc["complete_percent"]) == (4, 2, 50),
      f"draft counts {doc['datasets']} {doc['complete']} {doc['complete_percent']}")
faults = {d["name"]: [(f["field"], f["kind"]) for f in d["faults"]] for d in doc["items"]}
check(faults == {
    "opdc-kpi-results": [],
    "opdc-complaints": [("maintainer_email", "bad_email"), ("update_frequency_unit", "not_a_choice")],
    "opdc-gecc-centres": [("maintainer", "missing"), ("objective", "other_missing")],
    "opdc-awards": [],
}, f"draft faults {faults}")
check([d["line"] for d in doc["items"]] == [2, 3, 4, 5], "draft lines")
complaint = doc["items"][1]["faults"][1]
check(complaint["th"] == 'หน่วยความถี่ของการปรับปรุงข้อมูล (update_frequency_unit): "รายเดือน" ไม่อยู่ในตัวเลือกที่กำหนด',
      f"thai text {complaint['th']}")

# The table names each incomplete dataset and its faults in Thai, then English.
r = esar("catalog", "check", "--catalog", os.path.join(EX, "catalog-draft.csv"))
check("4 ชุดข้อมูล คำอธิบายข้อมูลครบ 14 รายการ 2 ชุด (ร้อยละ 50.00)" in r.stdout, r.stdout)
check("ชื่อผู้ติดต่อ (maintainer): ไม่ได้กรอก" in r.stdout, r.stdout)
check("opdc-kpi-results" not in r.stdout, "a complete dataset is not listed as faulty")
r = esar("catalog", "check", "--catalog", os.path.join(EX, "catalog-draft.csv"), lang="en")
check("Contact Person (maintainer): missing" in r.stdout, r.stdout)

# CSV: one row per dataset with a BOM'd header.
r = subprocess.run([ESAR, "catalog", "check", "--catalog", os.path.join(EX, "catalog-draft.csv"),
                    "--format", "csv"], capture_output=True)
text = r.stdout.decode("utf-8")
check(text.startswith("\ufeff"), "csv BOM")
rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
check(len(rows) == 5 and [row[4] for row in rows[1:]] == ["ครบ", "ไม่ครบ", "ไม่ครบ", "ครบ"],
      f"csv rows {rows}")


def data_rows(catalog):
    r = esar("catalog", "check", "--catalog", catalog, "--format", "data", "--framework", FRAMEWORK,
             "--kpi", "7", "--agency", "OPDC")
    check(r.returncode == 0, f"data exit {r.returncode}: {r.stderr}")
    return r.stdout


def score_with(rows):
    """OPDC's KPI 7 score with its catalog variables replaced by `rows` (data.csv lines)."""
    with open(os.path.join(EX, "data.csv"), encoding="utf-8") as f:
        lines = [l for l in f.read().splitlines()
                 if not (",7,datasets_listed," in l or ",7,datasets_complete_metadata," in l)]
    lines += rows.splitlines()[1:]
    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False, encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
        path = f.name
    r = esar("score", "--framework", FRAMEWORK, "--agencies", os.path.join(EX, "agencies.csv"),
             "--data", path, "--format", "json")
    os.unlink(path)
    check(r.returncode == 0, f"score exit {r.returncode}: {r.stderr}")
    kpis = json.loads(r.stdout)["agencies"][0]["kpis"]
    return next(k["score"] for k in kpis if k["id"] == "7")


# The complete catalog gives the rows the example's data.csv has typed: 10 and 10.
full = data_rows(os.path.join(EX, "catalog.json"))
check(full.splitlines() == ["agency,kpi,variable,fiscal_year,round,value",
                            "OPDC,7,datasets_listed,2565,12,10",
                            "OPDC,7,datasets_complete_metadata,2565,12,10"], f"data rows {full}")
check(score_with(full) == 100, "KPI 7 earns 100 with every dataset complete")

# One dataset loses its contact person: 9 of 10 complete, and the 15 metadata points go.
with open(os.path.join(EX, "catalog.json"), encoding="utf-8") as f:
    catalog = json.load(f)
catalog["result"]["results"][4]["maintainer"] = ""
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
    json.dump(catalog, f, ensure_ascii=False)
    short = f.name
rows = data_rows(short)
check("OPDC,7,datasets_complete_metadata,2565,12,9" in rows, f"one short: {rows}")
check(score_with(rows) == 85, "KPI 7 loses the 15 points of the metadata item")
os.unlink(short)

# A malformed file: refused, its line named in both languages, nothing on stdout.
with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as f:
    f.write('{"result": {"results": [\n{"title": "a"},\n{"title": }\n]}}')
    bad = f.name
for lang, word in (("th", "บรรทัด 3"), ("en", "line 3")):
    r = esar("catalog", "check", "--catalog", bad, "--format", "json", lang=lang)
    check(r.returncode == 2 and r.stdout == "", f"malformed {lang}: exit {r.returncode}, {r.stdout!r}")
    check(word in r.stderr and "json.exception" not in r.stderr, f"malformed {lang}: {r.stderr}")
os.unlink(bad)

# --format data on a KPI without "catalog", and for an agency not assigned the KPI.
r = esar("catalog", "check", "--catalog", os.path.join(EX, "catalog.json"), "--format", "data",
         "--framework", FRAMEWORK, "--kpi", "1", "--agency", "OPDC")
check(r.returncode == 2 and "catalog" in r.stderr, f"kpi without catalog: {r.stderr}")
r = esar("catalog", "check", "--catalog", os.path.join(EX, "catalog.json"), "--format", "data",
         "--framework", FRAMEWORK, "--kpi", "7", "--agency", "NOPE")
check(r.returncode == 2 and "NOPE" in r.stderr, f"unknown agency: {r.stderr}")

print(f"{passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
