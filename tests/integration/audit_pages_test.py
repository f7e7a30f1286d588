#!/usr/bin/python3
"""The audit trail page for admins (issue 12 §6), through the pages without JavaScript, on the
database ESAR_TEST_DB_URL names (a fresh PostgreSQL schema under with_pg_schema.sh) or a fresh
SQLite file: an admin opens a round, grants an extension, changes and removes it; the page lists
those changes newest first, each with who, when (Buddhist Era), what and before → after in words,
in Thai and in English; the filters by agency, user, kind of change and time (dates typed as
day/month/Buddhist Era year) narrow it; pages are read older by sequence; bad filters are said in
words with a 400; hostile text in a filter comes back escaped; only admins see the page.

    audit_pages_test.py <esar binary>
Prints FAIL lines, then `N passed, M failed`; exits 1 on any failure.
"""
import os
import re
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import Browser, Checks, import_example, ServedScratch, text_of  # noqa: E402

check = Checks()


def q(text):
    return urllib.parse.quote(text)


def entries(html):
    """The entries of an audit page, in page order, as their text."""
    return [text_of(m) for m in re.findall(r'<li class="audit-entry"[^>]*>(.*?)</li>\s*(?=<li class="audit-entry"|</ol>)',
                                           html, re.S)]


def be_date(t):
    """A moment's Bangkok day as the date field takes it: 30/9/2567."""
    d = time.gmtime(t + 7 * 3600)
    return "%d/%d/%d" % (d.tm_mday, d.tm_mon, d.tm_year + 543)


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-audit-pages-") as scratch:
        db = scratch.db
        import_example(esar, db, [("admin", "admin", None), ("admin2", "admin", None),
                                  ("evaluator", "evaluator", None), ("reporter.ocs", "reporter", "OCS")])
        base = scratch.serve(esar)

        # Only admins read the trail.
        public = Browser(base)
        status, headers, _ = public.get("/admin/audit")
        check(status == 303 and headers.get("location", "").startswith("/login"),
              "the public is sent to log in (%d)" % status)
        for user in ("evaluator", "reporter.ocs"):
            b = Browser(base)
            b.login(user)
            status, _ = b.page("/admin/audit")
            check(status == 403, "%s is refused the audit trail (%d)" % (user, status))

        # The changes: a round opened, an extension for OCS granted (admin), changed (admin2),
        # one for DCLS granted, then OCS's removed.
        admin, admin2 = Browser(base), Browser(base)
        admin.login("admin")
        admin2.login("admin2")
        status, html = admin.page("/admin/rounds")
        framework = re.search(r'<option value="(\d+)">ปีงบประมาณ พ.ศ. 2567', html).group(1)
        now = time.time()
        deadline, ext1, ext2 = be_date(now + 30 * 86400), be_date(now + 40 * 86400), be_date(now + 45 * 86400)
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(html), "framework": framework,
                                                                     "round": "12", "date": deadline, "time": "16:30"})
        check(status == 303, "the admin opens the round (%d)" % status)
        round_id = re.search(r'/admin/rounds/(\d+)/extensions', admin.page("/admin/rounds")[1]).group(1)
        post = lambda b, path, fields: b.request("POST", path, dict(fields, csrf=b.csrf(b.page("/admin/rounds")[1])))[0]
        check(post(admin, f"/admin/rounds/{round_id}/extensions", {"agency": "OCS", "date": ext1, "time": "16:30"}) == 303,
              "an extension for OCS is granted")
        check(post(admin2, f"/admin/rounds/{round_id}/extensions", {"agency": "OCS", "date": ext2, "time": "16:30"}) == 303,
              "admin2 changes it")
        check(post(admin, f"/admin/rounds/{round_id}/extensions", {"agency": "DCLS", "date": ext1, "time": "16:30"}) == 303,
              "an extension for DCLS is granted")
        check(post(admin, f"/admin/rounds/{round_id}/extensions/OCS/remove", {}) == 303, "OCS's extension is removed")

        # The whole trail, newest first, in words.
        status, html = admin.page("/admin/audit")
        check(status == 200, "the admin opens the audit trail (%d)" % status)
        check('<a href="/admin/audit" aria-current="page">' in html, "the menu marks the audit trail as the current page")
        check(html.count('aria-current="page"') == 1, "one menu item is highlighted")
        rows = entries(html)
        check(len(rows) >= 6, "the trail lists the changes (%d)" % len(rows))
        check(rows and "ยกเลิกการขยายกำหนดส่ง" in rows[0], "the newest entry is the removal", rows[:1])
        ext2_thai = time.strftime("%d", time.gmtime(now + 45 * 86400 + 7 * 3600)).lstrip("0")
        change = [r for r in rows if "เปลี่ยนวันที่ขยายกำหนดส่ง" in r]
        check(len(change) == 1, "one entry tells the extension changed", rows)
        if change:
            c = change[0]
            check("admin2" in c, "  it names who changed it", c)
            check("รอบ 12 เดือน ปีงบประมาณ พ.ศ. 2567 (กรม)" in c, "  and which round, in words", c)
            m = re.search(r"กำหนดส่ง: (\d+ \S+ (\d{4}) 16:30 น\.) → (\d+ \S+ (\d{4}) 16:30 น\.)", c)
            check(m is not None, "  and the deadline before → after as Buddhist Era dates", c)
            if m:
                check(int(m.group(2)) > 2560 and m.group(3).startswith(ext2_thai + " "),
                      "  the new date is the one typed (%s)" % m.group(3))
            check(re.search(r"\d+ \S+ 25\d\d \d\d:\d\d น\. · ", c) is not None, "  with when it was done", c)
        check(not any(re.search(r'\{"|":', r) for r in rows), "no raw JSON in the entries")
        removed = rows[0] if rows else ""
        check("→ ไม่มี" in removed, "the removal's date reads 'ไม่มี' after it", removed)

        # In English.
        admin_en = Browser(base)
        admin_en.login("admin")
        admin_en.get("/lang/en?next=/admin/audit")
        status, html_en = admin_en.page("/admin/audit?kind=round&user=admin2")
        rows_en = entries(html_en)
        check(status == 200 and len(rows_en) == 1 and "changed an extension: 12-month round, fiscal year 2024 (B.E. 2567) (department)" in rows_en[0],
              "in English: 'changed an extension' with the round in words", rows_en)
        if rows_en:
            check(re.search(r"deadline: \d+ \w+ \d{4} 16:30 → \d+ \w+ \d{4} 16:30", rows_en[0]) is not None,
                  "  the deadline before → after in English", rows_en[0])

        # Filters: agency, user, kind, time.
        status, html = admin.page("/admin/audit?agency=DCLS&kind=round")
        rows = entries(html)
        check(len(rows) == 1 and "ขยายกำหนดส่งให้หน่วยงาน" in rows[0] and "DCLS" in rows[0],
              "agency DCLS, kind rounds: its one extension", rows)
        status, html = admin.page("/admin/audit?agency=OCS&kind=round")
        rows = entries(html)
        check(len(rows) == 3 and "ยกเลิกการขยายกำหนดส่ง" in rows[0] and "เปลี่ยนวันที่ขยายกำหนดส่ง" in rows[1]
              and "ขยายกำหนดส่งให้หน่วยงาน" in rows[2], "agency OCS, kind rounds: removed, changed, granted (%d)" % len(rows), rows)
        status, html = admin.page("/admin/audit?agency=ocs&kind=round")
        check("ไม่พบการเปลี่ยนแปลงตามตัวกรองนี้" in html and not entries(html), "a code matches exactly (ocs finds nothing)")
        status, html = admin.page("/admin/audit?user=admin2")
        rows = entries(html)
        check(len(rows) == 1 and "admin2" in rows[0], "user admin2: the one change made", rows)
        status, html = admin.page("/admin/audit?user=system&kind=agency")
        rows = entries(html)
        check(len(rows) == 1 and "เพิ่มหรือแก้ไขหน่วยงาน" in rows[0] and "ระบบ" in rows[0],
              "user system, kind agencies: the import by the command line", rows)
        today = be_date(now)
        # From yesterday to today (Bangkok days): a run across midnight still holds every change.
        status, html = admin.page("/admin/audit?kind=round&from=%s&to=%s" % (q(be_date(now - 86400)), q(be_date(time.time()))))
        check(len(entries(html)) == 5, "the round changes of yesterday and today: five (%d)" % len(entries(html)))
        tomorrow = be_date(now + 86400)
        status, html = admin.page("/admin/audit?from=%s" % q(tomorrow))
        check(status == 200 and not entries(html) and "ไม่พบการเปลี่ยนแปลงตามตัวกรองนี้" in html, "nothing from tomorrow on")
        check('value="%s"' % tomorrow in html, "  and the date field keeps what was typed")

        # Pages of 50, older by sequence: 60 more round changes (BOI's extension granted, then
        # moved 59 times) make 65.
        token = admin.csrf(admin.page("/admin/rounds")[1])
        for i in range(60):
            admin.request("POST", f"/admin/rounds/{round_id}/extensions",
                          {"csrf": token, "agency": "BOI", "date": be_date(now + (50 + i) * 86400), "time": "16:30"})
        status, html = admin.page("/admin/audit?kind=round")
        first = entries(html)
        m = re.search(r'<a href="([^"]+)" rel="next">', html)
        check(len(first) == 50 and m is not None, "the first page holds 50 and links the older ones (%d)" % len(first))
        if m:
            status, html = admin.page(m.group(1).replace("&amp;", "&"))
            second = entries(html)
            check(status == 200 and len(second) == 15, "the older page lists the other 15 (%d)" % len(second))
            seqs1 = re.findall(r'id="audit-(\d+)"', admin.page("/admin/audit?kind=round")[1])
            seqs2 = re.findall(r'id="audit-(\d+)"', html)
            check(seqs1 and seqs2 and int(seqs2[0]) < int(seqs1[-1]) and not set(seqs1) & set(seqs2),
                  "  older entries only, none shown twice")
            check(not re.search(r'rel="next"', html), "  and is the last")
            check('href="/admin/audit?' in html and "ใหม่สุด" in html, "  with a link back to the newest")

        # Bad filters: said in words, 400, nothing listed.
        for query, words in (("kind=nope", "ไม่มีประเภทการเปลี่ยนแปลง"),
                             ("from=30/9/2024", "ปี ค.ศ."),
                             ("from=31/9/2567", "ไม่มีวันที่ 31/9/2567"),
                             ("from=%s&to=%s" % (q(tomorrow), q(today)), "วันสิ้นสุดต้องไม่ก่อนวันเริ่มต้น"),
                             ("agency=" + "A" * 65, "64")):
            status, html = admin.page("/admin/audit?" + query)
            check(status == 400 and words in html and not entries(html), "%s -> 400 saying %r (%d)" % (query, words, status))
        # Hostile text comes back escaped.
        status, html = admin.page("/admin/audit?agency=" + q('<script>alert(1)</script>'))
        check("<script>alert(1)" not in html and "&lt;script&gt;" in html, "a hostile agency filter is escaped")
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
