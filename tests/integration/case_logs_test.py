#!/usr/bin/python3
"""Case logs through the running server (issue 11 §1), with the Council of State example: the
reporter uploads KPI 1's case log (CSV) and KPI 2's (XLSX with date cells); the counts become the
KPIs' drafts; the reporter and the evaluator read the counts and each case's verdict (filtered,
paged, as CSV and XLSX, compared with examples/ocs-2567/cases/expected-verdicts.csv); the pages
show them. Attack paths: a file past --max-upload-mb, more cases than --max-case-log-cases, a
tampered XLSX and a zip bomb, bad rows (every one named, nothing stored), the same upload twice,
two uploads at once, another agency's user, the approver, the public; a submitted report refuses
a new upload, a returned one takes it.

    case_logs_test.py ESAR   (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import io
import json
import os
import re
import sys
import threading
import time
import zipfile

import openpyxl

from esar_harness import ApiClient, Browser, run_cli, ServedScratch

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "ocs-2567")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def read(name):
    with open(os.path.join(EXAMPLE, "cases", name), "rb") as f:
        return f.read()


def expected(kpi, round_):
    """The hand-checked verdict of every case for `kpi` in `round_`."""
    out = {}
    with open(os.path.join(EXAMPLE, "cases", "expected-verdicts.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["kpi"] == kpi and row["round"] == str(round_):
                out[row["case_id"]] = row["verdict"]
    return out


def multipart(files, boundary="----esar-case-log"):
    """A multipart/form-data body of file parts {field: (filename, bytes, type)}."""
    body = b""
    for field, (filename, data, ctype) in files.items():
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                 f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def log_body(cases, pauses=None, cases_name="cases.csv", ctype="text/csv"):
    files = {"cases": (cases_name, cases, ctype)}
    if pauses is not None:
        files["pauses"] = ("pauses.csv", pauses, "text/csv")
    return multipart(files)


def xlsx_log():
    """The example's log as one workbook (sheets cases and pauses), dates as date cells."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    import datetime
    for table in ("cases", "pauses"):
        ws = wb.create_sheet(table)
        rows = list(csv.reader(io.StringIO(read(table + ".csv").decode("utf-8-sig"))))
        ws.append(rows[0])
        for row in rows[1:]:
            cells = []
            for v in row:
                m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", v)
                cells.append(datetime.date(int(m[1]), int(m[2]), int(m[3])) if m else (v if v != "" else None))
            ws.append(cells)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# How the list page names each kind of case the example's log has: people read these words,
# not the format's ("opinion").
KIND_LABELS = {
    "th": {"act": "พระราชบัญญัติ", "royal_decree": "พระราชกฤษฎีกา",
           "ministerial_regulation": "กฎกระทรวง", "opinion": "ความเห็นทางกฎหมาย", "treaty": "สนธิสัญญา"},
    "en": {"act": "Act", "royal_decree": "Royal decree",
           "ministerial_regulation": "Ministerial regulation", "opinion": "Legal opinion", "treaty": "Treaty"},
}
# The summary's reasons follow its "not counted" label, so each tag names the reason only.
REASON_TAGS = {
    "th": ("ไม่นับ", {"kind": "ประเภทเรื่อง", "outside_window": "รับนอกช่วงที่นับ"}),
    "en": ("Not counted", {"kind": "kind", "outside_window": "received outside the window"}),
}


def check_list_wording(browser, log_id):
    """The case list page (every page of it) in Thai, then in English: each row's kind in words
    of the interface's language, and the summary's reason tags without the repeated prefix."""
    kinds = {}
    with open(os.path.join(EXAMPLE, "cases", "cases.csv"), encoding="utf-8-sig") as f:
        for row in csv.DictReader(f):
            kinds[row["case_id"]] = row["kind"]
    for lang in ("th", "en"):
        browser.request("GET", f"/lang/{lang}?next=/")
        seen, wrong, page, last = {}, [], 1, None
        while True:
            status, html = browser.page(f"/case-logs/{log_id}" + (f"?page={page}" if page > 1 else ""))
            if status != 200:
                wrong.append(f"page {page}: {status}")
                break
            if page == 1:
                first = html
            for case_id, cell in re.findall(r'<th scope="row">([^<]*)</th><td>([^<]*)</td>', html):
                want = KIND_LABELS[lang].get(kinds.get(case_id, ""), "?")
                seen[kinds.get(case_id)] = True
                if cell != want:
                    wrong.append(f"{case_id}: {cell!r}, not {want!r}")
            if 'rel="next"' not in html:
                break
            page += 1
        check(not wrong and set(seen) == set(KIND_LABELS[lang]),
              f"{lang}: every case's kind in words ({len(seen)} kinds seen; wrong: {wrong[:3]})")
        label, tags = REASON_TAGS[lang]
        reasons = re.search(r"<p>" + re.escape(label) + r": (.*?)</p>", first)
        tag_texts = re.findall(r'<span class="tag">([^<]*)</span>', reasons.group(1)) if reasons else []
        check(reasons is not None and tag_texts and f"{label}: {label}" not in first
              and all(not t.lower().startswith(label.lower()) for t in tag_texts)
              and all(any(t.startswith(w + " ") for t in tag_texts) for w in tags.values()),
              f"{lang}: the reasons read '{label}: {tags['kind']} N', once ({tag_texts})")
    browser.request("GET", "/lang/th?next=/")


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-caselogs-") as scratch:
        db = scratch.db
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        users = [("admin", "admin", None), ("evaluator", "evaluator", None), ("reporter.ocs", "reporter", "OCS"),
                 ("approver.ocs", "approver", "OCS"), ("reporter.boi", "reporter", "BOI")]
        for name, role, agency in users:
            run_cli(esar, ["admin", "create-user", "--db", db, "--username", name, "--role", role]
                    + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "demo-" + name + "-2567"})
        # Small bounds, so that the attack paths stay cheap: 1 MB a file, 1,000 cases a log.
        base = scratch.serve(esar, extra=["--max-upload-mb", "1", "--max-case-log-cases", "1000"])
        admin, evaluator, reporter, approver, boi = (ApiClient(base, check).login(n, "demo-" + n + "-2567")
                                                     for n, _, _ in users)
        public = ApiClient(base, check)
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        path = lambda kpi, agency="OCS": f"/api/v1/rounds/{round_id}/agencies/{agency}/kpis/{kpi}/case-log"

        # ---- KPI 1 from the CSV log: the counts, the draft, every verdict as hand-checked
        want = expected("1", 12)
        counted = sum(v in ("on_time", "late") for v in want.values())
        on_time = sum(v == "on_time" for v in want.values())
        body, ctype = log_body(read("cases.csv"), read("pauses.csv"))
        up = reporter.json("POST", path("1"), raw=body, content_type=ctype, expect=201)
        s = up.get("summary", {})
        check(s.get("counted") == counted and s.get("on_time") == on_time and s.get("cases") == len(want),
              f"KPI 1: {on_time} on time of {counted} counted, {len(want)} cases (got {s})")
        check(abs(s.get("result", 0) - on_time * 100 / counted) < 1e-9, "  the result unrounded")
        sub = reporter.json("GET", f"/api/v1/submissions/{up.get('submission_id')}")
        values = sub.get("report", sub).get("values", {})
        check(values.get("completed_within_standard") == on_time and values.get("received") == counted,
              f"  the draft holds the counts as KPI 1's variables ({values})")
        check(sub.get("status") == "draft" and sub.get("revision") == up.get("revision"), "  a draft, the upload's revision")
        log_id = up.get("id")
        seen = {}
        offset = 0
        while True:
            page = evaluator.json("GET", f"/api/v1/case-logs/{log_id}/cases?limit=100&offset={offset}")
            for item in page.get("items", []):
                seen[item["case_id"]] = item["verdict"]
            offset += 100
            if offset >= page.get("total", 0):
                break
        check(seen == want, f"every verdict as expected-verdicts.csv ({len(seen)} cases)")
        late = evaluator.json("GET", f"/api/v1/case-logs/{log_id}/cases?verdict=late")
        check(late.get("total") == sum(v == "late" for v in want.values())
              and all(i["verdict"] == "late" and i["late_days"] > 0 for i in late.get("items", [])),
              "  filtered by verdict: the late cases, each with its days late")
        status, headers, data = evaluator.call("GET", f"/api/v1/case-logs/{log_id}/cases/export?format=xlsx&verdict=pending")
        rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)) if status == 200 else []
        check(status == 200 and len(rows) - 1 == sum(v == "pending" for v in want.values())
              and all(r[5] == "pending" for r in rows[1:]), "  the pending cases as XLSX")
        status, headers, data = reporter.call("GET", f"/api/v1/case-logs/{log_id}/cases/export?format=csv")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) if status == 200 else []
        check(status == 200 and {r[1]: r[5] for r in rows[1:]} == want, "  every case as CSV, for the reporter")

        # ---- the same files again: nothing new; bad rows: every one named, nothing stored
        again = reporter.json("POST", path("1"), raw=body, content_type=ctype, expect=200)
        check(again.get("unchanged") is True and again.get("id") == log_id, "the same upload twice stores nothing")
        bad_cases = read("cases.csv").replace(b"L-0142,act,8,", b"L-0142,act,eight,", 1) + b"L-0058,act,3,,,,,2024-01-15,,\n"
        bad_pauses = read("pauses.csv") + b"NO-SUCH-CASE,ria,2024-01-01,2024-01-02\n"
        body2, ctype2 = log_body(bad_cases, bad_pauses)
        status, _, data = reporter.call("POST", path("1"), raw=body2, content_type=ctype2)
        import json as _json
        err = _json.loads(data.decode()).get("error", {}) if data[:1] == b"{" else {}
        problems = (err.get("details") or {}).get("problems", [])
        places = {(p["file"], p["line"], p["column"]) for p in problems}
        n_cases = len(read("cases.csv").splitlines())
        check(status == 400 and ("cases.csv", 2, "sections") in places and ("cases.csv", n_cases + 1, "case_id") in places
              and any(p["file"] == "pauses.csv" for p in problems) and all(p["message_th"] and p["message_en"] for p in problems),
              f"bad rows refused whole, each named by file, line and column in Thai and English ({sorted(places)[:4]})")
        listed = evaluator.json("GET", path("1"))
        check(len(listed.get("uploads", [])) == 1, "  nothing stored")

        # ---- attack paths: size, count, tampered XLSX, zip bomb, other users
        big = b"case_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,completed,backlog\n"
        big += b"".join(b"X-%07d,act,5,,,,,2024-01-15,,\n" % i for i in range(40000))
        status, _, _ = reporter.call("POST", path("1"), raw=log_body(big)[0], content_type=log_body(big)[1])
        check(status == 413, f"a file over --max-upload-mb: 413 ({status})")
        many = big.split(b"\n")
        many = b"\n".join(many[:1002]) + b"\n"
        status, _, data = reporter.call("POST", path("1"), raw=log_body(many)[0], content_type=log_body(many)[1])
        check(status == 400 and b"1000" in data, f"more cases than --max-case-log-cases: 400 ({status})")
        # Cut short: the ZIP's directory at its end is gone.
        tampered = xlsx_log()[:-40]
        b3, c3 = log_body(tampered, cases_name="log.xlsx", ctype=XLSX)
        status, _, data = reporter.call("POST", path("2"), raw=b3, content_type=c3)
        check(status == 400 and b"log.xlsx" in data, f"a tampered XLSX: 400 naming it ({status} {data[:160]!r})")
        bomb = io.BytesIO()
        with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>')
            z.writestr("xl/workbook.xml", '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                       'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                       '<sheet name="cases" sheetId="1" r:id="rId1"/></sheets></workbook>')
            z.writestr("xl/_rels/workbook.xml.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                       '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                       'Target="worksheets/sheet1.xml"/></Relationships>')
            z.writestr("xl/worksheets/sheet1.xml", b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
                       + b" " * (60 << 20) + b"</sheetData></worksheet>")
        b4, c4 = log_body(bomb.getvalue(), cases_name="bomb.xlsx", ctype=XLSX)
        status, _, data = reporter.call("POST", path("2"), raw=b4, content_type=c4)
        check(status == 400 and b"compress" in data,
              f"a zip bomb ({len(bomb.getvalue())} bytes, 60 MB inside): 400, too compressed ({status} {data[:200]!r})")
        for who, name in ((boi, "another agency's reporter"), (approver, "the approver"), (evaluator, "the evaluator")):
            status, _, _ = who.call("POST", path("1"), raw=body, content_type=ctype)
            check(status == 403, f"upload by {name}: 403 ({status})")
        status, _, _ = public.call("POST", path("1"), raw=body, content_type=ctype)
        check(status in (401, 403), f"upload by the public refused ({status})")
        boi.json("POST", path("1", "BOI"), raw=body, content_type=ctype, expect=400)  # BOI is not assigned KPI 1
        boi.json("GET", f"/api/v1/case-logs/{log_id}", expect=403)
        boi.json("GET", f"/api/v1/case-logs/{log_id}/cases", expect=403)
        public.json("GET", f"/api/v1/case-logs/{log_id}/cases", expect=401)

        # ---- KPI 2 from an XLSX workbook with date cells: the same verdicts as the CSV's
        xb, xc = multipart({"cases": ("log.xlsx", xlsx_log(), XLSX), "pauses": ("log.xlsx", xlsx_log(), XLSX)})
        up2 = reporter.json("POST", path("2"), raw=xb, content_type=xc, expect=201)
        want2 = expected("2", 12)
        page = evaluator.json("GET", f"/api/v1/case-logs/{up2.get('id')}/cases?limit=500")
        check({i["case_id"]: i["verdict"] for i in page.get("items", [])} == want2,
              "KPI 2 from XLSX: every verdict as expected")

        # ---- two uploads at once: both kept, one current, its draft standing
        variants = [read("cases.csv"), read("cases.csv").rsplit(b"\n", 2)[0] + b"\n"]
        results = []

        def upload(data):
            b, c = log_body(data, read("pauses.csv"))
            results.append(reporter.call("POST", path("1"), raw=b, content_type=c)[0])
        threads = [threading.Thread(target=upload, args=(v,)) for v in variants]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        listed = evaluator.json("GET", path("1"))
        uploads = listed.get("uploads", [])
        current = [u for u in uploads if u["current"]]
        check(sorted(results) in ([200, 201], [201, 201]) and len(current) == 1,
              f"two uploads at once: {sorted(results)}, {len(uploads)} kept, one current")
        sub = reporter.json("GET", f"/api/v1/submissions/{current[0]['submission_id']}") if current else {}
        check(current and sub.get("revision") == current[0]["revision"], "  the current upload's draft stands")

        # ---- submitted: refused with a clear message; returned: corrected by a new upload
        sid = current[0]["submission_id"] if current else 0
        approver.json("POST", f"/api/v1/submissions/{sid}/approve")
        approver.json("POST", f"/api/v1/submissions/{sid}/submit")
        status, _, data = reporter.call("POST", path("1"), raw=body, content_type=ctype)
        check(status == 409 and b"submitted" in data, f"a submitted report refuses a new upload: 409 ({data[:200]!r})")
        evaluator.json("POST", f"/api/v1/submissions/{sid}/return", {"comment": "แก้บันทึกเรื่อง"})
        fixed = reporter.json("POST", path("1"), raw=body, content_type=ctype, expect=201)
        sub = reporter.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("status") == "draft" and fixed.get("summary", {}).get("on_time") == on_time,
              "a returned report is corrected by a new upload (a draft again)")
        # The counts are not typed (issue 11 §2 leftovers): the API refuses another value for
        # them, saying where they come from; a save without them keeps the upload's counts.
        kpi_path = f"/api/v1/rounds/{round_id}/agencies/OCS/kpis/1"
        status, _, data = reporter.call("PUT", kpi_path, {"values": {"completed_within_standard": on_time + 1}})
        err = json.loads(data.decode("utf-8")).get("error", {}) if data[:1] == b"{" else {}
        check(status == 400 and "case log" in err.get("message_en", "") and "บันทึกเรื่อง" in err.get("message_th", ""),
              f"a typed value for a case-log count is refused in Thai and English: {status} {data[:300]!r}")
        reporter.json("PUT", kpi_path, {"values": {}, "explanation": "คำชี้แจง"})
        kept = reporter.json("GET", f"/api/v1/submissions/{sid}")
        kept_values = kept.get("report", kept).get("values", {})
        check(kept_values.get("completed_within_standard") == on_time and kept_values.get("received") == counted,
              f"  a save without the counts keeps the upload's ({kept_values})")

        # ---- the pages: the form's section, the case list, a refused log's problems
        browser = Browser(base)
        browser.login_fields({"username": "reporter.ocs", "password": "demo-reporter.ocs-2567", "next": "/"})
        status, html = browser.page(f"/agency/rounds/{round_id}/kpis/1")
        check(status == 200 and 'id="case-log-form"' in html and f"/case-logs/{fixed.get('id')}" in html,
              "the KPI 1 form shows the current case log and the upload form")
        field = re.search(r'<input id="v_completed_within_standard"[^>]*>', html)
        check(field is not None and "readonly" in field.group(0) and f'value="{on_time}"' in field.group(0)
              and "คำนวณจากบันทึกเรื่องที่อัปโหลด" in html,
              f"  the counts are shown read-only with their source, not as inputs to type ({field and field.group(0)})")
        status, html = browser.page(f"/case-logs/{fixed.get('id')}?verdict=late")
        check(status == 200 and html.count('<tr><td class="num">') == sum(v == "late" for v in want.values()),
              "the case list filtered to the late cases")
        token = browser.csrf(html)
        status, headers, raw = browser.request(
            "POST", f"/agency/rounds/{round_id}/kpis/1/case-log?csrf={token}&back=/agency/rounds/{round_id}/kpis/1",
            body=body2, content_type=ctype2)
        page_html = raw.decode("utf-8")
        check(status == 400 and 'id="case-log-problems"' in page_html and "cases.csv" in page_html
              and "sections" in page_html, "a refused log's page lists its problems")
        eb = Browser(base)
        eb.login_fields({"username": "evaluator", "password": "demo-evaluator-2567", "next": "/"})
        status, html = eb.page(f"/case-logs/{fixed.get('id')}")
        check(status == 200 and "case-list" in html, "the evaluator reads the case list")
        check_list_wording(eb, fixed.get("id"))
        status, html = eb.page(f"/review/submissions/{sid}")
        check(status == 200 and f"/case-logs/{fixed.get('id')}" in html, "the review page links the case log")
    print(f"{'FAILED' if failures else 'passed'}: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
