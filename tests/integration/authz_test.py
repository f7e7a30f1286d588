#!/usr/bin/python3
"""Who may call what: every route of docs/openapi.json against every role.

Builds a fresh SQLite database in a temporary directory with the command line (examples/ocs-2567:
agencies.csv, framework.json, data.csv) and one user for each role:

    admin       central office                     (admin1)
    evaluator   central office                     (eval1)
    rep_own     reporter of OCS                    (ocs_reporter)
    rep_other   reporter of BOI                    (boi_reporter)
    appr_own    approver of OCS                    (ocs_approver)
    appr_other  approver of BOI                    (boi_approver)
    public      no login at all

Every object the checks act on belongs to OCS, so "own" and "other" are relative to OCS. The test
starts `esar serve`, sets up the state each route needs (open rounds, OCS drafts, approved and
submitted reports, evidence, computed and published results, appeals), then sends every documented
operation as every role with a valid body and compares the answer with the table EXPECTED below:

    allowed  -> 2xx, or a business refusal (400, 409, 415) that shows the request got past the
                authorization check;
    denied   -> 401 for the public, 403 for a logged-in user.

Anything else (404, 5xx, 401 for a logged-in user, ...) fails. State-changing routes get a fresh
object (or one brought back to the needed state) for every attempt, so that one role's success
cannot turn another role's check into a 409; after a denied attempt on a submission the test also
checks that the submission did not change. A few extra checks cover what the rules say about
visibility (the public sees only published results, an agency sees only its own reports and
appeals) and that nobody edits a submitted report in place.

Standard library only:  /usr/bin/python3 tests/integration/authz_test.py [path/to/esar]
Prints one line per (route, role), then `N passed, M failed`; exits 1 on any failure.
"""
import csv
import json
import os
import re
import shutil
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks, EXAMPLE, ROOT  # noqa: E402

check = Checks(verbose=True)
import uuid

ESAR = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "esar")
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
PASSWORD = "correct-horse-battery-9"
FAR = int(time.time() * 1000) + 365 * 24 * 3600 * 1000  # a deadline a year from now
DAY = 24 * 3600 * 1000

ROLES = ("public", "admin", "evaluator", "rep_own", "rep_other", "appr_own", "appr_other")

# ------------------------------------------------------------------ the expected table
# route -> the roles allowed to call it. Everyone else is denied: 401 for the public, 403 for a
# logged-in user. "own" = a user of OCS, the agency every object in the test belongs to;
# "other" = a user of BOI acting on those OCS objects.

EVERYONE = {"public", "admin", "evaluator", "rep_own", "rep_other", "appr_own", "appr_other"}
LOGGED_IN = EVERYONE - {"public"}
AGENCY_USERS = {"rep_own", "rep_other", "appr_own", "appr_other"}

EXPECTED = {
    # ---- open to everyone: health, metrics, the API description, logging in
    "GET /healthz": EVERYONE,
    "GET /metrics": EVERYONE,                               # from loopback, no --metrics-token (limits_test.py)
    "GET /api/v1/openapi.json": EVERYONE,
    "POST /api/v1/session": EVERYONE,                       # logging in needs no login
    # ---- one's own account: any logged-in user
    "DELETE /api/v1/session": LOGGED_IN,
    "GET /api/v1/me": LOGGED_IN,
    "POST /api/v1/me/password": LOGGED_IN,
    "POST /api/v1/tokens": LOGGED_IN,                       # a token for oneself
    "GET /api/v1/tokens": LOGGED_IN,                        # one's own tokens
    "DELETE /api/v1/tokens/{id}": LOGGED_IN,                # revoking one's own token
    # ---- e-mail and notifications: one's own list and preferences; a contact is its user's
    # and the admins'; the outbox is the admins'
    "GET /api/v1/me/notifications": LOGGED_IN,
    "POST /api/v1/me/notifications/read": LOGGED_IN,
    "PUT /api/v1/me/preferences": LOGGED_IN,
    "GET /api/v1/users/{id}/contact": {"admin", "rep_own"},  # rep_own's contact
    "PUT /api/v1/users/{id}/contact": {"admin"},
    "GET /api/v1/outbox": {"admin"},
    "POST /api/v1/outbox/{id}/resend": {"admin"},             # a waiting e-mail: 409 for admins
    # ---- the central office's administration
    "POST /api/v1/users": {"admin"},
    "PUT /api/v1/agencies": {"admin"},
    "POST /api/v1/frameworks": {"admin"},
    "POST /api/v1/frameworks/{id}/rounds": {"admin"},
    "POST /api/v1/rounds/{id}/extensions": {"admin"},
    "DELETE /api/v1/rounds/{id}/extensions/{agency}": {"admin"},
    # ---- a round's state moved by hand: closing reporting early, reopening with a reason
    "POST /api/v1/rounds/{id}/close": {"admin"},
    "POST /api/v1/rounds/{id}/reopen": {"admin"},
    # What a round still lacks: the central office's view.
    "GET /api/v1/rounds/{id}/readiness": {"admin", "evaluator"},
    "POST /api/v1/data": {"admin"},
    # ---- public reference data
    "GET /api/v1/agencies": EVERYONE,
    "GET /api/v1/agencies/export": {"admin"},  # with the contact addresses
    "GET /api/v1/frameworks/{id}": EVERYONE,                # a frozen one; drafts: admins (visibility_checks)
    "GET /api/v1/rounds/{id}": EVERYONE,
    # ---- reporting (the object is an OCS submission)
    # Any logged-in user may list; an agency's users get only their own agency's reports
    # (checked too: BOI users must see no OCS report in the list).
    "GET /api/v1/rounds/{id}/submissions": LOGGED_IN,
    # Reading one report: the central office and the agency's own users.
    "GET /api/v1/submissions/{id}": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/evidence/{id}/content": {"admin", "evaluator", "rep_own", "appr_own"},
    "PUT /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}": {"rep_own"},    # drafts: own reporter
    "POST /api/v1/submissions/{id}/evidence": {"rep_own"},                 # evidence: own reporter
    "DELETE /api/v1/evidence/{id}": {"rep_own"},                           # a mistaken file, from a draft
    "POST /api/v1/submissions/{id}/approve": {"appr_own"},                 # approve: own approver
    "POST /api/v1/submissions/{id}/send-back": {"appr_own"},               # send back: own approver
    "POST /api/v1/submissions/{id}/submit": {"rep_own", "appr_own"},       # submit: own rep./appr.
    "POST /api/v1/submissions/{id}/return": {"evaluator"},                 # review: evaluators only
    "POST /api/v1/submissions/{id}/accept": {"evaluator"},
    # ---- results (computing, finalizing and publishing: admins)
    "POST /api/v1/rounds/{id}/results": {"admin"},
    "POST /api/v1/rounds/{id}/results/final": {"admin"},
    "POST /api/v1/rounds/{id}/results/publish": {"admin"},
    "POST /api/v1/rounds/{id}/results/close-appeals": {"admin"},
    # Published results are public (the test reads a published round).
    "GET /api/v1/rounds/{id}/results": EVERYONE,
    "GET /api/v1/rounds/{id}/results/agencies/{code}": EVERYONE,
    # The report files and the check of a report's code: published results are public.
    "GET /api/v1/rounds/{id}/results/agencies/{code}/report.pdf": EVERYONE,
    "GET /api/v1/rounds/{id}/results/reports.zip": EVERYONE,
    "GET /api/v1/verify/{hash}": EVERYONE,
    # ---- appeals. Results cover every agency: each agency's reporters and approvers appeal their
    # own agency's score (BOI users appeal a BOI KPI of the same results).
    "POST /api/v1/results/{id}/appeals": AGENCY_USERS,
    # Any logged-in user may list; an agency's users see only their own agency's appeals (checked).
    "GET /api/v1/results/{id}/appeals": LOGGED_IN,
    # Deciding: evaluators, and admins as docs/openapi.json and service/results.cpp say
    # ("evaluators and admins").
    "POST /api/v1/appeals/{id}/decision": {"evaluator", "admin"},
    # ---- questions and answers, announcements (issue 13 §3-4)
    "GET /api/v1/qa": EVERYONE,                             # the public Q&A
    "GET /api/v1/qa/{year}/{kind}": EVERYONE,
    "POST /api/v1/questions": AGENCY_USERS,                 # an agency asks about its own kind's cycle
    "GET /api/v1/questions": LOGGED_IN,                     # an agency's users see their own (checked)
    "GET /api/v1/questions/{id}": EVERYONE,                 # a published one (who asked hidden, checked)
    "POST /api/v1/questions/{id}/answer": {"admin"},        # the central office only
    "GET /api/v1/announcements": LOGGED_IN,                 # agencies: their own kind's
    "POST /api/v1/announcements": {"admin"},
    "GET /api/v1/announcements/{id}": LOGGED_IN,            # OCS and BOI are both departments
    "POST /api/v1/announcements/{id}/files": {"admin"},
    "GET /api/v1/announcement-files/{id}/content": LOGGED_IN,
    # ---- spreadsheets: the results as getResults (published: everyone); a round's submission
    # status and the queue to any logged-in user (an agency's users get their own agency's rows);
    # the audit log to admins; the template to the agency's users, its upload to its reporters.
    "GET /api/v1/rounds/{id}/results/export": EVERYONE,
    "GET /api/v1/rounds/{id}/status/export": LOGGED_IN,
    "GET /api/v1/queue/export": LOGGED_IN,
    "GET /api/v1/audit/export": {"admin"},
    "GET /api/v1/rounds/{id}/agencies/{agency}/template": {"rep_own", "appr_own"},
    "POST /api/v1/rounds/{id}/agencies/{agency}/template": {"rep_own"},
    # ---- the national annual report: public, like its page (a year with published results)
    "GET /api/v1/reports/national/{year}/report.pdf": EVERYONE,
    "GET /api/v1/reports/national/{year}/report.xlsx": EVERYONE,
    # ---- case logs (issue 11 §1): uploaded by the agency's reporter; read by the central office
    # and the agency's own users.
    "POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log": {"rep_own"},
    "GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/case-logs/{id}": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/case-logs/{id}/cases": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/case-logs/{id}/cases/export": {"admin", "evaluator", "rep_own", "appr_own"},
    # ---- data catalogs (issue 11 §3): likewise.
    "POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog": {"rep_own"},
    "GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/catalogs/{id}": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/catalogs/{id}/datasets": {"admin", "evaluator", "rep_own", "appr_own"},
    "GET /api/v1/catalogs/{id}/datasets/export": {"admin", "evaluator", "rep_own", "appr_own"},
}

BUSINESS_4XX = {400, 409, 415}  # refusals that come after the authorization check


# ------------------------------------------------------------------ HTTP

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.json = None
        if headers.get("Content-Type", "").startswith("application/json"):
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except ValueError:
                self.json = None

    def text(self, n=300):
        return self.raw[:n].decode("utf-8", "replace")


class Client:
    """One caller: the public (no credentials) or a cookie session with its CSRF token."""

    def __init__(self, base, username=None):
        self.base = base
        self.username = username
        self.cookie = None
        self.csrf = None

    def request(self, method, path, body=None, raw=None, content_type=None):
        data = None
        h = {}
        if raw is not None:
            data = raw
            h["Content-Type"] = content_type or "application/json"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
        if self.cookie:
            h["Cookie"] = f"esar_session={self.cookie}"
            if self.csrf and method not in ("GET", "HEAD", "OPTIONS"):
                h["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with OPENER.open(req, timeout=30) as r:
                return Response(r.status, r.headers, r.read())
        except urllib.error.HTTPError as e:
            payload = e.read()
            e.close()
            return Response(e.code, e.headers, payload)

    def login(self, password=PASSWORD):
        r = Client(self.base).request("POST", "/api/v1/session",
                                      body={"username": self.username, "password": password})
        cookie = re.search(r"esar_session=([^;]+)", r.headers.get("Set-Cookie", "") or "")
        if r.status != 200 or not cookie or not r.json:
            raise RuntimeError(f"login {self.username} failed: {r.status} {r.text()}")
        self.cookie, self.csrf = cookie.group(1), r.json["csrf_token"]
        return self


def expect(r, status, what):
    """Setup step: the answer must have `status`, or the test cannot go on."""
    if r.status != status:
        raise RuntimeError(f"setup: {what}: expected {status}, got {r.status} {r.text(400)}")
    return r.json


# ------------------------------------------------------------------ fixtures

def minimal_pdf():
    """A small, well-formed PDF 1.4 with one page and a correct xref table."""
    stream = b"BT /F1 12 Tf 20 100 Td (esar) Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + content + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def pdf_upload():
    boundary = "esar-" + uuid.uuid4().hex
    out = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"evidence.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    out += minimal_pdf() + f"\r\n--{boundary}--\r\n".encode()
    return out, f"multipart/form-data; boundary={boundary}"


def ocs_values():
    """KPI -> {variable: value} for OCS in fiscal year 2567, from data.csv."""
    values = {}
    with open(os.path.join(EXAMPLE, "data.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["agency"] != "OCS" or row["fiscal_year"] != "2567":
                continue
            parts = [float(p) if "." in p else int(p) for p in row["value"].split(";")]
            values.setdefault(row["kpi"], {})[row["variable"]] = parts if len(parts) > 1 else parts[0]
    return values


VALUES = ocs_values()


def report_body(kpi, note=""):
    return {"values": VALUES[kpi], "explanation": "รายงานผลการดำเนินงาน " + note, "problems": "",
            "remarks": None}


# ------------------------------------------------------------------ the server


# ------------------------------------------------------------------ the world the checks act on

USERNAMES = {"admin": "admin1", "evaluator": "eval1", "rep_own": "ocs_reporter",
             "rep_other": "boi_reporter", "appr_own": "ocs_approver", "appr_other": "boi_approver"}
USER_SPECS = {"admin": ("admin", None), "evaluator": ("evaluator", None),
              "rep_own": ("reporter", "OCS"), "rep_other": ("reporter", "BOI"),
              "appr_own": ("approver", "OCS"), "appr_other": ("approver", "BOI")}
OTHER_AGENCY_KPI = "5"  # a KPI BOI is evaluated on, for BOI users' appeals


class World:
    def __init__(self, base):
        self.base = base
        self.public = Client(base)
        self.users = {role: Client(base, name).login() for role, name in USERNAMES.items()}
        self.counter = 0
        self.pool = []       # live OCS submission ids in round 12 (not accepted)
        self.free_kpis = []  # OCS KPIs of round 12 without a submission yet

    def client(self, role):
        return self.public if role == "public" else self.users[role]

    def fresh_session(self, role):
        """A second session of the role's user (for logging out without ending the main one)."""
        return self.public if role == "public" else Client(self.base, USERNAMES[role]).login()

    def unique(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    @property
    def admin(self):
        return self.users["admin"]

    # ---- OCS submissions, brought to the state a check needs

    def status(self, sid):
        j = expect(self.admin.request("GET", f"/api/v1/submissions/{sid}"), 200, "read submission")
        return j

    def new_draft(self):
        kpi = self.free_kpis.pop(0)
        j = expect(self.users["rep_own"].request(
            "PUT", f"/api/v1/rounds/{self.r12}/agencies/OCS/kpis/{kpi}", body=report_body(kpi)),
            200, f"save a draft of KPI {kpi}")
        self.pool.append(j["id"])
        return j["id"]

    def submission_in(self, state):
        """An OCS submission of round 12 in `state` (draft, approved, submitted), made fresh or
        brought there from whatever an earlier check left it in."""
        sid = None
        while self.pool:
            candidate = self.pool[0]
            if self.status(candidate)["status"] == "accepted":
                self.pool.pop(0)  # accepted reports are final: take another
                continue
            sid = candidate
            break
        if sid is None:
            sid = self.new_draft()
        cur = self.status(sid)
        if cur["status"] == "submitted":
            expect(self.users["evaluator"].request("POST", f"/api/v1/submissions/{sid}/return",
                                                   body={"comment": "ขอแก้ไข"}), 200, "return")
            cur = self.status(sid)
        if cur["status"] in ("approved", "returned") or (cur["status"] == "draft" and state == "draft"):
            expect(self.users["rep_own"].request(
                "PUT", f"/api/v1/rounds/{self.r12}/agencies/OCS/kpis/{cur['kpi']}",
                body=report_body(cur["kpi"], self.unique("rev"))), 200, "save again as draft")
        if state in ("approved", "submitted"):
            expect(self.users["appr_own"].request("POST", f"/api/v1/submissions/{sid}/approve"),
                   200, "approve")
        if state == "submitted":
            expect(self.users["appr_own"].request("POST", f"/api/v1/submissions/{sid}/submit"),
                   200, "submit")
        got = self.status(sid)["status"]
        if got != state:
            raise RuntimeError(f"setup: submission {sid} is {got}, wanted {state}")
        return sid

    def new_appeal(self):
        """A fresh open appeal of OCS against the preliminary results of round 12."""
        j = expect(self.users["rep_own"].request(
            "POST", f"/api/v1/results/{self.prelim_id}/appeals",
            body={"kpi": "1", "reason": "ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง " + self.unique("")}),
            201, "file an appeal")
        return j["id"]

    def open_round(self, framework, number, close=False, compute_days=None, finalize=False,
                   publish=False):
        """Opens round `number` of `framework` and takes it as far as asked: reporting closed,
        preliminary results with an appeal window of `compute_days`, final, published."""
        admin = self.admin
        rid = expect(admin.request("POST", f"/api/v1/frameworks/{framework}/rounds",
                                   body={"round": number, "deadline": FAR}), 201,
                     f"open framework {framework} round {number}")["id"]
        if close or compute_days is not None:
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/close", body={"reason": "setup"}), 200,
                   f"close round {rid}")
        if compute_days is not None:
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/results", body={"appeal_days": compute_days}),
                   201, f"compute round {rid}")
        if finalize:
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/results/final"), 201, f"finalize round {rid}")
        if publish:
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/results/publish"), 201, f"publish round {rid}")
        return rid

    def new_framework(self, document=None):
        """A new version of the example framework (the last one is frozen by its rounds), or of
        `document` when given."""
        return expect(self.admin.request("POST", "/api/v1/frameworks", body=document or self.framework), 201,
                      "import a framework version")["id"]

    def setup(self):
        admin = self.admin
        with open(os.path.join(EXAMPLE, "framework.json"), encoding="utf-8") as f:
            self.framework = json.load(f)
        # Framework 1: round 12 is where OCS reports; it stays open.
        self.r12 = expect(admin.request("POST", "/api/v1/frameworks/1/rounds",
                                        body={"round": 12, "deadline": FAR}), 201, "open round 12")["id"]
        self.free_kpis = sorted(VALUES, key=int)
        # KPI 2 is computed from a case log: kept for the case-log checks (case_world).
        self.free_kpis.remove("2")
        # A report with evidence, a submitted one and an accepted one (for the in-place checks).
        self.draft_with_evidence = self.new_draft()
        raw, ctype = pdf_upload()
        self.evidence_id = expect(self.users["rep_own"].request(
            "POST", f"/api/v1/submissions/{self.draft_with_evidence}/evidence", raw=raw, content_type=ctype),
            201, "upload evidence")["id"]
        self.accepted_id = self.submission_in("submitted")
        expect(self.users["evaluator"].request("POST", f"/api/v1/submissions/{self.accepted_id}/accept",
                                               body={"comment": "ถูกต้อง"}), 200, "accept")
        self.pool.remove(self.accepted_id)
        self.submitted_id = self.new_draft()
        self.pool.remove(self.submitted_id)  # kept submitted: never cycled by other checks
        expect(self.users["appr_own"].request("POST", f"/api/v1/submissions/{self.submitted_id}/approve"),
               200, "approve")
        expect(self.users["appr_own"].request("POST", f"/api/v1/submissions/{self.submitted_id}/submit"),
               200, "submit")
        # Results come only once reporting is closed: the other rounds are of newer versions of the
        # framework (each version has one round 6 and one round 12).
        # Framework 2: round 12 with preliminary results and a two-week appeal window, for the
        # appeals; round 6 closed with preliminary results, for computing again, finalizing and
        # publishing.
        fw2 = self.new_framework()
        self.r_appeal = self.open_round(fw2, 12, compute_days=14)
        self.prelim_id = expect(admin.request("GET", f"/api/v1/rounds/{self.r_appeal}/results?stage=preliminary"),
                                200, "read the preliminary results")["id"]
        self.r_final = self.open_round(fw2, 6, compute_days=0)
        # Framework 3: round 6 published, for reading; round 12 open, for closing.
        fw3 = self.new_framework()
        self.r_pub = self.open_round(fw3, 6, compute_days=0, finalize=True, publish=True)
        self.r_close = self.open_round(fw3, 12)
        # Framework 4: round 12 closed, for reopening; round 6 with an open appeal window, for
        # closing it early.
        fw4 = self.new_framework()
        self.r_reopen = self.open_round(fw4, 12, close=True)
        self.r_window = self.open_round(fw4, 6, compute_days=14)
        # Twin users (same role and agency) whose passwords the password check changes.
        self.twins = {}
        for role, (r, agency) in USER_SPECS.items():
            name = f"twin_{role}"
            body = {"username": name, "password": PASSWORD, "role": r}
            if agency:
                body["agency"] = agency
            expect(admin.request("POST", "/api/v1/users", body=body), 201, f"create {name}")
            self.twins[role] = name


# ------------------------------------------------------------------ one request per (route, role)
# build_attempts() maps each route to a function(role) that prepares the state and returns an
# Attempt: the request (method, path, body or raw multipart), the client to send it with (the
# role's main session unless given), `verify(response) -> error text or None`, an extra check on an
# allowed answer, and `unchanged`, a submission whose state must not change when the role is denied.

class Attempt:
    def __init__(self, method, path, body=None, raw=None, content_type=None, client=None,
                 verify=None, unchanged=None):
        self.method, self.path, self.body, self.raw, self.content_type = method, path, body, raw, content_type
        self.client, self.verify, self.unchanged = client, verify, unchanged


def own_only(field, own_code):
    """verify(): every listed item belongs to `own_code` (an agency sees only its own)."""
    def verify(r):
        items = (r.json or {}).get("items", [])
        leaked = sorted({i.get(field) for i in items if i.get(field) != own_code})
        return f"sees other agencies' items: {leaked}" if leaked else None
    return verify


def agency_of(role):
    return {"rep_own": "OCS", "appr_own": "OCS", "rep_other": "BOI", "appr_other": "BOI"}.get(role)


def build_attempts(w):
    def login(role):
        name = USERNAMES.get(role, "admin1")
        return Attempt("POST", "/api/v1/session", body={"username": name, "password": PASSWORD})

    def logout(role):
        return Attempt("DELETE", "/api/v1/session", client=w.fresh_session(role))

    def password(role):
        if role == "public":
            return Attempt("POST", "/api/v1/me/password",
                           body={"old_password": PASSWORD, "new_password": "another-long-password"})
        twin = Client(w.base, w.twins[role]).login()
        return Attempt("POST", "/api/v1/me/password", client=twin,
                       body={"old_password": PASSWORD, "new_password": "another-long-password"})

    def list_subs(role):
        verify = own_only("agency", agency_of(role)) if agency_of(role) else None
        return Attempt("GET", f"/api/v1/rounds/{w.r12}/submissions?per_page=200", verify=verify)

    def save(role):
        sid = w.submission_in("draft")
        kpi = w.status(sid)["kpi"]
        return Attempt("PUT", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{kpi}",
                       body=report_body(kpi, role), unchanged=sid)

    def evidence(role):
        sid = w.submission_in("draft")
        raw, ctype = pdf_upload()
        return Attempt("POST", f"/api/v1/submissions/{sid}/evidence", raw=raw, content_type=ctype,
                       unchanged=sid)

    def remove_evidence(role):
        # A file of its own each time (rep_own's removal takes it out), in an OCS draft.
        sid = w.submission_in("draft")
        raw, ctype = pdf_upload()
        eid = expect(w.users["rep_own"].request("POST", f"/api/v1/submissions/{sid}/evidence",
                                                raw=raw, content_type=ctype), 201, "a file to remove")["id"]

        def gone(r):
            listed = [e["id"] for e in w.status(sid).get("evidence", [])]
            return f"evidence {eid} still listed after its removal" if eid in listed else None
        return Attempt("DELETE", f"/api/v1/evidence/{eid}", unchanged=sid, verify=gone)

    def transition(state, action, body=None):
        def make(role):
            sid = w.submission_in(state)
            return Attempt("POST", f"/api/v1/submissions/{sid}/{action}", body=body, unchanged=sid)
        return make

    def appeal(role):
        kpi = OTHER_AGENCY_KPI if agency_of(role) == "BOI" else "1"
        return Attempt("POST", f"/api/v1/results/{w.prelim_id}/appeals",
                       body={"kpi": kpi, "reason": f"อุทธรณ์โดย {role}"})

    def list_appeals(role):
        verify = own_only("agency", agency_of(role)) if agency_of(role) else None
        return Attempt("GET", f"/api/v1/results/{w.prelim_id}/appeals?per_page=200", verify=verify)

    def remove_extension(role):
        expect(w.admin.request("POST", f"/api/v1/rounds/{w.r12}/extensions",
                               body={"agency": "BOI", "deadline": FAR + DAY}), 201, "grant an extension")
        return Attempt("DELETE", f"/api/v1/rounds/{w.r12}/extensions/BOI")

    def decision(role):
        return Attempt("POST", f"/api/v1/appeals/{w.new_appeal()}/decision",
                       body={"upheld": False, "reason": f"วินิจฉัยโดย {role}"})

    def revoke_token(role):
        """Each user revokes a token of its own (the public: some user's token, still 401)."""
        owner = w.users["rep_own" if role == "public" else role]
        made = expect(owner.request("POST", "/api/v1/tokens", body={"name": f"to-revoke-{role}"}), 201,
                      "make a token to revoke")
        return Attempt("DELETE", f"/api/v1/tokens/{made['id']}")

    def only_own_tokens(role):
        def verify(r):
            names = [t.get("name") for t in (r.json or {}).get("items", [])]
            foreign = [n for n in names if not (n.endswith(f"-{role}") or n in ("robot",))]
            return f"lists others' tokens: {foreign}" if foreign else None
        return verify

    def qa_world():
        """A published question of OCS's and an announcement to departments with a file."""
        if not hasattr(w, "qa_question"):
            asked = expect(w.users["rep_own"].request("POST", "/api/v1/questions",
                                                      body={"fiscal_year": 2567, "question": "ถามเพื่อตรวจสิทธิ์"}),
                           201, "ask a question")
            expect(w.admin.request("POST", f"/api/v1/questions/{asked['id']}/answer",
                                   body={"answer": "ตอบเพื่อตรวจสิทธิ์", "publish": True}), 200, "answer it")
            posted = expect(w.admin.request("POST", "/api/v1/announcements",
                                            body={"fiscal_year": 2567, "agency_kind": "department",
                                                  "title": "ประกาศ", "body": "เนื้อหา"}), 201, "post")
            raw, ctype = pdf_upload()
            attached = expect(w.admin.request("POST", f"/api/v1/announcements/{posted['id']}/files",
                                              raw=raw, content_type=ctype), 201, "attach")
            w.qa_question, w.qa_announcement, w.qa_file = asked["id"], posted["id"], attached["id"]
        return w

    def question_read(role):
        def verify(r):
            who = (r.json or {}).get("agency")
            want = "OCS" if role in ("admin", "evaluator", "rep_own", "appr_own") else None
            return None if who == want else f"agency {who!r}, want {want!r}"
        return Attempt("GET", f"/api/v1/questions/{qa_world().qa_question}", verify=verify)

    def case_log_body():
        boundary = "----esar-authz-case-log"
        body = b""
        for field in ("cases", "pauses"):
            with open(os.path.join(EXAMPLE, "cases", field + ".csv"), "rb") as f:
                data = f.read()
            body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
                     f"filename=\"{field}.csv\"\r\nContent-Type: text/csv\r\n\r\n").encode() + data + b"\r\n"
        return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"

    def case_world():
        """OCS's case log for a case-log KPI of round 12 that no other check uses."""
        if not hasattr(w, "case_log_id"):
            kpi = "2"
            raw, ctype = case_log_body()
            up = expect(w.users["rep_own"].request(
                "POST", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{kpi}/case-log", raw=raw,
                content_type=ctype), 201, "upload OCS's case log")
            w.case_kpi, w.case_log_id = kpi, up["id"]
        return w

    def catalog_body():
        boundary = "----esar-authz-catalog"
        with open(os.path.join(ROOT, "examples", "opdc-2565", "catalog.json"), "rb") as f:
            data = f.read()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"catalog\"; "
                f"filename=\"catalog.json\"\r\nContent-Type: application/json\r\n\r\n").encode() + data + b"\r\n"
        return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"

    def catalog_world():
        """OCS's data catalog for KPI 5 (Data Catalog quality) of a round 12 of its own: a
        framework version whose KPI 5 takes its `datasets` count from the catalog."""
        if not hasattr(w, "catalog_id"):
            document = json.loads(json.dumps(w.framework))
            kpi = next(k for k in document["kpis"] if k["id"] == "5")
            kpi["catalog"] = {"variables": {"datasets": "datasets"}}
            w.catalog_round = w.open_round(w.new_framework(document), 12)
            raw, ctype = catalog_body()
            up = expect(w.users["rep_own"].request(
                "POST", f"/api/v1/rounds/{w.catalog_round}/agencies/OCS/kpis/5/catalog", raw=raw,
                content_type=ctype), 201, "upload OCS's data catalog")
            w.catalog_id = up["id"]
        return w

    def catalog_upload(role):
        # The same file again: for the reporter 200 (unchanged) once the others were refused.
        raw, ctype = catalog_body()
        return Attempt("POST", f"/api/v1/rounds/{catalog_world().catalog_round}/agencies/OCS/kpis/5/catalog",
                       raw=raw, content_type=ctype)

    def case_log_upload(role):
        # The same log again: for the reporter a replacement (201) once the others were refused.
        raw, ctype = case_log_body()
        return Attempt("POST", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{case_world().case_kpi}/case-log",
                       raw=raw, content_type=ctype)

    def announcement_file(role):
        raw, ctype = pdf_upload()
        return Attempt("POST", f"/api/v1/announcements/{qa_world().qa_announcement}/files", raw=raw,
                       content_type=ctype)

    def published(r):
        return None if (r.json or {}).get("stage") == "published" else f"stage {(r.json or {}).get('stage')}"

    def rep_own_id():
        return expect(w.users["rep_own"].request("GET", "/api/v1/me"), 200, "who is rep_own")["id"]

    def resend(role):
        admin = w.users["admin"]
        expect(admin.request("POST", "/api/v1/users",
                             body={"username": w.unique("mailed_"), "password": PASSWORD,
                                   "role": "evaluator", "email": "mailed@opdc.go.th"}), 201,
               "make a user with an address")
        mails = expect(admin.request("GET", "/api/v1/outbox"), 200, "the outbox")["items"]
        return Attempt("POST", f"/api/v1/outbox/{mails[0]['id']}/resend")

    return {
        "GET /api/v1/me/notifications": lambda role: Attempt("GET", "/api/v1/me/notifications"),
        "POST /api/v1/me/notifications/read": lambda role: Attempt(
            "POST", "/api/v1/me/notifications/read", body={}),
        "PUT /api/v1/me/preferences": lambda role: Attempt(
            "PUT", "/api/v1/me/preferences", body={"language": "th", "reminders": True, "digest": True}),
        "GET /api/v1/users/{id}/contact": lambda role: Attempt(
            "GET", f"/api/v1/users/{rep_own_id()}/contact"),
        "PUT /api/v1/users/{id}/contact": lambda role: Attempt(
            "PUT", f"/api/v1/users/{rep_own_id()}/contact",
            body={"email": "reporter@ocs.go.th", "language": "th"}),
        "GET /api/v1/outbox": lambda role: Attempt("GET", "/api/v1/outbox"),
        "POST /api/v1/outbox/{id}/resend": resend,
        "GET /healthz": lambda role: Attempt("GET", "/healthz"),
        "GET /metrics": lambda role: Attempt("GET", "/metrics"),
        "GET /api/v1/openapi.json": lambda role: Attempt("GET", "/api/v1/openapi.json"),
        "POST /api/v1/session": login,
        "DELETE /api/v1/session": logout,
        "GET /api/v1/me": lambda role: Attempt("GET", "/api/v1/me"),
        "POST /api/v1/me/password": password,
        "POST /api/v1/users": lambda role: Attempt(
            "POST", "/api/v1/users",
            body={"username": w.unique("new_user_"), "password": PASSWORD, "role": "evaluator"}),
        "POST /api/v1/tokens": lambda role: Attempt("POST", "/api/v1/tokens", body={"name": f"authz-{role}"}),
        "GET /api/v1/tokens": lambda role: Attempt("GET", "/api/v1/tokens", verify=only_own_tokens(role)),
        "DELETE /api/v1/tokens/{id}": revoke_token,
        "GET /api/v1/agencies": lambda role: Attempt("GET", "/api/v1/agencies"),
        "GET /api/v1/agencies/export": lambda role: Attempt("GET", "/api/v1/agencies/export"),
        "PUT /api/v1/agencies": lambda role: Attempt(
            "PUT", "/api/v1/agencies",
            body={"agencies": [{"code": "TST", "name": {"th": "หน่วยงานทดสอบ", "en": "Test agency"},
                                "kind": "department", "parent": "PMO"}]}),
        "POST /api/v1/frameworks": lambda role: Attempt("POST", "/api/v1/frameworks", body=w.framework),
        "GET /api/v1/frameworks/{id}": lambda role: Attempt("GET", "/api/v1/frameworks/1"),
        "POST /api/v1/frameworks/{id}/rounds": lambda role: Attempt(
            "POST", "/api/v1/frameworks/1/rounds", body={"round": 6, "deadline": FAR}),
        "GET /api/v1/rounds/{id}": lambda role: Attempt("GET", f"/api/v1/rounds/{w.r12}"),
        "POST /api/v1/rounds/{id}/extensions": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r12}/extensions", body={"agency": "BOI", "deadline": FAR + DAY}),
        "DELETE /api/v1/rounds/{id}/extensions/{agency}": remove_extension,
        "POST /api/v1/rounds/{id}/close": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_close}/close", body={"reason": f"ปิดโดย {role}"}),
        "POST /api/v1/rounds/{id}/reopen": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_reopen}/reopen", body={"reason": f"เปิดโดย {role}", "deadline": FAR}),
        "GET /api/v1/rounds/{id}/readiness": lambda role: Attempt("GET", f"/api/v1/rounds/{w.r12}/readiness"),
        "POST /api/v1/data": lambda role: Attempt(
            "POST", "/api/v1/data",
            body={"observations": [{"agency": "OCS", "kpi": "7", "variable": "score",
                                    "fiscal_year": 2567, "round": 12, "value": 80.12}]}),
        "GET /api/v1/rounds/{id}/submissions": list_subs,
        "GET /api/v1/submissions/{id}": lambda role: Attempt("GET", f"/api/v1/submissions/{w.submitted_id}"),
        "GET /api/v1/evidence/{id}/content": lambda role: Attempt("GET", f"/api/v1/evidence/{w.evidence_id}/content"),
        "PUT /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}": save,
        "POST /api/v1/submissions/{id}/evidence": evidence,
        "DELETE /api/v1/evidence/{id}": remove_evidence,
        "POST /api/v1/submissions/{id}/approve": transition("draft", "approve"),
        "POST /api/v1/submissions/{id}/send-back": transition("draft", "send-back",
                                                              {"comment": "โปรดแนบหนังสือรับรอง"}),
        "POST /api/v1/submissions/{id}/submit": transition("approved", "submit"),
        "POST /api/v1/submissions/{id}/return": transition("submitted", "return",
                                                           {"comment": "โปรดแนบหนังสือรับรอง"}),
        "POST /api/v1/submissions/{id}/accept": transition("submitted", "accept", {"comment": "ถูกต้อง"}),
        "POST /api/v1/rounds/{id}/results": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_final}/results", body={"appeal_days": 0}),
        "POST /api/v1/rounds/{id}/results/final": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_final}/results/final"),
        "POST /api/v1/rounds/{id}/results/publish": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_final}/results/publish"),
        "POST /api/v1/rounds/{id}/results/close-appeals": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r_window}/results/close-appeals", body={"reason": f"โดย {role}"}),
        "GET /api/v1/rounds/{id}/results": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r_pub}/results", verify=published),
        "GET /api/v1/rounds/{id}/results/agencies/{code}": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r_pub}/results/agencies/OCS", verify=published),
        "GET /api/v1/rounds/{id}/results/agencies/{code}/report.pdf": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r_pub}/results/agencies/OCS/report.pdf"),
        "GET /api/v1/rounds/{id}/results/reports.zip": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r_pub}/results/reports.zip"),
        "GET /api/v1/verify/{hash}": lambda role: Attempt("GET", "/api/v1/verify/not-a-check-code"),
        "POST /api/v1/results/{id}/appeals": appeal,
        "GET /api/v1/results/{id}/appeals": list_appeals,
        "POST /api/v1/appeals/{id}/decision": decision,
        "GET /api/v1/qa": lambda role: Attempt("GET", "/api/v1/qa"),
        "GET /api/v1/qa/{year}/{kind}": lambda role: Attempt(
            "GET", f"/api/v1/qa/2567/department?q={urllib.parse.quote('สิทธิ์')}"),
        "POST /api/v1/questions": lambda role: Attempt(
            "POST", "/api/v1/questions", body={"fiscal_year": 2567, "question": f"คำถามของ {role}"}),
        "GET /api/v1/questions": lambda role: Attempt(
            "GET", "/api/v1/questions?per_page=200",
            verify=own_only("agency", agency_of(role)) if agency_of(role) else None),
        "GET /api/v1/questions/{id}": question_read,
        "POST /api/v1/questions/{id}/answer": lambda role: Attempt(
            "POST", f"/api/v1/questions/{qa_world().qa_question}/answer",
            body={"answer": f"ตอบโดย {role}", "publish": True}),
        "GET /api/v1/announcements": lambda role: Attempt("GET", "/api/v1/announcements"),
        "POST /api/v1/announcements": lambda role: Attempt(
            "POST", "/api/v1/announcements",
            body={"fiscal_year": 2567, "agency_kind": "department", "title": f"โดย {role}", "body": "x"}),
        "GET /api/v1/announcements/{id}": lambda role: Attempt(
            "GET", f"/api/v1/announcements/{qa_world().qa_announcement}"),
        "POST /api/v1/announcements/{id}/files": announcement_file,
        "GET /api/v1/announcement-files/{id}/content": lambda role: Attempt(
            "GET", f"/api/v1/announcement-files/{qa_world().qa_file}/content"),
        "GET /api/v1/rounds/{id}/results/export": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r_pub}/results/export"),
        "GET /api/v1/rounds/{id}/status/export": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r12}/status/export?format=csv"),
        "GET /api/v1/queue/export": lambda role: Attempt("GET", f"/api/v1/queue/export?round={w.r12}"),
        "GET /api/v1/audit/export": lambda role: Attempt(
            "GET", "/api/v1/audit/export?from=2020-01-01&to=2040-12-31"),
        "GET /api/v1/rounds/{id}/agencies/{agency}/template": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r12}/agencies/OCS/template"),
        "GET /api/v1/reports/national/{year}/report.pdf": lambda role: Attempt(
            "GET", "/api/v1/reports/national/2567/report.pdf?round=6"),
        "GET /api/v1/reports/national/{year}/report.xlsx": lambda role: Attempt(
            "GET", "/api/v1/reports/national/2567/report.xlsx?round=6"),
        "POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log": case_log_upload,
        "GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{case_world().case_kpi}/case-log"),
        "GET /api/v1/case-logs/{id}": lambda role: Attempt("GET", f"/api/v1/case-logs/{case_world().case_log_id}"),
        "GET /api/v1/case-logs/{id}/cases": lambda role: Attempt(
            "GET", f"/api/v1/case-logs/{case_world().case_log_id}/cases?verdict=late"),
        "GET /api/v1/case-logs/{id}/cases/export": lambda role: Attempt(
            "GET", f"/api/v1/case-logs/{case_world().case_log_id}/cases/export?format=csv"),
        "POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog": catalog_upload,
        "GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog": lambda role: Attempt(
            "GET", f"/api/v1/rounds/{catalog_world().catalog_round}/agencies/OCS/kpis/5/catalog"),
        "GET /api/v1/catalogs/{id}": lambda role: Attempt("GET", f"/api/v1/catalogs/{catalog_world().catalog_id}"),
        "GET /api/v1/catalogs/{id}/datasets": lambda role: Attempt(
            "GET", f"/api/v1/catalogs/{catalog_world().catalog_id}/datasets?status=incomplete"),
        "GET /api/v1/catalogs/{id}/datasets/export": lambda role: Attempt(
            "GET", f"/api/v1/catalogs/{catalog_world().catalog_id}/datasets/export?format=csv"),
        # Not an XLSX file: the reporter gets past the check to a 400; nothing is saved.
        "POST /api/v1/rounds/{id}/agencies/{agency}/template": lambda role: Attempt(
            "POST", f"/api/v1/rounds/{w.r12}/agencies/OCS/template", raw=b"not a spreadsheet",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    }


def run_matrix(w):
    attempts = build_attempts(w)
    for route in EXPECTED:
        for role in ROLES:
            allowed = role in EXPECTED[route]
            try:
                a = attempts[route](role)
            except Exception as e:  # noqa: BLE001 - a setup failure fails this check only
                check(False, f"{route:58} {role:10} setup", f"{type(e).__name__}: {e}")
                continue
            before = w.status(a.unchanged) if a.unchanged else None
            client = a.client or w.client(role)
            r = client.request(a.method, a.path, body=a.body, raw=a.raw, content_type=a.content_type)
            deny_status = 401 if role == "public" else 403
            if 200 <= r.status < 300 or r.status in BUSINESS_4XX:
                verdict = "allowed"
            elif r.status == deny_status:
                verdict = "denied"
            else:
                verdict = "unexpected"
            want = "allowed" if allowed else "denied"
            detail = ""
            ok = verdict == want
            if not ok:
                detail = f"expected {want}, body {r.text()}"
            elif allowed and 200 <= r.status < 300 and a.verify:
                problem = a.verify(r)
                if problem:
                    ok, detail = False, problem
            elif not allowed and before is not None:
                after = w.status(a.unchanged)
                if (after["status"], after["revision"], len(after["evidence"])) != \
                        (before["status"], before["revision"], len(before["evidence"])):
                    ok, detail = False, (f"denied but the submission changed: {before['status']} "
                                         f"r{before['revision']} -> {after['status']} r{after['revision']}")
            check(ok, f"{route:58} {role:10} -> {r.status} {verdict}"
                      + (f" (want {want})" if verdict != want else ""), detail)


def route_coverage():
    """The table names exactly the operations of docs/openapi.json."""
    with open(DOC_PATH, encoding="utf-8") as f:
        doc = json.load(f)
    documented = {f"{m.upper()} {p}" for p, item in doc["paths"].items() for m in item
                  if m in ("get", "put", "post", "delete", "patch", "head", "options")}
    missing, extra = sorted(documented - set(EXPECTED)), sorted(set(EXPECTED) - documented)
    check(not missing and not extra, f"the table covers every documented route ({len(documented)})",
          f"missing {missing}, not documented {extra}")


def visibility_checks(w):
    """What the rules say beyond allow/deny: who sees what, and no edits in place."""
    rep_other, rep_own = w.users["rep_other"], w.users["rep_own"]
    r = w.public.request("GET", f"/api/v1/rounds/{w.r_appeal}/results?stage=preliminary")
    check(r.status == 404, f"public asks for preliminary results -> {r.status} (want 404: "
                           "only published results are public)", r.text())
    # Framework 1, round 6: final results, not published. The public sees none of them.
    r6 = w.open_round(1, 6, compute_days=0, finalize=True)
    for query in ("", "?stage=final", "?stage=preliminary"):
        r = w.public.request("GET", f"/api/v1/rounds/{r6}/results{query}")
        check(r.status == 404, f"public asks for final, unpublished results{query} -> {r.status} (want 404)",
              r.text())
    r = w.users["evaluator"].request("GET", f"/api/v1/rounds/{r6}/results?stage=final")
    check(r.status == 200 and (r.json or {}).get("stage") == "final",
          f"evaluator asks for the same final results -> {r.status} (want 200)", r.text())
    # An API token acts as its creator, with the creator's limits.
    token = expect(rep_other.request("POST", "/api/v1/tokens", body={"name": "robot"}), 201, "token")["token"]
    req = urllib.request.Request(w.base + f"/api/v1/submissions/{w.submitted_id}",
                                 headers={"Authorization": f"Bearer {token}"})
    try:
        with OPENER.open(req, timeout=30) as resp:
            status = resp.status
    except urllib.error.HTTPError as e:
        status = e.code
        e.close()
    check(status == 403, f"rep_other's API token reads an OCS report -> {status} (want 403)")
    token_checks(w, token)
    for role in ("rep_other", "appr_other", "rep_own"):
        r = w.users[role].request("GET", f"/api/v1/rounds/{w.r_appeal}/results?stage=preliminary")
        codes = [a.get("code") for a in ((r.json or {}).get("scores") or {}).get("agencies", [])]
        want = agency_of(role)
        check(r.status == 200 and codes == [want],
              f"{role} reads preliminary results -> {r.status}, agencies {codes} (want only {want})",
              r.text())
    r = rep_other.request("GET", f"/api/v1/submissions/{w.accepted_id}")
    check(r.status == 403, f"rep_other reads an accepted OCS report -> {r.status} (want 403)", r.text())
    # Nobody edits a submitted (or accepted) report in place.
    for sid, what in ((w.submitted_id, "submitted"), (w.accepted_id, "accepted")):
        before = w.status(sid)
        kpi = before["kpi"]
        body = report_body(kpi, "แก้ในที่")
        body["values"] = {k: v for k, v in VALUES[kpi].items()}
        first = next(iter(body["values"]))
        if isinstance(body["values"][first], int):
            body["values"][first] = max(0, body["values"][first] - 1)
        r = rep_own.request("PUT", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{kpi}", body=body)
        after = w.status(sid)
        check(r.status == 409 and after["values"] == before["values"] and after["revision"] == before["revision"],
              f"rep_own saves over a {what} report -> {r.status} (want 409, values unchanged)", r.text())
        raw, ctype = pdf_upload()
        r = rep_own.request("POST", f"/api/v1/submissions/{sid}/evidence", raw=raw, content_type=ctype)
        after = w.status(sid)
        check(r.status == 409 and len(after["evidence"]) == len(before["evidence"]),
              f"rep_own adds evidence to a {what} report -> {r.status} (want 409)", r.text())
    # A framework no round has frozen yet is a draft (with per-agency targets): the central
    # office's alone. Everyone else gets exactly the answer for a framework that does not exist.
    draft = expect(w.admin.request("POST", "/api/v1/frameworks", body=w.framework), 201, "import a draft")
    check(draft and not draft["frozen"], "a framework imported after the last frozen one is a draft")
    missing = w.public.request("GET", "/api/v1/frameworks/987654")
    for role in ROLES:
        r = w.client(role).request("GET", f"/api/v1/frameworks/{draft['id']}")
        if role == "admin":
            check(r.status == 200 and (r.json or {}).get("frozen") is False,
                  f"admin reads the draft framework -> {r.status} (want 200)", r.text())
        else:
            e = (r.json or {}).get("error") or {}
            check(r.status == 404 and e.get("code") == "not_found"
                  and e.get("message_en") == f"no framework {draft['id']}"
                  and set(r.json) == set(missing.json or {}) and "document" not in r.text(100000),
                  f"{role} reads the draft framework -> {r.status} (want 404, as for a missing one)", r.text())
    r = w.public.request("GET", "/api/v1/frameworks/1")
    check(r.status == 200 and r.json["frozen"], f"the public reads a frozen framework -> {r.status} (want 200)")
    for role in ("admin", "evaluator", "appr_own"):
        kpi = w.status(w.submitted_id)["kpi"]
        r = w.users[role].request("PUT", f"/api/v1/rounds/{w.r12}/agencies/OCS/kpis/{kpi}",
                                  body=report_body(kpi))
        check(r.status == 403, f"{role} saves over a submitted OCS report -> {r.status} (want 403)", r.text())


def bearer(w, token, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(w.base + path, data=data, method=method,
                                 headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with OPENER.open(req, timeout=30) as resp:
            return resp.status
    except urllib.error.HTTPError as e:
        e.close()
        return e.code


def token_checks(w, full_token):
    """Through a token: no token or password management; a read token only reads."""
    for method, path, body in (("POST", "/api/v1/tokens", {"name": "another"}),
                               ("GET", "/api/v1/tokens", None),
                               ("DELETE", "/api/v1/tokens/1", None),
                               ("POST", "/api/v1/me/password", {"old_password": PASSWORD,
                                                                "new_password": "another-long-password"})):
        status = bearer(w, full_token, method, path, body)
        check(status == 403, f"a full API token: {method} {path} -> {status} (want 403)")
    admin = w.admin
    reader = expect(admin.request("POST", "/api/v1/tokens", body={"name": "reader", "scope": "read"}), 201,
                    "read token")["token"]
    status = bearer(w, reader, "GET", f"/api/v1/rounds/{w.r12}/submissions")
    check(status == 200, f"a read token lists submissions -> {status} (want 200)")
    for method, path, body in (("POST", f"/api/v1/rounds/{w.r12}/extensions", {"agency": "BOI", "deadline": FAR}),
                               ("PUT", "/api/v1/agencies", {"agencies": []}),
                               ("POST", "/api/v1/users", {"username": "by_reader", "password": PASSWORD,
                                                          "role": "evaluator"})):
        status = bearer(w, reader, method, path, body)
        check(status == 403, f"an admin's read token: {method} {path} -> {status} (want 403)")


def main():
    tmp = tempfile.mkdtemp(prefix="esar-authz-")
    proc = log = None
    try:
        route_coverage()
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(tmp, "esar.db")
        data_dir = os.path.join(tmp, "files")
        os.makedirs(data_dir)
        esar_harness.run_cli(ESAR, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        esar_harness.run_cli(ESAR, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        esar_harness.run_cli(ESAR, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        for role, name in USERNAMES.items():
            r, agency = USER_SPECS[role]
            args = ["admin", "create-user", "--db", db, "--username", name, "--role", r]
            if agency:
                args += ["--agency", agency]
            esar_harness.run_cli(ESAR, args, env={"ESAR_PASSWORD": PASSWORD})
        proc, base, log = esar_harness.start_server(ESAR, db, data_dir, os.path.join(tmp, "server.log"))
        if check(base is not None, "server started", "no 'listening on' line"):
            world = World(base)
            world.setup()
            run_matrix(world)
            visibility_checks(world)
    except Exception as e:  # noqa: BLE001 - report and fail, never leave the server running
        import traceback
        traceback.print_exc()
        check(False, "test ran to the end", f"{type(e).__name__}: {e}")
    finally:
        esar_harness.stop_server(proc)
        if proc is not None:
            check(proc.returncode == 0, "server stopped cleanly on SIGTERM", f"exit {proc.returncode}")
        if log:
            log.close()
            if check.failed:
                with open(os.path.join(tmp, "server.log"), encoding="utf-8", errors="replace") as f:
                    for line in f.readlines()[-10:]:
                        print("server log:", line.rstrip())
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
