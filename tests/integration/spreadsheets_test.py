#!/usr/bin/python3
"""Spreadsheets out and in (issue 10 §3-4) through the running server, with the Council of State
example: the agency's XLSX template downloaded, filled with openpyxl and uploaded (drafts, never
submitted); bad cells named by sheet, row and column with nothing stored; hostile XLSX files
refused; the round's results, submission status, the evaluator's queue and the audit log as XLSX
and CSV, read back (openpyxl, csv) and compared with the API's figures; formula injection
neutralised; the agencies and data imports from XLSX (API and CLI); `esar export`.

    spreadsheets_test.py ESAR   (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import datetime
import html as htmlmod
import io
import json
import os
import re
import struct
import subprocess
import sys
import time
import zipfile

import openpyxl

from esar_harness import ApiClient, Browser, multipart_file, run_cli, ServedScratch

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "ocs-2567")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
VALUES = "ค่าที่รายงาน (Values)"
NOTES = "คำชี้แจง (Notes)"
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def Client(base):
    """An API client whose status checks are recorded as this test's checks."""
    return ApiClient(base, check=check)


def workbook(data):
    return openpyxl.load_workbook(io.BytesIO(data))


def sheet_rows(ws):
    """The rows below the headings as dicts by heading."""
    rows = list(ws.iter_rows(values_only=True))
    head = rows[0]
    return [dict(zip(head, r)) for r in rows[1:]]


def csv_rows(data):
    check(data.startswith(b"\xef\xbb\xbf"), "  the CSV begins with the UTF-8 byte order mark")
    rows = list(csv.reader(io.StringIO(data[3:].decode("utf-8"))))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def zip_of(parts, compresslevel=9):
    """A ZIP of {name: bytes or an iterable of chunks}, streamed entry by entry."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=compresslevel) as z:
        for name, content in parts.items():
            with z.open(name, "w", force_zip64=False) as f:
                if isinstance(content, bytes):
                    f.write(content)
                else:
                    for chunk in content:
                        f.write(chunk)
    return buf.getvalue()


def minimal_xlsx(sheet_xml, shared_xml=None, sheet_name=VALUES):
    """A hand-made XLSX of one sheet (and shared strings), for hostile files."""
    parts = {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        "xl/workbook.xml": ('<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
                            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
                            '<sheet name="%s" sheetId="1" r:id="rId1"/></sheets></workbook>' % sheet_name).encode(),
        "xl/_rels/workbook.xml.rels": (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                                       b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
                                       b'<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
                                       b'</Relationships>'),
        "xl/worksheets/sheet1.xml": sheet_xml,
    }
    if shared_xml is not None:
        parts["xl/sharedStrings.xml"] = shared_xml
    else:
        rels = parts["xl/_rels/workbook.xml.rels"]
        start = rels.find(b'<Relationship Id="rId2"')
        parts["xl/_rels/workbook.xml.rels"] = rels[:start] + rels[rels.find(b"/>", start) + 2:]
    return zip_of(parts)


def lying(data, name, claimed):
    """`data` (a ZIP) with entry `name`'s uncompressed size rewritten to `claimed` in its local
    header and in the central directory."""
    out = bytearray(data)
    for sig, size_at, name_len_at, head in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = 0
        while True:
            at = out.find(sig, at)
            if at < 0:
                break
            n = struct.unpack_from("<H", out, at + name_len_at)[0]
            if bytes(out[at + head:at + head + n]) == name:
                struct.pack_into("<I", out, at + size_at, claimed)
            at += 4
    return bytes(out)


def row_of(ws, kpi, variable):
    for r in range(2, ws.max_row + 1):
        if str(ws.cell(r, 1).value) == kpi and ws.cell(r, 3).value == variable:
            return r
    return None


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-sheets-") as scratch:
        work, db = scratch.work, scratch.db
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        users = [("admin", "admin", None), ("evaluator", "evaluator", None), ("reporter.ocs", "reporter", "OCS"),
                 ("approver.ocs", "approver", "OCS"), ("reporter.boi", "reporter", "BOI")]
        for name, role, agency in users:
            run_cli(esar, ["admin", "create-user", "--db", db, "--username", name, "--role", role]
                    + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "pw-" + name + "-2567"})
        base = scratch.serve(esar)
        admin, evaluator, reporter, approver, boi = (Client(base).login(n, "pw-" + n + "-2567") for n, _, _ in users)
        public = Client(base)

        # Formula injection: names an attacker could give (an agency's admin typing them).
        hostile_names = {"DLIS": "=HYPERLINK(\"http://x\",\"y\")", "DCLS": "@SUM(1+1)", "OGGP": "-2+3", "DSD": "+1"}
        for code, name in hostile_names.items():
            admin.json("PUT", "/api/v1/agencies", {"agencies": [{"code": code, "name": {"th": name, "en": name},
                                                                  "kind": "department", "parent": "MOL"}]})

        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]

        # ---- the template: downloaded by the agency, its KPIs with unit, range, criteria, validation
        status, headers, data = reporter.call("GET", f"/api/v1/rounds/{round_id}/agencies/OCS/template")
        check(status == 200 and headers.get("Content-Type", "").startswith(XLSX), f"OCS's reporter downloads its template ({status})")
        check("attachment" in headers.get("Content-Disposition", ""), "  as an attachment")
        wb = workbook(data)
        check(VALUES in wb.sheetnames and NOTES in wb.sheetnames, f"  sheets {wb.sheetnames}")
        ws = wb[VALUES]
        heads = [c.value for c in ws[1]]
        check(heads[0].startswith("ตัวชี้วัด") and "Unit" in heads[4] and "Allowed range" in heads[5]
              and "Criteria" in heads[6] and "Value" in heads[7], f"  headings {heads}")
        kpis = {str(ws.cell(r, 1).value) for r in range(2, ws.max_row + 1)}
        check(kpis == {"1", "2", "3", "4", "5", "6", "7", "8"}, f"  OCS's eight KPIs ({sorted(kpis)})")
        r7 = row_of(ws, "7", "score")
        check(r7 is not None and "0 – 100" in ws.cell(r7, 6).value, "  KPI 7's score: allowed 0 – 100")
        check(r7 is not None and ws.cell(r7, 7).value, "  KPI 7 has a criteria summary")
        r6 = row_of(ws, "6", "pillars")
        check(r6 is not None and "7 " in ws.cell(r6, 6).value and ";" in ws.cell(r6, 6).value,
              "  KPI 6's pillars: 7 numbers separated by ;")
        check(row_of(ws, "6", "p66_count") is None, "  a derived variable is not asked for")
        validations = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
        dv7 = validations.get(f"H{r7}")
        check(dv7 is not None and dv7.type == "decimal" and float(dv7.formula1) == 0 and float(dv7.formula2) == 100,
              f"  Excel validates KPI 7's value between 0 and 100 ({dv7 and (dv7.type, dv7.formula1, dv7.formula2)})")
        r1 = row_of(ws, "1", "received")
        dv1 = validations.get(f"H{r1}")
        check(dv1 is not None and dv1.type == "whole", "  Excel wants a whole number for a count")
        check(reporter.call("GET", f"/api/v1/rounds/{round_id}/agencies/BOI/template")[0] == 403,
              "OCS's reporter cannot download BOI's template")
        check(public.call("GET", f"/api/v1/rounds/{round_id}/agencies/OCS/template")[0] == 401,
              "the public cannot download a template")

        # ---- round trip: filled with openpyxl, uploaded: drafts, not submitted
        filled = {("1", "completed_within_standard"): 45, ("1", "received"): 50,
                  ("2", "completed_within_53_days"): 18, ("2", "received"): 20,
                  ("7", "score"): 85.5, ("6", "pillars"): "3;3;4;2;3;3;3"}
        for (kpi, var), value in filled.items():
            ws.cell(row_of(ws, kpi, var), 8).value = value
        notes = wb[NOTES]
        for r in range(2, notes.max_row + 1):
            if str(notes.cell(r, 1).value) == "1":
                notes.cell(r, 3).value = "=cmd|' /C calc'!A0 ตามแผน"
                notes.cell(r, 4).value = "ไม่มี"
        buf = io.BytesIO()
        wb.save(buf)
        good_file = buf.getvalue()
        path = f"/api/v1/rounds/{round_id}/agencies/OCS/template"
        check(boi.call("POST", path, raw=good_file, content_type=XLSX)[0] == 403, "BOI's reporter cannot upload OCS's values")
        check(approver.call("POST", path, raw=good_file, content_type=XLSX)[0] == 403, "an approver cannot save drafts")
        up = reporter.json("POST", path, raw=good_file, content_type=XLSX)
        drafts = {d["kpi"]: d for d in up.get("drafts", [])}
        check(set(drafts) == {"1", "2", "6", "7"}, f"  one draft per KPI with values ({sorted(drafts)})")
        check(all(d["status"] == "draft" for d in drafts.values()), "  all drafts: nothing submitted by the upload")
        for kpi, d in drafts.items():
            sub = reporter.json("GET", f"/api/v1/submissions/{d['id']}")
            want = {var: value for (k, var), value in filled.items() if k == kpi}
            if kpi == "6":
                want = {"pillars": [3, 3, 4, 2, 3, 3, 3]}
            check(sub.get("values") == want and sub.get("status") == "draft",
                  f"  KPI {kpi}'s draft holds {want} ({sub.get('values')})")
        sub1 = reporter.json("GET", f"/api/v1/submissions/{drafts['1']['id']}")
        check(sub1.get("explanation") == "=cmd|' /C calc'!A0 ตามแผน" and sub1.get("problems") == "ไม่มี",
              "  KPI 1's explanation and problems from the notes sheet")
        # The template again shows what was saved.
        again = workbook(reporter.call("GET", path)[2])[VALUES]
        check(again.cell(row_of(again, "7", "score"), 8).value == 85.5, "  the next template is prefilled with the drafts")

        def revisions():
            subs = admin.json("GET", f"/api/v1/rounds/{round_id}/submissions?per_page=200")
            return {(s["agency"], s["kpi"]): (s["revision"], json.dumps(s["values"], sort_keys=True)) for s in subs.get("items", [])}

        before = revisions()
        # ---- bad cells: each named, nothing stored
        wb = workbook(good_file)
        ws = wb[VALUES]
        ws.cell(row_of(ws, "7", "score"), 8).value = 150
        ws.cell(row_of(ws, "1", "received"), 8).value = "abc"
        ws.cell(row_of(ws, "6", "pillars"), 8).value = "3;3"
        ws.cell(row_of(ws, "2", "received"), 8).value = 19  # a good change, not saved either
        extra = ws.max_row + 1
        ws.cell(extra, 1).value = "99"
        ws.cell(extra, 3).value = "x"
        ws.cell(extra, 8).value = 1
        buf = io.BytesIO()
        wb.save(buf)
        status, _, data = reporter.call("POST", path, raw=buf.getvalue(), content_type=XLSX)
        err = json.loads(data).get("error", {})
        cells = {(c["sheet"], c["row"], c["column"]): c for c in (err.get("details") or {}).get("cells", [])}
        check(status == 400, f"an upload with bad cells is refused ({status})")
        for kpi, var, col, words in (("7", "score", "H", "outside the allowed range"), ("1", "received", "H", "number"),
                                     ("6", "pillars", "H", "needs 7 numbers")):
            c = cells.get((VALUES, row_of(ws, kpi, var), col))
            check(c is not None and words in c["message_en"] and c["message_th"],
                  f"  KPI {kpi} {var}: named at {col}{row_of(ws, kpi, var)} ({c and c['message_en']})")
        c = cells.get((VALUES, extra, "A"))
        check(c is not None and "99" in c["message_en"] and "99" in c["message_th"], f"  the unknown KPI 99 named at A{extra}")
        check(len(cells) == 4, f"  four bad cells, no more ({len(cells)})")
        check(revisions() == before, "  nothing was stored (every submission's revision and values unchanged)")

        # ---- hostile files: refused with a clear message, nothing stored
        bomb = zip_of({"[Content_Types].xml": b"<Types/>",
                       "xl/workbook.xml": b'<workbook xmlns:r="r"><sheets><sheet name="a" sheetId="1" r:id="rId1"/></sheets></workbook>',
                       "xl/_rels/workbook.xml.rels": b'<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/></Relationships>',
                       "xl/worksheets/sheet1.xml": (b" " * (1 << 20) for _ in range(200))})
        laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                  b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><sst><si><t>&lol3;</t></si></sst>')
        external = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                    b'<worksheet><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>&e;</t></is></c></row></sheetData></worksheet>')
        big_string = b'<sst><si><t>' + b"a" * 40000 + b'</t></si></sst>'
        many_rows = b"<worksheet><sheetData>" + b"".join(b'<row r="%d"><c r="A%d"><v>1</v></c></row>' % (i, i) for i in range(1, 20003)) + b"</sheetData></worksheet>"
        honest = minimal_xlsx(b"<worksheet><sheetData>" + b'<row r="1"><c r="A1"><v>1</v></c></row>' * 1 + b"</sheetData></worksheet>")
        liar = lying(minimal_xlsx(b"<worksheet><sheetData>" + b" " * 300000 + b"</sheetData></worksheet>"),
                     b"xl/worksheets/sheet1.xml", 100)
        hostile = [
            ("a zip bomb (200 MB of spaces)", bomb, "zip bomb"),
            ("billion laughs in the shared strings", minimal_xlsx(b"<worksheet/>", laughs), "DTD"),
            ("an external entity", minimal_xlsx(external), "DTD"),
            ("a shared string of 40,000 characters", minimal_xlsx(b"<worksheet/>", big_string), "longer than 32 KB"),
            ("20,002 rows", minimal_xlsx(many_rows), "more than 20000 rows"),
            ("an entry inflating past its declared size", liar, "more than its declared size"),
            ("not a ZIP", b"code,name\n1,2\n", "not an XLSX file"),
            ("a truncated ZIP", honest[: len(honest) // 2], "ZIP"),
        ]
        for what, content, words in hostile:
            status, _, data = reporter.call("POST", path, raw=content, content_type=XLSX)
            err = json.loads(data).get("error", {}) if data.startswith(b"{") else {}
            check(status == 400 and words in err.get("message_en", "") and err.get("message_th"),
                  f"{what} ({len(content)} bytes) is refused: {status} {err.get('message_en')}")
        check(revisions() == before, "  nothing was stored by the hostile files")

        # ---- the same from the agency's home page (a form beside the template's download link)
        def page_login(user):
            b = Browser(base)
            b.login_fields({"username": user, "password": "pw-" + user + "-2567", "next": "/agency"})
            return b

        rb = page_login("reporter.ocs")
        status, home = rb.page("/agency")
        action = f"/agency/rounds/{round_id}/template"
        check(status == 200 and f'action="{action}"' in home and 'name="file"' in home
              and f'/api/v1/rounds/{round_id}/agencies/OCS/template' in home,
              "the agency home page has the template's upload form beside its download link")
        token = rb.csrf(home)

        def page_upload(b, content, csrf, path=action, name="แบบฟอร์ม.xlsx"):
            body, ctype = multipart_file("file", name, content, XLSX, fields={"csrf": csrf})
            status, _, raw = b.request("POST", path, body=body, content_type=ctype)
            return status, raw.decode("utf-8", "replace")

        wb = workbook(good_file)
        ws = wb[VALUES]
        page_values = {("1", "received"): 60, ("1", "completed_within_standard"): 51, ("7", "score"): 77.25}
        for (kpi, var), value in page_values.items():
            ws.cell(row_of(ws, kpi, var), 8).value = value
        buf = io.BytesIO()
        wb.save(buf)
        page_good = buf.getvalue()
        before = revisions()
        # Refused before anything is read: no form token, the approver, an evaluator, the public,
        # a round that does not exist.
        status, html = page_upload(rb, page_good, "")
        check(status == 403 and revisions() == before, f"  without the form's token: refused ({status}), nothing stored")
        ab = page_login("approver.ocs")
        status, html = page_upload(ab, page_good, ab.csrf(ab.page("/agency")[1]))
        check(status == 403 and revisions() == before, f"  the approver's upload: refused ({status}), nothing stored")
        eb = page_login("evaluator")
        status, html = page_upload(eb, page_good, eb.csrf(eb.page("/review")[1]))
        check(status == 403 and revisions() == before, f"  an evaluator's upload: refused ({status})")
        status, _, raw = Browser(base).request("POST", action, body=multipart_file("file", "a.xlsx", page_good, XLSX)[0],
                                              content_type=multipart_file("file", "a.xlsx", page_good, XLSX)[1])
        check(status == 303 and revisions() == before, f"  the public is sent to the login page ({status})")
        for bad_path in (f"/agency/rounds/987654/template", "/agency/rounds/x1/template", "/agency/rounds/-1/template"):
            status, html = page_upload(rb, page_good, token, path=bad_path)
            check(status == 404 and revisions() == before, f"  {bad_path}: {status} (want 404), nothing stored")
        # A good file: a page saying how many drafts, each linked.
        status, html = page_upload(rb, page_good, token)
        after = revisions()
        # KPIs 1 and 7 changed; 2 and 6 hold the values already saved: no new draft for them.
        check(status == 200 and 'id="template-saved"' in html and "บันทึกร่างจากแบบฟอร์มแล้ว 2 ตัวชี้วัด" in html,
              f"a filled template uploaded from the page: '2 drafts saved' ({status})")
        listed = re.findall(r'<a href="/agency/rounds/%d/kpis/([^"]+)">' % round_id, html.split('id="template-drafts"')[-1])
        check(listed == ["1", "7"], f"  the two drafts are listed, each linked to its KPI's page ({listed})")
        for kpi in ("1", "7"):
            check(after[("OCS", kpi)][0] == before[("OCS", kpi)][0] + 1, f"  KPI {kpi}: a new revision "
                  f"({before[('OCS', kpi)][0]} -> {after[('OCS', kpi)][0]})")
        for kpi in ("2", "6"):
            check(after[("OCS", kpi)] == before[("OCS", kpi)], f"  KPI {kpi}, unchanged, keeps its revision")
        check(json.loads(after[("OCS", "1")][1]) == {"completed_within_standard": 51, "received": 60}
              and json.loads(after[("OCS", "7")][1]) == {"score": 77.25},
              f"  the drafts hold the page's values ({after[('OCS', '1')][1]}, {after[('OCS', '7')][1]})")
        check(all(s["status"] == "draft" for s in admin.json("GET", f"/api/v1/rounds/{round_id}/submissions?agency=OCS&per_page=200")
                  .get("items", []) if s["agency"] == "OCS"), "  nothing was submitted by the upload")
        # A bad file: every bad cell named by sheet, row and column in Thai and English, nothing saved.
        wb = workbook(page_good)
        ws = wb[VALUES]
        r7, r1 = row_of(ws, "7", "score"), row_of(ws, "1", "received")
        ws.cell(r7, 8).value = 150
        ws.cell(r1, 8).value = "สองร้อย"
        ws.cell(row_of(ws, "2", "received"), 8).value = 21  # a good change, not saved either
        buf = io.BytesIO()
        wb.save(buf)
        before = revisions()
        status, html = page_upload(rb, buf.getvalue(), token)
        check(status == 400 and 'id="template-cells"' in html and "มี 2 เซลล์ที่ไม่ถูกต้อง ไม่ได้บันทึกค่าใดเลย" in html,
              f"a template with 2 bad cells is refused on a page ({status})")
        rows = re.findall(r"<tr><td>([^<]*)</td><td class=\"num\">(\d+)</td><td>([A-Z]+) <span class=\"muted\">\(([A-Z]+\d+)\)</span></td>"
                          r"<td>([^<]*)<br><span class=\"muted\" lang=\"en\">([^<]*)</span></td></tr>", html)
        named = {(htmlmod.unescape(sheet), int(row), col): (htmlmod.unescape(th), htmlmod.unescape(en)) for sheet, row, col, cell, th, en in rows}
        check(set(named) == {(VALUES, r7, "H"), (VALUES, r1, "H")}, f"  the two cells are listed by sheet, row and column ({sorted(named)})")
        th, en = named.get((VALUES, r7, "H"), ("", ""))
        check("outside the allowed range" in en and "150" in th and "150" in en, f"  KPI 7's cell in Thai and English ({th} / {en})")
        check(not re.search("[\u0e00-\u0e7f]", en) and "number" not in th and "0 – 100" in th and "0 – 100" in en,
              f"  each language's message in that language alone, with the range ({th} / {en})")
        th, en = named.get((VALUES, r1, "H"), ("", ""))
        check("สองร้อย" in th and "number" in en, f"  KPI 1's cell in Thai and English ({th} / {en})")
        check(revisions() == before, "  nothing was stored (every submission's revision and values unchanged)")
        check(f'action="{action}"' in html, "  the refusal page offers the form again")
        # Hostile files through the page: refused with the API's message, nothing stored.
        for what, content, words in hostile[:3] + hostile[6:]:
            api_error = json.loads(reporter.call("POST", path, raw=content, content_type=XLSX)[2]).get("error", {})
            status, html = page_upload(rb, content, token)
            check(status == 400 and api_error.get("message_th") and api_error["message_th"] in htmlmod.unescape(html),
                  f"  {what} from the page: refused ({status}) with the API's message ({api_error.get('message_th')})")
        check(revisions() == before, "  nothing was stored by the hostile files from the page")
        # Larger than a form may be (the API's bound for a JSON or XLSX body): refused whole.
        status, html = page_upload(rb, b"PK" + os.urandom(2 << 20), token)
        check(status == 413 and revisions() == before, f"  a 2 MB file from the page: {status} (want 413)")
        # In English the page's own words are English, the cells' English first.
        rb.get("/lang/en")
        status, html = page_upload(rb, buf.getvalue(), token)
        check(status == 400 and "2 cells are wrong; nothing was saved" in html and 'lang="th"' in html,
              f"  in English: the refusal in English, each cell's Thai beside it ({status})")
        rb.get("/lang/th")

        # ---- the cycle to published results: OCS's drafts approved, submitted and accepted
        for kpi, d in drafts.items():
            approver.json("POST", f"/api/v1/submissions/{d['id']}/approve")
            approver.json("POST", f"/api/v1/submissions/{d['id']}/submit")
        for kpi in ("1", "7"):
            evaluator.json("POST", f"/api/v1/submissions/{drafts[kpi]['id']}/accept", {"comment": "ok"})

        # ---- the evaluator's queue as filtered, CSV and XLSX
        api_queue = admin.json("GET", f"/api/v1/rounds/{round_id}/submissions?status=submitted&per_page=200")
        want = {(s["agency"], s["kpi"]) for s in api_queue.get("items", [])}
        status, headers, data = evaluator.call("GET", f"/api/v1/queue/export?round={round_id}&status=submitted&format=csv")
        check(status == 200 and headers.get("Content-Type", "").startswith("text/csv"), f"the evaluator downloads the queue as CSV ({status})")
        rows = csv_rows(data) if status == 200 else []
        got = {(r["รหัสหน่วยงาน / Agency code"], r["ตัวชี้วัด / KPI"]) for r in rows}
        check(got == want and len(rows) == len(want), f"  the queue's rows are the API's submitted ones ({sorted(got)} vs {sorted(want)})")
        check(all(r["Status (en)"] == "submitted, awaiting review" for r in rows), "  each says submitted")
        status, _, data = evaluator.call("GET", f"/api/v1/queue/export?round={round_id}&status=submitted&q=OCS")
        q_rows = sheet_rows(workbook(data).active) if status == 200 else []
        check(status == 200 and {(r["รหัสหน่วยงาน / Agency code"], str(r["ตัวชี้วัด / KPI"])) for r in q_rows} == want,
              "  the same as XLSX (the default), searched by q")
        check(evaluator.call("GET", "/api/v1/queue/export?status=bogus")[0] == 400, "  a bad filter is a 400")
        check(public.call("GET", "/api/v1/queue/export")[0] in (401, 403), "  not for the public")

        # ---- the submission status of the round
        status, _, data = admin.call("GET", f"/api/v1/rounds/{round_id}/status/export?format=xlsx")
        st_rows = sheet_rows(workbook(data).active) if status == 200 else []
        check(status == 200, f"the admin downloads the round's submission status ({status})")
        by_key = {(r["รหัสหน่วยงาน / Agency code"], str(r["ตัวชี้วัด / KPI"])): r for r in st_rows}
        all_subs = admin.json("GET", f"/api/v1/rounds/{round_id}/submissions?per_page=200").get("items", [])
        names = {"draft": "draft", "approved": "approved, not sent", "submitted": "submitted, awaiting review",
                 "returned": "returned for changes", "accepted": "accepted"}
        check(all(by_key.get((s["agency"], s["kpi"]), {}).get("Status (en)") == names[s["status"]]
                  and by_key[(s["agency"], s["kpi"])]["ฉบับที่ / Revision"] == s["revision"] for s in all_subs)
              and len(all_subs) == 4, "  every submission's status and revision as the API gives them")
        check(by_key.get(("BOI", "8"), {}).get("Status (en)") == "not started", "  BOI's KPI 8: not started")
        check(("OCS", "1") in by_key and ("BOI", "1") not in by_key, "  only the KPIs each agency reports (BOI has no KPI 1)")
        check(not any(r["เลยกำหนด / Overdue"] for r in st_rows), "  nothing overdue before the deadline")
        status, _, data = reporter.call("GET", f"/api/v1/rounds/{round_id}/status/export?format=csv")
        own = csv_rows(data) if status == 200 else []
        check(status == 200 and own and {r["รหัสหน่วยงาน / Agency code"] for r in own} == {"OCS"},
              f"  an agency's reporter sees only its own agency ({status}, {len(own)} rows)")
        check(public.call("GET", f"/api/v1/rounds/{round_id}/status/export")[0] in (401, 403), "  not for the public")
        # A 6-month round whose deadline passes: everything not submitted is overdue.
        short = admin.json("POST", "/api/v1/frameworks/1/rounds",
                           {"round": 6, "deadline": int((time.time() + 2) * 1000)}, expect=201).get("id")
        time.sleep(2.5)
        status, _, data = admin.call("GET", f"/api/v1/rounds/{short}/status/export?format=csv")
        six = csv_rows(data) if status == 200 else []
        check(status == 200 and six and all(r["เลยกำหนด / Overdue"] == "ใช่ / yes" for r in six),
              f"  past the deadline of the 6-month round, all {len(six)} KPIs not submitted are overdue")
        check(all(r["ตัวชี้วัด / KPI"] not in ("5", "6", "7", "8") for r in six),
              "  the 6-month round lists no KPI that counts only at 12 months")

        # ---- results: computed, finalized, published; XLSX and CSV equal the API's figures
        check(public.call("GET", f"/api/v1/rounds/{round_id}/results/export")[0] == 404,
              "no results to download before they are published")
        admin.json("POST", f"/api/v1/rounds/{round_id}/close", {"reason": "ทดสอบ"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results", {"appeal_days": 14}, expect=201)
        status, _, data = reporter.call("GET", f"/api/v1/rounds/{round_id}/results/export?stage=preliminary&format=csv")
        pre = csv_rows(data) if status == 200 else []
        check(status == 200 and [r["รหัสหน่วยงาน / Agency code"] for r in pre] == ["OCS"],
              "  before publication an agency's reporter downloads only its own line")
        check(public.call("GET", f"/api/v1/rounds/{round_id}/results/export?stage=preliminary")[0] == 404,
              "  the public gets no preliminary results")
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/close-appeals", {"reason": "ทดสอบ"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/final", {}, expect=201)
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/publish", {}, expect=201)
        scores = public.json("GET", f"/api/v1/rounds/{round_id}/results")["scores"]
        api = {a["code"]: a for a in scores["agencies"]}
        status, headers, data = public.call("GET", f"/api/v1/rounds/{round_id}/results/export")
        check(status == 200 and headers.get("Content-Type", "").startswith(XLSX), f"the public downloads the published results as XLSX ({status})")
        check("results-2567-12.xlsx" in headers.get("Content-Disposition", ""), f"  named results-2567-12.xlsx")
        wb = workbook(data)
        res = sheet_rows(wb.active)
        check([r["รหัสหน่วยงาน / Agency code"] for r in res] == sorted(api), f"  one row per agency, in code order ({len(res)})")
        compared = 0
        for r in res:
            a = api.get(r["รหัสหน่วยงาน / Agency code"])
            if a is None:
                continue
            same = (r["คะแนนรวม / Total"] == a["total"]) if a["total"] is not None else r["คะแนนรวม / Total"] is None
            same = same and (r["ระดับ / Grade (th)"] or "") == (a.get("grade") or "")
            for k in a["kpis"]:
                cell = r.get(f"ตัวชี้วัด {k['id']} คะแนน / KPI {k['id']} score")
                same = same and (cell == k.get("score") if k.get("score") is not None else cell is None)
                compared += 1
            check(same, f"  {a['code']}: total {r['คะแนนรวม / Total']} = {a['total']}, grade and every KPI score as the API")
        check(compared == sum(len(a["kpis"]) for a in api.values()) and compared > 0,
              f"  {compared} KPI scores compared, every one the API gives")
        ws = wb.active
        check(ws.freeze_panes == "A2" and ws.auto_filter.ref, "  headings frozen and filtered")
        dlis = next(r for r in res if r["รหัสหน่วยงาน / Agency code"] == "DLIS")
        check(dlis["ชื่อหน่วยงาน / Agency (th)"] == "'" + hostile_names["DLIS"], f"  a name beginning with = is neutralised ({dlis['ชื่อหน่วยงาน / Agency (th)']})")
        for code in ("DCLS", "OGGP", "DSD"):
            cell = next(r for r in res if r["รหัสหน่วยงาน / Agency code"] == code)["Agency (en)"]
            check(cell == "'" + hostile_names[code], f"  {hostile_names[code]} neutralised ({cell})")
        # No cell of the workbook is a formula.
        check(all(c.data_type != "f" for row in ws.iter_rows() for c in row), "  no formula anywhere in the workbook")
        status, headers, data = public.call("GET", f"/api/v1/rounds/{round_id}/results/export?format=csv")
        rows = csv_rows(data) if status == 200 else []
        check(status == 200 and headers.get("Content-Type", "").startswith("text/csv"), "  and as CSV")
        for r in rows:
            a = api[r["รหัสหน่วยงาน / Agency code"]]
            ok = (float(r["คะแนนรวม / Total"]) == a["total"]) if a["total"] is not None else r["คะแนนรวม / Total"] == ""
            for k in a["kpis"]:
                cell = r[f"ตัวชี้วัด {k['id']} คะแนน / KPI {k['id']} score"]
                ok = ok and (float(cell) == k["score"] if k.get("score") is not None else cell == "")
            check(ok, f"  CSV {a['code']}: total and KPI scores equal the API's")
        dlis = next(r for r in rows if r["รหัสหน่วยงาน / Agency code"] == "DLIS")
        check(dlis["ชื่อหน่วยงาน / Agency (th)"].startswith("'="), "  the CSV neutralises = too")
        check(public.call("GET", f"/api/v1/rounds/{round_id}/results/export?format=pdf")[0] == 400, "  ?format=pdf is a 400")

        # ---- `esar export`: the same workbook from the command line
        out = os.path.join(work, "results.xlsx")
        run_cli(esar, ["export", "results", "--round", str(round_id), "--format", "xlsx", "--out", out, "--db", db])
        cli_rows = sheet_rows(openpyxl.load_workbook(out).active)
        check(cli_rows == res, "esar export results writes the same rows as the API's download")
        p = subprocess.run([esar, "export", "results", "--round", "999", "--out", os.path.join(work, "x.xlsx"), "--db", db],
                                         capture_output=True, text=True)
        check(p.returncode != 0 and not os.path.exists(os.path.join(work, "x.xlsx")), "  an unknown round: fails, no file left")

        # ---- the audit log of a period
        today = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=7))).strftime("%Y-%m-%d")
        status, _, data = admin.call("GET", f"/api/v1/audit/export?from={today}&to={today}&format=csv")
        audit = csv_rows(data) if status == 200 else []
        seqs = [int(r["ลำดับ / Seq"]) for r in audit]
        check(status == 200 and seqs == sorted(seqs) and len(seqs) > 10, f"the admin downloads today's audit log ({len(seqs)} entries, in order)")
        saves = [r for r in audit if r["การกระทำ / Action"] == "submission.save"]
        check(len(saves) == 6 and all(r["ผู้ทำ / Actor"] == "reporter.ocs" for r in saves),
              f"  the uploads' drafts are there (four through the API, two from the page), by reporter.ocs ({len(saves)})")
        status, _, data = admin.call("GET", "/api/v1/audit/export?from=2001-01-01&to=2001-01-31")
        check(status == 200 and len(sheet_rows(workbook(data).active)) == 0, "  a period without entries: headings only")
        check(evaluator.call("GET", f"/api/v1/audit/export?from={today}&to={today}")[0] == 403, "  an evaluator may not")
        check(admin.call("GET", "/api/v1/audit/export?from=2024-13-01&to=2024-12-01")[0] == 400, "  a bad date is a 400")

        # ---- imports from XLSX: agencies and data (API and CLI)
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.title = "Agencies"
        ws.append(["code", "name_th", "name_en", "kind", "parent"])
        ws.append(["NEW1", "หน่วยงานใหม่", "New agency", "department", "PMO"])
        ws.append(["NEW2", "หน่วยงานใหม่ 2", "New agency 2", "department", "MOL"])
        buf = io.BytesIO()
        wb.save(buf)
        admin.json("PUT", "/api/v1/agencies", raw=buf.getvalue(), content_type=XLSX)
        listed = {a["code"]: a for a in admin.json("GET", "/api/v1/agencies")}
        check("NEW1" in listed and "NEW2" in listed, "agencies imported from XLSX through the API")
        check(reporter.call("PUT", "/api/v1/agencies", raw=buf.getvalue(), content_type=XLSX)[0] == 403,
              "  only admins may import")
        ws.append([None, "ไม่มีรหัส"])
        buf = io.BytesIO()
        wb.save(buf)
        err = admin.json("PUT", "/api/v1/agencies", raw=buf.getvalue(), content_type=XLSX, expect=400).get("error", {})
        where = json.dumps(err.get("details"), ensure_ascii=False)
        check("Agencies" in where and ":4" in where, f"  a row without a code is named by sheet and row ({where})")
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["agency", "kpi", "variable", "fiscal_year", "round", "value"])
        ws.append(["NEW1", "8", "pmqa", 2566, 12, 333.5])
        data_file = os.path.join(work, "data.xlsx")
        wb.save(data_file)
        with open(data_file, "rb") as f:
            imported = admin.json("POST", "/api/v1/data", raw=f.read(), content_type=XLSX)
        check(imported.get("imported") == 1, "data imported from XLSX through the API")
        ws.append(["NEW2", "8", "pmqa", 2566, 12, "lots"])
        wb.save(data_file)
        with open(data_file, "rb") as f:
            err = admin.json("POST", "/api/v1/data", raw=f.read(), content_type=XLSX, expect=400).get("error", {})
        check(":3" in json.dumps(err.get("details"), ensure_ascii=False), "  a bad value is named by its row (3)")
        wb = openpyxl.Workbook()
        ws = wb.active
        ws.append(["code", "name_th"])
        ws.append(["NEW3", "จากบรรทัดคำสั่ง"])
        agencies_file = os.path.join(work, "agencies.xlsx")
        wb.save(agencies_file)
        run_cli(esar, ["import", "agencies", agencies_file, "--db", db, "--data-dir", os.path.join(work, "files")])
        listed = {a["code"] for a in admin.json("GET", "/api/v1/agencies")}
        check("NEW3" in listed, "esar import agencies reads an XLSX file")
        with open(os.path.join(work, "bomb.xlsx"), "wb") as f:
            f.write(bomb)
        p = subprocess.run([esar, "import", "agencies", os.path.join(work, "bomb.xlsx"), "--db", db,
                            "--data-dir", os.path.join(work, "files")],
                                         capture_output=True, text=True)
        check(p.returncode != 0 and "zip bomb" in (p.stdout + p.stderr), "  and refuses a zip bomb")
    if failures:
        print("%d checks failed" % len(failures))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
