#!/usr/bin/python3
"""Dated milestones through the running server (issue 11 §4), with seed 003's "plan approved by
December 2563" (examples/mof-ops-2564 KPI 3, due 31 Dec 2563): the reporter gives the day the
plan was approved through the API and the KPI's form (15/1/2564 or 2021-01-15), bad dates are
refused in Thai and English and nothing is stored, a date for a variable that is not one is
refused; the values come back as stored; the form and the review page show the day as people
read it; the results' explanation and the PDF report say whether it counted.

    milestone_dates_test.py ESAR   (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import os
import re
import subprocess
import sys
import time

from esar_harness import ROOT, ApiClient, Browser, Checks, import_example, ServedScratch, text_of

EXAMPLE = os.path.join(ROOT, "examples", "mof-ops-2564")
check = Checks(verbose=True)


def squeezed(text):
    return re.sub(r"\s+", "", text)


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-milestone-dates-") as scratch:
        db = scratch.db
        users = [("admin", "admin", None), ("evaluator", "evaluator", None),
                 ("reporter.mof", "reporter", "MOF-OPS"), ("approver.mof", "approver", "MOF-OPS")]
        import_example(esar, db, users, example=EXAMPLE)
        base = scratch.serve(esar)
        admin, evaluator, reporter, approver = (ApiClient(base, check).login(u, "demo-%s-2567" % u)
                                                for u, _, _ in users)
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        kpi_path = f"/api/v1/rounds/{round_id}/agencies/MOF-OPS/kpis/3"
        values = {"plan_approved": "ผ่าน", "recommendations_6m": "ผ่าน", "followup_6m": "ผ่าน",
                  "units_central": 46, "units_regional": 854, "recommendations_12m": "ผ่าน"}

        # ---- the API: bad dates refused with both languages' messages, nothing stored
        for bad, why in (("31/2/2564", "a day the calendar does not have"), ("15/1/64", "a two-digit year"),
                         (1e7, "a day number past 2200")):
            status, _, data = reporter.call("PUT", kpi_path, {"values": dict(values, plan_approved_on=bad)})
            text = data.decode("utf-8", "replace")
            check(status == 400 and ("plan_approved_on" in text or "ตัวเลข" in text), f"API: {why} is refused ({status} {text[:160]})")
        status, _, data = reporter.call("PUT", kpi_path, {"values": dict(values, units_central="2021-01-15")})
        text = data.decode("utf-8", "replace")
        check(status == 400 and "ไม่ใช่ตัวแปรวันที่" in text and "is not a date variable" in text,
              f"API: a date for a count is refused in Thai and English ({status} {text[:200]})")
        status, _, data = reporter.call("GET", f"/api/v1/rounds/{round_id}/submissions")
        check(status == 200 and b'"total":0' in data.replace(b" ", b""), "  nothing was stored", data[:200])

        # ---- the API takes 15/1/2564: late, so the explanation says it does not count
        saved = reporter.json("PUT", kpi_path, {"values": dict(values, plan_approved_on="15/1/2564")})
        sid = saved.get("id") or saved.get("submission_id")
        sub = reporter.json("GET", f"/api/v1/submissions/{sid}")
        stored = sub.get("report", sub).get("values", {})
        check(stored.get("plan_approved_on") == "15/1/2564", f"API: the date is stored as given ({stored.get('plan_approved_on')!r})")

        # ---- the form: the date shown as typed in esar's date fields, the due date said
        browser = Browser(base)
        browser.login("reporter.mof")
        form = f"/agency/rounds/{round_id}/kpis/3"
        status, html = browser.page(form)
        check(status == 200 and re.search(r'id="v_plan_approved_on" name="v_plan_approved_on" type="text" class="date"[^>]*value="15/1/2564"', html) is not None,
              "the form's date field shows 15/1/2564")
        check("ภายใน 31 ธ.ค. 2563" in text_of(html), "the criteria on the form say the due date (ภายใน 31 ธ.ค. 2563)")
        token = browser.csrf(html)
        fields = {"csrf": token, "v_plan_approved": "ผ่าน", "v_recommendations_6m": "ผ่าน", "v_followup_6m": "ผ่าน",
                  "v_units_central": "46", "v_units_regional": "854", "v_recommendations_12m": "ผ่าน"}
        status, _, raw = browser.request("POST", form, dict(fields, v_plan_approved_on="31/9/2563"))
        page = text_of(raw.decode("utf-8"))
        check(status == 400 and "วันที่ รวม. ลงนามอนุมัติแผนการตรวจ" in page and "31/9/2563" in raw.decode("utf-8"),
              f"the form refuses 31/9/2563, names the field and keeps what was typed ({status})")
        sub = reporter.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("report", sub).get("values", {}).get("plan_approved_on") == "15/1/2564", "  the stored value is unchanged")
        status, headers, _ = browser.request("POST", form, dict(fields, v_plan_approved_on="15/12/2563"))
        check(status == 303, f"the form saves 15/12/2563 ({status})")
        sub = reporter.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("report", sub).get("values", {}).get("plan_approved_on") == "2020-12-15",
              "  stored as the ISO date 2020-12-15")
        status, html = browser.page(form)
        check('value="15/12/2563"' in html, "  and shown again as 15/12/2563")

        # ---- the review page shows the day as people read it
        approver.json("POST", f"/api/v1/submissions/{sid}/approve")
        approver.json("POST", f"/api/v1/submissions/{sid}/submit")
        eb = Browser(base)
        eb.login("evaluator")
        status, html = eb.page(f"/review/submissions/{sid}")
        row = re.search(r"วันที่ รวม\. ลงนามอนุมัติแผนการตรวจ</th>\s*<td class=\"num\">([^<]*)</td>", html)
        at = html.find("v_plan_approved_on")
        check(status == 200 and row is not None and row.group(1) == "15 ธ.ค. 2563",
              f"the review page shows the reported day as 15 ธ.ค. 2563 ({row.group(1) if row else None!r})",
              f"{status} {html[at - 400:at + 300] if at >= 0 else text_of(html)[:1500]!r}")
        evaluator.json("POST", f"/api/v1/submissions/{sid}/accept", {})

        # ---- results: the explanation and the PDF say the plan was approved on time
        admin.json("POST", f"/api/v1/rounds/{round_id}/close", {"reason": "ทดสอบ"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results", {"appeal_days": 14}, expect=201)
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/close-appeals", {"reason": "ทดสอบ"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/final", {}, expect=201)
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/publish", {}, expect=201)
        result = admin.json("GET", f"/api/v1/rounds/{round_id}/results/agencies/MOF-OPS")
        kpi3 = next((k for k in result.get("result", {}).get("agency", {}).get("kpis", []) if k.get("id") == "3"), {})
        lines = kpi3.get("explanation", [])
        want = "✓ ขั้นที่ 1 จัดทำแผนการตรวจและ รวม. ลงนามอนุมัติแผนฯ ภายใน ธันวาคม 2563: บรรลุ 15 ธ.ค. 2563 ภายในกำหนด 31 ธ.ค. 2563 — ผ่าน"
        check(want in lines and kpi3.get("score") == 100, f"the result's explanation: {want!r} (score {kpi3.get('score')}, {lines[:3]})")
        status, _, pdf = admin.call("GET", f"/api/v1/rounds/{round_id}/results/agencies/MOF-OPS/report.pdf")
        text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True).stdout.decode("utf-8")
        check(status == 200 and squeezed("บรรลุ 15 ธ.ค. 2563 ภายในกำหนด 31 ธ.ค. 2563") in squeezed(text),
              "the PDF report says the plan was approved on 15 ธ.ค. 2563, by its due date 31 ธ.ค. 2563")
        status, _, pdf = admin.call("GET", f"/api/v1/rounds/{round_id}/results/agencies/MOF-OPS/report.pdf?lang=en")
        text = subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True).stdout.decode("utf-8")
        check(status == 200 and squeezed("reached on 15 Dec 2020, by its due date 31 Dec 2020") in squeezed(text),
              "the English PDF says so too")
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
