#!/usr/bin/python3
"""More than one server: two `esar serve` on one PostgreSQL and one data directory, behind nginx.

Makes a fresh database in the test cluster (ESAR_TEST_PG_URL), imports examples/ocs-2567, starts
two `esar serve` (A and B) on it with the same --data-dir, and Debian's nginx in front of them
(its own configuration in a temporary folder, 127.0.0.1, a round-robin upstream of the two, run
as the current user). With --pgbouncer, both servers and every command reach PostgreSQL through
Debian's pgbouncer in transaction pooling, started the same way, with fewer server connections
than the servers' pools, so that consecutive transactions of one esar connection land on
different PostgreSQL connections.

Then it walks the whole cycle through nginx (sessions, users, a round, a report with evidence,
approval, submission, review, closing, results, an appeal and its decision, the final results,
publication, the public pages) and checks, from each request's X-Request-Id in the two servers'
logs, that consecutive requests were answered by different processes; and, talking to A and B
directly:
  - a session (and its CSRF token) made on one is accepted on the other; the login form's own
    token works across them too;
  - an Idempotency-Key used on one is honoured on the other (the first answer, no second effect);
  - evidence uploaded to one is downloaded, the same bytes, from the other;
  - concurrent writes to both leave one audit chain: `esar audit verify` finds it whole, also
    while they write, and the chain head file shared in the data directory names the log's last
    entry;
  - two servers started at the same moment on a new database and data directory both start,
    with one audit key and one baseline;
  - a newer publication is seen by both once the documented cache delay (1 s) has passed.

  /usr/bin/python3 multi_server_test.py ESAR [--pgbouncer]
Prints one line per check, then `N passed, M failed`; exits 1 on any failure.
"""
import csv
import getpass
import grp
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks, EXAMPLE, ROOT  # noqa: E402

check = Checks(verbose=True)

ESAR = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("--") else os.path.join(
    ROOT, "build", "bin", "esar")
PGBOUNCER = "--pgbouncer" in sys.argv
PASSWORD = "correct-horse-battery-9"
# docs/operations.md: a newer publication shows on every server within this delay.
CACHE_DELAY_S = 1.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_for_port(port, proc, seconds=30):
    """True once something accepts connections on 127.0.0.1:port (while `proc` runs)."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.05)
    return False


# esar's own parameter of a PostgreSQL URL (docs/operations.md), which psql would refuse.
NO_PREPARED = "esar_prepared_statements=off"


def psql(url, sql):
    parts = urllib.parse.urlsplit(url)
    query = "&".join(p for p in parts.query.split("&") if p and p != NO_PREPARED)
    url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    p = subprocess.run(["psql", "-X", "-q", "-t", "-A", url, "-c", sql], capture_output=True,
                       text=True, timeout=60)
    if p.returncode != 0:
        raise RuntimeError(f"psql {sql[:60]}: {p.stderr[-300:]}")
    return p.stdout.strip()


def with_database(url, name):
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, ""))


def run_as_args():
    """Servers that refuse to run as root (pgbouncer) run as "postgres" there, as the test
    cluster does; as anyone else, as themselves."""
    return ["postgres"] if os.geteuid() == 0 else []


# ---------------------------------------------------------------- the proxies

def start_nginx(tmp, backends):
    """nginx with its own configuration in tmp/nginx, listening on a free port of 127.0.0.1, a
    round-robin upstream of `backends` (host:port). Returns (process, base URL)."""
    home = os.path.join(tmp, "nginx")
    os.makedirs(home)
    port = free_port()
    user = ""
    if os.geteuid() == 0:  # nginx's workers would otherwise become "nobody"
        user = (f"user {pwd.getpwuid(os.geteuid()).pw_name} "
                f"{grp.getgrgid(os.getegid()).gr_name};")
    servers = "\n".join(f"    server {b} max_fails=0;" for b in backends)
    conf = f"""
{user}
worker_processes 1;
daemon off;
pid {home}/nginx.pid;
error_log {home}/error.log warn;
events {{ worker_connections 512; }}
http {{
  access_log off;
  client_body_temp_path {home}/body;
  proxy_temp_path {home}/proxy;
  fastcgi_temp_path {home}/fastcgi;
  uwsgi_temp_path {home}/uwsgi;
  scgi_temp_path {home}/scgi;
  client_max_body_size 60m;
  upstream esar {{
    zone esar 64k;
{servers}
    keepalive 16;
  }}
  server {{
    listen 127.0.0.1:{port};
    location / {{
      proxy_pass http://esar;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_request_buffering off;
      proxy_next_upstream off;
    }}
  }}
}}
"""
    path = os.path.join(home, "nginx.conf")
    with open(path, "w") as f:
        f.write(conf)
    log = open(os.path.join(home, "stderr.log"), "wb")
    proc = subprocess.Popen(["/usr/sbin/nginx", "-p", home, "-e", os.path.join(home, "error.log"),
                             "-c", path], stdout=log, stderr=log)
    if not wait_for_port(port, proc):
        with open(os.path.join(home, "error.log"), errors="replace") as f:
            print(f.read()[-1000:])
        return proc, None
    return proc, f"http://127.0.0.1:{port}"


def start_pgbouncer(tmp, pg_url, dbname):
    """pgbouncer 1.18 in transaction pooling in front of `dbname` of the cluster at pg_url, on a
    free port of 127.0.0.1, its configuration in tmp/pgbouncer. Two server connections only, so
    that every esar connection shares them. Returns (process, URL of the database through it,
    with prepared statements off)."""
    home = os.path.join(tmp, "pgbouncer")
    os.makedirs(home)
    os.chmod(tmp, 0o755)  # pgbouncer may run as another user (see run_as_args)
    os.chmod(home, 0o755)
    parts = urllib.parse.urlsplit(pg_url)
    user = parts.username or getpass.getuser()
    port = free_port()
    with open(os.path.join(home, "users.txt"), "w") as f:
        f.write(f'"{user}" ""\n')
    conf = f"""
[databases]
{dbname} = host={parts.hostname} port={parts.port} dbname={dbname} user={user}
* = host={parts.hostname} port={parts.port} user={user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {home}/users.txt
pool_mode = transaction
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 500
max_db_connections = 2
"""
    path = os.path.join(home, "pgbouncer.ini")
    with open(path, "w") as f:
        f.write(conf)
    for name in os.listdir(home):
        os.chmod(os.path.join(home, name), 0o644)
    as_user = run_as_args()
    log = open(os.path.join(home, "stderr.log"), "wb")
    cmd = ["/usr/sbin/pgbouncer"] + (["-u", as_user[0]] if as_user else []) + [path]
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd="/")
    if not wait_for_port(port, proc):
        with open(os.path.join(home, "stderr.log"), errors="replace") as f:
            print(f.read()[-1000:])
        return proc, None
    # Statements unnamed: a statement prepared on one server connection is unknown to the next.
    return proc, f"postgresql://{user}@127.0.0.1:{port}/{dbname}?{NO_PREPARED}"


# ---------------------------------------------------------------- HTTP

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


class Response:
    def __init__(self, status, headers, raw, request_id):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.request_id = request_id
        self.json = None
        if headers.get("Content-Type", "").startswith("application/json"):
            try:
                self.json = json.loads(raw.decode("utf-8"))
            except ValueError:
                pass

    def text(self):
        return self.raw.decode("utf-8", "replace")


sent_through_proxy = []  # request ids sent through nginx, in order
sent_lock = threading.Lock()


class Client:
    """One caller: the public, or a cookie session (with its CSRF token), at one address (nginx,
    A or B); `at` gives the same caller at another address."""

    def __init__(self, base, proxied=False):
        self.base = base
        self.proxied = proxied
        self.cookies = {}
        self.csrf = None

    def at(self, base, proxied=False):
        other = Client(base, proxied)
        other.cookies = self.cookies
        other.csrf = self.csrf
        return other

    def request(self, method, path, body=None, raw=None, content_type=None, headers=None,
                csrf=True):
        rid = "multi-" + uuid.uuid4().hex[:24]
        h = {"X-Request-Id": rid}
        data = None
        if raw is not None:
            data = raw
            h["Content-Type"] = content_type or "application/json"
        elif body is not None:
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            h["Content-Type"] = "application/json"
        if self.cookies:
            h["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if csrf and self.csrf and method not in ("GET", "HEAD"):
            h["X-CSRF-Token"] = self.csrf
        h.update(headers or {})
        if self.proxied:
            with sent_lock:
                sent_through_proxy.append(rid)
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=h)
        try:
            with OPENER.open(req, timeout=60) as r:
                resp = Response(r.status, r.headers, r.read(), rid)
        except urllib.error.HTTPError as e:
            resp = Response(e.code, e.headers, e.read(), rid)
            e.close()
        for cookie in resp.headers.get_all("Set-Cookie") or []:
            m = re.match(r"\s*([^=;]+)=([^;]*)", cookie)
            if m:
                self.cookies[m.group(1)] = m.group(2)
        return resp


def call(client, method, path, expect, what, **kwargs):
    r = client.request(method, path, **kwargs)
    check(r.status == expect, f"{what}: {method} {path} -> {r.status}",
          f"expected {expect}: {r.text()[:300]}")
    return r


def login(client, name, password=PASSWORD, what=None):
    r = call(client, "POST", "/api/v1/session", 200, what or f"log in {name}",
             body={"username": name, "password": password})
    client.csrf = (r.json or {}).get("csrf_token")
    check(bool(client.cookies.get("esar_session")) and bool(client.csrf),
          f"  {name} has a session and a CSRF token")
    return r


def minimal_pdf(text=b"esar"):
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
               b"/Resources << >> >>"]
    stream = b"BT /F1 12 Tf 20 100 Td (" + text + b") Tj ET"
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, content in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + content + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1,
                                                                             xref)
    return bytes(out)


def multipart(files):
    boundary = "esar-" + uuid.uuid4().hex
    out = bytearray()
    for name, (filename, ctype, payload) in files.items():
        out += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
                f"filename=\"{filename}\"\r\nContent-Type: {ctype}\r\n\r\n").encode()
        out += payload + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def kpi1_values():
    values = {}
    with open(os.path.join(EXAMPLE, "data.csv"), encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f):
            if row["agency"] == "OCS" and row["kpi"] == "1" and row["fiscal_year"] == "2567":
                values[row["variable"]] = float(row["value"]) if "." in row["value"] else int(
                    row["value"])
    return values


# ---------------------------------------------------------------- who answered

class Backends:
    """Which process answered a request: each server logs every request with its id."""

    def __init__(self, logs):
        self.logs = logs  # name -> log path

    def served(self, request_ids, wait_s=10):
        """{request id: "A" | "B" | None}, once every id is in a log (or after wait_s)."""
        found = {}
        deadline = time.time() + wait_s
        while True:
            for name, path in self.logs.items():
                with open(path, encoding="utf-8", errors="replace") as f:
                    for line in f:
                        m = re.search(r'"request_id":\s*"(multi-[0-9a-f]+)"', line)
                        if m and m.group(1) in request_ids:
                            found[m.group(1)] = name
            if len(found) == len(set(request_ids)) or time.time() > deadline:
                return {rid: found.get(rid) for rid in request_ids}
            time.sleep(0.1)


# ---------------------------------------------------------------- the checks

def cycle(proxy_base, a_base, b_base, backends, db, data_dir):
    def via(base):
        return Client(base, proxied=(base == proxy_base))

    public = via(proxy_base)
    admin, evaluator, reporter, approver = (via(proxy_base) for _ in range(4))

    call(public, "GET", "/healthz", 200, "health through nginx")

    # ---- sessions and CSRF tokens across the two
    # Made on A, used on B (and the other way): the session and its token live in the database.
    on_a = Client(a_base)
    login(on_a, "admin1", what="log in to A directly")
    r = call(on_a.at(b_base), "GET", "/api/v1/me", 200, "A's session read on B")
    check(r.json and r.json.get("username") == "admin1", "  B knows A's session")
    agency = {"agencies": [{"code": "TST", "name": {"th": "หน่วยงานทดสอบ", "en": "Test agency"},
                            "kind": "department", "parent": "PMO"}]}
    call(on_a.at(b_base), "PUT", "/api/v1/agencies", 200, "A's CSRF token accepted by B",
         body=agency)
    call(on_a.at(b_base), "PUT", "/api/v1/agencies", 403, "B still asks for the CSRF token",
         body=agency, csrf=False)
    call(on_a.at(b_base), "DELETE", "/api/v1/session", 200, "log out on B")
    call(on_a, "GET", "/api/v1/me", 401, "the session ended on B is gone on A")

    # The login form: its token set by one server, the form posted to the other.
    form_user = Client(a_base)
    r = call(form_user, "GET", "/login", 200, "the login form from A")
    token = re.search(r'name="login_csrf" value="([^"]+)"', r.text())
    check(token is not None and form_user.cookies.get("esar_login"), "  with its own token")
    body = urllib.parse.urlencode({"username": "admin1", "password": PASSWORD, "next": "/",
                                   "login_csrf": token.group(1) if token else ""}).encode()
    r = call(form_user.at(b_base), "POST", "/login", 303, "the login form posted to B",
             raw=body, content_type="application/x-www-form-urlencoded")
    check(bool(form_user.cookies.get("esar_session")), "  B opened a session")
    r = call(form_user, "GET", "/admin", 200, "the admin page on A with B's session")
    page_csrf = re.search(r'name="csrf" value="([^"]+)"', r.text())
    check(page_csrf is not None, "  A's page carries the session's CSRF token")
    r = call(form_user.at(b_base), "POST", "/logout", 303, "log out on B with A's form token",
             raw=urllib.parse.urlencode({"csrf": page_csrf.group(1) if page_csrf else ""}).encode(),
             content_type="application/x-www-form-urlencoded")
    call(form_user.at(a_base), "GET", "/api/v1/me", 401, "that session is gone on A too")

    # ---- the whole cycle through nginx
    for client, name in ((admin, "admin1"), (evaluator, "eval1"), (reporter, "ocs_reporter"),
                         (approver, "ocs_approver")):
        login(client, name, what=f"log in {name} through nginx")
    r = call(admin, "GET", "/api/v1/me", 200, "me through nginx")
    check(r.json and r.json.get("role") == "admin", "  the admin")

    with open(os.path.join(EXAMPLE, "framework.json"), encoding="utf-8") as f:
        framework = json.load(f)
    framework["title"]["en"] = framework["title"].get("en", "") + " (second)"
    # No round has frozen the framework yet: the import replaces the draft, read on the other.
    call(admin, "POST", "/api/v1/frameworks", 201, "import the framework again", body=framework)
    r = call(admin, "GET", "/api/v1/frameworks/1", 200, "the framework on the other server")
    check(r.json and r.json.get("document", {}).get("title", {}).get("en") == framework["title"]["en"],
          "  with the imported title", repr(r.json)[:200])
    call(admin, "PUT", "/api/v1/agencies", 200, "add an agency", body=agency)
    r = call(public, "GET", "/api/v1/agencies", 200, "agencies (public)")
    check(any(a.get("code") == "TST" for a in (r.json or [])), "  the new agency is listed")
    call(admin, "POST", "/api/v1/users", 201, "create a user",
         body={"username": "eval2", "password": PASSWORD, "role": "evaluator"})

    deadline = int(time.time() * 1000) + 365 * 24 * 3600 * 1000
    r = call(admin, "POST", "/api/v1/frameworks/1/rounds", 201, "open round 12",
             body={"round": 12, "deadline": deadline})
    round_id = (r.json or {}).get("id", 0)
    call(public, "GET", f"/api/v1/rounds/{round_id}", 200, "the round (public)")

    # ---- concurrent writes to both servers: one audit chain
    hammer(admin, a_base, b_base, db, data_dir)

    # ---- reporting, with the idempotency key and the evidence across the two
    kpi_path = f"/api/v1/rounds/{round_id}/agencies/OCS/kpis/1"
    values = kpi1_values()
    report = {"values": values, "explanation": "ตรวจพิจารณาร่างกฎหมายแล้วเสร็จตามมาตรฐาน",
              "problems": "", "remarks": None}
    # The same keyed save sent to A and B at the same moment (a client retrying on a timeout):
    # one acts, the other repeats its answer or says it is still running.
    key = "save-" + uuid.uuid4().hex
    answers = {}

    def save_on(name, base):
        answers[name] = reporter.at(base).request("PUT", kpi_path, body=report,
                                                  headers={"Idempotency-Key": key})

    racing = [threading.Thread(target=save_on, args=(n, b)) for n, b in (("A", a_base),
                                                                         ("B", b_base))]
    for t in racing:
        t.start()
    for t in racing:
        t.join()
    statuses = sorted(a.status for a in answers.values())
    check(statuses in ([200, 200], [200, 409]),
          f"the same keyed save on A and B at once: {statuses}", repr(
              [a.text()[:200] for a in answers.values()]))
    sid = max((a.json or {}).get("id", 0) for a in answers.values())
    revisions = psql(db, f"SELECT count(*) FROM submission_revisions WHERE submission_id = {sid}")
    check(revisions == "1", "  saved once (one revision)", revisions)

    key = "save-" + uuid.uuid4().hex
    report["problems"] = "ไม่มี"
    r1 = call(reporter.at(a_base), "PUT", kpi_path, 200, "save the draft on A with a key",
              body=report, headers={"Idempotency-Key": key})
    r2 = call(reporter.at(b_base), "PUT", kpi_path, 200, "the same save again on B",
              body=report, headers={"Idempotency-Key": key})
    check(r2.headers.get("Idempotent-Replayed") == "true", "  B answered it as a replay")
    check(r1.json is not None and r2.json == r1.json, "  with A's answer")
    revisions = psql(db, f"SELECT count(*) FROM submission_revisions WHERE submission_id = {sid}")
    check(revisions == "2", "  and saved once (one more revision)", revisions)
    call(reporter.at(b_base), "PUT", kpi_path, 409, "the key reused on B for another request",
         body={**report, "remarks": "อื่น"}, headers={"Idempotency-Key": key})

    pdf = minimal_pdf(b"multi " + uuid.uuid4().hex.encode())
    body, ctype = multipart({"file": ("หลักฐาน.pdf", "application/pdf", pdf)})
    r = call(reporter.at(a_base), "POST", f"/api/v1/submissions/{sid}/evidence", 201,
             "upload evidence to A", raw=body, content_type=ctype)
    evidence_id = (r.json or {}).get("id", 0)
    r = call(reporter.at(b_base), "GET", f"/api/v1/evidence/{evidence_id}/content", 200,
             "download it from B")
    check(r.raw == pdf, "  the same bytes")
    pdf2 = minimal_pdf(b"second " + uuid.uuid4().hex.encode())
    body, ctype = multipart({"file": ("second.pdf", "application/pdf", pdf2)})
    r = call(reporter, "POST", f"/api/v1/submissions/{sid}/evidence", 201,
             "upload evidence through nginx", raw=body, content_type=ctype)
    second_id = (r.json or {}).get("id", 0)
    for name, base in (("A", a_base), ("B", b_base)):
        r = call(reporter.at(base), "GET", f"/api/v1/evidence/{second_id}/content", 200,
                 f"download it from {name}")
        check(r.raw == pdf2, "  the same bytes")

    r = call(approver, "POST", f"/api/v1/submissions/{sid}/approve", 200, "approve")
    check(r.json and r.json.get("status") == "approved", "  approved")
    key = "submit-" + uuid.uuid4().hex
    r1 = call(approver.at(b_base), "POST", f"/api/v1/submissions/{sid}/submit", 200,
              "submit on B with a key", headers={"Idempotency-Key": key})
    r2 = call(approver.at(a_base), "POST", f"/api/v1/submissions/{sid}/submit", 200,
              "the same submit again on A", headers={"Idempotency-Key": key})
    check(r2.headers.get("Idempotent-Replayed") == "true" and r2.json == r1.json,
          "  A replayed B's answer")
    audited = psql(db, "SELECT count(*) FROM audit_log WHERE action = 'submission.submit' "
                       f"AND entity = 'submission/{sid}'")
    check(audited == "1", "  one submission in the audit log", audited)

    r = call(evaluator, "POST", f"/api/v1/submissions/{sid}/return", 200, "return for correction",
             body={"comment": "โปรดแนบหนังสือรับรอง"})
    check(r.json and r.json.get("status") == "returned", "  returned")
    report["remarks"] = "แนบแล้ว"
    call(reporter, "PUT", kpi_path, 200, "save the corrected draft", body=report)
    call(approver, "POST", f"/api/v1/submissions/{sid}/approve", 200, "approve again")
    call(reporter, "POST", f"/api/v1/submissions/{sid}/submit", 200, "submit again")
    r = call(evaluator, "POST", f"/api/v1/submissions/{sid}/accept", 200, "accept",
             body={"comment": "ถูกต้อง", "verified_values": values})
    check(r.json and r.json.get("status") == "accepted", "  accepted")

    call(admin, "POST", f"/api/v1/rounds/{round_id}/close", 200, "close reporting",
         body={"reason": "ครบกำหนด"})
    r = call(admin, "POST", f"/api/v1/rounds/{round_id}/results", 201, "compute", body={
        "appeal_days": 14})
    result_id = (r.json or {}).get("id", 0)
    r = call(reporter, "POST", f"/api/v1/results/{result_id}/appeals", 201, "appeal KPI 1",
             body={"kpi": "1", "reason": "ค่าไม่ตรงกับหนังสือรับรอง"})
    appeal_id = (r.json or {}).get("id", 0)
    r = call(evaluator, "GET", f"/api/v1/results/{result_id}/appeals", 200, "the appeals")
    check(r.json and r.json.get("total") == 1, "  one appeal")
    call(evaluator, "POST", f"/api/v1/appeals/{appeal_id}/decision", 200, "decide it", body={
        "upheld": False, "reason": "ค่าตรงกับที่ตรวจแล้ว"})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/results/close-appeals", 200,
         "close the appeal window", body={"reason": "ทุกหน่วยงานยืนยันผลแล้ว"})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/results/final", 201, "finalize")
    r = call(admin, "POST", f"/api/v1/rounds/{round_id}/results/publish", 201, "publish")
    check(r.json and r.json.get("stage") == "published", "  published")
    r = call(public, "GET", f"/api/v1/rounds/{round_id}/results", 200, "the published results")
    codes = [a.get("code") for a in (r.json or {}).get("scores", {}).get("agencies", [])]
    check("OCS" in codes, "  OCS is in them")
    first = {}
    for name, base in (("A", a_base), ("B", b_base)):
        r = call(Client(base), "GET", f"/api/v1/rounds/{round_id}/results/agencies/OCS", 200,
                 f"OCS's published result from {name}")
        first[name] = (r.json or {}).get("id")
    check(first["A"] is not None and first["A"] == first["B"], "  the same publication on both",
          repr(first))
    for path, what, name in (
            ("/", "the public list", "สำนักงานคณะกรรมการกฤษฎีกา"),
            (f"/results/{round_id}/agencies/OCS", "OCS's public report", "สำนักงานคณะกรรมการกฤษฎีกา"),
            ("/dashboard", "the dashboard", "สำนักนายกรัฐมนตรี")):
        r = call(public, "GET", path, 200, f"{what} through nginx")
        check(name in r.text(), f"  names {name}")

    # Consecutive requests through nginx, answered by the two processes in turn.
    served = backends.served(list(sent_through_proxy))
    order = [served[rid] for rid in sent_through_proxy]
    check(all(order), "every request through nginx is in one server's log",
          f"{order.count(None)} not found")
    pairs = list(zip(order, order[1:]))
    same = [i for i, (x, y) in enumerate(pairs) if x == y]
    check(len(order) > 20 and not same,
          f"each of {len(order)} consecutive requests through nginx went to the other server",
          f"the same server twice at requests {same[:10]}")
    check(set(order) == {"A", "B"}, "  both servers answered", repr(set(order)))

    # ---- the published-result cache: a newer publication is seen by both within the delay
    call(admin, "POST", f"/api/v1/rounds/{round_id}/reopen", 200, "reopen the round", body={
        "reason": "แก้ไขข้อมูล", "deadline": deadline + 86_400_000})
    call(admin, "POST", "/api/v1/data", 200, "import a changed value for OCS", body={
        "observations": [{"agency": "OCS", "kpi": "7", "variable": "score",
                          "fiscal_year": 2567, "round": 12, "value": 97.25}]})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/close", 200, "close reporting again", body={
        "reason": "ครบกำหนด"})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/results", 201, "compute again", body={
        "appeal_days": 14})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/results/close-appeals", 200,
         "close the appeal window again", body={"reason": "ไม่มีการอุทธรณ์"})
    call(admin, "POST", f"/api/v1/rounds/{round_id}/results/final", 201, "finalize again")
    # Both servers answered the old publication just now (cached for up to the delay).
    for name, base in (("A", a_base), ("B", b_base)):
        Client(base).request("GET", f"/api/v1/rounds/{round_id}/results/agencies/OCS")
    r = call(admin, "POST", f"/api/v1/rounds/{round_id}/results/publish", 201, "publish again")
    newer = (r.json or {}).get("id")
    check(newer is not None and newer != first["A"], "  a newer publication", repr(newer))
    time.sleep(CACHE_DELAY_S + 0.1)
    for name, base in (("A", a_base), ("B", b_base)):
        r = call(Client(base), "GET", f"/api/v1/rounds/{round_id}/results/agencies/OCS", 200,
                 f"OCS's result from {name} after the cache delay")
        check(r.json and r.json.get("id") == newer, f"  {name} shows the newer publication",
              f"id {(r.json or {}).get('id')}, want {newer}")

    # ---- the dashboard and the public list kept by each server, never past a change: both
    # have them built; a ministry renamed through B shows on A's next answer (each request reads
    # the versions of what its page shows from the database).
    for name, base in (("A", a_base), ("B", b_base)):
        for path in ("/dashboard", "/dashboard", f"/?round={round_id}&sort=name"):
            call(Client(base), "GET", path, 200, f"{path} from {name}")
    r = Client(a_base).request("GET", "/dashboard")
    check(r.status == 200 and r.headers.get("x-cache") == "hit", "  A keeps its dashboard",
          repr(r.headers.get("x-cache")))
    call(admin.at(b_base), "PUT", "/api/v1/agencies", 200, "rename the ministry through B", body={
        "agencies": [{"code": "PMO", "name": {"th": "สำนักนายกรัฐมนตรี (ชื่อใหม่)",
                                              "en": "Office of the Prime Minister"},
                      "kind": "ministry"}]})
    r = Client(a_base).request("GET", "/dashboard")
    check(r.status == 200 and "สำนักนายกรัฐมนตรี (ชื่อใหม่)" in r.text()
          and r.headers.get("x-cache") == "miss",
          "  A's dashboard shows the new name at once, built again", repr(r.headers.get("x-cache")))
    r = Client(a_base).request("GET", f"/?round={round_id}&sort=name")
    check(r.status == 200 and "สำนักนายกรัฐมนตรี (ชื่อใหม่)" in r.text(),
          "  and A's public list too")

    verify(db, data_dir, "after the whole cycle")


def hammer(admin, a_base, b_base, db, data_dir):
    """Writes from several threads to A and B at once (imported values, agencies, users), each
    audited, then checks the audit chain has no fork and verifies whole."""
    before = int(psql(db, "SELECT count(*) FROM audit_log"))
    results = []
    lock = threading.Lock()

    def worker(t):
        mine = []
        for i in range(12):
            client = admin.at(a_base if (t + i) % 2 == 0 else b_base)
            kind = (t + i) % 3
            if kind == 0:
                r = client.request("POST", "/api/v1/data", body={"observations": [
                    {"agency": "OGGP" if t % 2 else "DCLS", "kpi": "7", "variable": "score",
                     "fiscal_year": 2567, "round": 12, "value": 50 + t + i / 10}]})
            elif kind == 1:
                r = client.request("PUT", "/api/v1/agencies", body={"agencies": [
                    {"code": f"H{t}", "name": {"th": f"หน่วยงาน {t}-{i}", "en": f"Agency {t}-{i}"},
                     "kind": "department", "parent": "PMO"}]})
            else:
                r = client.request("POST", "/api/v1/users", body={
                    "username": f"user_{t}_{i}", "password": PASSWORD, "role": "evaluator"})
            mine.append((r.status, r.text()[:200]))
        with lock:
            results.extend(mine)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    # Verified meanwhile, as an operator may at any time: a change committed by either server
    # while verify reads is no reason to alarm.
    during = []
    while any(t.is_alive() for t in threads) or not during:
        p = subprocess.run([ESAR, "--lang", "en", "audit", "verify", "--db", db, "--data-dir",
                            data_dir], capture_output=True, text=True, timeout=300)
        during.append((p.returncode, (p.stdout + p.stderr)[-600:]))
    for t in threads:
        t.join()
    alarms = [out for rc, out in during if rc != 0]
    check(not alarms, f"esar audit verify {len(during)} times during the writes: no false alarm",
          alarms[0] if alarms else "")
    bad = [r for r in results if r[0] not in (200, 201)]
    check(not bad, f"{len(results)} concurrent writes to A and B succeeded", repr(bad[:3]))
    after = int(psql(db, "SELECT count(*) FROM audit_log"))
    check(after - before >= len(results), f"  each audited ({after - before} entries)")
    links = psql(db, "SELECT count(*) FROM audit_log l JOIN audit_log p ON p.seq = l.seq - 1 "
                     "WHERE l.prev_hash <> p.hash")
    check(links == "0", "  no entry follows anything but the one before it", links)
    forks = psql(db, "SELECT count(*) FROM (SELECT prev_hash FROM audit_log GROUP BY prev_hash "
                     "HAVING count(*) > 1) f")
    check(forks == "0", "  no two entries follow the same one (no fork)", forks)
    verify(db, data_dir, "after concurrent writes to both")


def first_starts_at_once(tmp, pg_url, db_url_of, trials=4):
    """Two servers started at the same moment on a new database and an empty data directory (as
    a service manager starts them): both must start, sharing one audit key and one baseline."""
    for trial in range(trials):
        dbname = f"esar_multi_start_{os.getpid()}_{trial}"
        psql(pg_url, f"CREATE DATABASE {dbname}")
        db = db_url_of(dbname)
        data_dir = os.path.join(tmp, f"start-{trial}")
        started = {}

        def start(name):
            log = os.path.join(tmp, f"start-{trial}-{name}.log")
            started[name] = esar_harness.start_server(ESAR, db, data_dir, log) + (log,)

        threads = [threading.Thread(target=start, args=(n,)) for n in ("A", "B")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        try:
            for name, (proc, base, log, path) in sorted(started.items()):
                with open(path, encoding="utf-8", errors="replace") as f:
                    said = f.read()[-400:]
                check(base is not None, f"first start {trial + 1}: server {name} started at the "
                      "same moment as the other", said)
            seals = psql(db, "SELECT count(*) FROM audit_log WHERE action = 'audit.seal'")
            check(seals == "1", "  one baseline (audit.seal) recorded", seals)
            keys = [n for n in os.listdir(data_dir) if n.startswith("audit.key")]
            check(keys == ["audit.key"], "  one audit key in the data directory", repr(keys))
        finally:
            for proc, base, log, path in started.values():
                esar_harness.stop_server(proc)
                log.close()
        verify(db, data_dir, f"after first start {trial + 1}")
        psql(pg_url, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


def verify(db, data_dir, when):
    p = subprocess.run([ESAR, "--lang", "en", "audit", "verify", "--db", db, "--data-dir",
                        data_dir], capture_output=True, text=True, timeout=300)
    check(p.returncode == 0, f"esar audit verify {when}: the log is whole", (p.stdout + p.stderr)[-800:])
    m = re.search(r"head: (\d+):([0-9a-f]{64})", p.stdout + p.stderr)
    last = psql(db, "SELECT seq || ':' || hash FROM audit_log ORDER BY seq DESC LIMIT 1")
    check(m is not None and f"{m.group(1)}:{m.group(2)}" == last,
          "  its head is the log's last entry", f"{m.group(0) if m else None} vs {last}")
    with open(os.path.join(data_dir, "audit.head"), encoding="utf-8") as f:
        head = json.load(f)
    check(f"{head.get('seq')}:{head.get('hash')}" == last,
          "  the head file shared by both servers names it too", f"{head} vs {last}")


def main():
    pg_url = os.environ.get("ESAR_TEST_PG_URL")
    if not pg_url:
        print("no PostgreSQL: set ESAR_TEST_PG_URL (scripts/test starts a cluster)")
        return 1
    tmp = tempfile.mkdtemp(prefix="esar-multi-")
    dbname = f"esar_multi_{os.getpid()}_{int(time.time())}"
    procs = []
    servers = []
    logs = {}
    try:
        psql(pg_url, f"CREATE DATABASE {dbname}")
        db = with_database(pg_url, dbname)
        if PGBOUNCER:
            bouncer, db = start_pgbouncer(tmp, pg_url, dbname)
            procs.append(bouncer)
            if not check(db is not None, "pgbouncer started (transaction pooling)"):
                return 1
        data_dir = os.path.join(tmp, "shared-data")
        os.makedirs(data_dir)
        esar_harness.run_cli(ESAR, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"),
                                    "--db", db])
        esar_harness.run_cli(ESAR, ["import", "framework", os.path.join(EXAMPLE, "framework.json"),
                                    "--db", db])
        esar_harness.run_cli(ESAR, ["import", "data", os.path.join(EXAMPLE, "data.csv"), "--db", db])
        for name, role, agency in (("admin1", "admin", None), ("eval1", "evaluator", None),
                                   ("ocs_reporter", "reporter", "OCS"),
                                   ("ocs_approver", "approver", "OCS")):
            args = ["admin", "create-user", "--db", db, "--username", name, "--role", role]
            esar_harness.run_cli(ESAR, args + (["--agency", agency] if agency else []),
                                 env={"ESAR_PASSWORD": PASSWORD})
        bases = {}
        for name in ("A", "B"):
            logs[name] = os.path.join(tmp, f"server-{name}.log")
            proc, base, log = esar_harness.start_server(
                ESAR, db, data_dir, logs[name], quiet=False,
                extra=["--trusted-proxy", "127.0.0.1"])
            servers.append((proc, log))
            if not check(base is not None, f"esar serve {name} started", open(
                    logs[name], errors="replace").read()[-500:]):
                return 1
            bases[name] = base
        nginx, proxy = start_nginx(tmp, [b.replace("http://", "") for b in bases.values()])
        procs.append(nginx)
        if not check(proxy is not None, "nginx started in front of A and B"):
            return 1
        cycle(proxy, bases["A"], bases["B"], Backends(logs), db, data_dir)
        first_starts_at_once(tmp, pg_url, lambda name: (
            with_database(db, name) if PGBOUNCER else with_database(pg_url, name)))
    except Exception as e:  # noqa: BLE001 - report and fail, never leave a process running
        import traceback
        traceback.print_exc()
        check(False, "test ran to the end", f"{type(e).__name__}: {e}")
    finally:
        for proc, log in servers:
            esar_harness.stop_server(proc)
            check(proc.returncode == 0, "esar serve stopped cleanly", f"exit {proc.returncode}")
            log.close()
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
        if check.failed:
            for name, path in logs.items():
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = [l for l in f if '"status":5' in l or "error" in l.lower()][-10:]
                for line in lines:
                    print(f"server {name} log:", line.rstrip())
        try:
            psql(pg_url, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
        except RuntimeError as e:
            print(f"note: {e}")
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
