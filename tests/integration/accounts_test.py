#!/usr/bin/python3
"""Logins that no request can break (issue 8): throttling, password hashing under a flood, the
trusted proxy, login CSRF and the session cookie of a login. Runs `esar serve` twice on a fresh
database (SQLite, or PostgreSQL under with_pg_schema.sh):

  A: plain (no proxy, room for 64 hashes at once): parallel wrong guesses get at most the allowance checked; names that
     cannot exist are throttled per address (a client's own X-Forwarded-For is ignored);
     cross-site logins are refused; a login's answer sets only the new cookie.
  B: --trusted-proxy 127.0.0.1 --hash-concurrency 1, real (64 MiB) hashing: clients behind the
     proxy are throttled one by one, so a guesser locks out neither the owner nor anyone else;
     a flood of logins gets 503 with Retry-After beyond the hashes allowed, and /healthz answers.

Standard library only:  accounts_test.py <esar binary>
Prints one line per check, then `N passed, M failed`; exits 1 on any failure.
"""
import http.client
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks, EXAMPLE, ROOT  # noqa: E402

check = Checks(verbose=True)

ESAR = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "esar")
PASSWORD = "correct-horse-battery-9"
FREE_PER_PAIR = 5       # service/login.h kFreeFailuresPerPair
FREE_PER_ADDRESS = 20   # service/login.h kFreeFailuresPerAddress
FIRST_DELAY_S = 1       # service/login.h kFirstDelayMs


class Answer:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw  # headers: list of (name, value)

    def header(self, name):
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def cookies(self, name):
        return [v for k, v in self.headers if k.lower() == "set-cookie" and v.startswith(name + "=")]

    def json(self):
        try:
            return json.loads(self.raw.decode("utf-8"))
        except ValueError:
            return None


def send(base, method, path, body=None, headers=None, conn=None):
    u = urllib.parse.urlsplit(base)
    c = conn or http.client.HTTPConnection(u.hostname, u.port, timeout=60)
    try:
        c.request(method, path, body=body, headers=headers or {})
        r = c.getresponse()
        return Answer(r.status, r.getheaders(), r.read())
    finally:
        c.close()


def api_login(base, user, password, headers=None, conn=None):
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    return send(base, "POST", "/api/v1/session", json.dumps({"username": user, "password": password}).encode(),
                h, conn)


def parallel(base, n, make):
    """Sends n requests at once (connections opened first, then released together); returns the
    answers in order. make(i) -> (method, path, body, headers)."""
    u = urllib.parse.urlsplit(base)
    conns = [http.client.HTTPConnection(u.hostname, u.port, timeout=60) for _ in range(n)]
    for c in conns:
        c.connect()
    barrier = threading.Barrier(n)
    out = [None] * n

    def one(i):
        method, path, body, headers = make(i)
        barrier.wait()
        try:
            out[i] = send(base, method, path, body, headers, conns[i])
        except OSError as e:
            out[i] = Answer(0, [], str(e).encode())

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def counts(answers):
    out = {}
    for a in answers:
        out[a.status] = out.get(a.status, 0) + 1
    return out


def login_body(user, password):
    return json.dumps({"username": user, "password": password}).encode()


# ------------------------------------------------------------------ server A: no proxy

def csrf_and_cookie_checks(base):
    host = urllib.parse.urlsplit(base).netloc
    r = api_login(base, "admin1", PASSWORD, {"Origin": "https://evil.example"})
    check(r.status == 403 and not r.cookies("esar_session"),
          f"POST /api/v1/session from another site's Origin -> {r.status} (want 403, no cookie)")
    r = api_login(base, "admin1", PASSWORD, {"Referer": "https://evil.example/page"})
    check(r.status == 403, f"POST /api/v1/session with another site's Referer -> {r.status} (want 403)")
    r = api_login(base, "admin1", PASSWORD, {"Origin": "null"})
    check(r.status == 403, f"POST /api/v1/session with Origin: null -> {r.status} (want 403)")
    r = api_login(base, "admin1", PASSWORD, {"Origin": f"http://{host}"})
    check(r.status == 200, f"POST /api/v1/session from this site's Origin -> {r.status} (want 200)")
    r = api_login(base, "admin1", PASSWORD)
    check(r.status == 200, f"POST /api/v1/session from a script (no Origin, no Referer) -> {r.status} (want 200)")

    form = urllib.parse.urlencode({"username": "admin1", "password": PASSWORD, "next": "/"}).encode()
    ctype = {"Content-Type": "application/x-www-form-urlencoded"}
    r = send(base, "POST", "/login", form, dict(ctype, Origin="https://evil.example"))
    check(r.status == 403 and not r.cookies("esar_session"),
          f"POST /login from another site -> {r.status} (want 403, no session cookie)")
    r = send(base, "POST", "/login", form, ctype)
    check(r.status == 403 and not r.cookies("esar_session"),
          f"POST /login without Origin, Referer or the form's token -> {r.status} (want 403)")
    r = send(base, "POST", "/login", form, dict(ctype, Origin=f"http://{host}"))
    check(r.status == 303 and len(r.cookies("esar_session")) == 1,
          f"POST /login from this site's Origin -> {r.status} (want 303 and a session)")
    page = send(base, "GET", "/login")
    token = re.search(r'name="login_csrf" value="([0-9a-f]+)"', page.raw.decode())
    cookie = page.cookies("esar_login")
    check(token is not None and len(cookie) == 1, "the login page carries a form token and its cookie")
    if token and cookie:
        fields = urllib.parse.urlencode({"username": "admin1", "password": PASSWORD, "next": "/",
                                         "login_csrf": token.group(1)}).encode()
        jar = cookie[0].split(";")[0]
        r = send(base, "POST", "/login", fields, dict(ctype, Cookie=jar))
        check(r.status == 303, f"POST /login with the page's token, no Origin -> {r.status} (want 303)")
        r = send(base, "POST", "/login", fields, dict(ctype, Cookie="esar_login=" + "0" * 64))
        check(r.status == 403, f"POST /login whose token does not match its cookie -> {r.status} (want 403)")

    # A dead session cookie: the login's answer sets the new one and does not delete it after.
    r = send(base, "POST", "/login", form, dict(ctype, Origin=f"http://{host}", Cookie="esar_session=" + "d" * 64))
    sessions = r.cookies("esar_session")
    check(r.status == 303 and len(sessions) == 1 and "Max-Age=0" not in sessions[0],
          f"a login over a dead session cookie sets only the new cookie ({sessions})")
    if sessions:
        value = sessions[-1].split(";")[0]
        home = send(base, "GET", "/admin", headers={"Cookie": value})
        check(home.status == 200, f"  and the browser is logged in with it (GET /admin -> {home.status})")


def flood_checks(base):
    # 40 parallel wrong guesses for one account: at most the allowance is checked.
    started = time.monotonic()
    answers = parallel(base, 40, lambda i: ("POST", "/api/v1/session", login_body("eval1", f"wrong-{i}"),
                                            {"Content-Type": "application/json"}))
    elapsed = time.monotonic() - started
    c = counts(answers)
    # Past the free guesses each wait (1 s, then 2 s, 4 s ...) lets one more guess be checked once
    # it is over: a flood that lasts longer than the first wait (a loaded machine, where guesses
    # queue for a worker) may rightly have one more checked for each wait it outlasted.
    allowance, waited, wait = FREE_PER_PAIR, 0.0, FIRST_DELAY_S
    while waited + wait <= elapsed:
        waited, wait, allowance = waited + wait, wait * 2, allowance + 1
    # (503: more hashes at once than allowed; such an attempt is refused unchecked and uncounted.)
    check(c.get(401, 0) <= allowance and c.get(401, 0) + c.get(429, 0) + c.get(503, 0) == 40,
          f"40 parallel wrong guesses for one account: {c.get(401, 0)} checked (want at most {allowance}: "
          f"{FREE_PER_PAIR} free, the flood took {elapsed:.1f} s), "
          f"{c.get(429, 0)} throttled, {c.get(503, 0)} refused as busy", str(c))
    waits = [a.header("Retry-After") for a in answers if a.status == 429]
    # Under load every parallel guess beyond the few checked may be refused as busy (503, not
    # counted), leaving none throttled: then guesses one after another reach the throttle.
    for i in range(FREE_PER_PAIR + 1):
        if waits:
            break
        r = send(base, "POST", "/api/v1/session", login_body("eval1", f"wrong-seq-{i}"),
                 {"Content-Type": "application/json"})
        if r.status == 429:
            waits.append(r.header("Retry-After"))
    check(bool(waits) and all(w and w.isdigit() and int(w) >= 1 for w in waits),
          "  every throttled answer says when to come back (Retry-After)", str(waits[:3]))
    # Names that cannot exist: no hash, but counted against the address, whatever the client
    # claims in X-Forwarded-For (no proxy is trusted here).
    statuses = []
    for i in range(FREE_PER_ADDRESS + 5):
        r = api_login(base, "x", "wrong", {"X-Forwarded-For": f"203.0.113.{i}"})
        statuses.append(r.status)
    check(set(statuses) <= {401, 429} and 429 in statuses,
          f"{len(statuses)} logins with the malformed name 'x' from one address are throttled "
          f"(spoofed X-Forwarded-For ignored): {sorted(set(statuses))}")


# ------------------------------------------------------------------ server B: behind a proxy

def proxy_checks(base):
    guesser, owner, other = "198.51.100.7", "198.51.100.8", "198.51.100.9"
    statuses = [api_login(base, "eval1", f"wrong-{i}", {"X-Forwarded-For": guesser}).status
                for i in range(FREE_PER_PAIR + 1)]
    check(statuses[:FREE_PER_PAIR] == [401] * FREE_PER_PAIR and statuses[-1] == 429,
          f"behind the proxy, one client's wrong guesses make it wait: {statuses}")
    r = api_login(base, "eval1", PASSWORD, {"X-Forwarded-For": guesser})
    check(r.status == 429, f"  the guesser waits even with the right password -> {r.status}")
    r = api_login(base, "eval1", PASSWORD, {"X-Forwarded-For": owner})
    check(r.status == 200, f"  the owner, from another address behind the same proxy, logs in -> {r.status}")
    # The guesser tries many names: its address waits; everyone else behind the proxy does not.
    other_names = [api_login(base, f"guess{i}", "wrong", {"X-Forwarded-For": "198.51.100.50"}).status
                   for i in range(FREE_PER_ADDRESS + 1)]
    check(other_names[-1] == 429, f"  one client trying {len(other_names)} names waits: {sorted(set(other_names))}")
    r = api_login(base, "admin1", PASSWORD, {"X-Forwarded-For": other})
    check(r.status == 200, f"  another client behind the proxy logs in meanwhile -> {r.status}")
    # Only the entry the proxy appended counts: an address the client put first is ignored.
    r = api_login(base, "guess-spoof", "wrong", {"X-Forwarded-For": "192.0.2.1, 198.51.100.50"})
    check(r.status == 429, f"  a client cannot escape by claiming another address first -> {r.status}")

    # A flood of logins (distinct names and clients, so no throttle applies): one 64 MiB hash at a
    # time and one waiting; the rest are refused at once with 503 and Retry-After.
    answers = parallel(base, 16, lambda i: ("POST", "/api/v1/session", login_body(f"nobody{i}", "wrong"),
                                            {"Content-Type": "application/json",
                                             "X-Forwarded-For": f"198.18.0.{i + 1}"}))
    c = counts(answers)
    busy = [a for a in answers if a.status == 503]
    check(set(c) <= {401, 503} and busy and all(a.header("Retry-After") == "1" for a in busy),
          f"16 logins at once with --hash-concurrency 1: {c} (want some 503 with Retry-After, the rest 401)")
    bodies = [a.json() for a in busy]
    check(all(b and b.get("error", {}).get("code") == "unavailable" for b in bodies),
          "  the 503s carry the error shape with code 'unavailable'")
    r = send(base, "GET", "/healthz")
    check(r.status == 200, f"  /healthz answers after the flood -> {r.status}")


def main():
    tmp = tempfile.mkdtemp(prefix="esar-accounts-")
    procs = []
    try:
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(tmp, "esar.db")
        esar_harness.run_cli(ESAR, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        for name, role in (("admin1", "admin"), ("eval1", "evaluator")):
            esar_harness.run_cli(ESAR, ["admin", "create-user", "--db", db, "--username", name, "--role", role],
                                 env={"ESAR_PASSWORD": PASSWORD})
        # Room for every parallel hash here, so that only the throttle decides (B tests the bound).
        proc, base, log = esar_harness.start_server(ESAR, db, os.path.join(tmp, "files"), os.path.join(tmp, "a.log"),
                                                    extra=("--hash-concurrency", "64"))
        procs.append((proc, log))
        if check(base is not None, "server A started"):
            csrf_and_cookie_checks(base)
            flood_checks(base)
        esar_harness.stop_server(proc)
        proc, base, log = esar_harness.start_server(
            ESAR, db, os.path.join(tmp, "files"), os.path.join(tmp, "b.log"),
            extra=("--trusted-proxy", "127.0.0.1", "--hash-concurrency", "1"), fast_hashing=False)
        procs.append((proc, log))
        if check(base is not None, "server B started with --trusted-proxy and --hash-concurrency"):
            proxy_checks(base)
    except Exception as e:  # noqa: BLE001 - report and fail, never leave a server running
        import traceback
        traceback.print_exc()
        check(False, "test ran to the end", f"{type(e).__name__}: {e}")
    finally:
        for proc, log in procs:
            esar_harness.stop_server(proc)
            log.close()
        if check.failed:
            for name in ("a.log", "b.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        for line in f.readlines()[-5:]:
                            print(f"server log {name}:", line.rstrip())
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
