#!/usr/bin/python3
"""Wording and small faults found in the walk through every page (issue 12 §8), each checked on
what the user gets: an unknown address answers a page (not raw JSON) while the API keeps JSON;
/favicon.ico exists and every page names its icon; the menu's words ("ภาพรวมระดับประเทศ",
"รายงานรอการตรวจ") and one menu item highlighted on admin pages; no empty "ประโยชน์ที่คาดว่าจะได้รับ"
heading under a KPI that states no benefit; the what-if line "คิดเป็น 75.00 คะแนน"; the evidence
note "หมายเหตุประกอบไฟล์"; one decision called "ผ่านการตรวจ" on the button, the message and
the status. Usage: wording_test.py ESAR"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient, Browser, Checks, import_example, ServedScratch  # noqa: E402

check = Checks()


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-wording-") as scratch:
        db = scratch.db
        import_example(esar, db, (("admin", "admin", None), ("evaluator", "evaluator", None),
                                  ("reporter.ocs", "reporter", "OCS")))
        base = scratch.serve(esar)

        # ---- an unknown address: a page in the user's language, with the menu; JSON under /api
        public = Browser(base)
        status, headers, raw = public.get("/no/such/page")
        body = raw.decode()
        check(status == 404 and headers.get("content-type", "").startswith("text/html"),
              "an unknown address answers an HTML page (%d %s)" % (status, headers.get("content-type")))
        check('<html lang="th">' in body and "ไม่พบหน้าที่ขอ" in body and not body.lstrip().startswith("{"),
              "  in Thai, not raw JSON: " + body[:120])
        check('href="/"' in body, "  with a way back to the start")
        status, headers, raw = public.get("/api/v1/no-such-thing")
        check(status == 404 and headers.get("content-type", "").startswith("application/json")
              and json.loads(raw)["error"]["message_en"] == "no such page",
              "the API still answers JSON for an unknown address (%d)" % status)

        # ---- the icon: every page names one, and /favicon.ico answers it
        status, html = public.page("/")
        m = re.search(r'<link rel="icon" href="([^"]+)"', html)
        check(m is not None, "the page names its icon")
        if m:
            status, headers, raw = public.get(m.group(1))
            check(status == 200 and headers.get("content-type", "").startswith("image/svg+xml")
                  and b"<svg" in raw, "  and the icon is served (%d)" % status)
        status, headers, raw = public.get("/favicon.ico")
        check(status == 200 and headers.get("content-type", "").startswith("image/"),
              "/favicon.ico answers an image (%d %s)" % (status, headers.get("content-type")))

        # ---- the menu's words, and one item highlighted
        check("ภาพรวมระดับประเทศ" in html and "ภาพรวมประเทศ<" not in html,
              "the menu says ภาพรวมระดับประเทศ")
        admin = Browser(base)
        admin.login("admin")
        for path in ("/admin", "/admin/rounds", "/admin/frameworks", "/admin/users", "/admin/outbox"):
            status, html = admin.page(path)
            current = re.findall(r'<a href="([^"]+)" aria-current="page"', html)
            check(status == 200 and current == [path], "one menu item highlighted on %s: %s" % (path, current))
        check("รายงานรอการตรวจ" in html and "คิวตรวจรายงาน" not in html, "the menu says รายงานรอการตรวจ")
        status, html = admin.page("/review")
        kinds = re.search(r'<select id="f-kind" name="kind">(.*?)</select>', html, re.S)
        check(kinds is not None and '<option value="department">กรม</option>' in kinds.group(1)
              and ">department<" not in kinds.group(1), "the queue's kind filter reads กรม in Thai")

        # ---- a round, and a reporter's KPI page: no empty benefit heading; the what-if wording
        status, html = admin.page("/admin/rounds")
        framework = re.search(r'<option value="(\d+)">ปีงบประมาณ พ.ศ. 2567', html).group(1)
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                     "round": "12", "date": "30/9/2642", "time": "16:30"})
        check(status == 303, "the admin opens the round (%d)" % status)
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, html = reporter.page("/agency/rounds/1/kpis/3")
        check(status == 200, "the reporter opens KPI 3 (%d)" % status)
        check("ประโยชน์ที่คาดว่าจะได้รับ" not in html,
              "no benefit heading under a KPI that states no benefit")

        # ---- issue 12 §7: the glossary, linked from every page; short help on each role's pages
        status, html = public.page("/glossary")
        check(status == 200 and "<h1>อภิธานศัพท์</h1>" in html, "the glossary opens for everyone (%d)" % status)
        for term, meaning in (("ตัวชี้วัด", "สิ่งที่ใช้วัดผลการดำเนินงาน"), ("เป้าหมายขั้นต้น", "50 คะแนน"),
                              ("เป้าหมายมาตรฐาน", "75 คะแนน"), ("เป้าหมายขั้นสูง", "100 คะแนน"),
                              ("อุทธรณ์", "ขอให้ทบทวน"), ("ผ่านการตรวจ", "ผู้ประเมินตรวจแล้ว")):
            m = re.search(r"<dt>%s</dt><dd>([^<]*)</dd>" % re.escape(term), html)
            check(m is not None and meaning in m.group(1), "the glossary explains %s" % term)
        public.get("/lang/en?next=/glossary")
        status, html = public.page("/glossary")
        check("<dt>Basic target (เป้าหมายขั้นต้น)</dt><dd>The result that earns 50 points" in html,
              "the glossary in English keeps the Thai term")
        public.get("/lang/th?next=/")
        for who, browser, path, words in (
                ("reporter", reporter, "/agency", "เลือกตัวชี้วัดเพื่อกรอกผลการดำเนินงาน"),
                ("reporter", reporter, "/agency/rounds/1/kpis/3", "ระบบคำนวณคะแนนที่ค่านี้จะได้"),
                ("admin", admin, "/admin", "เปิดรอบการรายงานพร้อมกำหนดส่ง"),
                ("admin", admin, "/review", "รายงานที่หน่วยงานส่งมาแล้วรอการตรวจ")):
            status, html = browser.page(path)
            help_box = re.search(r'<details class="help"><summary>วิธีใช้หน้านี้</summary><p>([^<]*)</p>'
                                 r'<p><a href="/glossary">', html)
            check(status == 200 and help_box is not None and words in help_box.group(1),
                  "the %s's %s has short help linking the glossary" % (who, path))
            check('<a href="/glossary">อภิธานศัพท์</a>' in html, "  and the footer links the glossary")

        # ---- an open appeal: its status, with no empty "()" for a decision not yet given
        api_admin = ApiClient(base)
        api_admin.login("admin", "demo-admin-2567")
        api_admin.json("POST", "/api/v1/rounds/1/close", {"reason": "ทดสอบ"})
        prelim = api_admin.json("POST", "/api/v1/rounds/1/results", {"appeal_days": 14}, expect=201)
        api_reporter = ApiClient(base)
        api_reporter.login("reporter.ocs", "demo-reporter.ocs-2567")
        api_reporter.json("POST", "/api/v1/results/%d/appeals" % prelim["id"],
                          {"kpi": "1", "reason": "ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง"}, expect=201)
        status, html = reporter.page("/agency/results")
        m = re.search(r"ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง — <strong>([^<]*)</strong>([^<]*)</li>", html)
        check(status == 200 and m is not None and m.group(1) == "รอพิจารณา" and m.group(2) == "",
              "an open appeal reads 'รอพิจารณา' with nothing after it: %r" % (m.groups() if m else None,))
        status, html = admin.page("/review/appeals")
        check(status == 200 and "()" not in html, "the evaluators' appeal list shows no empty ()")
    print(check.summary())
    sys.exit(check.exit_code())


main()
