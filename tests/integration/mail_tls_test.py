#!/usr/bin/python3
"""E-mail over STARTTLS to a real relay: Debian's python3-aiosmtpd on 127.0.0.1 offering STARTTLS
with a throwaway certificate made here by `openssl req -x509`.

1. esar serve --smtp smtp://127.0.0.1:PORT --smtp-ca-file CERT (the relay's certificate trusted):
   the message arrives, and the relay's session says it came over TLS (aiosmtpd sets
   session.ssl once STARTTLS has succeeded), with the cipher both sides agreed.
2. A relay offering STARTTLS with a certificate esar does not trust (another throwaway one; the
   relay does not insist on TLS, so a fallback to plain text would be accepted and seen): nothing
   arrives, and the outbox shows the e-mail waiting with the TLS failure as its last error.
3. --smtp-ca-file naming a file that cannot be read: esar serve refuses to start, saying so.

    mail_tls_test.py ESAR      (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient as Client, run_cli, start_server, stop_server  # noqa: E402

from aiosmtpd.controller import Controller  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLE = os.path.join(ROOT, "examples", "ocs-2567")
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
    """Keeps every message the relay accepts with whether its session was under TLS."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        tls = session.ssl  # None unless STARTTLS succeeded on this connection
        self.messages.append({"to": list(envelope.rcpt_tos), "tls": tls is not None,
                              "cipher": (tls or {}).get("cipher")})
        return "250 2.0.0 Ok: queued"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_certificate(folder, name):
    """A throwaway self-signed certificate for 127.0.0.1; returns (cert path, key path)."""
    cert, key = os.path.join(folder, name + ".pem"), os.path.join(folder, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


def tls_relay(handler, cert, key):
    """An aiosmtpd relay offering STARTTLS with `cert`, not insisting on it."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    controller = Controller(handler, hostname="127.0.0.1", port=free_port(), tls_context=context,
                            require_starttls=False)
    controller.start()
    return controller


def wait_outbox(admin, done, seconds=30):
    deadline = time.time() + seconds
    page = {}
    while time.time() < deadline:
        page = admin.json("GET", "/api/v1/outbox?per_page=200")
        if done(page):
            return page
        time.sleep(0.3)
    return page


def main():
    esar = sys.argv[1]
    work = tempfile.mkdtemp(prefix="esar-mail-tls-")
    trusted, untrusted = Captured(), Captured()
    controllers = []
    try:
        cert, key = make_certificate(work, "relay")
        other_cert, other_key = make_certificate(work, "other")
        good = tls_relay(trusted, cert, key)
        bad = tls_relay(untrusted, other_cert, other_key)
        controllers = [good, bad]
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(work, "esar.db")
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", "admin", "--role", "admin",
                       "--email", "admin@opdc.go.th", "--language", "th"],
                env={"ESAR_PASSWORD": "password-of-admin"})

        # ---- 1. the relay's certificate trusted: sent, over TLS
        proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve1.log"),
                                     extra=["--smtp", f"smtp://127.0.0.1:{good.port}", "--smtp-ca-file", cert,
                                            "--mail-retry-s", "1"])
        try:
            check(base is not None, "esar serve starts with --smtp-ca-file")
            admin = Client(base).login("admin", "password-of-admin")
            page = wait_outbox(admin, lambda p: p["counts"]["sent"] >= 1 or p["counts"]["failed"] >= 1)
            check(page["counts"] == {"waiting": 0, "sent": 1, "failed": 0},
                  "the account e-mail is sent through the STARTTLS relay", json.dumps(page.get("counts")))
            check([m["to"] for m in trusted.messages] == [["admin@opdc.go.th"]], "the relay received it once",
                  repr(trusted.messages))
            check(all(m["tls"] for m in trusted.messages) and trusted.messages,
                  "the relay's session says it came over TLS", repr(trusted.messages))
            check(all(m["cipher"] for m in trusted.messages), "with a cipher agreed", repr(trusted.messages))
        finally:
            stop_server(proc)

        # ---- 2. a relay whose certificate esar does not trust: nothing sent, the TLS error kept
        proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "serve2.log"),
                                     extra=["--smtp", f"smtp://127.0.0.1:{bad.port}", "--smtp-ca-file", cert,
                                            "--mail-retry-s", "1"])
        try:
            check(base is not None, "esar serve starts against the untrusted relay")
            admin = Client(base).login("admin", "password-of-admin")
            admin.json("POST", "/api/v1/users", {"username": "eva", "password": "password-of-eva",
                                                 "role": "evaluator", "email": "eva@opdc.go.th"}, expect=201)
            page = wait_outbox(admin, lambda p: any(m["address"] == "eva@opdc.go.th" and m["attempts"] >= 2
                                                    for m in p["items"]))
            mail = [m for m in page.get("items", []) if m["address"] == "eva@opdc.go.th"]
            check(len(mail) == 1 and mail[0]["status"] == "waiting" and mail[0]["attempts"] >= 2,
                  "the e-mail waits, tried again", json.dumps(mail))
            error = mail[0]["last_error"] if mail else ""
            check("certificate" in error.lower(), "the outbox shows the TLS failure: " + error, error)
            check(untrusted.messages == [], "nothing reached the untrusted relay, in clear or otherwise",
                  repr(untrusted.messages))
            status, html = admin.text("GET", "/admin/outbox")
            check(status == 200 and "certificate" in html, "the outbox page shows the relay's TLS failure")
        finally:
            stop_server(proc)

        # ---- 3. a CA file that cannot be read: refused at start
        p = subprocess.run([esar, "serve", "--listen", "127.0.0.1:0", "--db", db, "--data-dir",
                            os.path.join(work, "files"), "--smtp", f"smtp://127.0.0.1:{good.port}",
                            "--smtp-ca-file", os.path.join(work, "missing.pem")],
                           capture_output=True, text=True, timeout=60)
        check(p.returncode != 0 and "--smtp-ca-file" in p.stderr and "missing.pem" in p.stderr,
              "an unreadable --smtp-ca-file stops esar serve with a message", p.stderr[-300:])
    finally:
        for c in controllers:
            c.stop()
        if not failures:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("logs kept in " + work)
    print(f"{passed} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
