#!/usr/bin/python3
"""The national annual report: the page /reports/national, its PDF and XLSX (from the page's
buttons) and `esar report national`, on the Council of State example with FY2565 and FY2566
results imported and FY2567 published (as scripts/run's demo).

- the figures equal the API's results: agencies per grade, the average score, the averages by
  kind, each shared KPI's counts per level;
- sentences generated from those figures, the change from FY2566;
- the PDF: pdftotext -raw gives the sentences and figures, pdffonts every font embedded, the
  charts are vectors (pdfimages lists no image), pages rendered under build/report-pages;
- the XLSX read back with openpyxl: figures as numbers, equal to the API's;
- a year without published results: 404.

    national_report_test.py ESAR   (SQLite; PostgreSQL via ESAR_TEST_DB_URL under with_pg_schema.sh)
"""
import html as html_lib
import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

import openpyxl

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import run_cli, ServedScratch  # noqa: E402
from history_test import Client  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ocs-2567")
PAGES = os.path.join(ROOT, "build", "report-pages")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def squeeze(text):
    return re.sub(r"\s+", " ", text)


def nospace(text):
    return re.sub(r"\s+", "", text)


def text_of(page):
    return squeeze(html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-national-") as scratch:
        work, db = scratch.work, scratch.db
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        run_cli(esar, ["import", "results", os.path.join(EXAMPLE, "past-results.csv"), "--db", db])
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", "admin", "--role", "admin"],
                env={"ESAR_PASSWORD": "demo-admin-2567"})
        base = scratch.serve(esar)
        admin = Client(base)
        admin.csrf = admin.json("POST", "/api/v1/session",
                                {"username": "admin", "password": "demo-admin-2567"}).get("csrf_token")
        public = Client(base)
        status, page = public.call("GET", "/reports/national")
        check(status == 200 and "ยังไม่มีผลการประเมินที่เผยแพร่" in text_of(page),
              "before any publication the page says there is none (%d)" % status)
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline},
                              expect=201)["id"]
        admin.json("POST", "/api/v1/rounds/%d/close" % round_id, {"reason": "ทดสอบ"})
        admin.json("POST", "/api/v1/rounds/%d/results" % round_id, {"appeal_days": 14}, expect=201)
        admin.json("POST", "/api/v1/rounds/%d/results/close-appeals" % round_id, {"reason": "ทดสอบ"})
        admin.json("POST", "/api/v1/rounds/%d/results/final" % round_id, {}, expect=201)
        admin.json("POST", "/api/v1/rounds/%d/results/publish" % round_id, {}, expect=201)
        agencies = admin.json("GET", "/api/v1/rounds/%d/results" % round_id)["scores"]["agencies"]
        totals = [a["total"] for a in agencies if isinstance(a.get("total"), (int, float))]
        average = sum(totals) / len(totals)
        grades = {}
        for a in agencies:
            grades[a.get("grade") or ""] = grades.get(a.get("grade") or "", 0) + 1

        # ---- the page
        status, page = public.call("GET", "/?round=%d" % round_id)
        check('href="/reports/national"' in page, "the public list links to the national report")
        status, page = public.call("GET", "/reports/national")
        text = text_of(page)
        check(status == 200 and "รายงานผลการประเมินส่วนราชการประจำปี" in text, "the page (%d)" % status)
        sentence = "ปีงบประมาณ พ.ศ. 2567 หน่วยงาน %d แห่งได้รับการประเมิน คะแนนเฉลี่ย %.3f" % (len(agencies), average)
        check(sentence in text, "the first sentence from the API's figures: '%s'" % sentence)
        check(re.search(r"คะแนนเฉลี่ย [\d.]+ (เพิ่มขึ้น|ลดลง)จากปี 2566 [\d.]+ คะแนน", text) is not None,
              "... and its change from FY2566")
        check(re.search(r"หน่วยงานร้อยละ \d+ อยู่ในระดับ.+ของตัวชี้วัด.+(เพิ่มขึ้น|ลดลง)จากปี 2566 ร้อยละ \d+|เท่ากับปี 2566", text)
              is not None, "a shared KPI's sentence with the share at advanced and its change")
        grades_table = re.search(r'<table class="data" id="part-1">(.*?)</table>', page, re.S)
        last_row = re.findall(r"<tr>(.*?)</tr>", grades_table.group(1), re.S)[-1] if grades_table else ""
        cells = [html_lib.unescape(c) for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", last_row)]
        check(cells and cells[-1] == str(len(agencies)) and sorted(int(c) for c in cells[1:-1] if c != "0") ==
              sorted(grades.values()), "agencies per grade equal the API's (%s, API %s)" % (cells, grades))
        pdf_link = re.search(r'id="national-pdf" href="([^"]+)"', page)
        xlsx_link = re.search(r'id="national-xlsx" href="([^"]+)"', page)
        check(pdf_link is not None and xlsx_link is not None, "the page's PDF and XLSX buttons")

        # ---- the PDF
        req = public.opener.open(base + html_lib.unescape(pdf_link.group(1)))
        pdf = req.read()
        check(req.headers.get("Content-Type") == "application/pdf" and pdf.startswith(b"%PDF-"), "a PDF")
        os.makedirs(PAGES, exist_ok=True)
        path = os.path.join(PAGES, "national.pdf")
        with open(path, "wb") as f:
            f.write(pdf)
        pdf_text = subprocess.run(["pdftotext", "-raw", path, "-"], capture_output=True, text=True).stdout
        with open(os.path.join(PAGES, "national.txt"), "w", encoding="utf-8") as f:
            f.write(pdf_text)
        check(nospace(sentence) in nospace(pdf_text), "the PDF has the same first sentence")
        for line in re.findall(r"<li>(.*?)</li>", re.search(r'<ul id="highlights">(.*?)</ul>', page, re.S).group(1)):
            check(nospace(html_lib.unescape(line)) in nospace(pdf_text), "the PDF has: " + html_lib.unescape(line)[:70])
        fonts = subprocess.run(["pdffonts", path], capture_output=True, text=True).stdout.splitlines()[2:]
        check(fonts and all(l.split()[-5] == "yes" for l in fonts), "pdffonts: every font embedded")
        images = subprocess.run(["pdfimages", "-list", path], capture_output=True, text=True).stdout.splitlines()[2:]
        check(not images, "the charts are vectors: no image in the PDF (%d)" % len(images))
        subprocess.run(["pdftoppm", "-r", "60", "-png", path, os.path.join(PAGES, "national")], check=True)

        # ---- the XLSX
        req = public.opener.open(base + html_lib.unescape(xlsx_link.group(1)))
        book = openpyxl.load_workbook(io.BytesIO(req.read()))
        check(book.sheetnames[0] == "สรุป" and "ระดับผลตามประเภท" in book.sheetnames, "sheets %s" % book.sheetnames)
        summary = [r[0] for r in book["สรุป"].iter_rows(values_only=True) if r[0]]
        check(sentence in " ".join(summary), "the XLSX's summary has the first sentence")
        sheet = book["ระดับผลตามประเภท"]
        rows = list(sheet.iter_rows(min_row=4, values_only=True))
        check(rows and rows[-1][-1] == len(agencies) and isinstance(rows[-1][-1], (int, float)),
              "the XLSX's grade counts are numbers, the total %s equals the API's %d" % (rows[-1][-1] if rows else None, len(agencies)))
        kinds = list(book["เฉลี่ยตามประเภท"].iter_rows(min_row=4, values_only=True))
        with open(os.path.join(EXAMPLE, "agencies.csv"), encoding="utf-8") as f:
            kind_of = {line.split(",")[0]: line.rstrip("\n").split(",")[3] for line in list(f)[1:]}
        by_kind = {}
        for a in agencies:
            if isinstance(a.get("total"), (int, float)):
                by_kind.setdefault(kind_of[a["code"]], []).append(a["total"])
        check(sorted(round(r[2], 3) for r in kinds) == sorted(round(sum(v) / len(v), 3) for v in by_kind.values()),
              "the XLSX's averages by kind equal the API's")
        shared = list(book["ตัวชี้วัดร่วม"].iter_rows(min_row=4, values_only=True))
        for row in shared:
            kpi = str(row[0]).split(" ")[0]
            levels = {}
            for a in agencies:
                level = max(0, min(3, a_level(a, kpi)))
                levels[level] = levels.get(level, 0) + 1
            check([row[2 + i] for i in range(4)] == [levels.get(i, 0) for i in range(4)],
                  "KPI %s: agencies per level %s equal the API's %s" % (kpi, list(row[2:6]), levels))

        # ---- the command line, and a year without results
        out = os.path.join(work, "national.xlsx")
        run_cli(esar, ["report", "national", "--db", db, "--year", "2567", "--format", "xlsx", "-o", out])
        check(openpyxl.load_workbook(out).sheetnames == book.sheetnames, "esar report national --format xlsx")
        out = os.path.join(work, "national.pdf")
        run_cli(esar, ["report", "national", "--db", db, "--year", "2567", "-o", out])
        with open(out, "rb") as f:
            check(f.read(5) == b"%PDF-", "esar report national (PDF)")
        status, _ = public.call("GET", "/reports/national/2599/report.pdf")
        check(status == 404, "a year without published results: 404 (%d)" % status)

        # ---- the same files through the API (errors as JSON, in Thai and English)
        status, headers, data = api_get(base, "/api/v1/reports/national/2567/report.xlsx")
        check(status == 200 and data.startswith(b"PK"), "GET /api/v1/reports/national/2567/report.xlsx: %d" % status)
        api_book = openpyxl.load_workbook(io.BytesIO(data)) if status == 200 else None
        check(api_book is not None and api_book.sheetnames == book.sheetnames and
              all(list(api_book[n].iter_rows(values_only=True)) == list(book[n].iter_rows(values_only=True))
                  for n in book.sheetnames),
              "the API's XLSX holds the page's sheets and figures")
        check(headers.get("Content-Disposition", "").endswith("''national-report-2567-12.xlsx"),
              "  named national-report-2567-12.xlsx: %s" % headers.get("Content-Disposition"))
        status, headers, data = api_get(base, "/api/v1/reports/national/2567/report.pdf?round=12")
        api_text = subprocess.run(["pdftotext", "-raw", "-", "-"], input=data, capture_output=True).stdout.decode()
        check(status == 200 and headers.get("Content-Type") == "application/pdf" and
              nospace(sentence) in nospace(api_text), "the API's PDF: the same first sentence")
        for path, expect, words in (("/api/v1/reports/national/2599/report.pdf", 404, ("ไม่", "no")),
                                    ("/api/v1/reports/national/2024/report.pdf", 400, ("พ.ศ.", "Buddhist Era")),
                                    ("/api/v1/reports/national/abc/report.xlsx", 400, ("พ.ศ.", "Buddhist Era")),
                                    ("/api/v1/reports/national/2567/report.xlsx?round=7", 400, ("6 หรือ 12", "6 or 12"))):
            status, headers, data = api_get(base, path)
            error = json.loads(data.decode()) if headers.get("Content-Type", "").startswith("application/json") else {}
            message = json.dumps(error, ensure_ascii=False)
            check(status == expect and all(w in message for w in words),
                  "%s: %d with a JSON error in Thai and English (%s)" % (path, status, message[:200]))
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


def api_get(base, path):
    """GET without a session: (status, headers, body), errors included."""
    try:
        with urllib.request.urlopen(base + path) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def a_level(agency, kpi):
    for k in agency.get("kpis", []):
        if k.get("id") == kpi:
            return int(k.get("level") if isinstance(k.get("level"), int) else -1)
    return -1


if __name__ == "__main__":
    main()
