"""What the Python checks of the running server share: running the esar command line,
starting and stopping `esar serve` on a free port of 127.0.0.1, and the two HTTP clients the
tests talk to it with (`ApiClient` for the JSON API, `Browser` for the pages without
JavaScript). Standard library only."""
import html as htmllib
import http.client
from html.parser import HTMLParser
import http.cookiejar
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ocs-2567")  # the example most tests start from


class Checks:
    """Counts a test's checks. Call it as check(ok, what[, detail]); it returns ok. With
    verbose it prints a PASS line for each passing check, else only the FAIL lines (each with
    its detail), so that a failure can always be read in the test's output."""

    def __init__(self, verbose=False):
        self.passed = 0
        self.failed = 0
        self.verbose = verbose

    def __call__(self, ok, what, detail=""):
        if ok:
            self.passed += 1
            if self.verbose:
                print(f"PASS {what}", flush=True)
        else:
            self.failed += 1
            print(f"FAIL {what}" + (f": {detail}" if detail else ""), flush=True)
        return ok

    def summary(self):
        """The last line every test prints: `N passed, M failed`."""
        return f"{self.passed} passed, {self.failed} failed"

    def exit_code(self):
        return 1 if self.failed else 0


def text_of(page):
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces folded."""
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", page)))


def import_example(esar, db, users, example=EXAMPLE, agencies=None):
    """Imports the example's agencies (or the CSV `agencies`) and framework into `db`, then
    creates `users`, (username, role, agency or None) each, with the demo password
    demo-USERNAME-2567 that Browser.login uses."""
    run_cli(esar, ["import", "agencies", agencies or os.path.join(example, "agencies.csv"), "--db", db])
    run_cli(esar, ["import", "framework", os.path.join(example, "framework.json"), "--db", db])
    for user, role, agency in users:
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", user, "--role", role]
                + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "demo-%s-2567" % user})


def run_cli(esar, args, env=None):
    """Runs `esar ARGS`; raises RuntimeError with its output when it fails."""
    p = subprocess.run([esar] + args, capture_output=True, text=True,
                       env={**os.environ, **(env or {})})
    if p.returncode != 0:
        raise RuntimeError(f"esar {' '.join(args[:3])} failed: {(p.stderr or p.stdout)[-400:]}")
    return p


def start_server(esar, db, data_dir, log_path, extra=(), quiet=True, prefix=(), fast_hashing=True):
    """Starts `esar serve` on 127.0.0.1:0 with cheap password hashing (for tests; real hashing
    with fast_hashing=False) and waits until it says where it listens. Returns (process, base
    URL or None, log file). `prefix` runs it through another command (e.g. prlimit)."""
    log = open(log_path, "wb")
    env = dict(os.environ)
    env.pop("ESAR_INSECURE_FAST_PASSWORD_HASHING", None)
    if fast_hashing:
        env["ESAR_INSECURE_FAST_PASSWORD_HASHING"] = "1"
    args = list(prefix) + [esar, "serve", "--listen", "127.0.0.1:0", "--db", db, "--data-dir", data_dir]
    args += ["--quiet"] if quiet else []
    proc = subprocess.Popen(args + list(extra), stdout=subprocess.PIPE, stderr=log, env=env)
    found = {}

    def read():
        for line in proc.stdout:
            m = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line.decode("utf-8", "replace"))
            if m and "url" not in found:
                found["url"] = m.group(1)
        proc.stdout.close()

    threading.Thread(target=read, daemon=True).start()
    deadline = time.time() + 30
    while "url" not in found and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    return proc, found.get("url"), log


def stop_server(proc):
    """SIGTERM, then SIGKILL if it has not stopped within 15 s."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


class ServedScratch:
    """One test's scratch directory, its database (the one ESAR_TEST_DB_URL names, a fresh
    PostgreSQL schema under with_pg_schema.sh, or a fresh SQLite file in the directory) and the
    `esar serve` started on it by `serve`. Leaving the `with` block stops the server and removes
    the directory whatever happened (kept, and named, when ESAR_KEEP_TEST_DIR is set), so that a
    failing check never leaves a server or files behind."""

    def __init__(self, prefix):
        self.work = tempfile.mkdtemp(prefix=prefix)
        self.db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(self.work, "esar.db")
        self.proc = None

    def serve(self, esar, extra=()):
        """Starts `esar serve` on the database (files in work/files, its log in work/server.log)
        and returns its base URL; exits the test, naming it, when the server does not start."""
        self.proc, base, _ = start_server(esar, self.db, os.path.join(self.work, "files"),
                                          os.path.join(self.work, "server.log"), extra=extra)
        if not base:
            sys.exit("%s: esar serve did not start (log: %s)" % (os.path.basename(sys.argv[0]),
                                                                 os.path.join(self.work, "server.log")))
        return base

    def __enter__(self):
        return self

    def __exit__(self, kind, value, trace):
        stop_server(self.proc)
        if os.environ.get("ESAR_KEEP_TEST_DIR"):
            print("kept " + self.work)
        else:
            shutil.rmtree(self.work, ignore_errors=True)
        return False


class ApiClient:
    """One login's cookies and CSRF token against the JSON API (pages too, through `text`).

    `check(ok, what)`, when given, is the test's own recorder: `json` then reports every status
    through it and carries on after a wrong one; without it a wrong status raises RuntimeError."""

    def __init__(self, base, check=None):
        self.base = base
        self.check = check
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def call(self, method, path, body=None, raw=None, content_type="application/json", form=None):
        """Sends a JSON `body`, `raw` bytes of `content_type`, or an urlencoded `form`; the
        session's CSRF token goes with every non-GET. Returns (status, headers, bytes); HTTP
        errors are answers, not exceptions."""
        headers = {"Content-Type": content_type}
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        if form is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            data = urllib.parse.urlencode(form).encode()
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.base + path, method=method, headers=headers, data=data)
        try:
            with self.opener.open(req) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def text(self, method, path, **kw):
        """`call`, answering (status, body decoded as UTF-8)."""
        status, _, data = self.call(method, path, **kw)
        return status, data.decode("utf-8", "replace")

    def json(self, method, path, body=None, expect=200, raw=None, content_type="application/json"):
        """`call`, expecting the status `expect`; returns the parsed JSON answer ({} if it is
        not JSON)."""
        status, _, data = self.call(method, path, body, raw, content_type)
        text = data.decode("utf-8", "replace")
        what = "%s %s: %d (%s)" % (method, path, status, text[:300] if status != expect else "as expected")
        if self.check is not None:
            self.check(status == expect, what)
        elif status != expect:
            raise RuntimeError(f"{method} {path}: expected {expect}, got {status} {text[:300]}")
        return json.loads(text) if text[:1] in ("{", "[") else {}

    def login(self, username, password):
        """Opens a session through the API and keeps its CSRF token; returns self."""
        self.csrf = self.json("POST", "/api/v1/session", {"username": username, "password": password}).get("csrf_token")
        return self


class Browser:
    """The pages as a browser without JavaScript sees them: cookies kept by hand (so a test
    can read and drop them), forms posted urlencoded, redirects not followed."""

    def __init__(self, base):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.cookies = {}

    def request(self, method, path, fields=None, body=None, content_type=None, headers=None):
        """Returns (status, headers with lower-case names, bytes)."""
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
        """GET, answering (status, body as text)."""
        status, headers, raw = self.get(path)
        return status, raw.decode("utf-8")

    def csrf(self, html):
        """The page's form token ("" when it has none)."""
        m = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
        return m.group(1) if m else ""

    def login_fields(self, fields):
        """Opens the login page (for its form token, as a browser would) and posts `fields`."""
        status, html = self.page("/login")
        m = re.search(r'name="login_csrf" value="([0-9a-f]+)"', html)
        return self.request("POST", "/login", dict(fields, login_csrf=m.group(1) if m else ""))

    def login(self, user):
        """Signs in as a demo user (password demo-USER-2567); returns (status, redirect target)."""
        status, headers, _ = self.login_fields({"username": user, "password": "demo-%s-2567" % user,
                                                "next": "/"})
        return status, headers.get("location", "")


def multipart_file(name, filename, data, content_type, fields=None, boundary="----esar7b1c"):
    """A multipart/form-data body of plain `fields` and one file; returns (body, content type)."""
    body = b""
    for k, v in (fields or {}).items():
        body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").encode()
    body += (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; "
             f"filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n").encode() + data + \
        f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


class FormReader(HTMLParser):
    """The fields a browser would send from the form whose action is `action`: text inputs,
    textareas (less the one line break after the tag, as browsers drop it), selected options,
    ticked checkboxes; hidden fields too. Buttons are left out."""

    def __init__(self, action):
        super().__init__(convert_charrefs=True)
        self.action, self.inside, self.fields = action, False, {}
        self.area = self.select = None
        self.done = False  # the first form with that action only (the KPI page's JSON form has it too)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self.inside = a.get("action") == self.action and not self.done
        if not self.inside:
            return
        if tag == "input" and a.get("type") != "checkbox":
            self.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and "checked" in a:
            self.fields[a["name"]] = a.get("value", "on")
        elif tag == "textarea":
            self.area, self.fields[a["name"]] = a["name"], ""
        elif tag == "select":
            self.select, self.fields[a["name"]] = a["name"], ""
        elif tag == "option" and self.select and "selected" in a:
            self.fields[self.select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.done = self.done or self.inside
            self.inside = False
        elif tag == "textarea" and self.area:
            value = self.fields[self.area]
            self.fields[self.area] = value[1:] if value.startswith("\n") else value
            self.area = None
        elif tag == "select":
            self.select = None

    def handle_data(self, data):
        if self.area:
            self.fields[self.area] += data


def form_of(page, action):
    reader = FormReader(action)
    reader.feed(page)
    return reader.fields
