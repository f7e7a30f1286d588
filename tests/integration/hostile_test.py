#!/usr/bin/python3
"""Hostile input: every route of docs/openapi.json that takes a body or path parameters.

Builds a fresh SQLite database in a temporary directory with the command line (examples/ocs-2567)
and one user per role, starts `esar serve --max-upload-mb 1`, sets up the state each route needs
(an open round, OCS drafts, submitted reports, evidence, a closed round with preliminary results,
open appeals), then,
as a user who IS allowed to call the route (so that a refusal comes from input checking, not from
authorization), sends hostile input:

    malformed JSON; a JSON array, string, number or null instead of an object; an empty body;
    every body field with a wrong type (number for string, string for number, object for array,
    null for a required field, ...); every required field missing; a 2 MB body (declared and
    chunked, 413); broken UTF-8 in every text field (raw bytes, overlong, surrogates); control
    characters and NUL in every text field; SQL metacharacters in every text field; path
    parameters that are not numbers, negative, zero, huge, or percent-encoded garbage;
    for the evidence upload: broken multipart, hostile file names, wrong file types, an empty file,
    files over the limit and office files that expand absurdly (zip bombs); for the framework
    import: KPI ids outside the documented safe set (CR LF, spaces, Thai, '/', '?', '#', ...); for the login: a 10 KB user name and broken UTF-8.

A refused request must get a 4xx (never a 5xx, never a dropped connection) whose body is exactly
{"error": {"code", "message_th", "message_en", "details"}} with a Thai and an English message, and
nothing may be stored: the row count of every table of the database (read directly, read-only,
between requests) and the files of the evidence store must be unchanged. The one exception is the
documented login throttle: a wrong login may add its counters to login_throttle, one for the
address ("addr:<ip>") and, for a plausible user name (at most 64 bytes), one for that name from that
address ("pair:<the name sent>@<ip>"). A 10 KB user name can never be a user (names are at most 64
characters) and must not be stored.

Control characters and SQL metacharacters in free text (explanations, comments, reasons, names)
may legitimately be accepted: then the stored value must read back exactly as sent and every table
must still be there. Fields with a fixed shape (user names, roles, agency codes, the framework
format) must refuse them.

Standard library only:  /usr/bin/python3 tests/integration/hostile_test.py [path/to/esar]
Prints one line per check, then `N passed, M failed`; exits 1 on any failure.
"""
import copy
import csv
import hashlib
import io
import json
import os
import pathlib
import re
import shutil
import socket
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks, EXAMPLE, ROOT  # noqa: E402

check = Checks(verbose=True)

ESAR = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "esar")
DOC_PATH = os.path.join(ROOT, "docs", "openapi.json")
PASSWORD = "correct-horse-battery-9"
FAR = int(time.time() * 1000) + 365 * 24 * 3600 * 1000
DAY = 24 * 3600 * 1000
MAX_UPLOAD_MB = 1
ERROR_CODES = {"invalid_input", "not_found", "unauthenticated", "forbidden", "conflict",
               "too_many_requests", "unavailable", "internal"}
THAI = re.compile("[\u0e00-\u0e7f]")


class Fatal(Exception):
    """The server is gone: stop the run."""


# ------------------------------------------------------------------ raw HTTP over a socket
# A hand-written client so that any bytes can go into the request target, the headers and the
# body, and so that a dropped connection is seen as such.

class Dropped(Exception):
    pass


class Response:
    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers  # lower-case name -> value
        self.raw = raw
        self.json = None
        if headers.get("content-type", "").startswith("application/json"):
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except ValueError:
                self.json = None

    def text(self, n=300):
        return self.raw[:n].decode("utf-8", "replace")


def _parse_response(buf):
    end = buf.find(b"\r\n\r\n")
    if end < 0:
        return None
    head = buf[:end].decode("latin-1").split("\r\n")
    m = re.match(r"HTTP/1\.[01] (\d{3})", head[0])
    if not m:
        raise Dropped(f"not an HTTP answer: {head[0][:80]!r}")
    headers = {}
    for line in head[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    body = buf[end + 4:]
    if headers.get("transfer-encoding", "").lower() == "chunked":
        out, rest = b"", body
        while True:
            nl = rest.find(b"\r\n")
            if nl < 0:
                return None
            size = int(rest[:nl].split(b";")[0], 16)
            if size == 0:
                return Response(int(m.group(1)), headers, out)
            if len(rest) < nl + 2 + size + 2:
                return None
            out += rest[nl + 2:nl + 2 + size]
            rest = rest[nl + 2 + size + 2:]
    if "content-length" in headers:
        n = int(headers["content-length"])
        if len(body) < n:
            return None
        return Response(int(m.group(1)), headers, body[:n])
    return Response(int(m.group(1)), headers, body)


def http(host, port, method, target, headers=(), body=None, chunked=False, timeout=30):
    """One request on a fresh connection (Connection: close). `target` and header values may be
    str or bytes. Raises Dropped when no complete answer arrives."""
    if isinstance(target, str):
        target = target.encode("utf-8")
    lines = [method.encode() + b" " + target + b" HTTP/1.1", f"Host: {host}:{port}".encode(),
             b"Connection: close"]
    for name, value in headers:
        lines.append(name.encode() + b": " + (value if isinstance(value, bytes) else value.encode("utf-8")))
    payload = b""
    if body is not None:
        if chunked == "raw":
            lines.append(b"Transfer-Encoding: chunked")
            payload = body
        elif chunked:
            lines.append(b"Transfer-Encoding: chunked")
            for i in range(0, len(body), 65536):
                piece = body[i:i + 65536]
                payload += b"%x\r\n" % len(piece) + piece + b"\r\n"
            payload += b"0\r\n\r\n"
        else:
            lines.append(b"Content-Length: %d" % len(body))
            payload = body
    data = b"\r\n".join(lines) + b"\r\n\r\n" + payload
    try:
        s = socket.create_connection((host, port), timeout=timeout)
    except OSError as e:
        raise Dropped(f"cannot connect: {e}")
    buf = b""
    try:
        def send():
            try:
                s.sendall(data)
            except OSError:
                pass  # the server may answer and stop reading early: the answer is what counts
        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        while True:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                raise Dropped(f"no complete answer within {timeout} s ({len(buf)} bytes)")
            except OSError as e:
                r = _parse_response(buf)
                if r is not None:
                    return r
                raise Dropped(f"{type(e).__name__} after {len(buf)} bytes of answer")
            if not chunk:
                break
            buf += chunk
        sender.join(timeout=5)
    finally:
        s.close()
    r = _parse_response(buf)
    if r is None:
        raise Dropped("connection closed without an answer" if not buf
                      else f"connection closed mid-answer ({len(buf)} bytes)")
    return r


class Client:
    """The public (no credentials) or a cookie session with its CSRF token."""

    def __init__(self, base, username=None):
        m = re.match(r"http://([\d.]+):(\d+)", base)
        self.base, self.host, self.port = base, m.group(1), int(m.group(2))
        self.username = username
        self.cookie = self.csrf = None

    def request(self, method, path, body=None, raw=None, content_type=None, headers=(), chunked=False):
        h = list(headers)
        data = None
        if raw is not None:
            data = raw
            h.append(("Content-Type", content_type or "application/json"))
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h.append(("Content-Type", "application/json"))
        if self.cookie:
            h.append(("Cookie", f"esar_session={self.cookie}"))
            if self.csrf and method not in ("GET", "HEAD", "OPTIONS"):
                h.append(("X-CSRF-Token", self.csrf))
        return http(self.host, self.port, method, path, h, data, chunked=chunked)

    def login(self, password=PASSWORD):
        r = Client(self.base).request("POST", "/api/v1/session",
                                      body={"username": self.username, "password": password})
        cookie = re.search(r"esar_session=([^;]+)", r.headers.get("set-cookie", ""))
        if r.status != 200 or not cookie or not r.json:
            raise RuntimeError(f"login {self.username!r} failed: {r.status} {r.text()}")
        self.cookie, self.csrf = cookie.group(1), r.json["csrf_token"]
        return self


def expect(r, status, what):
    if r.status != status:
        raise RuntimeError(f"setup: {what}: expected {status}, got {r.status} {r.text(400)}")
    return r.json


def error_shape(r):
    """None when the answer is the documented error shape, else what is wrong."""
    if not r.headers.get("content-type", "").startswith("application/json"):
        return f"content type {r.headers.get('content-type')!r}"
    j = r.json
    if not isinstance(j, dict) or set(j) != {"error"}:
        return f"body is not {{\"error\": ...}}: {r.text(120)}"
    e = j["error"]
    if not isinstance(e, dict) or set(e) != {"code", "message_th", "message_en", "details"}:
        return f"error keys {sorted(e) if isinstance(e, dict) else type(e).__name__}"
    if e["code"] not in ERROR_CODES:
        return f"unknown code {e['code']!r}"
    if not isinstance(e["message_th"], str) or not THAI.search(e["message_th"]):
        return f"message_th is not Thai text: {e['message_th']!r}"
    if not isinstance(e["message_en"], str) or not e["message_en"].strip():
        return "message_en is empty"
    if e["details"] is not None and not isinstance(e["details"], dict):
        return f"details is {type(e['details']).__name__}"
    return None


# ------------------------------------------------------------------ fixtures

def minimal_pdf():
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


def big_pdf(size):
    """A PDF of `size` bytes (a comment pads it): libmagic still sees a PDF."""
    pdf = minimal_pdf()
    pad = size - len(pdf) - 2
    return pdf[:9] + b"%" + b"x" * pad + b"\n" + pdf[9:]


def part(name, content, filename=None, ctype=None, extra=b""):
    cd = f'Content-Disposition: form-data; name="{name}"'.encode()
    if filename is not None:
        cd += b'; filename="' + (filename if isinstance(filename, bytes) else filename.encode()) + b'"'
    out = cd + b"\r\n"
    if ctype:
        out += f"Content-Type: {ctype}\r\n".encode()
    return out + extra + b"\r\n" + content


def multipart(parts, boundary=None, close=True):
    boundary = boundary or "esar-" + uuid.uuid4().hex
    out = b""
    for p in parts:
        out += f"--{boundary}\r\n".encode() + p + b"\r\n"
    if close:
        out += f"--{boundary}--\r\n".encode()
    return out, boundary


def pdf_upload(filename="evidence.pdf", content=None):
    body, boundary = multipart([part("file", content if content is not None else minimal_pdf(),
                                     filename, "application/pdf")])
    return body, f"multipart/form-data; boundary={boundary}"


def ocs_values():
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
    return {"values": copy.deepcopy(VALUES[kpi]), "explanation": "รายงานผลการดำเนินงาน " + note,
            "problems": "", "remarks": None}


# ------------------------------------------------------------------ the server


# ------------------------------------------------------------------ the world

USERNAMES = {"admin": "admin1", "evaluator": "eval1", "rep_own": "ocs_reporter",
             "appr_own": "ocs_approver"}
USER_SPECS = {"admin": ("admin", None), "evaluator": ("evaluator", None),
              "rep_own": ("reporter", "OCS"), "appr_own": ("approver", "OCS")}


class World:
    def __init__(self, base, proc, db, data_dir, tmp):
        self.base, self.proc, self.db, self.data_dir, self.tmp = base, proc, db, data_dir, tmp
        self.public = Client(base)
        self.users = {role: Client(base, name).login() for role, name in USERNAMES.items()}
        self.counter = 0
        self.pool = []
        self.free_kpis = sorted(VALUES, key=int)

    @property
    def admin(self):
        return self.users["admin"]

    def unique(self, prefix):
        self.counter += 1
        return f"{prefix}{self.counter}"

    # ---- the database and the file store, read directly

    def snapshot(self):
        uri = pathlib.Path(self.db).as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=10)
        try:
            names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            return {n: con.execute(f'SELECT COUNT(*) FROM "{n}"').fetchone()[0] for n in sorted(names)}
        finally:
            con.close()

    def query(self, sql, args=()):
        uri = pathlib.Path(self.db).as_uri() + "?mode=ro"
        con = sqlite3.connect(uri, uri=True, timeout=10)
        con.text_factory = bytes
        try:
            rows = con.execute(sql, args).fetchall()
        finally:
            con.close()
        return [tuple(v.decode("utf-8", "surrogateescape") if isinstance(v, bytes) else v for v in row)
                for row in rows]

    def files(self):
        out = set()
        for dirpath, _, names in os.walk(self.tmp):
            for n in names:
                full = os.path.join(dirpath, n)
                if full.startswith(self.db):  # the database, its journal and WAL files
                    continue
                if n == "server.log":
                    continue
                out.add(os.path.relpath(full, self.tmp))
        return out

    # ---- OCS submissions of round 12

    def status(self, sid):
        return expect(self.admin.request("GET", f"/api/v1/submissions/{sid}"), 200, "read submission")

    def new_draft(self, pool=True):
        kpi = self.free_kpis.pop(0)
        j = expect(self.users["rep_own"].request(
            "PUT", f"/api/v1/rounds/{self.r12}/agencies/OCS/kpis/{kpi}", body=report_body(kpi)),
            200, f"save a draft of KPI {kpi}")
        if pool:
            self.pool.append(j["id"])
        return j["id"]

    def bring(self, sid, state):
        """Brings submission `sid` to draft, approved or submitted."""
        cur = self.status(sid)
        if cur["status"] == "accepted":
            raise RuntimeError(f"setup: submission {sid} is accepted")
        if cur["status"] == "submitted" and state != "submitted":
            expect(self.users["evaluator"].request("POST", f"/api/v1/submissions/{sid}/return",
                                                   body={"comment": "ขอแก้ไข"}), 200, "return")
            cur = self.status(sid)
        if cur["status"] == state:
            return sid
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

    def submission_in(self, state):
        while self.pool and self.status(self.pool[0])["status"] == "accepted":
            self.pool.pop(0)
        sid = self.pool[0] if self.pool else self.new_draft()
        return self.bring(sid, state)

    def new_appeal(self):
        j = expect(self.users["rep_own"].request(
            "POST", f"/api/v1/results/{self.prelim_id}/appeals",
            body={"kpi": "1", "reason": "ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง " + self.unique("")}),
            201, "file an appeal")
        return j["id"]

    def open_round(self, framework, number, compute_days=None):
        """Opens round `number` of `framework`; with `compute_days`, closes reporting and computes
        preliminary results with that appeal window."""
        admin = self.admin
        rid = expect(admin.request("POST", f"/api/v1/frameworks/{framework}/rounds",
                                   body={"round": number, "deadline": FAR}), 201, "open a round")["id"]
        if compute_days is not None:
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/close", body={}), 200, "close reporting")
            expect(admin.request("POST", f"/api/v1/rounds/{rid}/results", body={"appeal_days": compute_days}),
                   201, "compute")
        return rid

    def round_state(self, rid):
        return expect(self.admin.request("GET", f"/api/v1/rounds/{rid}"), 200, "read round")["state"]

    def round_open(self, rid):
        """Brings round `rid` back to open (reopening it with a reason)."""
        if self.round_state(rid) != "open":
            expect(self.admin.request("POST", f"/api/v1/rounds/{rid}/reopen",
                                      body={"reason": "hostile setup", "deadline": FAR}), 200, "reopen")

    def round_closed(self, rid):
        if self.round_state(rid) == "open":
            expect(self.admin.request("POST", f"/api/v1/rounds/{rid}/close", body={}), 200, "close")

    def appeal_window_open(self, rid):
        """Round `rid`'s preliminary results with an open appeal window (computed again if closed)."""
        j = expect(self.admin.request("GET", f"/api/v1/rounds/{rid}"), 200, "read round")
        if j["appeal_deadline"] is None or j["appeal_deadline"] <= int(time.time() * 1000):
            expect(self.admin.request("POST", f"/api/v1/rounds/{rid}/results", body={"appeal_days": 14}),
                   201, "compute again")

    def setup(self):
        admin = self.admin
        self.r12 = expect(admin.request("POST", "/api/v1/frameworks/1/rounds",
                                        body={"round": 12, "deadline": FAR}), 201, "open round 12")["id"]
        # A draft the save route works on (always a draft).
        self.draft_id = self.new_draft(pool=False)
        self.draft_kpi = self.status(self.draft_id)["kpi"]
        # A draft the evidence route works on.
        self.upload_id = self.new_draft(pool=False)
        # A submitted report with evidence, for the return route (brought back after each case).
        self.review_id = self.new_draft(pool=False)
        raw, ctype = pdf_upload()
        self.review_evidence = expect(self.users["rep_own"].request(
            "POST", f"/api/v1/submissions/{self.review_id}/evidence", raw=raw, content_type=ctype),
            201, "upload evidence")["id"]
        self.bring(self.review_id, "submitted")
        # Framework 1, round 6: open, no results (compute, finalize and publish refuse on input or
        # on the round's state).
        self.r6 = expect(admin.request("POST", "/api/v1/frameworks/1/rounds",
                                       body={"round": 6, "deadline": FAR}), 201, "open round 6")["id"]
        with open(os.path.join(EXAMPLE, "framework.json"), encoding="utf-8") as f:
            self.framework = json.load(f)
        # Results come once reporting is closed: a second version of the framework has them.
        # Round 12: preliminary results with an appeal window, for appeals. Round 6: open, closed
        # early and reopened by the routes' cases.
        fw2 = expect(admin.request("POST", "/api/v1/frameworks", body=self.framework), 201,
                     "import framework 2")["id"]
        self.r_appeal = self.open_round(fw2, 12, compute_days=14)
        self.prelim_id = expect(admin.request("GET", f"/api/v1/rounds/{self.r_appeal}/results?stage=preliminary"),
                                200, "read the preliminary results")["id"]
        self.r_state = self.open_round(fw2, 6)
        # A third version: round 12 with an appeal window that its route closes early.
        fw3 = expect(admin.request("POST", "/api/v1/frameworks", body=self.framework), 201,
                     "import framework 3")["id"]
        self.r_window = self.open_round(fw3, 12, compute_days=14)
        # A twin evaluator whose password the password route changes.
        self.twin_password = PASSWORD
        expect(admin.request("POST", "/api/v1/users", body={"username": "twin_eval", "password": PASSWORD,
                                                            "role": "evaluator"}), 201, "create twin")
        self.twin = Client(self.base, "twin_eval").login()
        # A question of OCS's (answered by its route's cases) and an announcement with a file.
        self.question_id = expect(self.users["rep_own"].request(
            "POST", "/api/v1/questions", body={"fiscal_year": 2567, "question": "คำถามของหน่วยงาน"}),
            201, "ask a question")["id"]
        self.announcement_id = expect(admin.request(
            "POST", "/api/v1/announcements",
            body={"fiscal_year": 2567, "agency_kind": "department", "title": "ประกาศ", "body": "เนื้อหา"}),
            201, "post an announcement")["id"]
        raw, ctype = pdf_upload()
        self.announcement_file = expect(admin.request(
            "POST", f"/api/v1/announcements/{self.announcement_id}/files", raw=raw, content_type=ctype),
            201, "attach a file")["id"]
        # A token of the evaluator's, for the revoking route's path cases.
        self.token_id = expect(self.users["evaluator"].request("POST", "/api/v1/tokens", body={"name": "kept"}),
                               201, "make a token")["id"]


# ------------------------------------------------------------------ one hostile request

def diff_counts(before, after):
    out = []
    for t in sorted(set(before) | set(after)):
        if before.get(t) != after.get(t):
            out.append(f"{t} {before.get(t, 'missing')} -> {after.get(t, 'missing')}")
    return ", ".join(out)


def attempt(w, label, client, method, path, body=None, raw=None, ctype=None, headers=(),
            chunked=False, want=None, accept=None, rows_ok=None, files_too=False, prepare=None):
    """Sends one hostile request and checks the answer.

    want:    the statuses a refusal may have (default: any 4xx).
    accept:  function(response) -> problem or None. Given, a 2xx is a legitimate outcome and is
             checked by it (the stored value reads back exactly) and by the tables still existing.
    rows_ok: function(before, after, response) -> bool: a refusal that may change rows this way.
    """
    if prepare:
        prepare()
    before = w.snapshot()
    files_before = w.files() if files_too else None
    try:
        r = client.request(method, path, body=body, raw=raw, content_type=ctype, headers=headers,
                           chunked=chunked)
    except Dropped as e:
        alive = w.proc.poll() is None
        check(False, f"{label} -> dropped connection", f"{e}" + ("" if alive else
                                                                 f"; the server died (exit {w.proc.returncode})"))
        if not alive:
            raise Fatal(f"the server died on: {label}")
        return None
    after = w.snapshot()
    if 200 <= r.status < 300 and accept is not None:
        problem = None
        if set(after) != set(before):
            problem = f"tables changed: {sorted(set(before) ^ set(after))}"
        else:
            try:
                problem = accept(r)
            except Exception as e:  # noqa: BLE001
                problem = f"read back failed: {type(e).__name__}: {e}"
        check(problem is None, f"{label} -> {r.status} accepted, reads back exactly", problem or "")
        return r
    problems = []
    if not 400 <= r.status < 500 or (want and r.status not in want):
        problems.append(f"status {r.status} (want {sorted(want) if want else '4xx'})")
    if r.status >= 300 or not problems:
        shape = error_shape(r)
        if shape:
            problems.append(shape)
    if after != before and not (rows_ok and 400 <= r.status < 500 and rows_ok(before, after, r)):
        problems.append("stored on a refused request: " + diff_counts(before, after))
    if files_too:
        # No grace period: a refused upload's temporary file must be gone before its answer.
        files_after = w.files()
        if files_after != files_before:
            problems.append(f"files changed: +{sorted(files_after - files_before)} "
                            f"-{sorted(files_before - files_after)}")
    check(not problems, f"{label} -> {r.status}",
          "; ".join(problems) + (f"; body {r.text(200)}" if problems else ""))
    return r


# ------------------------------------------------------------------ the routes

class Field:
    """A body field. kind: string, nstring (string or null), integer, boolean, array, object,
    value (a reported value: number, string, boolean or a list). rule (text fields): 'free'
    (control characters and SQL may be accepted if they read back), 'code' (SQL may be accepted,
    control characters must be refused), 'strict' (both must be refused)."""

    def __init__(self, path, kind, required=False, rule=None):
        self.path, self.kind, self.required, self.rule = tuple(path), kind, required, rule

    @property
    def name(self):
        return ".".join(str(p) for p in self.path)

    @property
    def text(self):
        return self.kind in ("string", "nstring", "value")


class Route:
    def __init__(self, route, role, params=None, body=None, fields=(), verify=None, prepare=None,
                 rows_ok=None):
        self.route, self.role = route, role
        self.method, self.template = route.split(" ", 1)
        self.params = params or (lambda: {})
        self.body = body  # function() -> a fresh valid body, or None (no body)
        self.fields = list(fields)
        self.verify = verify  # function(response, body, field) -> problem or None
        self.prepare = prepare
        self.rows_ok = rows_ok

    def path(self, params, hostile=None):
        out = self.template.encode()
        for name, value in params.items():
            v = value if isinstance(value, bytes) else str(value).encode()
            if hostile and hostile[0] == name:
                v = hostile[1]
            out = out.replace(b"{" + name.encode() + b"}", v)
        return out


def dig(obj, path):
    for p in path:
        obj = obj[p]
    return obj


def put(obj, path, value):
    for p in path[:-1]:
        obj = obj[p]
    obj[path[-1]] = value


def remove(obj, path):
    for p in path[:-1]:
        obj = obj[p]
    del obj[path[-1]]


MARK = "HOSTILEMARK7f3a"
DEEP = 100000

WRONG = {
    "string": [("a number", 12345), ("an object", {"a": 1}), ("an array", ["x"]), ("a boolean", True)],
    "nstring": [("a number", 12345), ("an object", {"a": 1}), ("an array", ["x"]), ("a boolean", True)],
    "integer": [("a string", "12"), ("a fraction", 1.5), ("an object", {"a": 1}), ("an array", [1]),
                ("a boolean", True)],
    "boolean": [("a string", "true"), ("a number", 1), ("an object", {"a": 1})],
    "array": [("an object", {"a": 1}), ("a string", "x"), ("a number", 7)],
    "object": [("an array", ["x"]), ("a string", "x"), ("a number", 7)],
    "value": [("an object", {"a": 1}), ("a list of objects", [{"a": 1}])],
    "intstr": [("an object", {"a": 1}), ("an array", [12]), ("a boolean", True)],
    "name": [("a number", 12345), ("an array", ["x"]), ("a boolean", True)],
}

BROKEN = [("broken UTF-8 (cut Thai character)", b"ab\xe0\xb8"),
          ("broken UTF-8 (overlong '/')", b"\xc0\xaf..\xc0\xaf"),
          ("broken UTF-8 (encoded surrogate)", b"\xed\xa0\x80"),
          ("a lone surrogate escape", b"\\ud800"),
          ("a raw control byte inside the JSON string", b"a\x01b")]
CONTROL = [("control characters", "\u0001\u001b[2J\u007f\u0085"), ("a NUL", "a\u0000b")]
SQL = [("SQL metacharacters (DROP TABLE)", "'; DROP TABLE users; --"),
       ("SQL metacharacters (OR 1=1)", "\" OR 1=1")]

PATH_GARBAGE = [("not a number", b"abc"), ("negative", b"-1"), ("zero", b"0"),
                ("huge", b"99999999999999999999"), ("a fraction", b"1.5"), ("a plus sign", b"+1"),
                ("hexadecimal", b"0x10"), ("%00", b"%00"), ("%ZZ", b"%ZZ"), ("../..", b"../.."),
                ("..%2F..", b"..%2F.."), ("SQL, percent-encoded", b"1%27%3B%20DROP%20TABLE%20users%3B%20--"),
                ("raw broken UTF-8", b"\xe0\xb8"), ("percent-encoded broken UTF-8", b"%E0%B8")]
UNKNOWN_ID = ("an unknown but well-formed id", b"987654")


def json_cases(w, rt):
    """All body cases of a JSON route."""
    name = rt.route

    def send(label, raw=None, body=None, want=None, accept=None, chunked=False):
        params = rt.params_now
        client = w.users[rt.role] if rt.role != "public" else w.public
        attempt(w, f"{name:54} {label}", client, rt.method, rt.path(params), body=body, raw=raw,
                ctype="application/json", want=want, accept=accept, chunked=chunked, rows_ok=rt.rows_ok,
                prepare=None)

    def fresh():
        if rt.prepare:
            rt.prepare()
        rt.params_now = rt.params()
        return rt.body()

    for label, raw in [("malformed JSON (cut short)", b'{"a": '), ("malformed JSON (bare word)", b"{oops}"),
                       ("malformed JSON (trailing garbage)", b'{"a": 1}}'),
                       ("malformed JSON (single quotes)", b"{'a': 1}"),
                       ("malformed JSON (NUL byte)", b"\x00"),
                       ("broken UTF-8 outside strings", b"\xff\xfe{}"),
                       ("a JSON array", b"[]"), ("a JSON array of objects", b'[{"a": 1}]'),
                       ("a JSON string", b'"hello"'), ("a JSON number", b"42"), ("JSON null", b"null")]:
        fresh()
        send(label, raw=raw, want={400})
    if any(f.required for f in rt.fields):
        fresh()
        send("an empty body", raw=b"", want={400})
        fresh()
        send("an empty object", raw=b"{}", want={400})
    # 100,000-deep nesting (200 KB) in every field and beside them, from the allowed user and
    # from the public: deep JSON once overflowed the stack where a route serialized a field again.
    deep = b"[" * DEEP + b"]" * DEEP
    for where in [None] + [f.path for f in rt.fields]:
        b = fresh()
        put(b, where or ("deep_extra_field",), MARK)
        raw = json.dumps(b, ensure_ascii=False).encode("utf-8").replace(b'"' + MARK.encode() + b'"', deep)
        label = f"JSON nested {DEEP} deep in " + (".".join(map(str, where)) if where else "an extra field")
        send(label, raw=raw, want={400})
        if rt.role != "public":
            fresh()
            attempt(w, f"{name:54} {label}, from the public", w.public, rt.method, rt.path(rt.params_now),
                    raw=raw, ctype="application/json", want={400, 401, 403, 404})
    big = b'{"x": "' + b"a" * (2 * 1024 * 1024) + b'"}'
    fresh()
    send("a 2 MB body", raw=big, want={413})
    fresh()
    send("a 2 MB body, chunked", raw=big, want={413}, chunked=True)
    fresh()
    send("a broken chunked body", raw=b"zz\r\n{}\r\n0\r\n\r\n", want={400}, chunked="raw")
    for f in rt.fields:
        for label, value in WRONG[f.kind]:
            b = fresh()
            put(b, f.path, value)
            send(f"{f.name} is {label}", body=b, want={400})
        if f.required:
            b = fresh()
            put(b, f.path, None)
            send(f"{f.name} is null", body=b, want={400})
            b = fresh()
            remove(b, f.path)
            send(f"{f.name} is missing", body=b, want={400})
        if not f.text:
            continue
        for label, raw_value in BROKEN:
            b = fresh()
            put(b, f.path, MARK)
            raw = json.dumps(b, ensure_ascii=False).encode("utf-8").replace(MARK.encode(), raw_value)
            send(f"{f.name} holds {label}", raw=raw, want={400})
        for group, must_refuse in ((CONTROL, f.rule in ("strict", "code")), (SQL, f.rule == "strict")):
            for label, value in group:
                b = fresh()
                put(b, f.path, value)
                accept = None
                if not must_refuse and rt.verify:
                    accept = (lambda body, field: lambda r: rt.verify(r, body, field))(b, f)
                send(f"{f.name} holds {label}" + (" (must be refused)" if must_refuse else ""),
                     body=b, want={400} if must_refuse else None, accept=accept)


def path_cases(w, rt):
    client = w.users[rt.role] if rt.role != "public" else w.public
    if rt.prepare:
        rt.prepare()
    params = rt.params()
    for pname in params:
        for label, value in PATH_GARBAGE + [UNKNOWN_ID]:
            body = rt.body() if rt.body else None
            # Malformed ids answer 404 (docs: "a numeric id; anything else answers 404"). An unknown
            # well-formed id or a garbage agency/KPI code: any clean refusal (a GET may also answer
            # an empty list); never a 5xx, never stored.
            want = {400, 404} if pname == "id" and value != UNKNOWN_ID[1] else None
            accept = (lambda r: None) if rt.method == "GET" and want is None else None
            attempt(w, f"{rt.route:54} path {{{pname}}} {label}", client, rt.method,
                    rt.path(params, (pname, value)), body=body, want=want, accept=accept)


# ---- read-back checks for accepted text (the value stored is exactly the value sent)

def same(stored, sent, what):
    return None if stored == sent else f"{what}: stored {stored!r}, sent {sent!r}"


def build_routes(w):
    adm, ev, rep = "admin", "evaluator", "rep_own"

    def verify_users(r, body, f):
        uid = r.json["id"]
        if f.path == ("password",):
            Client(w.base, body["username"]).login(body["password"])
            return None
        column = {"display_name": "display_name", "agency": "agency_code"}[f.name]
        stored = w.query(f"SELECT {column} FROM users WHERE id = ?", (uid,))[0][0]
        if f.name == "agency" and not w.query("SELECT 1 FROM agencies WHERE code = ?", (body["agency"],)):
            return f"a user of agency {body['agency']!r}, which does not exist"
        return same(stored, dig(body, f.path), f.name)

    def verify_password(r, body, f):
        w.twin_password = body["new_password"]
        w.twin = Client(w.base, "twin_eval").login(w.twin_password)
        return None

    def verify_token(r, body, f):
        rows = w.query("SELECT name FROM api_tokens WHERE token_hash = ?",
                       (hashlib.sha256(r.json["token"].encode()).hexdigest(),))
        if not rows:
            return "no api_tokens row for the token returned"
        return same(rows[0][0], body["name"], "name") or same(r.json["name"], body["name"], "name in the answer")

    def verify_agencies(r, body, f):
        sent = body["agencies"][0]
        items, page = [], 1
        while True:
            j = expect(w.public.request("GET", f"/api/v1/agencies?per_page=200&page={page}"), 200, "agencies")
            got = j.get("items", []) if isinstance(j, dict) else j
            items += got
            if not isinstance(j, dict) or len(got) < 200:
                break
            page += 1
        found = [a for a in items if a["code"] == sent["code"]]
        if not found:
            return f"agency {sent['code']!r} not listed"
        a = found[0]
        if f.name == "agencies.0.parent" and not any(x["code"] == sent["parent"] for x in items):
            return f"parent {sent['parent']!r} does not exist"
        stored = {"agencies.0.code": a["code"], "agencies.0.name.th": a["name"]["th"],
                  "agencies.0.name.en": a["name"]["en"], "agencies.0.kind": a["kind"],
                  "agencies.0.parent": a["parent"]}[f.name]
        return same(stored, dig(body, f.path), f.name)

    def verify_framework(r, body, f):
        # Read as the admin: a framework no round has frozen is a draft, hidden from others.
        j = expect(w.admin.request("GET", f"/api/v1/frameworks/{r.json['id']}"), 200, "read framework")
        stored = j["agency_kind"] if f.name == "agency_kind" else dig(j["document"], f.path)
        return same(stored, dig(body, f.path), f.name)

    def verify_extension(r, body, f):
        rows = w.query("SELECT deadline FROM extensions WHERE round_id = ? AND agency_code = ?",
                       (w.r12, body["agency"]))
        if not w.query("SELECT 1 FROM agencies WHERE code = ?", (body["agency"],)):
            return f"an extension for agency {body['agency']!r}, which does not exist"
        return None if rows else f"no extension stored for {body['agency']!r}"

    def last_audit(action):
        rows = w.query("SELECT after_json FROM audit_log WHERE action = ? ORDER BY seq DESC LIMIT 1", (action,))
        return json.loads(rows[0][0]) if rows else {}

    def verify_close(r, body, f):
        return same(last_audit("round.close").get("reason"), body.get("reason") or "", "reason")

    def verify_reopen(r, body, f):
        rows = w.query("SELECT reason FROM round_reopenings ORDER BY id DESC LIMIT 1")
        return same(rows[0][0] if rows else None, body["reason"], "reason")

    def verify_close_appeals(r, body, f):
        return same(last_audit("results.close_appeals").get("reason"), body.get("reason") or "", "reason")

    def verify_send_back(r, body, f):
        rows = w.query("SELECT comment, status FROM submission_revisions WHERE submission_id = ? "
                       "ORDER BY revision DESC LIMIT 1", (w.draft_id,))
        if not rows or rows[0][1] != "sent_back":
            return "no send-back revision stored"
        return same(rows[0][0], body["comment"], "comment")

    def verify_data(r, body, f):
        o = body["observations"][0]
        rows = w.query("SELECT value FROM observations WHERE agency_code = ? AND kpi = ? AND variable = ? "
                       "AND fiscal_year = ?", (o["agency"], o["kpi"], o["variable"], o["fiscal_year"]))
        if not rows:
            return "no observation stored under exactly the agency, KPI and variable sent"
        if not w.query("SELECT 1 FROM agencies WHERE code = ?", (o["agency"],)):
            return f"an observation of agency {o['agency']!r}, which does not exist"
        if f.name == "observations.0.value":
            return same(json.loads(rows[0][0]) if rows[0][0][:1] in '["' else rows[0][0], o["value"], "value")
        return None

    def verify_report(r, body, f):
        j = w.status(r.json["id"])
        return same(dig(j, f.path), dig(body, f.path), f.name)

    def verify_review(r, body, f, sid=None):
        j = w.status(sid or w.review_id)
        review = j["reviews"][-1]
        if f.path[0] == "comment":
            return same(review["comment"], body["comment"], "comment")
        return same(review["evidence_notes"].get(f.path[1]), dig(body, f.path), f.name)

    def verify_appeal(r, body, f):
        j = expect(w.users["evaluator"].request("GET", f"/api/v1/results/{w.prelim_id}/appeals?per_page=200"),
                   200, "list appeals")
        found = [a for a in j["items"] if a["id"] == r.json["id"]]
        if not found:
            return "appeal not listed"
        if f.name == "kpi":
            return same(found[0]["kpi"], body["kpi"], "kpi")
        return same(found[0]["reason"], body["reason"], "reason")

    def verify_decision(r, body, f):
        j = expect(w.users["evaluator"].request("GET", f"/api/v1/results/{w.prelim_id}/appeals?per_page=200"),
                   200, "list appeals")
        found = [a for a in j["items"] if a["id"] == w.current_appeal]
        return same(found[0]["decision_reason"], body["reason"], "decision reason") if found else "appeal gone"

    def login_rows_ok(before, after, r):
        """A wrong login may add the throttle's counters, exactly: one for the address and, for a
        plausible user name (at most 64 bytes), one for that name from this address."""
        body = w.last_login
        if r.status not in (401, 429) or not isinstance(body, dict) or not isinstance(body.get("username"), str):
            return False
        changed = {t for t in set(before) | set(after) if before.get(t) != after.get(t)}
        if changed != {"login_throttle"} or not 0 < after["login_throttle"] - before["login_throttle"] <= 2:
            return False
        subjects = [row[0] for row in w.query("SELECT subject FROM login_throttle")]
        shape = re.compile(r"addr:[0-9a-fA-F.:]+|pair:[A-Za-z0-9._-]{3,64}@[0-9a-fA-F.:]+")
        if not all(shape.fullmatch(s) for s in subjects):
            return False
        name = body["username"]
        return len(name.encode("utf-8")) > 64 or f"pair:{name}@127.0.0.1" in subjects \
            or not re.fullmatch(r"[A-Za-z0-9._-]{3,64}", name)

    def set_current_appeal():
        w.current_appeal = w.new_appeal()

    review_fields = [Field(["comment"], "nstring", rule="free"),
                     Field(["verified_values"], "object"),
                     Field(["evidence_notes"], "object")]

    def twin_id():
        return w.query("SELECT id FROM users WHERE username = 'twin_eval'")[0][0]

    def mail_id():
        """An e-mail of the outbox (a user made with an address puts one there)."""
        rows = w.query("SELECT id FROM outbox ORDER BY id LIMIT 1")
        if not rows:
            expect(w.users["admin"].request("POST", "/api/v1/users", body={
                "username": w.unique("mailed_"), "password": PASSWORD, "role": "evaluator",
                "email": "mailed@opdc.go.th"}), 201, "a user with an address")
            rows = w.query("SELECT id FROM outbox ORDER BY id LIMIT 1")
        return rows[0][0]

    def verify_contact(r, body, f):
        rows = w.query("SELECT email, language FROM user_contacts WHERE user_id = ?", (twin_id(),))
        if not rows:
            return "no user_contacts row"
        return same(rows[0][0], body["email"], "email") or same(rows[0][1], body["language"], "language")

    routes = [
        Route("GET /api/v1/users/{id}/contact", adm, params=lambda: {"id": twin_id()}),
        Route("PUT /api/v1/users/{id}/contact", adm, params=lambda: {"id": twin_id()},
              body=lambda: {"email": "twin@opdc.go.th", "language": "en"},
              fields=[Field(["email"], "string", True, "strict"),
                      Field(["language"], "string", True, "strict")],
              verify=verify_contact),
        Route("PUT /api/v1/me/preferences", ev,
              body=lambda: {"language": "th", "reminders": False, "digest": True},
              fields=[Field(["language"], "string", True, "strict"),
                      Field(["reminders"], "boolean", True), Field(["digest"], "boolean", True)]),
        Route("POST /api/v1/me/notifications/read", ev, body=lambda: {},
              fields=[Field(["id"], "integer")]),
        Route("POST /api/v1/outbox/{id}/resend", adm, params=lambda: {"id": mail_id()}),
        Route("POST /api/v1/me/password", "twin",
              body=lambda: {"old_password": w.twin_password, "new_password": w.unique("a-new-password-")},
              fields=[Field(["old_password"], "string", True, "free"),
                      Field(["new_password"], "string", True, "free")],
              verify=verify_password),
        Route("POST /api/v1/users", adm,
              body=lambda: {"username": w.unique("hostile_"), "password": PASSWORD, "role": "reporter",
                            "agency": "OCS", "display_name": "ผู้รายงาน"},
              fields=[Field(["username"], "string", True, "strict"),
                      Field(["password"], "string", True, "free"),
                      Field(["display_name"], "nstring", rule="free"),
                      Field(["role"], "string", True, "strict"),
                      Field(["agency"], "nstring", rule="free")],
              verify=verify_users),
        Route("POST /api/v1/tokens", ev, body=lambda: {"name": "hostile token", "scope": "read",
                                                      "expires_in_days": 30},
              fields=[Field(["name"], "string", True, "free"), Field(["scope"], "nstring", rule="strict"),
                      Field(["expires_in_days"], "integer")],
              verify=verify_token),
        Route("DELETE /api/v1/tokens/{id}", ev, params=lambda: {"id": w.token_id}),
        Route("PUT /api/v1/agencies", adm,
              body=lambda: {"agencies": [{"code": w.unique("TS"), "name": {"th": "หน่วยงานทดสอบ", "en": "Test"},
                                          "kind": "department", "parent": "PMO"}]},
              fields=[Field(["agencies"], "array", True),
                      Field(["agencies", 0], "object"),
                      Field(["agencies", 0, "code"], "string", True, "code"),
                      Field(["agencies", 0, "name"], "name"),
                      Field(["agencies", 0, "name", "th"], "string", rule="free"),
                      Field(["agencies", 0, "name", "en"], "string", rule="free"),
                      Field(["agencies", 0, "kind"], "string", rule="free"),
                      Field(["agencies", 0, "parent"], "string", rule="free")],
              verify=verify_agencies),
        Route("POST /api/v1/frameworks", adm, body=lambda: copy.deepcopy(w.framework),
              # format and agency_kind are optional (docs/formats.md, docs/framework.schema.json),
              # although docs/openapi.json's FrameworkDocument lists them as required.
              fields=[Field(["format"], "string", False, "strict"),
                      Field(["fiscal_year"], "integer", True),
                      Field(["agency_kind"], "string", False, "free"),
                      Field(["kpis"], "array", True),
                      Field(["kpis", 0, "name", "th"], "string", rule="free")],
              verify=verify_framework),
        Route("POST /api/v1/frameworks/{id}/rounds", adm, params=lambda: {"id": 1},
              body=lambda: {"round": 6, "deadline": FAR},
              fields=[Field(["round"], "integer", True), Field(["deadline"], "integer", True)]),
        Route("POST /api/v1/rounds/{id}/extensions", adm, params=lambda: {"id": w.r12},
              body=lambda: {"agency": "OCS", "deadline": FAR + DAY},
              fields=[Field(["agency"], "string", True, "free"), Field(["deadline"], "integer", True)],
              verify=verify_extension),
        Route("POST /api/v1/data", adm,
              body=lambda: {"observations": [{"agency": "OCS", "kpi": "7", "variable": "score",
                                              "fiscal_year": 2567, "round": 12, "value": 80.12}]},
              fields=[Field(["observations"], "array", True),
                      Field(["observations", 0, "agency"], "string", True, "free"),
                      Field(["observations", 0, "kpi"], "string", True, "free"),
                      Field(["observations", 0, "variable"], "string", True, "free"),
                      Field(["observations", 0, "fiscal_year"], "integer", True),
                      Field(["observations", 0, "round"], "intstr"),
                      Field(["observations", 0, "value"], "value", True, "free")],
              verify=verify_data),
        Route("PUT /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}", rep,
              params=lambda: {"id": w.r12, "agency": "OCS", "kpi": w.draft_kpi},
              body=lambda: report_body(w.draft_kpi, w.unique("hostile ")),
              fields=[Field(["values"], "object", True),
                      Field(["values", next(iter(VALUES[w.draft_kpi]))], "value", rule="free"),
                      Field(["explanation"], "nstring", rule="free"),
                      Field(["problems"], "nstring", rule="free"),
                      Field(["remarks"], "nstring", rule="free")],
              verify=verify_report),
        Route("DELETE /api/v1/rounds/{id}/extensions/{agency}", adm,
              params=lambda: {"id": w.r12, "agency": "BOI"},
              prepare=lambda: expect(w.admin.request("POST", f"/api/v1/rounds/{w.r12}/extensions",
                                                     body={"agency": "BOI", "deadline": FAR + DAY}),
                                     201, "grant an extension")),
        Route("POST /api/v1/rounds/{id}/close", adm, params=lambda: {"id": w.r_state},
              prepare=lambda: w.round_open(w.r_state),
              body=lambda: {"reason": "ครบกำหนด"}, fields=[Field(["reason"], "nstring", rule="free")],
              verify=verify_close),
        Route("POST /api/v1/rounds/{id}/reopen", adm, params=lambda: {"id": w.r_state},
              prepare=lambda: w.round_closed(w.r_state),
              body=lambda: {"reason": "แก้ข้อมูลผิดพลาด", "deadline": FAR},
              fields=[Field(["reason"], "string", True, "free"), Field(["deadline"], "integer", True)],
              verify=verify_reopen),
        Route("GET /api/v1/rounds/{id}/readiness", ev, params=lambda: {"id": w.r12}),
        Route("POST /api/v1/rounds/{id}/results/close-appeals", adm, params=lambda: {"id": w.r_window},
              prepare=lambda: w.appeal_window_open(w.r_window),
              body=lambda: {"reason": "ทุกหน่วยงานยืนยันแล้ว"}, fields=[Field(["reason"], "nstring", rule="free")],
              verify=verify_close_appeals),
        Route("POST /api/v1/submissions/{id}/send-back", "appr_own", params=lambda: {"id": w.draft_id},
              body=lambda: {"comment": "โปรดแก้ตัวเลข"}, fields=[Field(["comment"], "string", True, "free")],
              verify=verify_send_back),
        Route("POST /api/v1/submissions/{id}/approve", "appr_own", params=lambda: {"id": w.draft_id}),
        Route("POST /api/v1/submissions/{id}/submit", "appr_own", params=lambda: {"id": w.draft_id}),
        Route("POST /api/v1/submissions/{id}/return", ev, params=lambda: {"id": w.review_id},
              prepare=lambda: w.bring(w.review_id, "submitted"),
              body=lambda: {"comment": "โปรดแนบหนังสือรับรอง",
                            "evidence_notes": {str(w.review_evidence): "ตรวจแล้ว"}},
              fields=review_fields + [Field(["evidence_notes", "REPLACED"], "string", rule="free")],
              verify=verify_review),
        Route("POST /api/v1/submissions/{id}/accept", ev,
              params=lambda: {"id": w.accept_id},
              prepare=lambda: setattr(w, "accept_id", w.submission_in("submitted")),
              body=lambda: {"comment": "ถูกต้อง"}, fields=review_fields,
              verify=lambda r, body, f: verify_review(r, body, f, w.accept_id)),
        Route("POST /api/v1/rounds/{id}/results", adm, params=lambda: {"id": w.r6},
              body=lambda: {"appeal_days": 14}, fields=[Field(["appeal_days"], "integer")]),
        Route("POST /api/v1/rounds/{id}/results/final", adm, params=lambda: {"id": w.r6}),
        Route("POST /api/v1/rounds/{id}/results/publish", adm, params=lambda: {"id": w.r6}),
        Route("POST /api/v1/results/{id}/appeals", rep, params=lambda: {"id": w.prelim_id},
              body=lambda: {"kpi": "1", "reason": "ค่าที่ใช้ไม่ตรงกับหนังสือรับรอง " + w.unique("")},
              fields=[Field(["kpi"], "string", True, "free"), Field(["reason"], "string", True, "free")],
              verify=verify_appeal),
        Route("POST /api/v1/appeals/{id}/decision", ev, params=lambda: {"id": w.current_appeal},
              prepare=set_current_appeal,
              body=lambda: {"upheld": False, "reason": "ค่าถูกต้องแล้ว"},
              fields=[Field(["upheld"], "boolean", True), Field(["reason"], "string", True, "free"),
                      Field(["corrected_values"], "object")],
              verify=verify_decision),
        Route("GET /api/v1/frameworks/{id}", "public", params=lambda: {"id": 1}),
        Route("GET /api/v1/rounds/{id}", "public", params=lambda: {"id": w.r12}),
        Route("GET /api/v1/rounds/{id}/submissions", ev, params=lambda: {"id": w.r12}),
        Route("GET /api/v1/submissions/{id}", ev, params=lambda: {"id": w.review_id}),
        Route("GET /api/v1/evidence/{id}/content", ev, params=lambda: {"id": w.review_evidence}),
        Route("GET /api/v1/rounds/{id}/results", ev, params=lambda: {"id": w.r_appeal}),
        Route("GET /api/v1/results/{id}/appeals", ev, params=lambda: {"id": w.prelim_id}),
        Route("GET /api/v1/rounds/{id}/results/agencies/{code}", ev,
              params=lambda: {"id": w.r_appeal, "code": "OCS"}),
        Route("GET /api/v1/rounds/{id}/results/agencies/{code}/report.pdf", "public",
              params=lambda: {"id": w.r_appeal, "code": "OCS"}),
        Route("GET /api/v1/rounds/{id}/results/reports.zip", "public", params=lambda: {"id": w.r_appeal}),
        Route("GET /api/v1/verify/{hash}", "public", params=lambda: {"hash": "0" * 64}),
        Route("POST /api/v1/questions", rep,
              body=lambda: {"fiscal_year": 2567, "question": "คำถาม " + w.unique("")},
              fields=[Field(["fiscal_year"], "integer", True), Field(["kpi"], "nstring", rule="strict"),
                      Field(["question"], "string", True, "free")],
              verify=lambda r, body, f: same(r.json.get(f.path[-1]), body[f.path[-1]], f.name)),
        Route("POST /api/v1/questions/{id}/answer", adm, params=lambda: {"id": w.question_id},
              body=lambda: {"answer": "คำตอบ " + w.unique(""), "publish": True},
              fields=[Field(["answer"], "string", True, "free"), Field(["publish"], "boolean", True)],
              verify=lambda r, body, f: same(
                  expect(w.users["rep_own"].request("GET", f"/api/v1/questions/{w.question_id}"), 200,
                         "read the question")["answer"], body["answer"], "answer")),
        Route("POST /api/v1/announcements", adm,
              body=lambda: {"fiscal_year": 2567, "agency_kind": "department",
                            "title": "ประกาศ " + w.unique(""), "body": "เนื้อหา"},
              fields=[Field(["fiscal_year"], "integer", True), Field(["agency_kind"], "string", True, "strict"),
                      Field(["title"], "string", True, "free"), Field(["body"], "string", True, "free")],
              verify=lambda r, body, f: same(
                  expect(w.users["rep_own"].request("GET", f"/api/v1/announcements/{r.json['id']}"), 200,
                         "read the announcement")[f.path[-1]], body[f.path[-1]], f.name)),
        Route("GET /api/v1/qa/{year}/{kind}", "public", params=lambda: {"year": 2567, "kind": "department"}),
        Route("GET /api/v1/questions/{id}", ev, params=lambda: {"id": w.question_id}),
        Route("GET /api/v1/announcements/{id}", ev, params=lambda: {"id": w.announcement_id}),
        Route("GET /api/v1/announcement-files/{id}/content", ev, params=lambda: {"id": w.announcement_file}),
        Route("GET /api/v1/rounds/{id}/results/export", ev, params=lambda: {"id": w.r_appeal}),
        Route("GET /api/v1/rounds/{id}/status/export", ev, params=lambda: {"id": w.r12}),
        Route("GET /api/v1/rounds/{id}/agencies/{agency}/template", rep,
              params=lambda: {"id": w.r12, "agency": "OCS"}),
        # Its body is a spreadsheet, not JSON: hostile files are spreadsheets_test.py's; here the
        # path, with no body (a 400 once the path is right).
        Route("POST /api/v1/rounds/{id}/agencies/{agency}/template", rep,
              params=lambda: {"id": w.r12, "agency": "OCS"}),
        Route("GET /api/v1/reports/national/{year}/report.pdf", "public", params=lambda: {"year": 2567}),
        Route("GET /api/v1/reports/national/{year}/report.xlsx", "public", params=lambda: {"year": 2567}),
        # A case log's body is multipart files: hostile files are case_logs_test.py's; here the
        # path, with no body.
        Route("POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log", rep,
              params=lambda: {"id": w.r12, "agency": "OCS", "kpi": "2"}),
        Route("GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/case-log", rep,
              params=lambda: {"id": w.r12, "agency": "OCS", "kpi": "2"}),
        # Removing evidence has no body: its path only (the submitted report's file, never
        # removed here: only malformed or unknown ids are sent).
        Route("DELETE /api/v1/evidence/{id}", rep, params=lambda: {"id": w.review_evidence}),
        Route("GET /api/v1/case-logs/{id}", ev, params=lambda: {"id": 1}),
        Route("GET /api/v1/case-logs/{id}/cases", ev, params=lambda: {"id": 1}),
        Route("GET /api/v1/case-logs/{id}/cases/export", ev, params=lambda: {"id": 1}),
        # A data catalog's body is a multipart file: hostile files are catalogs_test.py's; here the
        # path, with no body (KPI 5 of this framework takes no catalog: a 400 once it is right).
        Route("POST /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog", rep,
              params=lambda: {"id": w.r12, "agency": "OCS", "kpi": "5"}),
        Route("GET /api/v1/rounds/{id}/agencies/{agency}/kpis/{kpi}/catalog", rep,
              params=lambda: {"id": w.r12, "agency": "OCS", "kpi": "5"}),
        Route("GET /api/v1/catalogs/{id}", ev, params=lambda: {"id": 1}),
        Route("GET /api/v1/catalogs/{id}/datasets", ev, params=lambda: {"id": 1}),
        Route("GET /api/v1/catalogs/{id}/datasets/export", ev, params=lambda: {"id": 1}),
    ]
    # The evidence-note field's key is the evidence id, known only now.
    for rt in routes:
        for f in rt.fields:
            if f.path[-1] == "REPLACED":
                f.path = f.path[:-1] + (str(w.review_evidence),)
    w.login_rows_ok = login_rows_ok
    return routes


def route_coverage(routes):
    """Every documented operation with a body or path parameters has its cases here."""
    with open(DOC_PATH, encoding="utf-8") as f:
        doc = json.load(f)
    wanted = set()
    for p, item in doc["paths"].items():
        for m, op in item.items():
            if m not in ("get", "put", "post", "delete", "patch"):
                continue
            if "{" in p or op.get("requestBody"):
                wanted.add(f"{m.upper()} {p}")
    have = {rt.route for rt in routes} | {"POST /api/v1/session", "POST /api/v1/submissions/{id}/evidence",
                                          "POST /api/v1/announcements/{id}/files"}
    missing, extra = sorted(wanted - have), sorted(have - wanted)
    check(not missing and not extra, f"hostile cases cover every documented route with a body or path "
                                     f"parameters ({len(wanted)})", f"missing {missing}, not documented {extra}")


# ------------------------------------------------------------------ the login route

def session_cases(w):
    name = "POST /api/v1/session"
    route = Route(name, "public", body=lambda: {"username": w.unique("nobody_"), "password": "wrong-password-1"},
                  fields=[Field(["username"], "string", True, "free"),
                          Field(["password"], "string", True, "free")],
                  rows_ok=lambda b, a, r: w.login_rows_ok(b, a, r))
    # The rows check needs the body sent: wrap the route's body function to remember it.
    make = route.body

    def remembered():
        w.last_login = make()
        return w.last_login

    route.body = remembered
    json_cases(w, route)
    big = "u" * 10240
    w.last_login = {"username": big, "password": "wrong-password-1"}
    attempt(w, f"{name:54} a 10 KB username (must not be stored)", w.public, "POST", "/api/v1/session",
            body=w.last_login)
    w.last_login = {"username": "admin1", "password": "p" * 10240}
    attempt(w, f"{name:54} a 10 KB password", w.public, "POST", "/api/v1/session", body=w.last_login,
            rows_ok=lambda b, a, r: w.login_rows_ok(b, a, r))
    for label, value in SQL:
        w.last_login = {"username": "admin1" + value, "password": "x" + value}
        attempt(w, f"{name:54} username and password with {label}", w.public, "POST", "/api/v1/session",
                body=w.last_login, want={401}, rows_ok=lambda b, a, r: w.login_rows_ok(b, a, r))
    w.last_login = {"username": "admin1", "password": "wrong-password-1"}
    attempt(w, f"{name:54} HTTP request headers of 64 KB", w.public, "POST", "/api/v1/session",
            body=w.last_login, want={400, 413, 431}, headers=[("X-Pad", "a" * 65536)])
    r = w.public.request("POST", "/api/v1/session", body={"username": "admin1", "password": PASSWORD})
    check(r.status == 200, f"{name:54} admin1 still logs in afterwards -> {r.status}", r.text())


# ------------------------------------------------------------------ the evidence upload

def announcement_file_cases(w):
    """The announcement upload goes through the evidence upload's sink: the same cases, as the
    admin, against an announcement (no "replaces" field there)."""
    aid = w.announcement_id

    def names(fid):
        j = expect(w.admin.request("GET", f"/api/v1/announcements/{aid}"), 200, "read the announcement")
        return [f["name"] for f in j["files"] if f["id"] == fid]
    evidence_cases(w, name="POST /api/v1/announcements/{id}/files", client=w.admin,
                   path=f"/api/v1/announcements/{aid}/files", prefix=b"/api/v1/announcements/",
                   suffix=b"/files", table="announcement_files", listed=names)


def evidence_cases(w, name="POST /api/v1/submissions/{id}/evidence", client=None, path=None,
                   prefix=b"/api/v1/submissions/", suffix=b"/evidence", table="evidence", listed=None):
    rep = client or w.users["rep_own"]
    sid = w.upload_id
    path = path or f"/api/v1/submissions/{sid}/evidence"
    pdf = minimal_pdf()
    if listed is None:
        def listed(fid):
            return [e["name"] for e in w.status(sid)["evidence"] if e["id"] == fid]

    def up(label, raw, ctype, want=None, chunked=False, headers=(), target=None):
        return attempt(w, f"{name:54} {label}", rep, "POST", target or path, raw=raw, ctype=ctype,
                       want=want, chunked=chunked, headers=headers, files_too=True)

    def mp(parts, boundary=None, close=True):
        body, b = multipart(parts, boundary, close)
        return body, f"multipart/form-data; boundary={b}"

    # Broken multipart.
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf")], close=False)
    up("multipart without the closing boundary", body, ctype, want={400})
    body, _ = mp([part("file", pdf, "a.pdf", "application/pdf")])
    up("multipart with the wrong boundary", body, "multipart/form-data; boundary=not-the-boundary", want={400})
    body, ctype = mp([b"Content-Type: application/pdf\r\n\r\n" + pdf])
    up("a part without Content-Disposition", body, ctype, want={400})
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf"), part("file", pdf, "b.pdf", "application/pdf")])
    up("two file parts", body, ctype, want={400})
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf", extra=b"X-Pad: " + b"a" * 100000 + b"\r\n")])
    up("part headers of 100 KB", body, ctype, want={400, 413, 431})
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf",
                           extra=b"".join(b"X-H%d: v\r\n" % i for i in range(5000)))])
    up("5000 part header lines", body, ctype, want={400, 413, 431})
    body, ctype = mp([part("file", pdf, None, "application/pdf")])
    up("the file part without a filename", body, ctype, want={400})
    body, ctype = mp([part("other", b"x"), part("file", pdf, "a.pdf", "application/pdf")])
    up("an unknown field", body, ctype, want={400})
    body, ctype = mp([part("replaces", b"1")])
    up("no file part at all", body, ctype, want={400})
    up("an empty multipart body", b"", "multipart/form-data; boundary=xyz", want={400})
    up("garbage instead of multipart", b"\x00\xff" * 500, "multipart/form-data; boundary=xyz", want={400})
    body, _ = mp([part("file", pdf, "a.pdf", "application/pdf")])
    up("Content-Type application/json", body, "application/json", want={415})
    up("multipart without a boundary", body, "multipart/form-data", want={415})
    up("a boundary of 200 characters", body, "multipart/form-data; boundary=" + "b" * 200, want={400, 415})
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf")])
    up("a broken chunked body", b"64\r\n" + body[:100] + b"\r\nzz\r\n" + body[100:], ctype, want={400},
       chunked="raw")
    # The replaces field (evidence only; an unknown field elsewhere).
    for label, value in [("not a number", b"abc"), ("negative", b"-1"), ("zero", b"0"),
                         ("huge", b"99999999999999999999"), ("SQL", b"1; DROP TABLE evidence; --"),
                         ("an unknown id", b"987654"), ("100 characters", b"1" * 100),
                         ("broken UTF-8", b"\xe0\xb8")]:
        body, ctype = mp([part("replaces", value), part("file", pdf, "a.pdf", "application/pdf")])
        up(f"replaces is {label}", body, ctype, want={400, 404, 409} if table == "evidence" else {400})
    # Wrong file types.
    with open("/bin/true", "rb") as f:
        elf = f.read()
    for label, content, fname, declared in [
            ("an executable (ELF) named .pdf", elf, "evidence.pdf", "application/pdf"),
            ("a shell script", b"#!/bin/sh\nrm -rf /\n", "run.sh", "application/x-sh"),
            ("a text file", "ข้อความธรรมดา plain text\n".encode() * 20, "notes.txt", "text/plain"),
            ("HTML named .pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "x.pdf",
             "application/pdf"),
            ("a Windows executable named .docx", b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00" + b"\x00" * 400,
             "x.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]:
        body, ctype = mp([part("file", content, fname, declared)])
        up(f"{label}", body, ctype, want={415})
    body, ctype = mp([part("file", b"", "empty.pdf", "application/pdf")])
    up("an empty file", body, ctype, want={400})
    # Office files that expand absurdly once opened (zip bombs), built here: refused, nothing kept.
    for label, total in (("a DOCX holding 300 MB of zeros", 300 << 20), ("a DOCX holding 8 MB of zeros", 8 << 20)):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                                              'package/2006/content-types"/>')
            z.writestr("_rels/.rels", '<?xml version="1.0"?><Relationships/>')  # libmagic's DOCX signs
            with z.open("word/document.xml", "w") as f:
                for _ in range(total >> 20):
                    f.write(b"\0" * (1 << 20))
        body, ctype = mp([part("file", buf.getvalue(), "bomb.docx",
                               "application/vnd.openxmlformats-officedocument.wordprocessingml.document")])
        up(f"{label} ({len(buf.getvalue()) // 1024} KB)", body, ctype, want={400})
    # Over the limit (--max-upload-mb 1).
    limit = MAX_UPLOAD_MB * 1024 * 1024
    body, ctype = mp([part("file", big_pdf(3 * limit), "big.pdf", "application/pdf")])
    up("a 3 MB file (declared length over the limit)", body, ctype, want={413})
    body, ctype = mp([part("file", big_pdf(limit + 10 * 1024), "big.pdf", "application/pdf")])
    up("a file 10 KB over the limit (within the framing allowance)", body, ctype, want={413})
    body, ctype = mp([part("file", big_pdf(limit + 300 * 1024), "big.pdf", "application/pdf")])
    up("a file 300 KB over the limit, chunked (no declared length)", body, ctype, want={413}, chunked=True)
    # Oversized HTTP headers on the upload route.
    body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf")])
    up("HTTP request headers of 64 KB", body, ctype, want={400, 413, 431},
       headers=[("X-Pad", "a" * 65536)])
    # Path parameters.
    for label, value in PATH_GARBAGE:
        body, ctype = mp([part("file", pdf, "a.pdf", "application/pdf")])
        up(f"path {{id}} {label}", body, ctype, want={400, 404},
           target=prefix + value + suffix)
    # Hostile file names: accepted, stored cleaned.
    before_top = set(os.listdir(w.tmp))
    for label, fname in [
            ("../../../etc/passwd.pdf", b"../../../etc/passwd.pdf"),
            ("..\\..\\windows\\system32\\evil.pdf", b"..\\..\\windows\\system32\\evil.pdf"),
            ("/absolute/path.pdf", b"/absolute/path.pdf"),
            ("control characters", b"a\x01b\x1f\x7fc\x1b[31m.pdf"),
            ("C1 controls and bidi overrides", "x\u0085\u009f\u202eevil\u2066.pdf".encode()),
            ("leading dots and spaces", b" .. . ..hidden.pdf"),
            ("only dots", b".."),
            ("a tab and traversal", b"..\t/..\t/x.pdf"),
            ("percent-encoded traversal", b"..%2F..%2Fx.pdf"),
            ("Thai with traversal", "../รายงาน/../หลักฐาน.pdf".encode()),
            ("500 bytes long", b"a" * 500 + b".pdf")]:
        raw, ctype = pdf_upload(fname)
        before = w.snapshot()
        try:
            r = rep.request("POST", path, raw=raw, content_type=ctype)
        except Dropped as e:
            check(False, f"{name:54} file name {label} -> dropped connection", str(e))
            continue
        problems = []
        if r.status != 201 or not r.json:
            problems.append(f"status {r.status} (want 201) {r.text(200)}")
        else:
            stored = r.json["name"]
            row = w.query(f"SELECT name FROM {table} WHERE id = ?", (r.json["id"],))
            shown = listed(r.json["id"])
            for where, value in (("answer", stored), ("database", row[0][0] if row else None),
                                 ("listing", shown[0] if shown else None)):
                if value is None:
                    problems.append(f"no name in the {where}")
                    continue
                bad = [c for c in value if ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f
                       or 0x202a <= ord(c) <= 0x202e or 0x2066 <= ord(c) <= 0x2069]
                if "/" in value or "\\" in value or value.startswith("..") or value.startswith(".") \
                        or bad or not value or len(value.encode()) > 200:
                    problems.append(f"{where} name not clean: {value!r}")
            if stored != (row[0][0] if row else None):
                problems.append(f"answer {stored!r} differs from the database {row[0][0] if row else None!r}")
            after = w.snapshot()
            if after.get(table, 0) != before.get(table, 0) + 1:
                problems.append(f"rows: {diff_counts(before, after)}")
        if set(os.listdir(w.tmp)) != before_top:
            problems.append(f"something appeared next to the data folder: {set(os.listdir(w.tmp)) ^ before_top}")
        check(not problems, f"{name:54} file name {label} -> {r.status} accepted, stored as "
                            f"{(r.json or {}).get('name')!r}", "; ".join(problems))
    # A NUL in the file name: refused cleanly or accepted cleaned.
    raw, ctype = pdf_upload(b"evil\x00.pdf")
    r = attempt(w, f"{name:54} a NUL in the file name", rep, "POST", path, raw=raw, ctype=ctype,
                files_too=False, accept=lambda r: None if "\x00" not in r.json["name"] else "NUL stored")


# ------------------------------------------------------------------ KPI ids

def renamed_kpi(framework, old, new):
    """A copy of `framework` with the KPI (or sub-KPI) `old` renamed `new` everywhere it is named
    (its own id, assignments, references), so that only the id itself can make it wrong."""
    def walk(node):
        if isinstance(node, dict):
            out = {}
            for k, v in node.items():
                if k in ("id", "kpi") and v == old and ("name" in node or k == "kpi"):
                    out[k] = new
                else:
                    out[k] = walk(v)
            return out
        if isinstance(node, list):
            return [walk(x) for x in node]
        return node
    return walk(copy.deepcopy(framework))


def kpi_id_cases(w):
    """KPI ids are kept to the documented safe set (docs/formats.md): an admin cannot define an
    id that would carry CR LF (or anything needing escaping) into a URL or a header."""
    adm = w.admin
    name = "POST /api/v1/frameworks"
    ok = renamed_kpi(w.framework, "1", "kpi_1.a-b")
    attempt(w, f"{name:54} a KPI id of letters, digits, . - _", adm, "POST", "/api/v1/frameworks",
            body=ok, accept=lambda r: None if any(k["id"] == "kpi_1.a-b" for k in r.json["document"]["kpis"])
            else "renamed KPI not stored")
    # (Sub-KPI ids go through the same reader: src/formats/formats_test.cpp.)
    for label, new in [("CR LF and a header", "1\r\nSet-Cookie: evil=1"), ("a LF", "1\nX"),
                       ("a space", "a b"), ("Thai", "ตัวชี้วัด1"), ("a slash", "1/2"), ("a ?", "1?x"),
                       ("a #", "1#x"), ("a percent escape", "%0D%0A"), ("a leading dot", ".."),
                       ("markup", "<b>1</b>"), ("33 characters", "9" * 33), ("a NUL", "1\x00")]:
        body = renamed_kpi(w.framework, "1", new)
        if not check(json.dumps(body).count(json.dumps(new)) >= 2,
                     f"{name:54} KPI 1 renamed {label!r} in its id and its assignments"):
            continue
        r = attempt(w, f"{name:54} KPI 1 renamed to an id with {label}", adm, "POST",
                    "/api/v1/frameworks", body=body, want={400})
        if r is not None and r.status == 400 and r.json:
            where = (r.json["error"].get("details") or {}).get("where", "")
            check(where.endswith("/kpis/0/id") and "A–Z a–z 0–9" in r.json["error"]["message_en"],
                  f"{name:54} KPI 1 renamed with {label}: the message names the id field",
                  f"details {where!r}, message {r.json['error']['message_en']!r}")


# ------------------------------------------------------------------ other targets

def target_cases(w):
    """Hostile request targets and query strings on the GET list routes (never a 5xx)."""
    ev = w.users["evaluator"]
    for target in [f"/api/v1/rounds/{w.r12}/submissions?page=abc",
                   f"/api/v1/rounds/{w.r12}/submissions?page=-1",
                   f"/api/v1/rounds/{w.r12}/submissions?per_page=99999999999999999999",
                   f"/api/v1/rounds/{w.r12}/submissions?per_page=0",
                   f"/api/v1/rounds/{w.r12}/submissions?page=%00",
                   f"/api/v1/rounds/{w.r12}/submissions?page=%ZZ",
                   f"/api/v1/rounds/{w.r12}/submissions?status=%27%3B%20DROP%20TABLE%20users%3B%20--",
                   f"/api/v1/rounds/{w.r12}/results?stage=%27%20OR%201%3D1",
                   f"/api/v1/rounds/{w.r12}/results?stage=%E0%B8",
                   f"/api/v1/results/{w.prelim_id}/appeals?page=1e9&per_page=%FF"]:
        before = w.snapshot()
        try:
            r = ev.request("GET", target)
        except Dropped as e:
            check(False, f"GET {target} -> dropped connection", str(e))
            continue
        problems = []
        if r.status >= 500 or not (200 <= r.status < 300 or 400 <= r.status < 500):
            problems.append(f"status {r.status}")
        elif r.status >= 400 and error_shape(r):
            problems.append(error_shape(r))
        if w.snapshot() != before:
            problems.append("rows changed")
        check(not problems, f"GET {target} -> {r.status}", "; ".join(problems) + f" {r.text(150)}")


def deep_nesting_case(w):
    """Valid but deeply nested JSON (last: a crash here would end the run)."""
    depth = 200000
    raw = b'{"username": ' + b"[" * depth + b"]" * depth + b', "password": "x"}'
    attempt(w, f"{'POST /api/v1/session':54} JSON nested {depth} deep", w.public, "POST", "/api/v1/session",
            raw=raw, ctype="application/json", want={400})
    w.last_login = None
    raw = b'{"agencies": ' + b"[" * depth + b"]" * depth + b"}"
    attempt(w, f"{'PUT /api/v1/agencies':54} JSON nested {depth} deep", w.users["admin"], "PUT",
            "/api/v1/agencies", raw=raw, ctype="application/json", want={400})


# ------------------------------------------------------------------ main

def main():
    tmp = tempfile.mkdtemp(prefix="esar-hostile-")
    proc = log = None
    try:
        db = os.path.join(tmp, "esar.db")
        data_dir = os.path.join(tmp, "files")
        os.makedirs(data_dir)
        esar_harness.run_cli(ESAR, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        esar_harness.run_cli(ESAR, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        esar_harness.run_cli(ESAR, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        for role, uname in USERNAMES.items():
            r, agency = USER_SPECS[role]
            args = ["admin", "create-user", "--db", db, "--username", uname, "--role", r]
            if agency:
                args += ["--agency", agency]
            esar_harness.run_cli(ESAR, args, env={"ESAR_PASSWORD": PASSWORD})
        proc, base, log = esar_harness.start_server(ESAR, db, data_dir, os.path.join(tmp, "server.log"), extra=("--max-upload-mb", str(MAX_UPLOAD_MB)))
        if check(base is not None, "server started", "no 'listening on' line"):
            w = World(base, proc, db, data_dir, tmp)
            w.setup()
            w.users["twin"] = w.twin
            routes = build_routes(w)
            route_coverage(routes)
            for rt in routes:
                try:
                    if rt.route == "POST /api/v1/me/password":
                        rt_client_refresh(w, rt)
                        continue
                    if rt.body is not None:
                        json_cases(w, rt)
                    if "{" in rt.template:
                        path_cases(w, rt)
                except (RuntimeError, IndexError, KeyError, TypeError) as e:
                    check(False, f"{rt.route} ran to the end", f"{type(e).__name__}: {e}")
            for part_of_run in (kpi_id_cases, evidence_cases, announcement_file_cases, target_cases,
                                session_cases, deep_nesting_case):
                try:
                    part_of_run(w)
                except (RuntimeError, IndexError, KeyError, TypeError) as e:
                    check(False, f"{part_of_run.__name__} ran to the end", f"{type(e).__name__}: {e}")
            check(proc.poll() is None, "the server is still running at the end")
    except Fatal as e:
        check(False, "test ran to the end", str(e))
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


def rt_client_refresh(w, rt):
    """The password route: an accepted change ends the twin's sessions, so every case logs in
    again first (w.twin is replaced by verify_password after an accepted change)."""
    def prepare():
        w.twin = Client(w.base, "twin_eval").login(w.twin_password)
        w.users["twin"] = w.twin
    rt.prepare = prepare
    json_cases(w, rt)


if __name__ == "__main__":
    sys.exit(main())
