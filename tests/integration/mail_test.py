#!/usr/bin/python3
"""E-mail through a real SMTP server: Debian's python3-aiosmtpd started on 127.0.0.1 by this test,
capturing every message esar's mail worker hands it.

1. The cycle: users with addresses in Thai and English; a report returned (to the reporter, with
   the evaluator's comment), accepted, accepted with corrected values, preliminary results with
   the appeal window, an appeal decided, results published. Who receives which message, in which
   language, with the right link (under --public-url), as proper MIME (UTF-8 subject, text and
   HTML parts), and the same events in each user's notification list with its unread count.
2. The relay stopped for a while: e-mail waits and is retried with the relay's failure kept; esar
   is stopped and two esar serve are started on the same database; the relay comes back; every
   message arrives exactly once.
3. Password reset, through the pages from /login: the answer never says whether an address
   exists (the same page for a known and an unknown one); the e-mail arrives with a link that
   opens the reset page and sets a new password; the old session ends; the link works once, and
   not after an hour (the server's clock is real, so the expiry is checked by aging the token's
   row); asking too often is refused alike for known and unknown addresses. No usable token is
   in the database: every column of the outbox, links, notifications and audit tables is read
   directly, before the e-mail is sent (relay down) and after.
4. An answered question e-mails the asker (only); an announcement e-mails the reporters and
   approvers of the agencies of its kind, except those who turned announcements off.

    mail_test.py ESAR      (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import email
import email.policy
import json
import os
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient as Client, run_cli, start_server, stop_server  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ocs-2567")
PUBLIC_URL = "https://esar.example.go.th"
THAI = re.compile(r"[\u0e00-\u0e7f]")
failures = []
passed = 0


def check(ok, what, detail=""):
    global passed
    if ok:
        passed += 1
        print("PASS " + what)
    else:
        failures.append(what)
        print("FAIL " + what + (": " + detail if detail else ""))
    return ok


class Captured:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "raw": envelope.original_content or envelope.content})
        return "250 2.0.0 Ok: queued"


class Relay:
    """A real SMTP server on 127.0.0.1:port that can be stopped and started again on that port."""

    def __init__(self, port, handler):
        self.port, self.handler, self.controller = port, handler, None

    def start(self):
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def parse(message):
    return email.message_from_bytes(message["raw"], policy=email.policy.default)


def wait_drained(admin, seconds=60):
    """Waits until the outbox has nothing waiting; returns the last outbox page."""
    deadline = time.time() + seconds
    page = {}
    while time.time() < deadline:
        page = admin.json("GET", "/api/v1/outbox?per_page=200")
        if page["counts"]["waiting"] == 0:
            return page
        time.sleep(0.3)
    return page


def values_of(kpi):
    values = {}
    with open(os.path.join(EXAMPLE, "data.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["agency"] == "OCS" and row["kpi"] == kpi and row["fiscal_year"] == "2567":
                v = row["value"]
                values[row["variable"]] = float(v) if "." in v else int(v)
    return values


USERS = {  # username: role, agency, address, language
    "admin": ("admin", None, "admin@opdc.go.th", "th"),
    "evaluator": ("evaluator", None, "eval@opdc.go.th", "en"),
    "rep.ocs": ("reporter", "OCS", "rep@ocs.go.th", "th"),
    "app.ocs": ("approver", "OCS", "app@ocs.go.th", "en"),
    "rep.boi": ("reporter", "BOI", "rep@boi.go.th", "th"),
}


def password_of(name):
    return "password-of-" + name


def cycle(esar, db, work, relay_port, captured):
    """Part 1: the cycle's messages. Returns the round id."""
    proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve1.log"),
                                 extra=["--smtp", f"smtp://127.0.0.1:{relay_port}", "--public-url", PUBLIC_URL,
                                        "--mail-from", "esar@opdc.go.th", "--mail-retry-s", "1"])
    try:
        if not check(base is not None, "esar serve starts with --smtp"):
            return None
        c = {name: Client(base).login(name, password_of(name)) for name in USERS}
        admin, evaluator, rep, app = c["admin"], c["evaluator"], c["rep.ocs"], c["app.ocs"]
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline},
                              expect=201)["id"]

        def report(kpi, values):
            sid = rep.json("PUT", f"/api/v1/rounds/{round_id}/agencies/OCS/kpis/{kpi}",
                           {"values": values, "explanation": "คำชี้แจงผลการดำเนินงาน"})["id"]
            app.json("POST", f"/api/v1/submissions/{sid}/approve")
            app.json("POST", f"/api/v1/submissions/{sid}/submit")
            return sid

        v1, v2 = values_of("1"), values_of("2")
        check(v1 and v2, "KPI 1 and 2 values from data.csv")
        sid1 = report("1", v1)
        comment = "โปรดแนบหนังสือรับรองผลการตรวจพิจารณา"
        evaluator.json("POST", f"/api/v1/submissions/{sid1}/return", {"comment": comment})
        report("1", v1)
        evaluator.json("POST", f"/api/v1/submissions/{sid1}/accept", {"comment": "ถูกต้อง"})
        sid2 = report("2", v2)
        corrected = dict(v2)
        first = sorted(corrected)[0]
        corrected[first] = corrected[first] - 1 if corrected[first] > 0 else corrected[first] + 1
        evaluator.json("POST", f"/api/v1/submissions/{sid2}/accept",
                       {"comment": "ปรับตามหลักฐาน", "verified_values": corrected})
        admin.json("POST", f"/api/v1/rounds/{round_id}/close", {"reason": "ครบกำหนด"})
        result = admin.json("POST", f"/api/v1/rounds/{round_id}/results", {"appeal_days": 14}, expect=201)
        appeal = rep.json("POST", f"/api/v1/results/{result['id']}/appeals",
                          {"kpi": "1", "reason": "ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง"}, expect=201)
        evaluator.json("POST", f"/api/v1/appeals/{appeal['id']}/decision",
                       {"upheld": False, "reason": "หนังสือรับรองยืนยันค่าที่ใช้"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/close-appeals", {"reason": "ครบ"})
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/final", expect=201)
        admin.json("POST", f"/api/v1/rounds/{round_id}/results/publish", expect=201)

        page = wait_drained(admin)
        check(page["counts"]["waiting"] == 0 and page["counts"]["failed"] == 0 and page["sending"] is True,
              "every e-mail of the cycle sent, none failed", json.dumps(page["counts"]))

        # ---- who got what, in which language, with which link
        kpi_link = f"{PUBLIC_URL}/agency/rounds/{round_id}/kpis/"
        expected = {  # (address, kind) -> the link the message must carry
            ("admin@opdc.go.th", "account.created"): f"{PUBLIC_URL}/login",
            ("eval@opdc.go.th", "account.created"): f"{PUBLIC_URL}/login",
            ("rep@ocs.go.th", "account.created"): f"{PUBLIC_URL}/login",
            ("app@ocs.go.th", "account.created"): f"{PUBLIC_URL}/login",
            ("rep@boi.go.th", "account.created"): f"{PUBLIC_URL}/login",
            ("rep@ocs.go.th", "report.returned"): kpi_link + "1",
            ("rep@ocs.go.th", "report.accepted"): kpi_link + "1",
            ("app@ocs.go.th", "report.accepted"): kpi_link + "1",
            ("rep@ocs.go.th", "report.corrected"): kpi_link + "2",
            ("app@ocs.go.th", "report.corrected"): kpi_link + "2",
            ("rep@ocs.go.th", "results.preliminary"): f"{PUBLIC_URL}/agency/results",
            ("app@ocs.go.th", "results.preliminary"): f"{PUBLIC_URL}/agency/results",
            ("rep@boi.go.th", "results.preliminary"): f"{PUBLIC_URL}/agency/results",
            ("rep@ocs.go.th", "appeal.decided"): f"{PUBLIC_URL}/agency/results",
            ("app@ocs.go.th", "appeal.decided"): f"{PUBLIC_URL}/agency/results",
            ("rep@ocs.go.th", "results.published"): f"{PUBLIC_URL}/results/{round_id}/agencies/OCS",
            ("app@ocs.go.th", "results.published"): f"{PUBLIC_URL}/results/{round_id}/agencies/OCS",
            ("rep@boi.go.th", "results.published"): f"{PUBLIC_URL}/results/{round_id}/agencies/BOI",
        }
        language = {address: lang for (_, _, address, lang) in USERS.values()}
        got = {}
        for m in captured.messages:
            msg = parse(m)
            kind = msg["X-Esar-Kind"]
            if kind == "review.digest":  # once a day from 08:00 Bangkok: depends on when the test runs
                continue
            key = (m["to"][0] if len(m["to"]) == 1 else repr(m["to"]), kind)
            check(key not in got, f"{key} received once")
            got[key] = msg
            check(m["from"] == "esar@opdc.go.th", f"{key}: envelope from --mail-from")
        check(set(got) == set(expected), "each user received exactly the messages of their events",
              f"missing {sorted(set(expected) - set(got))}, unexpected {sorted(set(got) - set(expected))}")
        for key, link in expected.items():
            msg = got.get(key)
            if msg is None:
                continue
            address, kind = key
            thai = language[address] == "th"
            subject = str(msg["Subject"])
            raw_subject = msg.get("Subject").defects if hasattr(msg.get("Subject"), "defects") else []
            check(not raw_subject, f"{key}: subject well-formed")
            check(bool(THAI.search(subject)) == thai, f"{key}: subject in {'Thai' if thai else 'English'}: {subject}")
            check(msg.get_content_type() == "multipart/alternative", f"{key}: multipart/alternative")
            plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
            if not check(plain is not None and html is not None, f"{key}: a text and an HTML part"):
                continue
            text, markup = plain.get_content(), html.get_content()
            check(plain.get_content_charset() == "utf-8", f"{key}: UTF-8 text")
            # The first line is esar's words; a comment quoted below may be in Thai whatever the
            # reader's language.
            check(bool(THAI.search(text.split("\n")[0])) == thai, f"{key}: body in {'Thai' if thai else 'English'}")
            check(link in text, f"{key}: the text links to {link}")
            check(f'href="{link}"' in markup, f"{key}: the HTML links to {link}")
            check(msg["Message-ID"] is not None and msg["To"].addresses[0].addr_spec == address,
                  f"{key}: Message-ID and To", str(msg["To"]))
        returned = got.get(("rep@ocs.go.th", "report.returned"))
        if returned is not None:
            check(comment in returned.get_body(("plain",)).get_content(), "the returned report carries the comment")
        prelim = got.get(("app@ocs.go.th", "results.preliminary"))
        if prelim is not None:
            check("appeal" in str(prelim["Subject"]).lower(), "the preliminary results name the appeal window")
        # Nothing about OCS's reports reached BOI or the evaluator.
        check(not any(k for k in got if k[0] in ("rep@boi.go.th", "eval@opdc.go.th", "admin@opdc.go.th")
                      and k[1].startswith("report.")), "no other agency or evaluator told of OCS's reports")

        # ---- the same events in the notification lists
        r = rep.json("GET", "/api/v1/me/notifications?per_page=200")
        kinds = sorted(n["kind"] for n in r["items"])
        check(kinds == sorted(["account.created", "report.returned", "report.accepted", "report.corrected",
                               "results.preliminary", "appeal.decided", "results.published"]),
              "the reporter's notification list holds the same events", repr(kinds))
        check(r["unread"] == len(kinds), "all unread")
        rep.json("POST", "/api/v1/me/notifications/read", {"id": r["items"][0]["id"]})
        check(rep.json("GET", "/api/v1/me/notifications")["unread"] == len(kinds) - 1, "one read")
        # ---- the same in the browser: the list, the unread count on every page, marking read
        status, page = rep.text("GET", "/notifications")
        unread = len(kinds) - 1
        check(status == 200 and f'<span class="tag info">{unread}<span class="sr">' in page,
              "every page shows the unread count", str(status))
        check("ส่งกลับให้แก้ไข" in page and "การแจ้งเตือน" in page, "the list shows the events in Thai")
        status, page = rep.text("POST", "/notifications/read", form={"csrf": rep.csrf})
        check(status == 200 and rep.json("GET", "/api/v1/me/notifications")["unread"] == 0,
              "mark all read from the page")
        status, page = admin.text("GET", "/admin/outbox")
        check(status == 200 and "ส่งแล้ว" in page and "ไม่ได้ตั้งค่าเซิร์ฟเวอร์ส่งอีเมล" not in page,
              "the outbox page lists what was sent", str(status))
        status, _ = rep.text("GET", "/admin/outbox")
        check(status == 403, "the outbox page is the admins'", str(status))
        r = c["rep.boi"].json("GET", "/api/v1/me/notifications")
        check(sorted(n["kind"] for n in r["items"]) ==
              ["account.created", "results.preliminary", "results.published"], "BOI's list: its own events only")
        return round_id
    finally:
        stop_server(proc)


def sql(db, statement):
    """Runs one statement on the test's database (SQLite file or PostgreSQL URL)."""
    if db.startswith("postgresql://"):
        p = subprocess.run(["psql", "-X", "-q", "-t", "-A", db, "-c", statement], capture_output=True,
                           text=True)
        if p.returncode != 0:
            raise RuntimeError(f"psql {statement[:60]}: {p.stderr[-300:]}")
        return p.stdout.strip()
    with sqlite3.connect(db) as conn:
        return conn.execute(statement).fetchall()


def text_of(message):
    return parse(message).get_body(preferencelist=("plain",)).get_content()


def reset_link(message):
    """The path of the reset link in an e-mail, under --public-url."""
    m = re.search(re.escape(PUBLIC_URL) + r"(/password/reset\?token=[0-9a-f]{64})", text_of(message))
    return m.group(1) if m else None


def new_mail(captured, before, admin):
    wait_drained(admin)
    time.sleep(0.3)
    return captured.messages[before:]


def answers_announcements_and_resets(esar, db, work, relay_port, captured):
    """Parts 3 and 4: answers and announcements told by e-mail; password resets from the pages."""
    proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve1b.log"),
                                 extra=["--smtp", f"smtp://127.0.0.1:{relay_port}", "--public-url", PUBLIC_URL,
                                        "--mail-retry-s", "1"])
    try:
        if not check(base is not None, "esar serve starts again"):
            return
        c = {name: Client(base).login(name, password_of(name)) for name in USERS}
        admin, rep, app = c["admin"], c["rep.ocs"], c["app.ocs"]

        # ---- an answer tells the asker, with the link to the question
        before = len(captured.messages)
        q = rep.json("POST", "/api/v1/questions", {"fiscal_year": 2567, "question": "ต้องแนบหลักฐานใดบ้าง"},
                     expect=201)
        admin.json("POST", f"/api/v1/questions/{q['id']}/answer",
                   {"answer": "แนบไฟล์ PDF ที่ลงนามแล้ว", "publish": True})
        got = new_mail(captured, before, admin)
        check([m["to"] for m in got] == [["rep@ocs.go.th"]], "the answer is e-mailed to the asker only",
              repr([m["to"] for m in got]))
        if got:
            body = text_of(got[0])
            check(str(parse(got[0])["Subject"]) == "สำนักงาน ก.พ.ร. ตอบคำถามของหน่วยงานท่านแล้ว"
                  and "แนบไฟล์ PDF ที่ลงนามแล้ว" in body
                  and f"{PUBLIC_URL}/agency/questions#q{q['id']}" in body,
                  "the answer e-mail quotes the answer and links to the question", body[:400])
        notes = rep.json("GET", "/api/v1/me/notifications")["items"]
        check(notes and notes[0]["kind"] == "question.answered", "the asker's list shows the answer")

        # ---- an announcement tells the agencies of its kind, unless turned off
        r = app.json("PUT", "/api/v1/me/preferences",
                     {"language": "en", "reminders": True, "digest": True, "announcements": False})
        check(r.get("announcements") is False, "an approver turns announcements off")
        status, page = rep.text("GET", "/account/password")
        check(status == 200 and 'id="m-announcements"' in page, "the account page offers the announcements topic")
        before = len(captured.messages)
        a = admin.json("POST", "/api/v1/announcements",
                       {"fiscal_year": 2567, "agency_kind": "department", "title": "ขยายกำหนดส่งรายงาน",
                        "body": "ขยายกำหนดส่งรายงานรอบ 12 เดือนถึง 15 ตุลาคม"}, expect=201)
        got = new_mail(captured, before, admin)
        to = sorted(m["to"][0] for m in got)
        check(to == ["rep@boi.go.th", "rep@ocs.go.th"],
              "the announcement goes to the departments' users who want it", repr(to))
        check(all(f"{PUBLIC_URL}/agency#a{a['id']}" in text_of(m) and "15 ตุลาคม" in text_of(m) for m in got),
              "the announcement e-mail holds its text and links to it")
        check(any(n["kind"] == "announcement.posted" for n in app.json("GET", "/api/v1/me/notifications")["items"]),
              "the approver who turned the e-mail off still has it in the list")

        # ---- password reset from the login page
        public = Client(base)
        status, page = public.text("GET", "/login")
        check(status == 200 and 'href="/password/forgot"' in page, "the login page links to the reset form")
        status, form_page = public.text("GET", "/password/forgot")
        check(status == 200 and 'name="who"' in form_page, "the reset form asks for a name or address")
        before = len(captured.messages)
        known = public.text("POST", "/password/forgot", form={"who": "rep@ocs.go.th"})
        unknown = public.text("POST", "/password/forgot", form={"who": "nobody@ocs.go.th"})
        no_address = public.text("POST", "/password/forgot", form={"who": "no.such.user"})
        check(known[0] == unknown[0] == no_address[0] == 200 and 'id="forgot-sent"' in known[1],
              "asking answers 200 with the same message", f"{known[0]} {unknown[0]} {no_address[0]}")
        check(known[1] == unknown[1] == no_address[1], "the page is the same for a known and an unknown address")
        got = new_mail(captured, before, admin)
        check([m["to"] for m in got] == [["rep@ocs.go.th"]], "one reset e-mail, to the known address only",
              repr([m["to"] for m in got]))
        link = reset_link(got[0]) if got else None
        check(link is not None, "the e-mail holds the reset link under --public-url")
        token = link.split("=", 1)[1] if link else ""
        shown = json.dumps(admin.json("GET", "/api/v1/outbox?per_page=200"))
        check(token and token not in shown, "the outbox shows admins no reset link")
        stored = sql(db, "SELECT COUNT(*) FROM password_resets WHERE token_hash = '" + token + "'")
        check(str(stored).strip("[](),") == "0", "the token itself is not stored", repr(stored))
        # Whoever reads the database (every column of the outbox, the links' table, the
        # notification lists, the audit log) finds no token that works.
        at_rest = " ".join(str(sql(db, f"SELECT * FROM {t}"))
                           for t in ("outbox", "password_resets", "notifications", "audit_log"))
        check(token and token not in at_rest, "the database holds the e-mailed token nowhere")
        check("token=" not in str(sql(db, "SELECT link, body FROM outbox WHERE kind = 'password.reset'")),
              "the sent reset e-mail's outbox row has no token")

        status, page = public.text("GET", link or "/password/reset?token=x")
        check(status == 200 and f'value="{token}"' in page and 'name="new_password"' in page,
              "the link opens the form to set a new password", str(status))
        _, headers, _ = public.call("GET", link or "/")
        check(headers.get("Referrer-Policy") == "no-referrer", "the reset page sends no Referer onwards")
        status, page = public.text("POST", "/password/reset",
                                   form={"token": token, "new_password": "short", "confirm": "short"})
        check(status == 400 and "อย่างน้อย 10 ตัวอักษร" in page, "a short password is refused", str(status))
        status, page = public.text("POST", "/password/reset",
                                   form={"token": token, "new_password": "a-new-password-1",
                                         "confirm": "a-new-password-2"})
        check(status == 400, "two different passwords are refused", str(status))
        status, page = public.text("POST", "/password/reset",
                                   form={"token": token, "new_password": "a-new-password-1",
                                         "confirm": "a-new-password-1"})
        check(status == 200 and "ตั้งรหัสผ่านใหม่แล้ว" in page and 'name="username"' in page,
              "the new password is set and the login page says so", str(status))
        status, _ = rep.text("GET", "/api/v1/me/notifications")
        check(status == 401, "the old session ended", str(status))
        status, _ = Client(base).text("POST", "/api/v1/session",
                                      body={"username": "rep.ocs", "password": password_of("rep.ocs")})
        check(status == 401, "the old password no longer works", str(status))
        Client(base).login("rep.ocs", "a-new-password-1")
        check(True, "the new password logs in")
        status, page = public.text("GET", link)
        check(status == 400 and "ถูกใช้ไปแล้ว" in page and 'name="new_password"' not in page,
              "the link works once", str(status))
        status, _ = public.text("POST", "/password/reset",
                                form={"token": token, "new_password": "third-password-1",
                                      "confirm": "third-password-1"})
        check(status == 400, "posting the used token again is refused", str(status))
        tampered = token[:-1] + ("0" if token[-1] != "0" else "1")
        status, page = public.text("GET", "/password/reset?token=" + tampered)
        check(status == 400 and "ไม่ถูกต้อง" in page, "a tampered link is refused", str(status))

        # Expired: a new link for the English-speaking approver, its row aged past the hour.
        before = len(captured.messages)
        public.text("POST", "/password/forgot", form={"who": "app.ocs"})
        got = new_mail(captured, before, admin)
        check(len(got) == 1 and str(parse(got[0])["Subject"]) == "Set a new e-SAR password",
              "the approver's link comes in English")
        link = reset_link(got[0]) if got else "/password/reset?token=x"
        sql(db, "UPDATE password_resets SET expires_at = created_at - 1 WHERE used_at IS NULL")
        status, page = public.text("GET", link)
        check(status == 400 and "หมดอายุ" in page, "the link no longer works after an hour", str(status))
        status, _ = public.text("POST", "/password/reset",
                                form={"token": link.split("=", 1)[1], "new_password": "late-password-1",
                                      "confirm": "late-password-1"})
        check(status == 400, "nor can it set a password", str(status))
        app.login("app.ocs", password_of("app.ocs"))
        check(True, "the approver's password stays")

        # Asking too often: refused alike for a known and an unknown address.
        for who in ("rep.boi", "nobody.at.all"):
            codes = [public.text("POST", "/password/forgot", form={"who": who})[0] for _ in range(4)]
            check(codes == [200, 200, 200, 429], f"the fourth request in an hour is refused ({who})", repr(codes))
        wait_drained(admin)  # nothing of this part left for the next one to count
    finally:
        stop_server(proc)


def relay_down_and_restarts(esar, db, work, relay, captured):
    """Part 2: nothing lost or sent twice across a relay outage and esar restarts."""
    extra = ["--smtp", f"smtp://127.0.0.1:{relay.port}", "--public-url", PUBLIC_URL, "--mail-retry-s", "1"]
    relay.stop()
    before = len(captured.messages)
    proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve2.log"),
                                 extra=extra)
    names = [f"late.{i}" for i in range(4)]
    procs = [proc]
    try:
        admin = Client(base).login("admin", password_of("admin"))
        for name in names:
            admin.json("POST", "/api/v1/users", {"username": name, "password": password_of(name),
                                                 "role": "evaluator", "email": f"{name}@opdc.go.th"}, expect=201)
        # Tried and failed, with the connection's failure kept for the outbox page.
        deadline = time.time() + 20
        waiting = []
        while time.time() < deadline:
            waiting = [m for m in admin.json("GET", "/api/v1/outbox?status=waiting")["items"]]
            if len(waiting) == len(names) and all(m["attempts"] >= 2 for m in waiting):
                break
            time.sleep(0.3)
        check(len(waiting) == len(names) and all(m["attempts"] >= 2 and m["last_error"] for m in waiting),
              "with the relay down, e-mail waits, tried again, the failure kept",
              json.dumps([(m["attempts"], m["last_error"]) for m in waiting]))
        check(all(m["next_attempt_at"] > int(time.time() * 1000) - 1000 for m in waiting),
              "the next try lies ahead")
        # A password reset asked for while the relay is down: its e-mail waits without a token.
        public = Client(base)
        status, _ = public.text("POST", "/password/forgot", form={"who": "late.0"})
        check(status == 200, "a reset asked for while the relay is down", str(status))
        rows = str(sql(db, "SELECT * FROM outbox WHERE kind = 'password.reset' AND status = 'waiting'"))
        check("late.0@opdc.go.th" in rows and "token=" not in rows,
              "the waiting reset e-mail holds no token", rows[:300])
        # esar stops; two servers start on the same database; then the relay comes back.
        stop_server(proc)
        procs = []
        for i in range(2):
            p, b, _ = start_server(esar, db, os.path.join(work, "files"),
                                   os.path.join(work, f"serve3-{i}.log"), extra=extra)
            procs.append(p)
            check(b is not None, f"server {i + 1} of 2 starts")
            base = b or base
        time.sleep(1.5)
        check(len(captured.messages) == before, "nothing arrives while the relay is down")
        relay.start()
        admin = Client(base).login("admin", password_of("admin"))
        page = wait_drained(admin, 90)
        check(page["counts"]["waiting"] == 0, "the backlog is sent once the relay is back",
              json.dumps(page["counts"]))
        late = [m for m in captured.messages[before:]]
        status, page = admin.text("GET", "/admin/outbox?status=sent")
        check(status == 200 and "late.0@opdc.go.th" in page, "the outbox page shows the backlog sent")
        to = sorted(m["to"][0] for m in late)
        check(to == sorted([f"{n}@opdc.go.th" for n in names] + ["late.0@opdc.go.th"]),
              "every waiting e-mail arrived exactly once", repr(to))
        resets = [m for m in late if parse(m)["X-Esar-Kind"] == "password.reset"]
        link = reset_link(resets[0]) if len(resets) == 1 else None
        check(link is not None, "the reset e-mail arrived once, its token made as it was sent")
        status, page = Client(base).text("GET", link or "/password/reset?token=x")
        check(status == 200 and 'name="new_password"' in page, "its link opens the reset form", str(status))
        ids = [parse(m)["Message-ID"] for m in captured.messages]
        check(len(ids) == len(set(ids)), "no Message-ID twice in the whole test")
    finally:
        for p in procs:
            stop_server(p)


def without_relay(esar, db, work):
    """Without --smtp nothing is sent, and the outbox page says so."""
    proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve4.log"))
    try:
        admin = Client(base).login("admin", password_of("admin"))
        admin.json("POST", "/api/v1/users", {"username": "unsent", "password": password_of("unsent"),
                                             "role": "evaluator", "email": "unsent@opdc.go.th"}, expect=201)
        time.sleep(1.5)
        page = admin.json("GET", "/api/v1/outbox?status=waiting")
        check(page["sending"] is False and [m["address"] for m in page["items"]] == ["unsent@opdc.go.th"],
              "without --smtp the e-mail waits")
        status, html = admin.text("GET", "/admin/outbox")
        check(status == 200 and "ไม่ได้ตั้งค่าเซิร์ฟเวอร์ส่งอีเมล (--smtp)" in html, "the outbox page says nothing is sent")
    finally:
        stop_server(proc)


def main():
    esar = sys.argv[1]
    work = tempfile.mkdtemp(prefix="esar-mail-")
    captured = Captured()
    relay = Relay(free_port(), captured)
    relay.start()
    try:
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(work, "esar.db")
        for what in ("agencies", "framework", "data"):
            path = os.path.join(EXAMPLE, {"agencies": "agencies.csv", "framework": "framework.json",
                                          "data": "data.csv"}[what])
            run_cli(esar, ["import", what, path, "--db", db])
        for name, (role, agency, address, lang) in USERS.items():
            args = ["admin", "create-user", "--db", db, "--username", name, "--role", role,
                    "--email", address, "--language", lang]
            if agency:
                args += ["--agency", agency]
            run_cli(esar, args, env={"ESAR_PASSWORD": password_of(name)})
        cycle(esar, db, work, relay.port, captured)
        answers_announcements_and_resets(esar, db, work, relay.port, captured)
        relay_down_and_restarts(esar, db, work, relay, captured)
        without_relay(esar, db, work)
    finally:
        relay.stop()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("logs kept in " + work)
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
