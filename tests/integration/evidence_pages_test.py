#!/usr/bin/python3
"""Evidence on the agency's KPI page (issue 12 §4), without JavaScript, on SQLite or (under
with_pg_schema.sh) PostgreSQL:

- a file attached before anything is saved: the page offers the upload at once, the upload makes
  the KPI's draft (values empty) and lists the file; a refused file, a wrong CSRF token or an
  approver's upload makes nothing;
- a file attached by mistake removed while the report is a draft: a button, a confirmation page
  naming the file, CSRF-checked, the agency's reporter only; the file leaves the report but its
  bytes stay in the store, the audit log names it (admin's audit page, `esar audit verify`
  whole), a second removal is 404, and once the report is approved nothing more is removed (409);
- the same through the API (DELETE /api/v1/evidence/{id}).

    evidence_pages_test.py <esar binary>
"""
import hashlib
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import (ApiClient, Browser, Checks, EXAMPLE, ServedScratch, import_example,  # noqa: E402
                          run_cli, text_of)

check = Checks()

PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def multipart(filename, data):
    body = (b"--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename.encode() +
            b"\"\r\nContent-Type: application/pdf\r\n\r\n" + data + b"\r\n--x--\r\n")
    return body, "multipart/form-data; boundary=x"


def upload_action(html):
    """The KPI page's upload form's action (entities decoded), or None."""
    m = re.search(r'<form method="post" action="([^"]+/evidence\?csrf=[^"]+)" enctype="multipart/form-data"', html)
    return m.group(1).replace("&amp;", "&") if m else None


def submissions_of(api, round_id, kpi):
    items = api.json("GET", f"/api/v1/rounds/{round_id}/submissions?per_page=200").get("items", [])
    return [s for s in items if s.get("kpi") == kpi]


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-evidence-pages-") as scratch:
        db = scratch.db
        files = os.path.join(scratch.work, "files")
        import_example(esar, db, (("admin", "admin", None), ("reporter.ocs", "reporter", "OCS"),
                                  ("approver.ocs", "approver", "OCS"), ("reporter.boi", "reporter", "BOI")))
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        base = scratch.serve(esar)
        admin_api = ApiClient(base).login("admin", "demo-admin-2567")
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin_api.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline},
                                  expect=201)["id"]
        api = ApiClient(base).login("reporter.ocs", "demo-reporter.ocs-2567")

        # ---- a file before the first save ----
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        kpi = f"/agency/rounds/{round_id}/kpis/1"
        status, html = reporter.page(kpi)
        action = upload_action(html)
        check(status == 200 and action is not None and action.startswith(kpi + "/evidence?csrf="),
              "before anything is saved, the KPI page offers the evidence upload (%s)" % action)
        check("การอัปโหลดครั้งแรกจะสร้างร่างรายงาน" in html, "  and says the first upload makes the draft")
        check(submissions_of(api, round_id, "1") == [], "  nothing is reported for KPI 1 yet")
        action = action or (kpi + "/evidence?csrf=x")
        # Refused: a wrong token, a file that is not evidence, an approver: nothing is made.
        body, ctype = multipart("first.pdf", PDF)
        status, _, raw = reporter.request("POST", action.replace("csrf=", "csrf=0"), body=body, content_type=ctype)
        check(status == 403, "an upload with the wrong CSRF token is refused (%d)" % status)
        exe, _ = multipart("a.pdf", b"MZ\x90\x00binary")
        status, _, raw = reporter.request("POST", action, body=exe, content_type=ctype)
        check(status in (400, 415) and "PDF, DOCX, XLSX, PNG" in raw.decode(),
              "a file that is not evidence gets a page saying why (%d)" % status)
        approver = Browser(base)
        approver.login("approver.ocs")
        status, html = approver.page(kpi)
        check(upload_action(html) is None, "the approver is offered no upload")
        status, _, _ = approver.request("POST", kpi + "/evidence?csrf=" + approver.csrf(html), body=body,
                                        content_type=ctype)
        check(status == 403, "an approver's upload is refused (%d)" % status)
        check(submissions_of(api, round_id, "1") == [], "  after the refusals, still nothing for KPI 1")
        # The upload itself makes the draft.
        status, headers, _ = reporter.request("POST", action, body=body, content_type=ctype)
        check(status == 303 and headers.get("location") == kpi + "?done=uploaded",
              "the first upload redirects back to the KPI (%d %s)" % (status, headers.get("location")))
        made = submissions_of(api, round_id, "1")
        check(len(made) == 1 and made[0]["status"] == "draft", "  and made KPI 1's draft (%s)" % made)
        sid = made[0]["id"] if made else 0
        sub = api.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("values") == {} and [e["name"] for e in sub.get("evidence", [])] == ["first.pdf"],
              "  a draft with no values holding the file (%s)" % {k: sub.get(k) for k in ("values", "evidence")})
        status, html = reporter.page(kpi + "?done=uploaded")
        check("อัปโหลดหลักฐานแล้ว" in html and "first.pdf" in html, "the KPI page lists the file")
        # Values saved afterwards go into the same draft and keep the file.
        status, headers, _ = reporter.request("POST", kpi, {"csrf": reporter.csrf(html), "v_received": "200",
                                                            "v_completed_within_standard": "180"})
        check(status == 303, "the values are saved after the file (%d)" % status)
        sub = api.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("values", {}).get("received") == 200 and len(sub.get("evidence", [])) == 1,
              "  into the same draft, the file kept (%s)" % sub.get("evidence"))

        # ---- a mistaken file removed from the draft ----
        body2, _ = multipart("wrong file.pdf", PDF + b"% another\n")
        status, html = reporter.page(kpi)
        upload = upload_action(html)
        status, headers, _ = reporter.request("POST", upload, body=body2, content_type=ctype)
        check(status == 303, "a second file is uploaded (%d)" % status)
        sub = api.json("GET", f"/api/v1/submissions/{sid}")
        wrong = [e for e in sub.get("evidence", []) if e["name"] == "wrong file.pdf"]
        check(len(wrong) == 1, "  it is listed with the report")
        wrong_id = wrong[0]["id"] if wrong else 0
        wrong_sha = wrong[0]["sha256"] if wrong else ""
        status, html = reporter.page(kpi)
        remove = f"/agency/evidence/{wrong_id}/remove"
        check(f'action="{remove}"' in html and "นำออก<span class=\"sr\">: wrong file.pdf</span>" in html,
              "the draft's page offers to remove each file, named for screen readers")
        token = reporter.csrf(html)
        status, _, raw = reporter.request("POST", remove, {"confirm": "yes"})
        check(status == 403, "a removal without the CSRF field is refused (%d)" % status)
        for who, user in ((approver, "approver.ocs"), (None, "reporter.boi")):
            b = who or Browser(base)
            if who is None:
                b.login(user)
            _, page = b.page("/agency")
            status, _, _ = b.request("POST", remove, {"csrf": b.csrf(page), "confirm": "yes"})
            check(status == 403, "%s may not remove OCS's file (%d)" % (user, status))
        status, _, raw = reporter.request("POST", remove, {"csrf": token})
        page = raw.decode()
        check(status == 200 and "wrong file.pdf" in page and "ยืนยันนำไฟล์ออก" in page
              and 'name="confirm" value="yes"' in page,
              "without confirm=yes the reporter gets a page naming the file to confirm (%d)" % status)
        check(len(api.json("GET", f"/api/v1/submissions/{sid}").get("evidence", [])) == 2,
              "  and nothing is removed yet")
        status, headers, _ = reporter.request("POST", remove, {"csrf": token, "confirm": "yes"})
        check(status == 303 and headers.get("location") == kpi + "?done=evidence_removed",
              "the confirmed removal goes back to the KPI (%d %s)" % (status, headers.get("location")))
        status, html = reporter.page(kpi + "?done=evidence_removed")
        check("นำหลักฐานออกจากร่างรายงานแล้ว" in html and "wrong file.pdf" not in html and "first.pdf" in html,
              "the page says so and lists only the file kept")
        names = [e["name"] for e in api.json("GET", f"/api/v1/submissions/{sid}").get("evidence", [])]
        check(names == ["first.pdf"], "the API lists only the file kept (%s)" % names)
        status, _, _ = api.call("GET", f"/api/v1/evidence/{wrong_id}/content")
        check(status == 404, "the removed file is no longer served (%d)" % status)
        status, _, _ = reporter.request("POST", remove, {"csrf": token, "confirm": "yes"})
        check(status == 404, "removing it twice answers 404 (%d)" % status)
        stored = os.path.join(files, wrong_sha[:2], wrong_sha)
        kept = [os.path.join(d, f) for d, _, fs in os.walk(files) for f in fs if wrong_sha and wrong_sha in f]
        check(bool(kept) and hashlib.sha256(open(kept[0], "rb").read()).hexdigest() == wrong_sha,
              "the file's bytes stay in the store (%s)" % (kept or stored))
        admin = Browser(base)
        admin.login("admin")
        status, html = admin.page("/admin/audit")
        text = text_of(html)
        check(status == 200 and "นำหลักฐานที่แนบผิดออก" in text and "wrong file.pdf" in text,
              "the admin's audit trail shows the removal with the file's name")
        verify = subprocess.run([esar, "audit", "verify", "--db", db, "--data-dir", files],
                                capture_output=True, text=True)
        check(verify.returncode == 0, "esar audit verify finds the log and the store whole: "
              + ((verify.stdout + verify.stderr).strip().splitlines() or [""])[-1])

        # ---- through the API ----
        status, _, raw = api.call("POST", f"/api/v1/submissions/{sid}/evidence", raw=body2, content_type=ctype)
        api_file = json.loads(raw.decode()).get("id") if status == 201 else 0
        check(status == 201, "a file attached through the API (%d)" % status)
        boi = ApiClient(base).login("reporter.boi", "demo-reporter.boi-2567")
        status, _, _ = boi.call("DELETE", f"/api/v1/evidence/{api_file}")
        check(status == 403, "another agency's reporter may not remove it through the API (%d)" % status)
        status, _, raw = api.call("DELETE", f"/api/v1/evidence/{api_file}")
        check(status == 200 and json.loads(raw.decode()).get("name") == "wrong file.pdf",
              "the reporter removes it through the API (%d)" % status)
        status, _, _ = api.call("DELETE", f"/api/v1/evidence/{api_file}")
        check(status == 404, "  a second DELETE answers 404 (%d)" % status)

        # ---- once approved, the files stay ----
        status, html = approver.page(kpi)
        status, headers, _ = approver.request("POST", f"/agency/submissions/{sid}/approve",
                                              {"csrf": approver.csrf(html)})
        check(status == 303, "the approver approves (%d)" % status)
        keep_id = api.json("GET", f"/api/v1/submissions/{sid}")["evidence"][0]["id"]
        status, html = reporter.page(kpi)
        check("/remove\"" not in html, "an approved report's page offers no removal")
        status, _, raw = reporter.request("POST", f"/agency/evidence/{keep_id}/remove",
                                          {"csrf": reporter.csrf(html), "confirm": "yes"})
        check(status == 409 and "เฉพาะขณะที่รายงานยังเป็นร่าง" in raw.decode(),
              "removing a file of an approved report is refused in Thai (%d)" % status)
        status, _, raw = api.call("DELETE", f"/api/v1/evidence/{keep_id}")
        check(status == 409 and b"only while the report is a draft" in raw,
              "  and through the API, in English too (%d)" % status)
        check(len(api.json("GET", f"/api/v1/submissions/{sid}").get("evidence", [])) == 1, "  the file stays")
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
