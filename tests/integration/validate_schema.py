#!/usr/bin/python3
"""Validates every examples/*/framework.json against docs/framework.schema.json, and checks that
the schema refuses a few broken frameworks. Uses Debian's python3-jsonschema."""
import glob
import json
import os
import sys

import jsonschema

root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
with open(os.path.join(root, "docs", "framework.schema.json"), encoding="utf-8") as f:
    schema = json.load(f)
jsonschema.Draft202012Validator.check_schema(schema)
validator = jsonschema.Draft202012Validator(schema)

failures = 0
passed = 0
for path in sorted(glob.glob(os.path.join(root, "examples", "**", "framework.json"), recursive=True)):
    with open(path, encoding="utf-8") as f:
        errors = list(validator.iter_errors(json.load(f)))
    if errors:
        failures += 1
        print(f"FAIL {os.path.relpath(path, root)}: {errors[0].json_path}: {errors[0].message}")
    else:
        passed += 1

level = {"form": "levels", "targets": [80, 90, 100]}
kpi = {"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}], "criteria": level}
broken = {
    "unknown field": {"fiscal_year": 2567, "kpis": [dict(kpi, wieght=5)]},
    "bad form": {"fiscal_year": 2567, "kpis": [dict(kpi, criteria={"form": "magic"})]},
    "year as text": {"fiscal_year": "2567", "kpis": [kpi]},
    "no kpis": {"fiscal_year": 2567},
    "above and below": {"fiscal_year": 2567, "kpis": [dict(kpi, criteria={"form": "levels", "targets": [1, 2, {"above": 3, "below": 4}]})]},
    "a KPI id with CR LF": {"fiscal_year": 2567, "kpis": [dict(kpi, id="1\r\nSet-Cookie: x=1")]},
    "a KPI id with a space": {"fiscal_year": 2567, "kpis": [dict(kpi, id="a b")]},
    "a KPI id in Thai": {"fiscal_year": 2567, "kpis": [dict(kpi, id="ตัวชี้วัด1")]},
    "a KPI key in capitals": {"fiscal_year": 2567, "kpis": [dict(kpi, key="PMQA")]},
    "a share with nothing to reach": {"fiscal_year": 2567, "kpis": [dict(kpi, from_agencies={"variable": "r", "key": "e-service", "measure": "share"})]},
    "an average with a level": {"fiscal_year": 2567, "kpis": [dict(kpi, from_agencies={"variable": "r", "key": "e-service", "measure": "average", "level": 2})]},
    "a count by level and value": {"fiscal_year": 2567, "kpis": [dict(kpi, from_agencies={"variable": "r", "key": "e", "measure": "count", "level": 2, "at_least": 1})]},
    "an unknown measure": {"fiscal_year": 2567, "kpis": [dict(kpi, from_agencies={"variable": "r", "key": "e", "measure": "median"})]},
    "a KPI key with a space": {"fiscal_year": 2567, "kpis": [dict(kpi, key="pmqa 4")]},
    "a case rule with a Thai cut-off date": {"fiscal_year": 2567, "kpis": [dict(kpi, cases={"kinds": ["opinion"], "cutoffs": {"12": "30/9/2567"}, "classes": []})]},
    "a case rule with an unknown pause reason": {"fiscal_year": 2567, "kpis": [dict(kpi, cases={"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "pauses_not_counted": ["lunch"], "classes": []})]},
    "a case class with months and days": {"fiscal_year": 2567, "kpis": [dict(kpi, cases={"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "classes": [{"id": "a", "standard": {"months": 1, "days": 2}, "windows": []}]})]},
    "a milestone due in Buddhist Era digits": {"fiscal_year": 2567, "kpis": [dict(kpi, variables=[{"id": "p", "type": "pass_fail"}, {"id": "d", "type": "date"}], criteria={"form": "milestones", "levels": [[{"variable": "p", "due": "31/12/2566", "reached": "d"}], [], []]})]},
    "a milestone due with no date variable": {"fiscal_year": 2567, "kpis": [dict(kpi, variables=[{"id": "p", "type": "pass_fail"}], criteria={"form": "milestones", "levels": [[{"variable": "p", "due": "2023-12-31"}], [], []]})]},
    "a sub-KPI id with a slash": {"fiscal_year": 2567, "kpis": [dict(kpi, sub_kpis=[dict(kpi, id="1/2", weight=100)])]},
}
for name, framework in broken.items():
    if validator.is_valid(framework):
        failures += 1
        print(f"FAIL the schema accepts a broken framework: {name}")
    else:
        passed += 1

print(f"{passed} passed, {failures} failed")
sys.exit(1 if failures else 0)
