#!/usr/bin/python3
"""The web pages without a browser or JavaScript: every form posts and redirects, so a plain
HTTP client walks the reporting cycle; pages for signed-in roles send the public to the login
page and other roles to a 403; POSTs without the session's CSRF field are refused; what users
type is escaped; redirects stay on the site; static files are compressed, cached and revalidated.
The cycle's rules as users meet them: exempt KPIs and KPIs of another round are not reported and
say why; an approver sends a draft back with a comment; the agency sees the verified values and
the score they give; extensions lie after the deadline and can be removed; reporting closes,
results are computed, finalized and published only after a confirmation that says what is
missing; a published round takes nothing more until it is reopened, with a reason.

    pages_test.py <esar binary>
"""
import gzip
import json
import http.client
import os
import re
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import Browser, Checks, EXAMPLE, import_example, run_cli, ServedScratch  # noqa: E402

check = Checks()


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-pages-") as scratch:
        work, db = scratch.work, scratch.db
        # A fresh PostgreSQL schema under with_pg_schema.sh; a fresh SQLite file otherwise.
        # An agency whose name is markup: it must come out as text.
        with open(os.path.join(EXAMPLE, "agencies.csv"), encoding="utf-8") as f:
            agencies = f.read().rstrip("\n") + '\nXSS,"<script>alert(1)</script> สำนักงาน",<b>x</b>,department,PMO\n'
        with open(os.path.join(work, "agencies.csv"), "w", encoding="utf-8") as f:
            f.write(agencies)
        import_example(esar, db, (("admin", "admin", None), ("evaluator", "evaluator", None),
                                  ("reporter.ocs", "reporter", "OCS"), ("approver.ocs", "approver", "OCS"),
                                  ("reporter.boi", "reporter", "BOI")), agencies=os.path.join(work, "agencies.csv"))
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        base = scratch.serve(esar)

        # ---- who may open what ----
        public = Browser(base)
        for path in ("/", "/dashboard", "/login"):
            status, html = public.page(path)
            check(status == 200 and '<html lang="th">' in html, "the public opens %s in Thai (%d)" % (path, status))
        for path in ("/agency", "/review", "/admin", "/admin/rounds", "/account/password"):
            status, headers, _ = public.get(path)
            check(status == 303 and headers.get("location", "").startswith("/login?next="),
                  "the public is sent to log in from %s (%d)" % (path, status))

        admin = Browser(base)
        status, where = admin.login("admin")
        check(status == 303 and where == "/admin", "the admin logs in and lands on /admin (%d %s)" % (status, where))
        status, html = admin.page("/admin/rounds")
        check(status == 200, "the admin opens the rounds page")
        framework = re.search(r'<option value="(\d+)">ปีงบประมาณ พ.ศ. 2567', html).group(1)
        status, headers, _ = admin.request("POST", "/admin/rounds", {"framework": framework, "round": "12",
                                                                     "date": "2099-09-30", "time": "16:30"})
        check(status == 403, "a form without the session's CSRF field is refused (%d)" % status)
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                     "round": "12", "date": "2099-02-30", "time": ""})
        check(status == 400, "an impossible date is refused with the form shown again (%d)" % status)
        # Dates are typed day/month/Buddhist Era year; a Common Era year is refused saying which
        # year is meant, and the form comes back with what was typed.
        status, _, raw = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                 "round": "12", "date": "30/9/2099", "time": "16:30"})
        body = raw.decode()
        check(status == 400 and "ปี 2099 เป็นปี ค.ศ. กรุณาใช้ปี พ.ศ. (2099 + 543 = 2642)" in body,
              "a Common Era year is refused and the Buddhist Era year named (%d)" % status)
        check(re.search(r'<input id="r-date" name="date" type="text"[^>]*value="30/9/2099"', body) is not None,
              "  and the date field keeps what was typed")
        check('type="date"' not in body, "  no field is the browser's mm/dd/yyyy date input")
        status, _, raw = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                 "round": "12", "date": "31/9/2642", "time": "16:30"})
        check(status == 400 and "ไม่มีวันที่ 31/9/2642 ในปฏิทิน" in raw.decode(), "31/9/2642 is no date (%d)" % status)
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                     "round": "12", "date": "30/9/2642", "time": "16:30"})
        check(status == 303 and "done=round_opened" in headers.get("location", ""), "the admin opens the round")
        status, html = admin.page("/admin/rounds")
        check("30 ก.ย. 2642 16:30 น." in html, "the deadline is shown in Buddhist Era, Bangkok time")
        check("เปิดรับรายงาน" in html, "the round is shown open for reports")

        # ---- extensions: after the deadline, in the future, changed and removed (issue 8.16)
        token = admin.csrf(html)
        status, _, raw = admin.request("POST", "/admin/rounds/1/extensions", {"csrf": token, "agency": "BOI",
                                                                              "date": "2020-01-01", "time": "16:30"})
        body = raw.decode()
        check(status == 400 and "หลังกำหนดส่งของรอบ" in body, "an extension to 2020-01-01 is refused and says why (%d)" % status)
        check("1 ม.ค. 2563" not in body, "  and it is not listed")
        status, headers, _ = admin.request("POST", "/admin/rounds/1/extensions", {"csrf": token, "agency": "BOI",
                                                                                 "date": "15/10/2642", "time": "16:30"})
        check(status == 303 and "done=extended" in headers.get("location", ""), "an extension after the deadline is granted")
        status, headers, _ = admin.request("POST", "/admin/rounds/1/extensions", {"csrf": token, "agency": "BOI",
                                                                                 "date": "2099-10-20", "time": "16:30"})
        status, html = admin.page("/admin/rounds")
        check("20 ต.ค. 2642" in html and "15 ต.ค. 2642" not in html, "extending again changes the date")
        m = re.search(r'action="(/admin/rounds/1/extensions/BOI/remove)"', html)
        check(m is not None, "the extension can be removed")
        status, headers, _ = admin.request("POST", m.group(1) if m else "/", {"csrf": token})
        status, html = admin.page("/admin/rounds")
        check(status == 200 and "20 ต.ค. 2642" not in html, "the removed extension is gone")

        # ---- KPIs the agency does not report (issue 8.17)
        boi = Browser(base)
        boi.login("reporter.boi")
        status, html = boi.page("/agency")
        row7 = re.search(r'kpis/7">.*?</tr>', html, re.S)
        check(row7 is not None and "ได้รับยกเว้น" in row7.group(0) and "ไม่มีผลคะแนนปี 66" in row7.group(0),
              "the exempt KPI says it is exempt and why")
        check(row7 is not None and "ยังไม่เริ่ม" not in row7.group(0), "  and is not 'not started'")
        check("ส่งแล้ว 0/3" in html, "the exempt KPI is not counted: sent 0/3")
        status, html = boi.page("/agency/rounds/1/kpis/7")
        check(status == 200 and "ไม่มีผลคะแนนปี 66" in html and "บันทึกร่าง" not in html,
              "the exempt KPI's page gives the reason and no save button")
        status, _, raw = boi.request("POST", "/agency/rounds/1/kpis/7", {"csrf": boi.csrf(html), "v_score": "80"})
        check(status == 400 and "ได้รับยกเว้น" in raw.decode(), "saving the exempt KPI is refused (%d)" % status)
        # The KPI editor's JSON goes through the same depth limit as every JSON input: 100,000-deep
        # nesting once overflowed the stack when the framework was serialized again.
        editor = "/admin/frameworks/%s/kpis/1" % framework
        status, html = admin.page(editor)
        check(status == 200, "the admin opens the KPI editor (%d)" % status)
        deep = "[" * 100000 + "]" * 100000
        status, headers, raw = admin.request("POST", editor, {"csrf": admin.csrf(html), "kpi_json": deep})
        check(status == 400 and "64" in raw.decode("utf-8", "replace"),
              "100,000-deep JSON in the KPI editor is refused with the depth limit named (%d)" % status)
        check(admin.get("/healthz")[0] == 200, "the server still answers after the deep JSON")
        status, html = admin.page("/admin/agencies")
        check("&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html,
              "markup in an agency's name is escaped")
        # The directory a page at a time, searched and filtered as the public list is.
        check(re.search(r"<span>หน้า 1 / 1</span>", html) is not None and 'name="q"' in html,
              "the agencies page is paged and has a search")
        status, html = admin.page("/admin/agencies?q=%s" % urllib.parse.quote("กฤษฎีกา"))
        rows = re.findall(r"<tr><td><a href=\"/admin/agencies/[^\"]+/edit\"[^>]*>([^<]+)</a></td><th scope=\"row\">", html)
        check(status == 200 and rows == ["OCS"], "a search finds the agency by part of its Thai name (%r)" % rows)
        status, html = admin.page("/admin/agencies?parent=PMO&sort=name&dir=desc")
        rows = re.findall(r"<tr><td><a href=\"/admin/agencies/[^\"]+/edit\"[^>]*>([^<]+)</a></td><th scope=\"row\">", html)
        check(status == 200 and "OCS" in rows and "XSS" in rows and "PMO" not in rows
              and 'aria-sort="descending"' in html,
              "the agencies of one ministry, by name descending (%r)" % rows)
        status, html = admin.page("/admin/agencies?page=99999")
        check(status == 200 and re.search(r"<span>หน้า 1 / 1</span>", html) is not None and "OCS" in html,
              "a page past the end shows the last one")
        status, html = admin.page("/admin/agencies?q=%25")
        check(status == 200 and "ไม่พบหน่วยงานที่ค้นหา" in html, "a search matching nothing says so")
        status, html = admin.page("/admin/agencies")
        check(admin.get("/agency")[0] == 403, "the admin may not open an agency's reporting page")

        # ---- the reporter's round, without JavaScript ----
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, html = reporter.page("/agency")
        check(status == 200 and "เหลือ" in html, "the reporter's home page says how long is left")
        kpi = "/agency/rounds/1/kpis/1"
        status, html = reporter.page(kpi)
        check(status == 200 and "ยังคำนวณคะแนนไม่ได้ ต้องกรอก" in html,
              "before any value, the what-if line says what is missing")
        token = reporter.csrf(html)
        status, headers, raw = reporter.request("POST", kpi, {"csrf": token, "v_received": "abc",
                                                              "v_completed_within_standard": "1"})
        body = raw.decode()
        check(status == 400 and "ต้องเป็นตัวเลข" in body and 'value="abc"' in body,
              "a value that is not a number is refused and the typed values are kept (%d)" % status)
        status, headers, _ = reporter.request("POST", kpi, {"csrf": token, "v_received": "1,000",
                                                            "v_completed_within_standard": "900",
                                                            "explanation": "<b>bold</b>"})
        check(status == 303 and headers["location"] == kpi + "?done=saved", "the draft is saved (%d)" % status)
        status, html = reporter.page(kpi + "?done=saved")
        check("บันทึกร่างแล้ว" in html and 'value="1000"' in html and "&lt;b&gt;bold&lt;/b&gt;" in html,
              "the saved values come back, thousands separator read, markup escaped")
        status, html = reporter.page(kpi + "/whatif?v_received=200&v_completed_within_standard=180")
        check("คิดเป็น 75.00 คะแนน" in html, "the what-if fragment scores typed values: " + html.strip()[:120])
        status, html = reporter.page(kpi)
        m = re.search(r'action="(/agency/submissions/(\d+)/evidence\?csrf=[0-9a-f]+&amp;back=[^"]+)"', html)
        check(m is not None, "the form offers an upload that works without JavaScript")
        upload, submission = m.group(1).replace("&amp;", "&"), m.group(2)
        pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
        multipart = (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"report.pdf\"\r\n"
                     b"Content-Type: application/pdf\r\n\r\n" + pdf + b"\r\n--x--\r\n")
        status, headers, _ = reporter.request("POST", upload, body=multipart,
                                              content_type="multipart/form-data; boundary=x")
        check(status == 303 and "done=uploaded" in headers.get("location", ""), "the upload redirects back (%d)" % status)
        status, html = reporter.page(kpi)
        check("%d ไบต์" % len(pdf) in html and "%d B<" % len(pdf) not in html and "%d B " % len(pdf) not in html,
              "the file's size is given in Thai units (%d ไบต์), not B" % len(pdf))
        status, headers, raw = reporter.request("POST", upload.replace("csrf=", "csrf=0"), body=multipart,
                                                content_type="multipart/form-data; boundary=x")
        check(status == 403 and "CSRF" in raw.decode(), "an upload with the wrong CSRF token is refused (%d)" % status)
        exe = (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\nMZ\x90\x00binary"
               b"\r\n--x--\r\n")
        status, _, raw = reporter.request("POST", upload, body=exe, content_type="multipart/form-data; boundary=x")
        check(status in (400, 415) and "<html" in raw.decode(), "a file that is not evidence gets a page saying why (%d)" % status)

        approver = Browser(base)
        approver.login("approver.ocs")
        status, html = approver.page(kpi)
        check("report.pdf" in html, "the approver sees the uploaded file")
        token = approver.csrf(html)
        # ---- the approver sends the draft back with a comment (issue 8.19)
        check('action="/agency/submissions/%s/send-back"' % submission in html, "the approver is offered to send it back")
        status, headers, _ = approver.request("POST", "/agency/submissions/%s/send-back" % submission,
                                              {"csrf": token, "comment": ""})
        check(status == 400, "sending back needs a comment (%d)" % status)
        status, headers, _ = approver.request("POST", "/agency/submissions/%s/send-back" % submission,
                                              {"csrf": token, "comment": "โปรดแนบหนังสือรับรอง <ฉบับลงนาม>"})
        check(status == 303 and "done=sent_back" in headers.get("location", ""), "the approver sends the draft back")
        status, html = reporter.page("/agency")
        check("ผู้อนุมัติส่งกลับให้แก้ไข" in html, "the reporter's list says the approver sent it back")
        status, html = reporter.page(kpi)
        check("โปรดแนบหนังสือรับรอง &lt;ฉบับลงนาม&gt;" in html, "the reporter reads the approver's comment, escaped")
        status, headers, _ = approver.request("POST", "/agency/submissions/%s/approve" % submission, {"csrf": token})
        check(status == 303 and "done=approved" in headers["location"], "the approver approves")
        status, headers, _ = approver.request("POST", "/agency/submissions/%s/submit" % submission, {"csrf": token})
        check(status == 303 and "done=submitted" in headers["location"], "the approver submits")
        status, headers, _ = reporter.request("POST", kpi, {"csrf": reporter.csrf(html), "v_received": "1"})
        check(status in (400, 403, 409), "a submitted KPI cannot be saved over (%d)" % status)

        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, html = evaluator.page("/review")
        check("สำนักงานคณะกรรมการกฤษฎีกา" in html, "the submission is in the evaluator's queue")
        # ?page= of any size: bounded before the offset is computed; past the end is the last page.
        for page in ("9223372036854775807", "99999999999999999999", "4611686018427387904", "1000001",
                     "2", "-9223372036854775808", "0", "abc", "1e9", ""):
            status, html = evaluator.page("/review?page=" + page)
            shown = re.search(r"<span>หน้า (\d+) / (\d+)</span>", html)
            check(status == 200 and shown is not None and shown.groups() == ("1", "1")
                  and "สำนักงานคณะกรรมการกฤษฎีกา" in html,
                  "/review?page=%s shows the one page there is (%d, %s)"
                  % (page, status, shown.groups() if shown else html[:200]))
        # Searched, filtered and sorted by the database; the sorted column says so (aria-sort).
        status, html = evaluator.page("/review?q=" + urllib.parse.quote("กฤษฎีกา"))
        check(status == 200 and "สำนักงานคณะกรรมการกฤษฎีกา" in html, "the queue finds the agency by name")
        status, html = evaluator.page("/review?q=ocs&ministry=PMO&kind=department")
        check(status == 200 and "สำนักงานคณะกรรมการกฤษฎีกา" in html, "the queue finds it by code in its ministry")
        for query in ("q=" + urllib.parse.quote("ไม่มีหน่วยงานนี้"), "q=%25", "ministry=MOL", "kind=ministry"):
            status, html = evaluator.page("/review?" + query)
            check(status == 200 and "สำนักงานคณะกรรมการกฤษฎีกา" not in html and "ไม่มีรายการ" in html,
                  "the queue with %s is empty and says so" % query)
        status, html = evaluator.page("/review?sort=name&dir=desc")
        header = re.search(r'<th scope="col" aria-sort="([a-z]+)"><a href="([^"]+)">หน่วยงาน</a>', html)
        check(status == 200 and header is not None and header.group(1) == "descending"
              and "sort=name&amp;dir=asc" in header.group(2) and "สำนักงานคณะกรรมการกฤษฎีกา" in html,
              "the queue sorted by name, descending, links the other way (%r)" % (header.groups() if header else None,))
        status, html = evaluator.page("/review/submissions/" + submission)
        check("1,000" in html or "1000" in html, "the review page shows the reported values")
        status, headers, _ = evaluator.request("POST", "/review/submissions/" + submission,
                                               {"csrf": evaluator.csrf(html), "decision": "accept",
                                                "v_received": "1000", "v_completed_within_standard": "850",
                                                "comment": "ตามหลักฐานแล้วเสร็จ 850 เรื่อง"})
        check(status == 303 and "done=accepted" in headers["location"], "the evaluator accepts, correcting a value (%d)" % status)

        # ---- the agency sees the verified values and the score they give (issue 8.18)
        status, html = reporter.page(kpi)
        verified = re.search(r'id="verified-values".*?</table>', html, re.S)
        check(verified is not None and "850" in verified.group(0) and "900" in verified.group(0),
              "the agency's page shows its value (900) beside the verified one (850)")
        check("คิดเป็น 62.50 คะแนน" in html and "คิดเป็น 75.00 คะแนน" not in html,
              "the score shown is the verified values' (85 % -> 62.50), not the reported ones' (75.00)")
        agency_total = re.search(r"คะแนนรวมจะเป็น ([0-9.,]+)", html)
        check("คะแนนรวมคิดจาก ตัวชี้วัดนี้: ค่าที่ผ่านการตรวจสอบ" in html, "the total says which values it uses")
        status, html = evaluator.page("/review/submissions/" + submission)
        review_total = re.search(r"คะแนนรวมจะเป็น ([0-9.,]+)", html)
        check(agency_total is not None and review_total is not None and agency_total.group(1) == review_total.group(1),
              "the agency's and the evaluator's pages give the same total (%s, %s)"
              % (agency_total and agency_total.group(1), review_total and review_total.group(1)))

        # ---- the cycle's states, each step confirmed with what is missing (issue 8.15) ----
        status, html = admin.page("/admin/results")
        token = admin.csrf(html)
        check('action="/admin/results/1/compute"' not in html and 'action="/admin/rounds/1/close"' in html,
              "while the round is open, computing is not offered but closing is")
        status, _, raw = admin.request("POST", "/admin/results/1/compute",
                                       {"csrf": token, "appeal_days": "0", "confirm": "yes"})
        check(status == 409 and "เปิดรับรายงาน" in raw.decode(), "computing an open round is refused (%d)" % status)
        status, _, raw = admin.request("POST", "/admin/rounds/1/close", {"csrf": token, "back": "/admin/results"})
        body = raw.decode()
        missing = re.search(r"(\d+) หน่วยงานยังไม่ส่ง (\d+) ตัวชี้วัด", body)
        check(status == 200 and missing is not None and 'name="confirm" value="yes"' in body,
              "closing first asks for a confirmation that says what is missing (%d)" % status)
        check(missing is not None and int(missing.group(1)) >= 2 and int(missing.group(2)) > int(missing.group(1)),
              "  counted by agency and KPI: %s" % (missing and missing.group(0)))
        status, headers, _ = admin.request("POST", "/admin/rounds/1/close",
                                           {"csrf": token, "back": "/admin/results", "confirm": "yes",
                                            "reason": "ครบกำหนดตามหนังสือเวียน"})
        check(status == 303 and "done=round_closed" in headers.get("location", ""), "the admin closes reporting")
        status, _, raw = reporter.request("POST", kpi, {"csrf": reporter.csrf(reporter.page(kpi)[1]), "v_received": "5"})
        check(status == 409, "a closed round takes no more drafts (%d)" % status)
        status, html = reporter.page("/agency")
        check("ปิดรับรายงานแล้ว" in html, "the reporter's page says reporting is closed")
        for action in ("compute", "finalize", "publish"):
            status, _, raw = admin.request("POST", "/admin/results/1/" + action, {"csrf": token, "appeal_days": "0"})
            body = raw.decode()
            check(status == 200 and 'name="confirm" value="yes"' in body and "<li" in body,
                  "%s first shows a confirmation with the round's facts (%d)" % (action, status))
            status, headers, _ = admin.request("POST", "/admin/results/1/" + action,
                                               {"csrf": token, "appeal_days": "0", "confirm": "yes"})
            check(status == 303, "the admin confirms and can %s (%d)" % (action, status))
        status, html = admin.page("/admin/results")
        check('action="/admin/results/1/compute"' not in html, "a published round offers no computation")
        status, _, raw = admin.request("POST", "/admin/results/1/compute",
                                       {"csrf": token, "appeal_days": "14", "confirm": "yes"})
        check(status == 409, "computing a published round is refused (%d)" % status)
        status, html = admin.page("/admin/results?round=1")
        check("เผยแพร่ผลแล้ว" in html, "the round is still published")
        status, _, raw = approver.request("POST", "/agency/submissions/%s/send-back" % submission,
                                          {"csrf": approver.csrf(approver.page(kpi)[1]), "comment": "x"})
        check(status == 409, "a published round takes no more changes (%d)" % status)
        status, html = public.page("/?sort=name")
        names = re.findall(r'<th scope="row"><a href="/results/1/agencies/[^"]+">([^<]+)</a>', html)
        check(len(names) >= 5, "the public list shows the agencies (%d)" % len(names))
        # The kind is a filter and part of the name ("สำนักงาน…"): never repeated after the name
        # ("กรมบริการแรงงานชุมชน กรม", issue 12 §8).
        check(re.search(r'</a> <span class="muted">[^<]*</span></th>', html) is None,
              "the agency's kind is not repeated after its name")
        check(names.index("สำนักงานคณะกรรมการกฤษฎีกา") < names.index("สำนักงานคณะกรรมการส่งเสริมการลงทุน")
              if "สำนักงานคณะกรรมการส่งเสริมการลงทุน" in names else True, "names are in Thai dictionary order")
        check('class="note"' not in html, "a round never reopened shows no (empty) note above its results")
        status, html = public.page("/?q=" + urllib.parse.quote("กฤษฎีกา"))
        check(html.count('<th scope="row"><a href="/results/1/agencies/') == 1, "search finds one agency")
        # Filtered by parent and kind, sorted both ways, paged: by the database, the sorted column
        # saying so (aria-sort) and linking the other way.
        agency_link = r'<th scope="row"><a href="/results/1/agencies/([^"]+)">'
        status, html = public.page("/?parent=MOL&sort=name&dir=desc")
        codes = re.findall(agency_link, html)
        header = re.search(r'<th scope="col" aria-sort="([a-z]+)"><a href="([^"]+)">หน่วยงาน</a>', html)
        check(status == 200 and codes and all(c in ("DSD", "DCLS", "DLIS") for c in codes)
              and header is not None and header.group(1) == "descending" and "dir=asc" in header.group(2)
              and "parent=MOL" in header.group(2),
              "the list of one ministry, by name descending (%r, %r)" % (codes, header.groups() if header else None))
        status, html = public.page("/?kind=ministry")
        check(status == 200 and not re.findall(agency_link, html) and "ไม่พบหน่วยงานที่ค้นหา" in html,
              "no agency of the kind ministry was scored, and the page says so")
        status, html = public.page("/?sort=score&dir=desc&page=99999")
        check(status == 200 and re.search(r"<span>หน้า 1 / 1</span>", html) and len(re.findall(agency_link, html)) >= 5,
              "a page past the end shows the last one")
        # The dashboard is kept between changes, never past one: a ministry renamed (an audited
        # change, here by the command line beside the server) shows at once.
        status, html = public.page("/dashboard")
        check(status == 200 and "สำนักนายกรัฐมนตรี" in html, "the dashboard lists the ministry")
        status, headers, raw = public.get("/dashboard")
        check(raw.decode("utf-8") == html and headers.get("x-cache") == "hit",
              "the dashboard is the same until something changes, and kept (%r)" % headers.get("x-cache"))
        # An audited change to something the dashboard does not show (a user made; reports and
        # reviews alike) leaves it kept: it is keyed on what it reads, not on the audit log.
        run_cli(esar, ["admin", "--db", db, "--data-dir", os.path.join(work, "files"), "create-user",
                       "--username", "auditor.x", "--role", "evaluator"],
                env={"ESAR_PASSWORD": "demo-auditor.x-2567"})
        status, headers, raw = public.get("/dashboard")
        check(status == 200 and raw.decode("utf-8") == html and headers.get("x-cache") == "hit",
              "an audited change it does not read keeps the dashboard (%r)" % headers.get("x-cache"))
        # Each shared KPI's table counts the agencies at each level the published scores give.
        status, _, raw = public.get("/api/v1/rounds/1/results?stage=published")
        published = json.loads(raw)["scores"]["agencies"]
        tables = re.findall(r'<h3>([0-9.]+) [^<]*</h3>.*?<tbody>(.*?)</tbody>', html.split('id="shared-h"', 1)[-1], re.S)
        check(len(tables) >= 1, "the dashboard shows the shared KPIs' levels (%d)" % len(tables))
        for kpi_id, body in tables:
            shown = [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', body)]
            expected = [0] * len(shown)
            def count(kpis):
                for k in kpis:
                    if k["id"] == kpi_id:
                        expected[k["level"] or 0] += 1
                    count(k.get("sub_kpis", []))
            for a in published:
                count(a["kpis"])
            check(shown == expected, "KPI %s: agencies per level %r, as published %r" % (kpi_id, shown, expected))
        with open(os.path.join(work, "renamed.csv"), "w", encoding="utf-8") as f:
            f.write("code,name_th,name_en,kind,parent\nPMO,สำนักนายกรัฐมนตรี (ชื่อใหม่),Office of the Prime Minister,ministry,\n")
        run_cli(esar, ["import", "agencies", os.path.join(work, "renamed.csv"), "--db", db,
                       "--data-dir", os.path.join(work, "files")])
        status, headers, raw = public.get("/dashboard")
        check(status == 200 and "สำนักนายกรัฐมนตรี (ชื่อใหม่)" in raw.decode("utf-8") and headers.get("x-cache") == "miss",
              "the renamed ministry shows on the dashboard at once (built again: %r)" % headers.get("x-cache"))
        status, html = public.page("/?sort=name")
        check("สำนักนายกรัฐมนตรี (ชื่อใหม่)" in html, "and in the public list")
        status, html = public.page("/results/1/agencies/OCS")
        check(status == 200 and "ที่มาของคะแนน" in html, "the agency report opens with explanations")
        status, html = public.page("/results/1/agencies/NOPE")
        check(status == 404, "an unknown agency's report is a 404 page (%d)" % status)

        # ---- reopening: explicit, with a reason, shown with the published results
        status, html = admin.page("/admin/rounds")
        check('action="/admin/rounds/1/reopen"' in html, "a published round can be reopened")
        status, _, raw = admin.request("POST", "/admin/rounds/1/reopen", {"csrf": token, "reason": "",
                                                                          "date": "2099-12-01", "time": "16:30"})
        check(status == 400 and "เหตุผล" in raw.decode(), "reopening without a reason is refused (%d)" % status)
        status, headers, _ = admin.request("POST", "/admin/rounds/1/reopen",
                                           {"csrf": token, "reason": "แก้ข้อมูลของหน่วยงานที่ผิดพลาด",
                                            "date": "2099-12-01", "time": "16:30"})
        check(status == 303 and "done=round_reopened" in headers.get("location", ""), "the admin reopens it with a reason")
        status, html = public.page("/")
        check("แก้ข้อมูลของหน่วยงานที่ผิดพลาด" in html and "ผลที่เผยแพร่ก่อนหน้า" in html,
              "the public page says the round was reopened, and why")
        status, html = reporter.page("/agency")
        check("เปิดรับรายงาน" in html, "the reporter's page shows the round open again")

        # ---- API tokens on the password page: listed, revoked ----
        status, html = admin.page("/account/password")
        status, _, raw = admin.request("POST", "/api/v1/tokens", body=b'{"name": "nightly-import", "scope": "read"}',
                                       content_type="application/json",
                                       headers={"X-CSRF-Token": admin.csrf(html)})
        token = re.search(r'"token":"([0-9a-f]+)"', raw.decode())
        check(status == 201 and token is not None, "the admin makes an API token (%d)" % status)
        status, html = admin.page("/account/password")
        revoke = re.search(r'<th scope="row">nightly-import</th>.*?action="(/account/tokens/\d+/revoke)"', html, re.S)
        check(status == 200 and revoke is not None and "อ่านอย่างเดียว" in html,
              "the password page lists the token, its scope and a revoke button")
        if revoke and token:
            me = http.client.HTTPConnection(admin.host, admin.port, timeout=30)
            me.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + token.group(1)})
            check(me.getresponse().status == 200, "the token works before it is revoked")
            me.close()
            status, headers, _ = admin.request("POST", revoke.group(1), {"csrf": admin.csrf(html)})
            check(status == 303 and "done=token_revoked" in headers.get("location", ""),
                  "the revoke button revokes (%d)" % status)
            status, html = admin.page("/account/password")
            check(re.search(r"nightly-import</th>.*?เพิกถอนแล้ว", html, re.S) is not None,
                  "the page shows the token revoked")
            me = http.client.HTTPConnection(admin.host, admin.port, timeout=30)
            me.request("GET", "/api/v1/me", headers={"Authorization": "Bearer " + token.group(1)})
            check(me.getresponse().status == 401, "the revoked token no longer works")
            me.close()

        # ---- language, redirects, static files ----
        status, headers, _ = public.get("/lang/en?next=/dashboard")
        check(status == 303 and headers["location"] == "/dashboard" and public.cookies.get("esar_lang") == "en",
              "the language switch sets a cookie and goes back")
        status, html = public.page("/")
        check('<html lang="en">' in html and "Evaluation results" in html, "English persists")
        status, headers, _ = public.get("/lang/th?next=//evil.example/")
        check(headers.get("location") == "/", "the language switch never redirects off the site")
        status, headers, _ = Browser(base).login_fields({"username": "admin", "password": "demo-admin-2567",
                                                         "next": "https://evil.example/"})
        check(headers.get("location") == "/admin", "login ignores a foreign next address")
        css = re.search(r'href="(/static/esar\.css\?v=[0-9a-f]+)"', html).group(1)
        status, headers, raw = public.request("GET", css, headers={"Accept-Encoding": "gzip"})
        check(status == 200 and headers.get("content-encoding") == "gzip" and b":root" in gzip.decompress(raw),
              "the stylesheet is served gzipped")
        check("immutable" in headers.get("cache-control", ""), "a content-addressed file is cached for good")
        status, _, _ = public.request("GET", css, headers={"If-None-Match": headers["etag"]})
        check(status == 304, "a revalidation answers 304")
        status, _, _ = public.get("/static/../../etc/passwd")
        check(status == 404, "nothing outside the built-in files is served (%d)" % status)
        status, headers, _ = public.get("/")
        check("default-src 'self'" in headers.get("content-security-policy", ""), "pages carry a CSP")
    print("pages: " + check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
