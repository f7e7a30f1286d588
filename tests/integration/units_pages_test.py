#!/usr/bin/python3
"""Thai word order for a percentage (issue 12 §4): "ร้อยละ 90.00", never "90.00 ร้อยละ", on every
kind of page that shows a value with its unit, one of each, on SQLite or (under
with_pg_schema.sh) PostgreSQL: the agency's KPI form (the what-if line), the approver's "approve
and submit all" list, the evaluator's review page and bulk-accept confirmation, the public
agency report page and its PDF. Other units still follow the number ("12 ชุดข้อมูล").

    units_pages_test.py <esar binary>
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import (ApiClient, Browser, Checks, EXAMPLE, ServedScratch, import_example,  # noqa: E402
                          run_cli, text_of)

check = Checks()

# A value (with decimals, as results and percentages are shown) followed by ร้อยละ, with or
# without brackets: the order this test forbids. (KPI 1's name "ร้อยละความสำเร็จ..." after its
# number "1" is not a value.)
AFTER = re.compile(r"\d\.\d+\s*\(?ร้อยละ")


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-units-") as scratch:
        db = scratch.db
        import_example(esar, db, (("admin", "admin", None), ("evaluator", "evaluator", None),
                                  ("reporter.ocs", "reporter", "OCS"), ("approver.ocs", "approver", "OCS")))
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        base = scratch.serve(esar)
        admin = ApiClient(base).login("admin", "demo-admin-2567")
        deadline = int((time.time() + 30 * 86400) * 1000)
        r = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        rep = ApiClient(base).login("reporter.ocs", "demo-reporter.ocs-2567")
        # KPI 1: 180 of 200 in time = ร้อยละ 90.00; KPI 5: 12 datasets, quality ร้อยละ 100, 95 registered.
        k1 = rep.json("PUT", f"/api/v1/rounds/{r}/agencies/OCS/kpis/1",
                      {"values": {"received": 200, "completed_within_standard": 180}})["id"]
        k5 = rep.json("PUT", f"/api/v1/rounds/{r}/agencies/OCS/kpis/5",
                      {"values": {"datasets": 12, "quality_percent": 100, "registered_percent": 95}})["id"]

        # ---- the agency's KPI form: the what-if line
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, html = reporter.page(f"/agency/rounds/{r}/kpis/1")
        whatif = text_of(re.search(r'<div id="whatif".*?</div>', html, re.S).group(0)) if 'id="whatif"' in html else ""
        check(status == 200 and "ผลการดำเนินงาน ร้อยละ 90.00" in whatif and not AFTER.search(whatif),
              "the KPI form's what-if line reads 'ร้อยละ 90.00' (%s)" % whatif.strip()[:80])

        # ---- the approver's list of what "approve and submit all" sends
        approver = Browser(base)
        approver.login("approver.ocs")
        _, home = approver.page("/agency")
        status, _, raw = approver.request("POST", f"/agency/rounds/{r}/submit-all", {"csrf": approver.csrf(home)})
        page = raw.decode()
        listed = text_of(re.search(r'id="submit-all-items">(.*?)</table>', page, re.S).group(1)) \
            if 'id="submit-all-items"' in page else ""
        check(status == 200 and "ร้อยละ 100.00" in listed and "12 ชุดข้อมูล" in listed and not AFTER.search(listed),
              "the submit-all list reads 'ร้อยละ 100.00' and '12 ชุดข้อมูล' (%s)" % listed.strip()[:160])
        for sid in (k1, k5):
            approver_api = ApiClient(base).login("approver.ocs", "demo-approver.ocs-2567")
            approver_api.json("POST", f"/api/v1/submissions/{sid}/approve", {})
            approver_api.json("POST", f"/api/v1/submissions/{sid}/submit", {})

        # ---- the evaluator's review page and bulk-accept confirmation
        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, html = evaluator.page(f"/review/submissions/{k1}")
        whatif = text_of(re.search(r'<p class="whatif.*?</p>', html, re.S).group(0)) if 'class="whatif' in html else ""
        check(status == 200 and "ร้อยละ 90.00" in whatif and not AFTER.search(whatif),
              "the review page's result reads 'ร้อยละ 90.00' (%s)" % whatif.strip()[:80])
        status, _, raw = evaluator.request("POST", "/review/accept-many",
                                           {"csrf": evaluator.csrf(html), f"s_{k5}": "1", "back": "/review"})
        page = raw.decode()
        listed = text_of(re.search(r'id="bulk-items">(.*?)</table>', page, re.S).group(1)) \
            if 'id="bulk-items"' in page else ""
        check(status == 200 and "ร้อยละ 95.00" in listed and not AFTER.search(listed),
              "the bulk-accept confirmation reads 'ร้อยละ 95.00' (%s)" % listed.strip()[:160])
        ev_api = ApiClient(base).login("evaluator", "demo-evaluator-2567")
        for sid in (k1, k5):
            ev_api.json("POST", f"/api/v1/submissions/{sid}/accept", {"comment": "ถูกต้อง"})

        # ---- the published agency report: its page and its PDF
        admin.json("POST", f"/api/v1/rounds/{r}/close", {"reason": "ทดสอบ"})
        admin.json("POST", f"/api/v1/rounds/{r}/results", {"appeal_days": 0}, expect=201)
        admin.json("POST", f"/api/v1/rounds/{r}/results/final", {}, expect=201)
        admin.json("POST", f"/api/v1/rounds/{r}/results/publish", {}, expect=201)
        public = Browser(base)
        status, html = public.page(f"/results/{r}/agencies/OCS")
        text = text_of(html)
        # Cell by cell and line by line: flattened, a value's cell followed by the next row's
        # name ("ร้อยละของชุดข้อมูล...") would read as a value before ร้อยละ.
        pieces = [text_of(m.group(2)) for m in re.finditer(r"<(td|p|li)\b[^>]*>(.*?)</\1>", html, re.S)]
        wrong = [p for p in pieces if AFTER.search(p)]
        check(status == 200 and text.count("ร้อยละ 90.00") >= 2 and "ร้อยละ 95.00" in text and not wrong,
              "the agency report's table, KPI section and items read 'ร้อยละ 90.00', 'ร้อยละ 95.00' (%d, %d times, %s)"
              % (status, text.count("ร้อยละ 90.00"), wrong[:2]))
        status, _, pdf = public.get(f"/results/{r}/agencies/OCS/report.pdf")
        with open(os.path.join(scratch.work, "report.pdf"), "wb") as f:
            f.write(pdf)
        words = subprocess.run(["pdftotext", "-layout", os.path.join(scratch.work, "report.pdf"), "-"],
                               capture_output=True, text=True).stdout
        flat = re.sub(r"\s+", " ", words)
        check(status == 200 and "ร้อยละ 90.00" in flat and not AFTER.search(flat),
              "the agency report's PDF reads 'ร้อยละ 90.00' (%s)" % ((AFTER.search(flat) or [""])[0] or "none after"))
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
