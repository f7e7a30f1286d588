#!/usr/bin/python3
"""The evaluators' queue (issue 12 §5), through the pages without JavaScript, on the database
ESAR_TEST_DB_URL names (a fresh PostgreSQL schema under with_pg_schema.sh) or a fresh SQLite
file. Three agencies submit KPI 5 (and OCS KPI 1 too) with different values; the queue shows for
each the score its reported values earn, the same number the agency's own form shows; it sorts
by that score and by KPI number, both ways, with aria-sort on the header; the review page's
"next" goes to the following item of the filtered, sorted queue, and deciding one moves on to
it; bulk accept lists what it will accept (agency, KPI, values, score) and accepts nothing until
confirmed; the same confirmation sent twice is refused with 409 and nothing changes; a request
without its CSRF token, from a reporter, with nothing or garbage selected, is refused.

    review_queue_test.py <esar binary>
Prints FAIL lines, then `N passed, M failed`; exits 1 on any failure.
"""
import html as htmllib
import io
import os
import re
import sys
import struct
import time
import zipfile
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import (ApiClient, Browser, Checks, EXAMPLE, import_example, multipart_file,  # noqa: E402
                          run_cli, ServedScratch, text_of)

check = Checks()

AGENCIES = ("OCS", "BOI", "DSD")  # OGGP's approver uses "approve and submit all"
# KPI 5's values per agency (datasets, quality to the open standard %, share registered %).
KPI5 = {"OCS": {"datasets": 12, "quality_percent": 100, "registered_percent": 95},
        "BOI": {"datasets": 48, "quality_percent": 85, "registered_percent": 70},
        "DSD": {"datasets": 20, "quality_percent": 92, "registered_percent": 85}}


def rows(page):
    """The queue's rows in page order: (submission id, agency name, KPI, score text, href)."""
    body = re.search(r"<tbody>(.*?)</tbody>", page, re.S)
    out = []
    for row in re.findall(r"<tr>(.*?)</tr>", body.group(1) if body else "", re.S):
        link = re.search(r'<th scope="row"><a href="(/review/submissions/(\d+)[^"]*)">([^<]*)</a>', row)
        kpi = re.search(r'<td class="name">([^ <]+)', row)
        score = re.search(r'<td class="num score[^"]*">([^<]*)</td>', row)
        if link and kpi and score:
            out.append((int(link.group(2)), link.group(3), kpi.group(1), score.group(1),
                        htmllib.unescape(link.group(1))))
    return out


def header(page, label):
    """(aria-sort, href) of the queue's column header `label`."""
    m = re.search(r'<th scope="col"[^>]*aria-sort="([a-z]+)"><a href="([^"]+)">' + re.escape(label) + "</a>", page)
    return (m.group(1), htmllib.unescape(m.group(2))) if m else (None, None)


def png():
    """A 1×1 PNG (libmagic tells it as image/png)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


def docx():
    """A small DOCX ([Content_Types].xml first, then word/document.xml)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
                   'openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/'
                   'xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                   'officedocument.wordprocessingml.document.main+xml"/></Types>')
        z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"/>')
        z.writestr("word/document.xml", '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats'
                   '.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>หลักฐาน</w:t></w:r></w:p></w:body></w:document>')
    return buf.getvalue()


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return None


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-review-queue-") as scratch:
        db = scratch.db
        users = [("admin", "admin", None), ("evaluator", "evaluator", None)]
        for code in AGENCIES:
            users += [("reporter." + code.lower(), "reporter", code), ("approver." + code.lower(), "approver", code)]
        users += [("reporter.oggp", "reporter", "OGGP"), ("approver.oggp", "approver", "OGGP")]
        import_example(esar, db, users)
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        base = scratch.serve(esar)

        admin = ApiClient(base).login("admin", "demo-admin-2567")
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        submissions = {}
        for code in AGENCIES:
            reporter = ApiClient(base).login("reporter." + code.lower(), "demo-reporter.%s-2567" % code.lower())
            approver = ApiClient(base).login("approver." + code.lower(), "demo-approver.%s-2567" % code.lower())
            reports = [("5", KPI5[code])] + ([("1", {"completed_within_standard": 180, "received": 200})]
                                              if code == "OCS" else [])
            for kpi, values in reports:
                sub = reporter.json("PUT", "/api/v1/rounds/%d/agencies/%s/kpis/%s" % (round_id, code, kpi),
                                    {"values": values})
                if code == "BOI":  # a PDF as evidence
                    body, content_type = multipart_file("file", "รายงาน.pdf", b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n"
                                                        b"trailer<</Root 1 0 R>>\n%%EOF\n", "application/pdf")
                    reporter.json("POST", "/api/v1/submissions/%d/evidence" % sub["id"], raw=body,
                                  content_type=content_type, expect=201)
                if code == "DSD":  # an image and a Word file as evidence
                    for name, data, ctype in (("ภาพหน้าจอ.png", png(), "image/png"),
                                              ("บันทึก.docx", docx(), "application/octet-stream")):
                        body, content_type = multipart_file("file", name, data, ctype)
                        reporter.json("POST", "/api/v1/submissions/%d/evidence" % sub["id"], raw=body,
                                      content_type=content_type, expect=201)
                approver.json("POST", "/api/v1/submissions/%d/approve" % sub["id"], {})
                approver.json("POST", "/api/v1/submissions/%d/submit" % sub["id"], {})
                submissions[(code, kpi)] = sub["id"]

        # ---- the score each report would earn, as the agency's own form shows it
        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, page = evaluator.page("/review?round=%d" % round_id)
        listed = rows(page)
        check(status == 200 and len(listed) == 4, "the queue lists the four submitted reports (%d, %d)" % (status, len(listed)))
        by_id = {r[0]: r for r in listed}
        for (code, kpi), sid in submissions.items():
            reporter = Browser(base)
            reporter.login("reporter." + code.lower())
            _, form = reporter.page("/agency/rounds/%d/kpis/%s" % (round_id, kpi))
            own = re.search(r"คิดเป็น ([0-9.,]+) คะแนน", text_of(form))
            shown = by_id.get(sid, (None, None, None, None))[3]
            check(own is not None and shown == own.group(1),
                  "%s KPI %s: the queue's score %r is the agency form's %r" % (code, kpi, shown, own and own.group(1)))
        scores = sorted({number(r[3]) for r in listed if r[2] == "5"})
        check(len(scores) >= 2 and None not in scores, "KPI 5's reports earn different scores (%r)" % scores)

        # Counts read as whole numbers on the review page (the reported column), not "180.00".
        status, review = evaluator.page("/review/submissions/%d" % submissions[("OCS", "1")])
        reported = re.findall(r'<td class="num">([^<]*)</td>', review)
        check(status == 200 and "180" in reported and "200" in reported and "180.00" not in review,
              "the review page shows the counts 180 and 200 as integers (%r)" % reported)

        # ---- evidence: an image opens inside the review page, a Word file downloads
        status, review = evaluator.page("/review/submissions/%d" % submissions[("DSD", "5")])
        frames = re.findall(r'<iframe sandbox src="([^"]+)" title="([^"]+)"', review)
        check(status == 200 and len(frames) == 1 and frames[0][0].endswith("/content?inline=1")
              and "ภาพหน้าจอ.png" in frames[0][1], "the PNG opens in a sandboxed frame, the DOCX does not (%r)" % frames)
        check("บันทึก.docx" in review and "ดาวน์โหลดเพื่อเปิดดู" in review, "the DOCX is offered as a download")
        image = htmllib.unescape(frames[0][0]) if frames else "/"
        status, headers, data = evaluator.request("GET", image)
        csp = headers.get("content-security-policy", "")
        check(status == 200 and data == png() and headers.get("content-disposition", "").startswith("inline;"),
              "the image is served inline (%d, %s)" % (status, headers.get("content-disposition")))
        check(csp.startswith("sandbox;") and "script-src 'none'" in csp and "default-src 'none'" in csp
              and "frame-ancestors 'self'" in csp
              and headers.get("x-content-type-options") == "nosniff",
              "with a policy that runs no script and nosniff (%s)" % csp)
        word = re.search(r'<a href="(/api/v1/evidence/\d+/content)" download>บันทึก.docx</a>', review)
        status, headers, _ = evaluator.request("GET", (word.group(1) if word else "/") + "?inline=1")
        check(status == 200 and headers.get("content-disposition", "").startswith("attachment;")
              and "script-src 'none'" in headers.get("content-security-policy", ""),
              "a DOCX asked for inline is still an attachment, under the same policy (%s)" % headers.get("content-disposition"))
        # A PDF is framed without the sandbox attribute (Chromium shows no PDF in such a frame),
        # sandboxed by its own policy instead.
        status, review = evaluator.page("/review/submissions/%d" % submissions[("BOI", "5")])
        frames = re.findall(r'<iframe ([^>]*)src="([^"]+)" title="([^"]+)"', review)
        check(status == 200 and len(frames) == 1 and "sandbox" not in frames[0][0] and "รายงาน.pdf" in frames[0][2],
              "BOI's PDF opens in a frame (%r)" % frames)
        status, headers, data = evaluator.request("GET", htmllib.unescape(frames[0][1]) if frames else "/")
        check(status == 200 and data.startswith(b"%PDF") and headers.get("content-disposition", "").startswith("inline;")
              and headers.get("content-security-policy", "").startswith("sandbox;"),
              "served inline and sandboxed by its policy (%s)" % headers.get("content-security-policy"))

        # ---- sorted by score, both ways; by KPI number; aria-sort says which
        status, page = evaluator.page("/review?round=%d&sort=score" % round_id)
        up = [number(r[3]) for r in rows(page)]
        aria, href = header(page, "คะแนนจากค่าที่รายงาน")
        check(status == 200 and len(up) == 4 and up == sorted(up), "sorted by score, lowest first (%r)" % up)
        check(aria == "ascending" and href and "sort=score&dir=desc" in href, "the score header says ascending (%r, %r)" % (aria, href))
        status, page = evaluator.page(href)
        down = [number(r[3]) for r in rows(page)]
        check(status == 200 and down == sorted(up, reverse=True), "again: highest first (%r)" % down)
        check(header(page, "คะแนนจากค่าที่รายงาน")[0] == "descending", "the score header says descending")
        status, page = evaluator.page("/review?round=%d&sort=kpi&dir=desc" % round_id)
        kpis = [r[2] for r in rows(page)]
        check(kpis == ["5", "5", "5", "1"], "sorted by KPI, descending (%r)" % kpis)
        check(header(page, "ตัวชี้วัด")[0] == "descending", "the KPI header says descending")
        check(header(page, "หน่วยงาน")[0] == "none", "the other headers say none")
        status, _, raw = evaluator.request("GET", "/api/v1/queue/export?round=%d&sort=kpi&format=csv" % round_id)
        check(status == 200, "the queue's export takes sort=kpi (%d)" % status)
        status, _, raw = evaluator.request("GET", "/api/v1/queue/export?round=%d&sort=bogus&format=csv" % round_id)
        check(status == 400 and "kpi" in raw.decode(), "an unknown sort is refused, naming kpi among the sorts (%d)" % status)

        # ---- "next" follows the filtered, sorted queue; deciding moves on to the next item
        status, page = evaluator.page("/review?round=%d&sort=score&dir=desc" % round_id)
        order = rows(page)
        status, review = evaluator.page(order[0][4])
        nxt = re.search(r'<a href="([^"]+)" rel="next" id="queue-next">', review)
        check(status == 200 and nxt is not None and "/review/submissions/%d?" % order[1][0] in htmllib.unescape(nxt.group(1)),
              "the first item's next is the second of the sorted queue (%s)" % (nxt and nxt.group(1)))
        status, last = evaluator.page(order[3][4])
        check(status == 200 and 'id="queue-next"' not in last, "the last item has no next")
        back = re.search(r'<nav class="queue-nav"[^>]*><a href="([^"]+)">', review)
        check(back is not None and "sort=score" in htmllib.unescape(back.group(1)), "the way back keeps the queue's sort")
        action = htmllib.unescape(re.search(r'<form method="post" action="([^"]+)" class="card" id="review-form">', review).group(1))
        status, headers, _ = evaluator.request("POST", action, {"csrf": evaluator.csrf(review), "decision": "accept", "comment": ""})
        location = headers.get("location", "")
        check(status == 303 and "/review/submissions/%d?" % order[1][0] in location and "done=accepted" in location,
              "accepting the first goes on to the next item (%d %s)" % (status, location))
        status, page = evaluator.page("/review?round=%d&sort=score&dir=desc" % round_id)
        remaining = rows(page)
        check([r[0] for r in remaining] == [r[0] for r in order[1:]], "the accepted one left the queue of submitted reports")

        # ---- bulk accept: a confirmation listing what will be accepted, then accepted once
        token = evaluator.csrf(page)
        check(page.count('type="checkbox"') >= 3 and 'action="/review/accept-many"' in page,
              "each submitted report can be selected for bulk accept")
        picks = {"s_%d" % r[0]: "1" for r in remaining[:2]}
        back_to = "/review?round=%d&sort=score&dir=desc" % round_id
        status, _, raw = evaluator.request("POST", "/review/accept-many", dict(picks, back=back_to))
        check(status == 403, "without the CSRF token bulk accept is refused (%d)" % status)
        status, _, raw = evaluator.request("POST", "/review/accept-many", dict(picks, csrf=token, back=back_to))
        confirm = raw.decode()
        listed_text = text_of(re.search(r'id="bulk-items">(.*?)</table>', confirm, re.S).group(1)) if 'id="bulk-items"' in confirm else ""
        check(status == 200 and all(r[1] in listed_text for r in remaining[:2]) and remaining[2][1] not in listed_text,
              "the confirmation lists the two selected agencies and not the third (%d)" % status)
        check(all(r[3] in listed_text for r in remaining[:2]), "it shows each one's score")
        check("12" in listed_text or "48" in listed_text or "20" in listed_text, "it shows the reported values")
        status, page = evaluator.page("/review?round=%d" % round_id)
        check(len(rows(page)) == 3, "nothing is accepted before the confirmation (%d listed)" % len(rows(page)))
        form = {k: htmllib.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                                             confirm[confirm.index('action="/review/accept-many"'):])}
        check(form.get("confirm") == "yes" and all(k in form for k in picks), "the confirmation carries the selection")
        status, headers, _ = evaluator.request("POST", "/review/accept-many", form)
        location = headers.get("location", "")
        check(status == 303 and location.startswith(back_to) and "done=accepted_many" in location,
              "confirmed: back to the queue it came from (%d %s)" % (status, location))
        api = ApiClient(base).login("evaluator", "demo-evaluator-2567")
        states = [api.json("GET", "/api/v1/submissions/%d" % r[0])["status"] for r in remaining]
        check(states == ["accepted", "accepted", "submitted"], "the two are accepted, the third still awaits review (%r)" % states)
        reviews = [len(api.json("GET", "/api/v1/submissions/%d" % r[0]).get("reviews", [])) for r in remaining[:2]]
        check(reviews == [1, 1], "each accepted once (%r reviews)" % reviews)
        # The same confirmation again (a second click): refused, nothing changes.
        status, _, raw = evaluator.request("POST", "/review/accept-many", form)
        again = raw.decode()
        check(status == 409 and 'role="alert"' in again and 'id="bulk-left-out"' in again,
              "the same confirmation again is refused with 409 and lists what moved on (%d)" % status)
        reviews = [len(api.json("GET", "/api/v1/submissions/%d" % r[0]).get("reviews", [])) for r in remaining[:2]]
        check(reviews == [1, 1], "still one review each (%r)" % reviews)
        # A mix: one already accepted with one waiting: refused whole, nothing accepted.
        mixed = {"s_%d" % remaining[0][0]: "1", "s_%d" % remaining[2][0]: "1", "confirm": "yes", "csrf": token}
        status, _, _ = evaluator.request("POST", "/review/accept-many", mixed)
        state = api.json("GET", "/api/v1/submissions/%d" % remaining[2][0])["status"]
        check(status == 409 and state == "submitted", "a selection with one already accepted accepts nothing (%d, %s)" % (status, state))
        for fields, want, what in (({}, 400, "nothing selected"), ({"s_abc": "1"}, 400, "a garbage selection"),
                                   ({"s_01": "1"}, 400, "an id with a leading zero"),
                                   ({"s_999999": "1"}, 404, "an unknown report")):
            status, _, raw = evaluator.request("POST", "/review/accept-many", dict(fields, csrf=token))
            check(status == want and "<html" in raw.decode(), "%s: %d with a page (%d)" % (what, want, status))
        status, _, _ = evaluator.request("POST", "/review/accept-many",
                                         {"s_%d" % remaining[2][0]: "1", "csrf": token, "back": "https://evil.example/"})
        check(status == 200, "a foreign back address is not an error (%d)" % status)
        status, headers, _ = evaluator.request("POST", "/review/accept-many",
                                               {"s_%d" % remaining[2][0]: "1", "csrf": token, "confirm": "yes",
                                                "back": "https://evil.example/"})
        location = headers.get("location", "")
        check(status == 303 and location.startswith("/review?done=accepted_many"),
              "and is not followed: back to the queue (%d %s)" % (status, location))
        # ---- the approver's "approve and submit all": the list first, sent once
        oggp_reporter = ApiClient(base).login("reporter.oggp", "demo-reporter.oggp-2567")
        oggp_approver = ApiClient(base).login("approver.oggp", "demo-approver.oggp-2567")
        drafts = {}
        for kpi, values in (("5", KPI5["DSD"]), ("7", {"score": 81.5}), ("8", {"pmqa": 300})):
            drafts[kpi] = oggp_reporter.json("PUT", "/api/v1/rounds/%d/agencies/OGGP/kpis/%s" % (round_id, kpi),
                                             {"values": values})["id"]
        oggp_approver.json("POST", "/api/v1/submissions/%d/approve" % drafts["7"], {})
        oggp_approver.json("POST", "/api/v1/submissions/%d/send-back" % drafts["8"], {"comment": "โปรดตรวจคะแนนอีกครั้ง"})
        approver = Browser(base)
        approver.login("approver.oggp")
        status, home = approver.page("/agency")
        action = "/agency/rounds/%d/submit-all" % round_id
        check(status == 200 and 'action="%s"' % action in home and "อนุมัติและส่งทั้งหมด…" in home,
              "the approver's round offers 'approve and submit all'")
        status, _, raw = approver.request("POST", action, {})
        check(status == 403, "without the CSRF token it is refused (%d)" % status)
        status, _, raw = approver.request("POST", action, {"csrf": approver.csrf(home)})
        page = raw.decode()
        listed_all = text_of(re.search(r'id="submit-all-items">(.*?)</table>', page, re.S).group(1)) if 'id="submit-all-items"' in page else ""
        check(status == 200 and re.search(r"\b5 ", listed_all) and "81.50" in listed_all and "pmqa" not in listed_all
              and "300" not in listed_all, "the list holds KPI 5 (a draft) and 7 (approved), not 8 (sent back) (%s)" % listed_all[:300])
        states = [api.json("GET", "/api/v1/submissions/%d" % drafts[k])["status"] for k in ("5", "7")]
        check(states == ["draft", "approved"], "nothing is sent before the confirmation (%r)" % states)
        form = {k: htmllib.unescape(v) for k, v in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">',
                                                             page[page.index('<form method="post" action="%s"' % action):])}
        status, headers, _ = approver.request("POST", action, form)
        check(status == 303 and headers.get("location", "") == "/agency?done=submitted_all",
              "confirmed: back home (%d %s)" % (status, headers.get("location")))
        states = [api.json("GET", "/api/v1/submissions/%d" % drafts[k])["status"] for k in ("5", "7", "8")]
        check(states == ["submitted", "submitted", "draft"], "KPIs 5 and 7 are submitted, 8 stays with the reporter (%r)" % states)
        status, _, raw = approver.request("POST", action, form)
        check(status == 409 and 'role="alert"' in raw.decode(), "the same confirmation again is refused with 409 (%d)" % status)
        revisions = [api.json("GET", "/api/v1/submissions/%d" % drafts[k])["revision"] for k in ("5", "7")]
        status, _, _ = approver.request("POST", action, form)
        check(revisions == [api.json("GET", "/api/v1/submissions/%d" % drafts[k])["revision"] for k in ("5", "7")],
              "and nothing changes (revisions %r)" % revisions)
        oggp_browser = Browser(base)
        oggp_browser.login("reporter.oggp")
        status, home = oggp_browser.page("/agency")
        check("อนุมัติและส่งทั้งหมด…" not in home, "a reporter is not offered it")
        status, _, _ = oggp_browser.request("POST", action, {"csrf": oggp_browser.csrf(home)})
        check(status == 403, "and is refused it (%d)" % status)
        status, _, _ = approver.request("POST", action, {"csrf": form["csrf"], "confirm": "yes", "s_x1": "1"})
        check(status == 400, "a garbage id is refused (%d)" % status)

        # ---- appeals: the agency's name, the values at stake and the evidence; decided stay listed
        admin.json("POST", "/api/v1/rounds/%d/close" % round_id, {"reason": "ทดสอบ"})
        prelim = admin.json("POST", "/api/v1/rounds/%d/results" % round_id, {"appeal_days": 14}, expect=201)
        dsd = ApiClient(base).login("reporter.dsd", "demo-reporter.dsd-2567")
        dsd.json("POST", "/api/v1/results/%d/appeals" % prelim["id"],
                 {"kpi": "5", "reason": "ชุดข้อมูลที่ลงทะเบียนแล้วยังไม่ถูกนับ"}, expect=201)
        status, page = evaluator.page("/review/appeals")
        card = re.search(r'<form method="post" action="(/review/appeals/\d+)" class="card">(.*?)</form>', page, re.S)
        text = text_of(card.group(2)) if card else ""
        check(status == 200 and "กรมพัฒนาฝีมือแรงงาน" in text and "ชุดข้อมูลที่ลงทะเบียนแล้วยังไม่ถูกนับ" in text,
              "the open appeal names the agency in words (%d)" % status)
        check("ค่าที่หน่วยงานรายงาน" in text and "20" in text and "92.00" in text and "85.00" in text,
              "it shows the values at stake (%s)" % text[:300])
        check("ภาพหน้าจอ.png" in text and "บันทึก.docx" in text, "and the evidence")
        status, headers, _ = evaluator.request("POST", card.group(1) if card else "/review/appeals/0",
                                               {"csrf": evaluator.csrf(page), "upheld": "no",
                                                "reason": "ตรวจแล้วตรงตามที่รายงาน", "round": str(round_id), "kpi": "5"})
        check(status == 303, "the evaluator rejects the appeal (%d)" % status)
        status, page = evaluator.page("/review/appeals")
        decided = re.search(r'<section class="card appeal-decided"[^>]*>(.*?)</section>', page, re.S)
        text = text_of(decided.group(1)) if decided else ""
        check("กรมพัฒนาฝีมือแรงงาน" in text and "ไม่รับอุทธรณ์" in text and "ตรวจแล้วตรงตามที่รายงาน" in text
              and "ภาพหน้าจอ.png" in text and "92.00" in text,
              "the decided appeal stays listed with its decision, reason, values and evidence (%s)" % text[:300])

        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, page = reporter.page("/agency")
        status, _, _ = reporter.request("POST", "/review/accept-many", {"s_%d" % remaining[1][0]: "1",
                                                                         "csrf": reporter.csrf(page), "confirm": "yes"})
        check(status == 403, "a reporter cannot bulk accept (%d)" % status)
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
