#!/usr/bin/python3
"""Questions and answers (seed 004) and announcements through the pages, without JavaScript, on
the database ESAR_TEST_DB_URL names (a fresh PostgreSQL schema under with_pg_schema.sh) or a
fresh SQLite file: seed 004's list loaded by `esar import questions` from examples/ and served as
the provinces' public Q&A of 2563 - 2564, numbered as in the seed and searched by whole Thai
words; an agency asks, the central office answers and publishes, the public finds the answer;
the office posts an announcement with a file that the agencies of its kind see on their home
page; and the refusals: the public and agencies cannot answer, another agency does not see a
question, no CSRF no change, hostile text comes back escaped, files of the wrong type are
refused.

    qa_pages_test.py <esar binary>
Prints FAIL lines, then `N passed, M failed`; exits 1 on any failure.
"""
import json
import os
import re
import sqlite3
import subprocess
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import Browser, Checks, EXAMPLE, multipart_file, ROOT, run_cli, ServedScratch  # noqa: E402

check = Checks()

SEED_QA = os.path.join(ROOT, "examples", "qa-province-2563-2564.json")


def q(text):
    return urllib.parse.quote(text)


def numbers_shown(html):
    """The item numbers of a public Q&A page, in page order."""
    return [int(n) for n in re.findall(r'<li id="q(\d+)" class="card">', html)]


def minimal_pdf():
    return (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]"
            b"/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")


def sql(db, statement):
    """The first column of each row a query gives on the test's database (SQLite or PostgreSQL)."""
    if db.startswith("postgresql://"):
        p = subprocess.run(["psql", "-X", "-q", "-t", "-A", db, "-c", statement], capture_output=True, text=True)
        if p.returncode != 0:
            raise RuntimeError(f"psql {statement[:60]}: {p.stderr[-300:]}")
        return [line for line in p.stdout.splitlines() if line]
    with sqlite3.connect(db) as conn:
        return [str(r[0]) for r in conn.execute(statement).fetchall()]


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-qa-") as scratch:
        work, db = scratch.work, scratch.db
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        out = run_cli(esar, ["--lang", "en", "import", "questions", SEED_QA, "--db", db]).stdout
        check("imported 20 questions" in out, "import questions says how many: " + out)
        again = run_cli(esar, ["--lang", "en", "import", "questions", SEED_QA, "--db", db]).stdout
        check("imported 0 questions" in again, "importing the file again adds nothing: " + again)
        bad = os.path.join(work, "bad.json")
        with open(bad, "w", encoding="utf-8") as f:
            json.dump({"format": "esar-qa/1", "fiscal_year": 2563, "agency_kind": "province",
                       "as_of": "2020-09-11", "items": [{"number": 1, "question": "ก", "answer": "ข",
                                                          "extra": 1}]}, f)
        try:
            run_cli(esar, ["--lang", "en", "import", "questions", bad, "--db", db])
            check(False, "a file with an unknown field is refused")
        except RuntimeError as e:
            check("/items/0/extra" in str(e), "the refusal names the field's JSON path: " + str(e))
        for user, role, agency in (("admin", "admin", None), ("evaluator", "evaluator", None),
                                   ("reporter.ocs", "reporter", "OCS"), ("approver.ocs", "approver", "OCS"),
                                   ("reporter.boi", "reporter", "BOI")):
            run_cli(esar, ["admin", "create-user", "--db", db, "--username", user, "--role", role]
                    + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "demo-%s-2567" % user})
        base = scratch.serve(esar)

        # ---- the public: seed 004 as the provinces' Q&A of 2563 - 2564 ----
        public = Browser(base)
        status, html = public.page("/qa")
        check(status == 200 and 'href="/qa/2563/province"' in html and "ปีงบประมาณ พ.ศ. 2563 - 2564" in html,
              "/qa lists the provinces' cycle of 2563 - 2564")
        with open(SEED_QA, encoding="utf-8") as f:
            seed = json.load(f)
        status, html = public.page("/qa/2563/province")
        check(status == 200, "the cycle's Q&A is public")
        check(numbers_shown(html) == [i["number"] for i in seed["items"]],
              "every item of the seed, numbered as in the seed: %s" % numbers_shown(html))
        check("ข้อมูล ณ วันที่ 11 ก.ย. 2563" in html, "the date the list was current, Buddhist Era")
        check(seed["items"][17]["question"][:40] in html and "<p>18." not in html,
              "item 18 shows without the seed's <p> markup")
        status, html = public.page("/qa/2563/province?q=" + q("รายงาน"))
        found = numbers_shown(html)
        check(status == 200 and 2 in found and 3 in found, "'รายงาน' finds 'การรายงาน' (items 2, 3): %s" % found)
        check(12 not in found and 14 not in found, "items without the word are not found: %s" % found)
        check(all("รายงาน" in (seed["items"][n - 1]["question"] + seed["items"][n - 1]["answer"]) for n in found),
              "every item found holds the text")
        check(("พบ %d ข้อ" % len(found)) in html, "the page says how many were found")
        status, html = public.page("/qa/2563/province?q=" + q("รายงาน โควิด"))
        check(set(numbers_shown(html)) <= set(found) and 3 in numbers_shown(html),
              "two words find the items holding both: %s" % numbers_shown(html))
        status, html = public.page("/qa/2563/province?q=" + q("ก" * 100))
        check(status == 400 and 'role="alert"' in html, "a search over 200 bytes is refused on the page")
        status, html = public.page("/qa/2563/province?q=" + q("%"))
        check(status == 200 and len(numbers_shown(html)) == 20, "'%' is no wildcard and no word: all shown")
        status, _ = public.page("/qa/abcd/province")
        check(status == 404, "a cycle that cannot exist is a 404")
        public.get("/lang/en?next=/qa/2563/province")
        status, html = public.page("/qa/2563/province")
        check('lang="en"' in html and "fiscal years 2020 - 2021 (B.E. 2563 - 2564)" in html,
              "English page names the years in both eras")
        check("province" in html and "Questions and answers" in html, "English labels")
        status, headers, _ = public.request("GET", "/agency/questions")
        check(status in (302, 303) and "/login" in headers.get("location", ""),
              "the public is sent to log in for the agency's questions")
        status, headers, _ = public.request("GET", "/admin/questions")
        check(status in (302, 303) and "/login" in headers.get("location", ""),
              "the public is sent to log in for answering")

        # ---- an agency asks ----
        ocs = Browser(base)
        ocs.login("reporter.ocs")
        status, html = ocs.page("/agency/questions")
        check(status == 200 and 'name="fiscal_year"' in html and '<option value="2567"' in html,
              "the ask form offers FY2567")
        check('<option value="1"' in html, "the ask form offers the framework's KPIs")
        token = ocs.csrf(html)
        hostile = "<script>alert(1)</script> การรายงานผลรอบ 12 เดือน ต้องแนบอะไร"
        status, headers, _ = ocs.request("POST", "/agency/questions",
                                         {"csrf": token, "fiscal_year": "2567", "kpi": "1", "question": hostile})
        check(status == 303 and "done=asked" in headers.get("location", ""), "asking redirects with done=asked")
        status, html = ocs.page("/agency/questions")
        check("&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html,
              "the question comes back escaped")
        check("รอคำตอบ" in html, "the question waits for an answer")
        qid = int(re.search(r'<article class="card" id="q(\d+)">', html).group(1))
        status, headers, _ = ocs.request("POST", "/agency/questions",
                                         {"fiscal_year": "2567", "question": "ไม่มีโทเคน"})
        check(status == 403, "a post without the CSRF field is refused (%d)" % status)
        status, html = ocs.page("/agency/questions")
        check("ไม่มีโทเคน" not in html, "...and nothing was asked")
        status, _, raw = ocs.request("POST", "/agency/questions",
                                     {"csrf": token, "fiscal_year": "2567", "question": "   "})
        check(status == 400 and "ต้องระบุคำถาม" in raw.decode(), "a blank question is refused on the form")
        status, _, raw = ocs.request("POST", "/agency/questions",
                                     {"csrf": token, "fiscal_year": "2567", "question": "x" * 17000})
        check(status == 400 and "16 KB" in raw.decode(), "a question over 16 KB is refused")
        status, _, raw = ocs.request("POST", "/agency/questions",
                                     {"csrf": token, "fiscal_year": "2567", "kpi": "99", "question": "ตัวชี้วัดที่ไม่มี"})
        check(status == 400, "a KPI not in the framework is refused")
        status, _, raw = ocs.request("POST", "/agency/questions",
                                     {"csrf": token, "fiscal_year": "2400", "question": "ปีอื่น"})
        check(status == 400, "a year without a framework (nor current) is refused")

        boi = Browser(base)
        boi.login("reporter.boi")
        status, html = boi.page("/agency/questions")
        check(status == 200 and "alert(1)" not in html, "another agency does not see OCS's question")
        status, _, _ = boi.request("GET", "/api/v1/questions/%d" % qid)
        check(status == 404, "...nor read it through the API (%d)" % status)

        # ---- only the central office answers ----
        status, _, _ = ocs.request("POST", "/admin/questions/%d" % qid,
                                   {"csrf": token, "answer": "ตอบเอง", "publish": "yes"})
        check(status == 403, "a reporter cannot answer through the page (%d)" % status)
        status, _, _ = public.request("POST", "/api/v1/questions/%d/answer" % qid,
                                      body=json.dumps({"answer": "ตอบเอง", "publish": True}).encode(),
                                      content_type="application/json")
        check(status == 401, "the public cannot answer through the API (%d)" % status)
        admin = Browser(base)
        admin.login("admin")
        status, html = admin.page("/admin/questions")
        check(status == 200 and ("/admin/questions/%d" % qid) in html and "&lt;script&gt;" in html,
              "the office's list of waiting questions holds it, escaped")
        status, html = admin.page("/admin/questions/%d" % qid)
        check(status == 200 and 'name="answer"' in html, "the answer form")
        atoken = admin.csrf(html)
        status, _, raw = admin.request("POST", "/admin/questions/%d" % qid,
                                       {"csrf": atoken, "answer": " ", "publish": "yes"})
        check(status == 400 and "ต้องระบุคำตอบ" in raw.decode(), "a blank answer is refused on the form")
        answer = "แนบรายงานผลการดำเนินงานเป็นไฟล์ PDF และภาพหน้าจอจากระบบอื่น"
        status, headers, _ = admin.request("POST", "/admin/questions/%d" % qid,
                                           {"csrf": atoken, "answer": answer, "publish": "yes"})
        check(status == 303 and "done=answered" in headers.get("location", ""), "answering redirects")
        status, html = public.page("/qa/2567/department")
        check(status == 200 and numbers_shown(html) == [1] and "ไฟล์ PDF" in html,
              "the published answer is number 1 of FY2567's departments")
        check("reporter.ocs" not in html and "OCS" not in html, "the public page does not name who asked")
        status, html = public.page("/qa/2567/department?q=" + q("ภาพหน้าจอ"))
        check(numbers_shown(html) == [1], "found by a word of its answer")
        status, html = ocs.page("/agency/questions")
        check("เผยแพร่ ข้อ 1" in html and "/qa/2567/department#q1" in html,
              "the asker sees the answer, its number and the public link")
        status, html = admin.page("/admin/questions?state=published")
        check(("/admin/questions/%d" % qid) in html, "the published filter lists it")
        status, html = admin.page("/admin/questions?state=waiting")
        check(("/admin/questions/%d" % qid) not in html, "...and the waiting one no longer")

        # ---- announcements ----
        status, html = admin.page("/admin/announcements")
        check(status == 200 and 'name="agency_kind"' in html, "the announcement form")
        status, headers, _ = admin.request("POST", "/admin/announcements",
                                           {"csrf": atoken, "fiscal_year": "2567", "agency_kind": "department",
                                            "title": "ขยายกำหนดส่งรายงาน <i>รอบ 12 เดือน</i>",
                                            "body": "ขยายถึง 15 ตุลาคม\nโปรดดูหนังสือแนบ"})
        check(status == 303 and "done=posted" in headers.get("location", ""), "posting redirects")
        aid = int(re.search(r"#a(\d+)", headers.get("location", "")).group(1))
        status, headers, _ = admin.request("POST", "/admin/announcements",
                                           {"csrf": atoken, "fiscal_year": "2567", "agency_kind": "department",
                                            "title": "สอง\nบรรทัด", "body": "x"})
        check(status == 400, "a title of two lines is refused")
        body, ctype = multipart_file("file", "หนังสือแจ้ง.pdf", minimal_pdf(), "application/pdf")
        status, headers, _ = admin.request(
            "POST", "/admin/announcements/%d/files?csrf=%s&back=/admin/announcements" % (aid, atoken),
            body=body, content_type=ctype)
        check(status == 303 and "done=attached" in headers.get("location", ""), "a PDF is attached (%d)" % status)
        status, html = admin.page(headers.get("location", "/"))
        check("แนบไฟล์กับประกาศแล้ว" in html, "the flash says the file was attached to the announcement")
        body, ctype = multipart_file("file", "notes.txt", b"plain text, not a document\n", "application/pdf")
        status, _, raw = admin.request(
            "POST", "/admin/announcements/%d/files?csrf=%s" % (aid, atoken), body=body, content_type=ctype)
        check(status == 415, "a text file named as PDF is refused by its content (%d)" % status)
        body, ctype = multipart_file("file", "x.pdf", minimal_pdf(), "application/pdf")
        status, _, _ = ocs.request(
            "POST", "/admin/announcements/%d/files?csrf=%s" % (aid, token), body=body, content_type=ctype)
        check(status == 403, "an agency cannot attach files (%d)" % status)
        status, html = ocs.page("/agency")
        check("ขยายกำหนดส่งรายงาน &lt;i&gt;" in html and "หนังสือแจ้ง.pdf" in html,
              "the agency home page shows the announcement, escaped, with its file")
        href = re.search(r'href="(/api/v1/announcement-files/\d+/content)"', html)
        check(href is not None, "the file is linked")
        if href:
            status, headers, raw = ocs.request("GET", href.group(1))
            check(status == 200 and raw == minimal_pdf() and headers.get("content-type") == "application/pdf",
                  "the agency downloads the file as uploaded")
            status, _, _ = public.request("GET", href.group(1))
            check(status == 401, "the public cannot download it (%d)" % status)
        status, html = boi.page("/agency")
        check("ขยายกำหนดส่งรายงาน" in html, "every agency of the kind sees it")
        status, html = ocs.page("/agency/questions")
        check("ขยายกำหนดส่งรายงาน" in html, "the questions page lists the announcements too")
        status, headers, raw = ocs.request("GET", "/api/v1/announcements?agency_kind=province")
        items = json.loads(raw)["items"] if status == 200 else None
        check(items is not None and [a["agency_kind"] for a in items] == ["department"],
              "an agency asking the API for another kind gets its own kind's")

        # ---- the office edits and deletes announcements (and their files), audited ----
        status, html = admin.page("/admin/announcements")
        check(('href="/admin/announcements/%d"' % aid) in html, "each announcement links to its editor")
        status, html = admin.page("/admin/announcements/%d" % aid)
        check(status == 200 and "หนังสือแจ้ง.pdf" in html and 'name="confirm"' in html,
              "the editor shows the text, the files and the delete form")
        status, _, _ = ocs.request("GET", "/admin/announcements/%d" % aid)
        check(status == 403, "an agency cannot open the editor (%d)" % status)
        status, _, _ = ocs.request("POST", "/admin/announcements/%d/delete" % aid, {"csrf": token, "confirm": "yes"})
        check(status == 403, "an agency cannot delete (%d)" % status)
        status, _, raw = admin.request("POST", "/admin/announcements/%d" % aid,
                                       {"csrf": atoken, "title": "", "body": "x"})
        check(status == 400 and "หัวเรื่อง" in raw.decode(), "a blank title is refused on the editor")
        status, headers, _ = admin.request("POST", "/admin/announcements/%d" % aid,
                                           {"csrf": atoken, "title": "ขยายกำหนดส่งรายงาน (แก้ไข)",
                                            "body": "ขยายถึง 20 ตุลาคม"})
        check(status == 303 and "done=announcement_edited" in headers.get("location", ""), "editing redirects")
        status, html = ocs.page("/agency")
        check("ขยายกำหนดส่งรายงาน (แก้ไข)" in html and "20 ตุลาคม" in html and "15 ตุลาคม" not in html,
              "the agency sees the edited announcement")
        fid = re.search(r'action="/admin/announcement-files/(\d+)/remove"', admin.page("/admin/announcements/%d" % aid)[1])
        check(fid is not None, "each file has a remove button")
        if fid:
            status, headers, _ = admin.request("POST", "/admin/announcement-files/%s/remove" % fid.group(1),
                                               {"csrf": atoken})
            check(status == 303 and "done=file_removed" in headers.get("location", ""), "removing a file redirects")
            status, html = ocs.page("/agency")
            check("หนังสือแจ้ง.pdf" not in html, "the removed file is gone from the agency's page")
        status, _, _ = admin.request("POST", "/admin/announcements/%d/delete" % aid, {"csrf": atoken})
        check(status == 400, "deleting needs the confirmation ticked (%d)" % status)
        status, headers, _ = admin.request("POST", "/admin/announcements/%d/delete" % aid,
                                           {"csrf": atoken, "confirm": "yes"})
        check(status == 303 and "done=announcement_deleted" in headers.get("location", ""), "deleting redirects")
        status, html = ocs.page("/agency")
        check("ขยายกำหนดส่งรายงาน" not in html, "the deleted announcement is gone from the agency's page")
        status, _, _ = admin.request("GET", "/admin/announcements/%d" % aid)
        check(status == 404, "the deleted announcement's editor is not found (%d)" % status)
        actions = sql(db, "SELECT action FROM audit_log WHERE entity = 'announcement/%d' ORDER BY seq" % aid)
        check(actions[-3:] == ["announcement.edit", "announcement.detach", "announcement.delete"],
              "the edit, the removed file and the deletion are audited: %s" % actions)

        # ---- evaluators read the agencies' questions from their menu ----
        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, html = evaluator.page("/review")
        check('href="/review/questions"' in html, "the evaluator's menu has the agencies' questions")
        status, html = evaluator.page("/review/questions?state=all")
        check(status == 200 and "&lt;script&gt;" in html and answer in html and ("/admin/questions/%d" % qid) not in html,
              "the evaluator reads the questions and answers without the answer form")
        status, html = evaluator.page("/review/questions")
        check(status == 200 and answer not in html, "the evaluator's list shows those waiting by default")
        status, _, _ = ocs.request("GET", "/review/questions")
        check(status == 403, "an agency cannot open the evaluators' list (%d)" % status)
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
