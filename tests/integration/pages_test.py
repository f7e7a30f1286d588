#!/usr/bin/python3
"""The web pages without a browser or JavaScript: every form posts and redirects, so a plain
HTTP client walks the reporting cycle; pages for signed-in roles send the public to the login
page and other roles to a 403; POSTs without the session's CSRF field are refused; what users
type is escaped; redirects stay on the site; static files are compressed, cached and revalidated.

    pages_test.py <esar binary>
"""
import gzip
import http.client
import os
import re
import shutil
import sys
import tempfile
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import run_cli, start_server, stop_server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ocs-2567")
passed = failed = 0


def check(ok, what):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL " + what)


class Browser:
    """Cookies and keep-alive; no JavaScript."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}

    def request(self, method, path, fields=None, body=None, content_type=None, headers=None):
        conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if self.cookies:
            h["Cookie"] = "; ".join("%s=%s" % kv for kv in self.cookies.items())
        if fields is not None:
            body = urllib.parse.urlencode(fields).encode()
            content_type = "application/x-www-form-urlencoded"
        if content_type:
            h["Content-Type"] = content_type
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        raw = r.read()
        for k, v in r.getheaders():
            if k.lower() == "set-cookie":
                name, value = v.split(";")[0].split("=", 1)
                if "Max-Age=0" in v:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = value
        conn.close()
        return r.status, dict((k.lower(), v) for k, v in r.getheaders()), raw

    def get(self, path):
        return self.request("GET", path)

    def page(self, path):
        status, headers, raw = self.get(path)
        return status, raw.decode("utf-8")

    def csrf(self, html):
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        return m.group(1) if m else ""

    def login_fields(self, fields):
        """Opens the login page (for its form token, as a browser would) and posts `fields`."""
        status, html = self.page("/login")
        m = re.search(r'name="login_csrf" value="([0-9a-f]+)"', html)
        return self.request("POST", "/login", dict(fields, login_csrf=m.group(1) if m else ""))

    def login(self, user):
        status, headers, _ = self.login_fields({"username": user, "password": "demo-%s-2567" % user,
                                                "next": "/"})
        return status, headers.get("location", "")


def main():
    esar = sys.argv[1]
    work = tempfile.mkdtemp(prefix="esar-pages-")
    proc = None
    try:
        # A fresh PostgreSQL schema under with_pg_schema.sh; a fresh SQLite file otherwise.
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(work, "esar.db")
        # An agency whose name is markup: it must come out as text.
        with open(os.path.join(EXAMPLE, "agencies.csv"), encoding="utf-8") as f:
            agencies = f.read().rstrip("\n") + '\nXSS,"<script>alert(1)</script> สำนักงาน",<b>x</b>,department,PMO\n'
        with open(os.path.join(work, "agencies.csv"), "w", encoding="utf-8") as f:
            f.write(agencies)
        run_cli(esar, ["import", "agencies", os.path.join(work, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        run_cli(esar, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        for user, role, agency in (("admin", "admin", None), ("evaluator", "evaluator", None),
                                   ("reporter.ocs", "reporter", "OCS"), ("approver.ocs", "approver", "OCS")):
            run_cli(esar, ["admin", "create-user", "--db", db, "--username", user, "--role", role]
                    + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "demo-%s-2567" % user})
        proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "server.log"))
        if not base:
            sys.exit("pages_test.py: esar serve did not start")

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
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                     "round": "12", "date": "2099-09-30", "time": "16:30"})
        check(status == 303 and "done=round_opened" in headers.get("location", ""), "the admin opens the round")
        status, html = admin.page("/admin/rounds")
        check("30 ก.ย. 2642 16:30 น." in html, "the deadline is shown in Buddhist Era, Bangkok time")
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
        check("ผลนี้ได้ 75.00 คะแนน" in html, "the what-if fragment scores typed values: " + html.strip()[:120])
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
        status, html = evaluator.page("/review/submissions/" + submission)
        check("1,000" in html or "1000" in html, "the review page shows the reported values")
        status, headers, _ = evaluator.request("POST", "/review/submissions/" + submission,
                                               {"csrf": evaluator.csrf(html), "decision": "accept",
                                                "v_received": "1000", "v_completed_within_standard": "900",
                                                "comment": "ครบถ้วน"})
        check(status == 303 and "done=accepted" in headers["location"], "the evaluator accepts (%d)" % status)

        # ---- results, published and shown to the public ----
        status, html = admin.page("/admin/results")
        token = admin.csrf(html)
        for action in ("compute", "finalize", "publish"):
            status, headers, _ = admin.request("POST", "/admin/results/1/" + action,
                                               {"csrf": token, "appeal_days": "0"})
            check(status == 303, "the admin can %s (%d)" % (action, status))
        status, html = public.page("/?sort=name")
        names = re.findall(r'<th scope="row"><a href="/results/1/agencies/[^"]+">([^<]+)</a>', html)
        check(len(names) >= 5, "the public list shows the agencies (%d)" % len(names))
        check(names.index("สำนักงานคณะกรรมการกฤษฎีกา") < names.index("สำนักงานคณะกรรมการส่งเสริมการลงทุน")
              if "สำนักงานคณะกรรมการส่งเสริมการลงทุน" in names else True, "names are in Thai dictionary order")
        status, html = public.page("/?q=" + urllib.parse.quote("กฤษฎีกา"))
        check(html.count('<th scope="row"><a href="/results/1/agencies/') == 1, "search finds one agency")
        status, html = public.page("/results/1/agencies/OCS")
        check(status == 200 and "ที่มาของคะแนน" in html, "the agency report opens with explanations")
        status, html = public.page("/results/1/agencies/NOPE")
        check(status == 404, "an unknown agency's report is a 404 page (%d)" % status)

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
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)
    print("pages: %d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
