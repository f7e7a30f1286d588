#!/usr/bin/python3
"""An admin's page for one user (issue 12 §2), through the pages without JavaScript, on the
database ESAR_TEST_DB_URL names (a fresh PostgreSQL schema under with_pg_schema.sh) or a fresh
SQLite file: the user's name, role, agency and e-mail address edited (bad values said beside
their field with what was typed kept, a stale form refused, hostile text escaped), the reset
e-mail sent to the address (seen in the outbox), the account disabled (the user's session and
API token refused, the login refused) and enabled again; the audit trail tells each change in
words; only admins reach the page, never without the CSRF field; garbage ids answer 404.

    user_pages_test.py <esar binary>
Prints FAIL lines, then `N passed, M failed`; exits 1 on any failure.
"""
import os
import re
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient, Browser, Checks, ServedScratch, import_example, text_of  # noqa: E402
from authoring_pages_test import beside, form_of  # noqa: E402

check = Checks()


def with_token(base, token):
    """The status of GET /api/v1/me with `token` as the bearer."""
    req = urllib.request.Request(base + "/api/v1/me", headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def user_id(page, username):
    m = re.search(r'href="/admin/users/(\d+)">%s<' % re.escape(username), page)
    return int(m.group(1)) if m else 0


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-user-pages-") as scratch:
        import_example(esar, scratch.db, [("admin", "admin", None), ("reporter.ocs", "reporter", "OCS"),
                                          ("evaluator", "evaluator", None)])
        base = scratch.serve(esar)
        admin = Browser(base)
        admin.login("admin")
        status, page = admin.page("/admin/users")
        rid, aid = user_id(page, "reporter.ocs"), user_id(page, "admin")
        check(status == 200 and rid > 0 and aid > 0, "the users list links each user to their page (%d)" % status)
        here = "/admin/users/%d" % rid

        # Only admins reach it.
        status, headers, _ = Browser(base).get(here)
        check(status == 303 and headers.get("location", "").startswith("/login"),
              "the public is sent to log in (%d)" % status)
        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, _, _ = evaluator.get(here)
        check(status == 403, "an evaluator may not open a user's page (%d)" % status)
        for path in ("/admin/users/abc", "/admin/users/0", "/admin/users/999999", "/admin/users/-1"):
            status, _, _ = admin.get(path)
            check(status == 404, "%s answers 404 (%d)" % (path, status))

        # The reporter is logged in, with an API token, before anything changes.
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, _ = reporter.page("/agency")
        check(status == 200, "the reporter is logged in (%d)" % status)
        api = ApiClient(base)
        api.login("reporter.ocs", "demo-reporter.ocs-2567")
        token = api.json("POST", "/api/v1/tokens", {"name": "sync", "scope": "read"}, expect=201)["token"]
        status = with_token(base, token)
        check(status == 200, "the reporter's token works (%d)" % status)

        status, page = admin.page(here)
        fields = form_of(page, here)
        check(status == 200 and fields.get("role") == "reporter" and fields.get("agency") == "OCS" and
              fields.get("email") == "" and fields.get("version"),
              "the form holds the user as stored: reporter of OCS, no address (%s)" % fields)
        check("ไม่มีอีเมล" in text_of(page) and 'action="%s/reset"' % here not in page,
              "without an address the page says so and offers no reset e-mail")
        csrf = admin.csrf(page)

        # Bad values: said beside their field, what was typed kept, nothing saved.
        bad = dict(fields, csrf=csrf, email="somchai@", display_name="<b>สมชาย</b>")
        status, _, raw = admin.request("POST", here, bad)
        page = raw.decode()
        check(status == 400 and "ไม่ถูกต้อง" in beside(page, "f-email"),
              "a bad address is refused beside the address field (%d: %r)" % (status, beside(page, "f-email")))
        kept = form_of(page, here)
        check(kept.get("email") == "somchai@" and kept.get("display_name") == "<b>สมชาย</b>",
              "  what was typed is kept (%s)" % kept)
        check("<b>สมชาย</b>" not in page and "&lt;b&gt;สมชาย&lt;/b&gt;" in page, "  hostile text comes back escaped")
        check('aria-invalid="true"' in page and 'href="#f-email"' in page,
              "  the field is marked invalid and the summary links to it")
        status, _, raw = admin.request("POST", here, dict(fields, csrf=csrf, agency=""))
        check(status == 400 and "หน่วยงาน" in beside(raw.decode(), "f-agency"),
              "a reporter without an agency is refused beside the agency field (%d)" % status)
        status, _, raw = admin.request("POST", here, dict(fields, csrf=csrf, role="king"))
        check(status == 400 and beside(raw.decode(), "f-role"), "an unknown role is refused beside the role field (%d)" % status)
        status, _, _ = admin.request("POST", here, dict(fields, csrf="", display_name="x"))
        check(status == 403, "without the CSRF field nothing is saved (%d)" % status)
        status, _, _ = evaluator.request("POST", here, dict(fields, csrf=evaluator.csrf(evaluator.page("/review")[1]), display_name="x"))
        check(status == 403, "an evaluator may not save a user (%d)" % status)
        status, page = admin.page(here)
        check(form_of(page, here) == fields, "nothing was saved by the refusals")

        # A good edit.
        good = dict(fields, csrf=csrf, display_name="สมชาย ใจดี", email=" somchai@ocs.go.th ")
        status, headers, _ = admin.request("POST", here, good)
        where = headers.get("location", "")
        check(status == 303 and where.endswith("?done=user_saved"), "the admin saves the user (%d %s)" % (status, where))
        status, page = admin.page(where)
        saved = form_of(page, here)
        check(saved.get("display_name") == "สมชาย ใจดี" and saved.get("email") == "somchai@ocs.go.th",
              "the page shows what was saved, the address trimmed (%s)" % saved)
        check("บันทึกข้อมูลผู้ใช้แล้ว" in text_of(page), "  and says it was saved")
        # The same (now stale) form again is refused and says why.
        status, _, raw = admin.request("POST", here, dict(fields, csrf=csrf, display_name="ชื่อเก่า"))
        check(status == 409 and "มีผู้อื่นแก้ไขผู้ใช้นี้" in text_of(raw.decode()),
              "a stale form is refused and says someone changed the user (%d)" % status)
        check(form_of(admin.page(here)[1], here).get("display_name") == "สมชาย ใจดี", "  and changed nothing")

        # The reset e-mail goes to the address.
        status, page = admin.page(here)
        check('action="%s/reset"' % here in page and "somchai@ocs.go.th" in text_of(page),
              "with an address the page offers the reset e-mail to it")
        status, headers, _ = admin.request("POST", here + "/reset", {"csrf": csrf})
        check(status == 303 and headers.get("location", "").endswith("?done=reset_link_sent"),
              "the admin sends the reset e-mail (%d)" % status)
        status, page = admin.page("/admin/outbox")
        rows = [text_of(r) for r in re.findall(r"<tr>(.*?)</tr>", page, re.S)]
        check(any("password.reset" in r and "somchai@ocs.go.th" in r for r in rows),
              "the outbox holds the reset e-mail to somchai@ocs.go.th")

        # Disabled: out everywhere.
        status, page = admin.page(here)
        disable = form_of(page, here + "/active")
        check(disable.get("active") == "0", "an active user's page offers to disable the account")
        status, headers, _ = admin.request("POST", here + "/active", disable)
        check(status == 303 and headers.get("location", "").endswith("?done=user_disabled"),
              "the admin disables the account (%d)" % status)
        status, headers, _ = reporter.get("/agency")
        check(status == 303 and headers.get("location", "").startswith("/login"),
              "the reporter's session is gone: sent to log in (%d)" % status)
        status = with_token(base, token)
        check(status == 401, "the reporter's API token is refused (%d)" % status)
        again = Browser(base)
        status, headers, raw = again.login_fields({"username": "reporter.ocs", "password": "demo-reporter.ocs-2567", "next": "/"})
        check(status != 303, "the reporter cannot log in (%d)" % status)
        status, page = admin.page(here)
        check("บัญชีนี้ถูกปิดใช้" in text_of(page) and 'action="%s/reset"' % here not in page,
              "the page says the account is disabled and offers no reset e-mail")
        status, page = admin.page("/admin/users")
        check("ปิดใช้อยู่" in text_of(page), "the users list shows the account disabled")
        status, _, raw = admin.request("POST", here + "/reset", {"csrf": csrf})
        check(status == 409 and "ปิดใช้" in text_of(raw.decode()), "a reset e-mail for a disabled user is refused (%d)" % status)
        status, _, _ = admin.request("POST", here + "/active", dict(disable, active="maybe"))
        check(status == 400, "an active value other than 0 or 1 is refused (%d)" % status)

        # Enabled again.
        status, page = admin.page(here)
        enable = form_of(page, here + "/active")
        status, headers, _ = admin.request("POST", here + "/active", enable)
        check(status == 303 and enable.get("active") == "1", "the admin enables the account again (%d)" % status)
        status, headers, _ = again.login_fields({"username": "reporter.ocs", "password": "demo-reporter.ocs-2567", "next": "/"})
        check(status == 303, "the reporter logs in again (%d)" % status)
        check(with_token(base, token) == 200, "their token works again")

        # One's own page: no disabling oneself.
        status, page = admin.page("/admin/users/%d" % aid)
        check(status == 200 and 'action="/admin/users/%d/active"' % aid not in page and "บัญชีของคุณเอง" in text_of(page),
              "the admin's own page offers no disabling and says why")
        own = form_of(page, "/admin/users/%d" % aid)
        status, _, raw = admin.request("POST", "/admin/users/%d/active" % aid, {"csrf": csrf, "active": "0", "version": own["version"]})
        check(status == 409, "disabling oneself is refused (%d)" % status)
        status, _, raw = admin.request("POST", "/admin/users/%d" % aid, dict(own, csrf=csrf, role="evaluator"))
        check(status == 400 and beside(raw.decode(), "f-role"), "changing one's own role is refused beside the role (%d)" % status)
        for path in ("/admin/users/abc", "/admin/users/999999/active", "/admin/users/abc/reset"):
            status, _, _ = admin.request("POST", path, dict(own, csrf=csrf, active="0"))
            check(status == 404, "POST %s answers 404 (%d)" % (path, status))

        # The audit trail tells it in words.
        status, page = admin.page("/admin/audit?kind=user")
        shown = text_of(page)
        check("แก้ไขข้อมูลผู้ใช้" in shown and "สมชาย ใจดี" in shown, "the audit trail shows the edit with the new name")
        check("ปิดใช้บัญชีผู้ใช้" in shown and "เปิดใช้บัญชีผู้ใช้อีกครั้ง" in shown, "  the account disabled and enabled")
        check("ขอลิงก์ตั้งรหัสผ่านใหม่" in shown, "  and the reset e-mail asked for")

        # ---- one agency added and edited by a form ----
        status, page = admin.page("/admin/agencies")
        check('href="/admin/agencies/add"' in page, "the agencies page links to the form adding one")
        add = "/admin/agencies/add"
        status, page = admin.page(add)
        blank = form_of(page, add)
        check(status == 200 and set(blank) >= {"code", "name_th", "name_en", "kind", "parent"},
              "the form asks for code, Thai and English names, kind and parent (%s)" % sorted(blank))
        labels = re.findall(r"<option value=\"(\w+)\">[^<]*\((\w+)\)</option>",
                            re.search(r'<select id="f-parent".*?</select>', page, re.S).group(0))
        order = [code for code, _ in labels]
        check("OCS" in order and "BOI" in order and order.index("OCS") < order.index("BOI"),
              "the parents are listed in Thai order of their names (กฤษฎีกา before ส่งเสริม), not by code")
        new = dict(blank, csrf=csrf, code="D O E", name_th="กรมการจัดหางาน",
                   name_en="Department of Employment", kind="department", parent="",
                   email="saraban@doe.go.th")
        status, _, raw = admin.request("POST", add, new)
        page = raw.decode()
        check(status == 400 and "รหัสหน่วยงาน" in beside(page, "f-code"),
              "a code with spaces is refused beside the code field (%d: %r)" % (status, beside(page, "f-code")))
        check(form_of(page, add).get("name_th") == "กรมการจัดหางาน", "  what was typed is kept")
        status, _, raw = admin.request("POST", add, dict(new, code="OCS"))
        check(status == 400 and "มีหน่วยงานรหัส" in beside(raw.decode(), "f-code"), "a code taken is refused beside the code (%d)" % status)
        status, _, raw = admin.request("POST", add, dict(new, code="DOE", kind=""))
        check(status == 400 and beside(raw.decode(), "f-kind"), "no kind is refused beside the kind (%d)" % status)
        status, _, _ = admin.request("POST", add, dict(new, code="DOE", csrf=""))
        check(status == 403, "without the CSRF field no agency is added (%d)" % status)
        status, _, _ = evaluator.request("POST", add, dict(new, code="DOE", csrf=evaluator.csrf(evaluator.page("/review")[1])))
        check(status == 403, "an evaluator may not add an agency (%d)" % status)
        status, headers, _ = admin.request("POST", add, dict(new, code="DOE"))
        where = headers.get("location", "")
        check(status == 303 and "done=agency_added" in where, "the admin adds DOE (%d %s)" % (status, where))
        status, page = admin.page(where)
        check("กรมการจัดหางาน" in text_of(page) and 'href="/admin/agencies/DOE/edit"' in page,
              "the list shows DOE with a link to edit it")
        row = re.search(r'<tr><td><a href="/admin/agencies/DOE/edit".*?</tr>', page, re.S)
        check(row is not None and "saraban@doe.go.th" in row.group(0),
              "  with its e-mail address in its row")
        # The whole list as the import takes it, to edit and import again.
        check('href="/api/v1/agencies/export?format=csv"' in page and
              'href="/api/v1/agencies/export?format=xlsx"' in page,
              "the agencies page offers the list as CSV and XLSX")
        status, headers, raw = admin.request("GET", "/api/v1/agencies/export?format=csv")
        lines = raw.decode("utf-8-sig").splitlines()
        check(status == 200 and headers.get("content-type", "").startswith("text/csv") and
              lines[0] == "code,name_th,name_en,kind,parent,email" and
              "DOE,กรมการจัดหางาน,Department of Employment,department,,saraban@doe.go.th" in lines,
              "the CSV has the import's columns and DOE's row (%d): %r" % (status, lines[:1]))
        # Imported back, edited in one cell: only that changes.
        edited = "\n".join(l.replace("Department of Employment", "Department of Employment (edited)")
                           for l in lines)
        status, page = admin.page("/admin/agencies")
        status, headers, _ = admin.request("POST", "/admin/agencies", {"csrf": admin.csrf(page), "csv": edited})
        check(status == 303, "the exported list, one name edited, is imported again (%d)" % status)
        _, _, raw = admin.request("GET", "/api/v1/agencies/export?format=csv")
        again = raw.decode("utf-8-sig").splitlines()
        check(again == [l.replace("Department of Employment", "Department of Employment (edited)") for l in lines],
              "  and exported again it differs from the first in that name alone")
        status, _, raw = admin.request("GET", "/api/v1/agencies/export?format=xlsx")
        check(status == 200 and raw[:2] == b"PK", "the XLSX is a spreadsheet (%d)" % status)
        # The XLSX imported back as it came (the page's file field) changes nothing.
        status, page = admin.page("/admin/agencies")
        body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n" + admin.csrf(page).encode() +
                b"\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"agencies.xlsx\"\r\n"
                b"Content-Type: application/octet-stream\r\n\r\n" + raw + b"\r\n--b--\r\n")
        status, _, _ = admin.request("POST", "/admin/agencies", body=body,
                                     content_type="multipart/form-data; boundary=b")
        _, _, after = admin.request("GET", "/api/v1/agencies/export?format=csv")
        check(status == 303 and after.decode("utf-8-sig").splitlines() == again,
              "  and imported back as it came (%d) it changes nothing" % status)
        status, page = admin.page("/admin/agencies")
        status, _, _ = admin.request("POST", "/admin/agencies", {"csrf": admin.csrf(page), "csv": "\n".join(lines)})
        _, _, raw = admin.request("GET", "/api/v1/agencies/export?format=csv")
        check(status == 303 and raw.decode("utf-8-sig").splitlines() == lines,
              "  the first file imported again puts every agency back as it was (%d)" % status)
        status, _, _ = evaluator.request("GET", "/api/v1/agencies/export")
        check(status == 403, "an evaluator may not download the agencies with their addresses (%d)" % status)
        edit = "/admin/agencies/DOE/edit"
        status, page = admin.page(edit)
        stored = form_of(page, edit)
        check(status == 200 and stored.get("name_en") == "Department of Employment" and "code" not in stored,
              "the edit form holds the agency as stored, its code not editable")
        status, headers, _ = admin.request("POST", edit, dict(stored, csrf=csrf, parent="MOL"))
        check(status == 303 and "done=agency_saved" in headers.get("location", ""), "the admin puts DOE under MOL (%d)" % status)
        status, _, raw = admin.request("POST", edit, dict(stored, csrf=csrf, parent="PMO"))
        check(status == 409 and "มีผู้อื่นแก้ไขหน่วยงานนี้" in text_of(raw.decode()), "the same form again is stale (%d)" % status)
        status, page = admin.page("/admin/agencies/MOL/edit")
        mol = form_of(page, "/admin/agencies/MOL/edit")
        status, _, raw = admin.request("POST", "/admin/agencies/MOL/edit", dict(mol, csrf=csrf, parent="DOE"))
        check(status == 400 and "DOE" in beside(raw.decode(), "f-parent"), "a ministry cannot belong to its own department (%d)" % status)
        for path in ("/admin/agencies/NOPE/edit", "/admin/agencies/%3Cb%3E/edit"):
            status, _, _ = admin.get(path)
            check(status == 404, "GET %s answers 404 (%d)" % (path, status))
        status, page = admin.page("/admin/audit?kind=agency&agency=DOE")
        shown = text_of(page)
        check("แก้ไขหน่วยงาน: หน่วยงาน DOE" in shown and "สังกัด" in shown and "MOL" in shown,
              "the audit trail tells the edit of DOE in words (belongs to: none -> MOL)")
        check("เพิ่มหน่วยงาน: หน่วยงาน DOE" in shown, "  and its addition")

        # In English.
        admin.request("GET", "/lang/en?next=/admin/users")
        status, _, raw = admin.request("POST", here, dict(saved, csrf=csrf, email="nope"))
        check(status == 400 and "is not a valid e-mail address" in beside(raw.decode(), "f-email"),
              "the English page says the address is not valid (%d)" % status)
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
