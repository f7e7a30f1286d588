#!/usr/bin/python3
"""What one request (or a burst of them) may cost the server: evidence quotas, zip bombs, and
who may read /metrics.

    /usr/bin/python3 tests/integration/limits_test.py path/to/esar

On SQLite, or on PostgreSQL under with_pg_schema.sh (ESAR_TEST_DB_URL). Starts `esar serve` with
small limits (--max-upload-mb 1 --max-submission-files 5 --max-submission-mb 2) and checks:

1. Files per submission: 12 uploads sent at the same moment to one draft; exactly 5 are kept, the
   others get a 409 with a Thai and an English message, and the submission lists 5 files. A
   replacement on a full submission is refused too (replaced files are kept, so they count).
2. Bytes per submission: 6 uploads of 600 KB at once to another draft; at most 3 are kept (1.8 MB
   of the 2 MB), never more than 2 MB in all.
3. Office files: a DOCX of 510 KB holding 500 MB of zeros (built here with zipfile), one of a few
   KB holding 20 MB (1000:1), one that declares 1 KB for 8 MB it holds: each a 400 whose message
   says why in Thai and English, with nothing recorded and no file kept; a real small DOCX and
   XLSX are accepted.
4. /metrics: from loopback, served; from loopback but forwarded by a proxy (X-Forwarded-For,
   Forwarded, X-Real-IP), refused (403); with --metrics-token, refused without it or with a wrong
   one (401) and served with it.
Prints one line per check, then `N passed, M failed`; exits 1 on any failure.
"""
import io
import json
import os
import re
import shutil
import struct
import sys
import tempfile
import threading
import time
import urllib.parse
import http.client
import uuid
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import esar_harness  # noqa: E402
from esar_harness import Checks, EXAMPLE, ROOT  # noqa: E402

check = Checks(verbose=True)

ESAR = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin", "esar")
PASSWORD = "correct-horse-battery-9"
FAR = int(time.time() * 1000) + 365 * 24 * 3600 * 1000
THAI = re.compile("[\u0e00-\u0e7f]")
MAX_FILES, MAX_SUBMISSION_MB, MAX_UPLOAD_MB = 5, 2, 1


class Response:
    def __init__(self, status, headers, raw):
        self.status, self.headers, self.raw = status, headers, raw
        try:
            self.json = json.loads(raw.decode("utf-8"))
        except ValueError:
            self.json = None

    def message(self):
        e = (self.json or {}).get("error") or {}
        return e.get("message_th", ""), e.get("message_en", "")


class Client:
    def __init__(self, base, username=None):
        u = urllib.parse.urlsplit(base)
        self.host, self.port = u.hostname, u.port
        self.username, self.cookie, self.csrf = username, None, None

    def request(self, method, path, body=None, raw=None, content_type=None, headers=None):
        h = dict(headers or {})
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            content_type = "application/json"
        if content_type:
            h["Content-Type"] = content_type
        if self.cookie:
            h["Cookie"] = f"esar_session={self.cookie}"
            if method not in ("GET", "HEAD"):
                h["X-CSRF-Token"] = self.csrf
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            return Response(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        finally:
            conn.close()

    def login(self):
        r = Client(f"http://{self.host}:{self.port}").request(
            "POST", "/api/v1/session", body={"username": self.username, "password": PASSWORD})
        m = re.search(r"esar_session=([^;]+)", r.headers.get("set-cookie", ""))
        if r.status != 200 or not m:
            raise RuntimeError(f"login {self.username}: {r.status} {r.raw[:200]!r}")
        self.cookie, self.csrf = m.group(1), r.json["csrf_token"]
        return self


def expect(r, status, what):
    if r.status != status:
        raise RuntimeError(f"{what}: expected {status}, got {r.status} {r.raw[:300]!r}")
    return r.json


# ------------------------------------------------------------------ files

def pdf(size=0, tag=""):
    """A PDF libmagic recognises, made unique by `tag` and padded to about `size` bytes."""
    head = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\n% " + tag.encode() + b"\n"
    tail = b"trailer<</Root 1 0 R>>\n%%EOF\n"
    pad = max(0, size - len(head) - len(tail))
    return head + (b"% " + os.urandom(pad // 2).hex().encode() + b"\n")[:pad] + tail


CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
                 b'<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-'
                 b'officedocument.wordprocessingml.document.main+xml"/></Types>')


def docx(document_xml_chunks, name="word/document.xml"):
    """A DOCX (as libmagic tells one: [Content_Types].xml first, then word/) whose document.xml
    is the chunks given, written as a stream (never whole in memory)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES)
        z.writestr("_rels/.rels", b'<?xml version="1.0"?><Relationships xmlns="http://schemas.'
                                  b'openxmlformats.org/package/2006/relationships"/>')
        with z.open(name, "w", force_zip64=False) as f:
            for chunk in document_xml_chunks:
                f.write(chunk)
    return buf.getvalue()


def zeros(total, chunk=1 << 20):
    for _ in range(total // chunk):
        yield b"\0" * chunk


def lying(data, name=b"word/document.xml", claimed=1024):
    """`data` (a ZIP) with the uncompressed size of entry `name` rewritten to `claimed` in its
    local header and in the central directory."""
    out = bytearray(data)
    for sig, size_at, name_len_at, head in ((b"PK\x03\x04", 22, 26, 30), (b"PK\x01\x02", 24, 28, 46)):
        at = 0
        while True:
            at = out.find(sig, at)
            if at < 0:
                break
            n = struct.unpack_from("<H", out, at + name_len_at)[0]
            if bytes(out[at + head:at + head + n]) == name:
                struct.pack_into("<I", out, at + size_at, claimed)
            at += 4
    return bytes(out)


def xlsx():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", CONTENT_TYPES.replace(b"word/document.xml", b"xl/workbook.xml")
                   .replace(b"wordprocessingml.document.main", b"spreadsheetml.sheet.main"))
        z.writestr("_rels/.rels", b'<?xml version="1.0"?><Relationships/>')
        z.writestr("xl/workbook.xml", b'<?xml version="1.0"?><workbook><sheets><sheet name="a" sheetId="1"/>'
                                      b'</sheets></workbook>')
        rows = "".join(f'<row r="{i}"><c r="A{i}"><v>{i * 7}</v></c></row>' for i in range(1, 3000))
        z.writestr("xl/worksheets/sheet1.xml", f'<?xml version="1.0"?><worksheet><sheetData>{rows}'
                                               f'</sheetData></worksheet>')
    return buf.getvalue()


def multipart(content, filename, replaces=None):
    b = "esar-" + uuid.uuid4().hex
    out = b""
    if replaces is not None:
        out += (f"--{b}\r\nContent-Disposition: form-data; name=\"replaces\"\r\n\r\n{replaces}\r\n").encode()
    out += (f"--{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{b}--\r\n".encode()
    return out, f"multipart/form-data; boundary={b}"


# ------------------------------------------------------------------ checks

class World:
    def __init__(self, base, data_dir):
        self.base, self.data_dir = base, data_dir
        self.admin = Client(base, "admin1").login()
        self.rep = Client(base, "ocs_reporter").login()
        self.public = Client(base)
        self.round = expect(self.admin.request("POST", "/api/v1/frameworks/1/rounds",
                                               body={"round": 12, "deadline": FAR}), 201, "open round 12")["id"]
        with open(os.path.join(EXAMPLE, "data.csv"), encoding="utf-8") as f:
            import csv
            self.values = {}
            for row in csv.DictReader(f):
                if row["agency"] == "OCS" and row["fiscal_year"] == "2567":
                    parts = [float(p) if "." in p else int(p) for p in row["value"].split(";")]
                    self.values.setdefault(row["kpi"], {})[row["variable"]] = parts if len(parts) > 1 else parts[0]
        self.kpis = sorted(self.values, key=int)

    def draft(self):
        kpi = self.kpis.pop(0)
        return expect(self.rep.request("PUT", f"/api/v1/rounds/{self.round}/agencies/OCS/kpis/{kpi}",
                                       body={"values": self.values[kpi], "explanation": "ทดสอบ"}),
                      200, f"draft of KPI {kpi}")["id"]

    def evidence(self, sid):
        return expect(self.admin.request("GET", f"/api/v1/submissions/{sid}"), 200, "read submission")["evidence"]

    def files(self):
        out = set()
        for d, _, names in os.walk(self.data_dir):
            if os.path.basename(d) != "tmp":
                out |= {os.path.join(d, n) for n in names}
        return out

    def upload(self, sid, content, filename, replaces=None, client=None):
        raw, ctype = multipart(content, filename, replaces)
        return (client or self.rep).request("POST", f"/api/v1/submissions/{sid}/evidence", raw=raw,
                                            content_type=ctype)


def burst(w, sid, contents):
    """Sends every upload at the same moment (one thread each, released together)."""
    results = [None] * len(contents)
    gate = threading.Barrier(len(contents))
    clients = [Client(w.base, "ocs_reporter").login() for _ in contents]

    def one(i):
        gate.wait()
        try:
            results[i] = w.upload(sid, contents[i], f"file{i}.pdf", client=clients[i])
        except Exception as e:  # noqa: BLE001 - recorded as a failed upload
            results[i] = e
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(contents))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def is_refusal(r, status):
    th, en = r.message() if isinstance(r, Response) else ("", "")
    return isinstance(r, Response) and r.status == status and THAI.search(th) and en


def quota_checks(w):
    sid = w.draft()
    results = burst(w, sid, [pdf(2000, f"n{i}") for i in range(12)])
    kept = [r for r in results if isinstance(r, Response) and r.status == 201]
    refused = [r for r in results if is_refusal(r, 409)]
    check(len(kept) == MAX_FILES and len(refused) == 12 - MAX_FILES,
          f"12 uploads at once to a draft with room for {MAX_FILES} files: {len(kept)} kept, "
          f"{len(refused)} refused with 409 (want {MAX_FILES} and {12 - MAX_FILES})",
          str([r.status if isinstance(r, Response) else repr(r) for r in results]))
    listed = w.evidence(sid)
    check(len(listed) == MAX_FILES, f"the submission lists {len(listed)} files (want {MAX_FILES})")
    if refused:
        th, en = refused[0].message()
        check(str(MAX_FILES) in en and "replaced" in en and str(MAX_FILES) in th,
              "the refusal says how many files are allowed, in Thai and English", f"{th} / {en}")
    before = w.files()
    r = w.upload(sid, pdf(2000, "replacement"), "new.pdf", replaces=listed[0]["id"])
    check(is_refusal(r, 409) and len(w.evidence(sid)) == MAX_FILES and w.files() == before,
          f"a replacement on a full submission is refused too ({r.status}), nothing kept")

    sid = w.draft()
    size = 600 * 1024
    results = burst(w, sid, [pdf(size, f"b{i}") for i in range(6)])
    kept = [r for r in results if isinstance(r, Response) and r.status == 201]
    refused = [r for r in results if is_refusal(r, 409)]
    total = sum(e["size"] for e in w.evidence(sid))
    check(len(kept) == 3 and len(refused) == 3 and total <= MAX_SUBMISSION_MB << 20,
          f"6 uploads of 600 KB at once, {MAX_SUBMISSION_MB} MB per submission: {len(kept)} kept, "
          f"{len(refused)} refused, {total} bytes in all (want 3, 3, at most {MAX_SUBMISSION_MB << 20})",
          str([r.status if isinstance(r, Response) else repr(r) for r in results]))
    if refused:
        th, en = refused[0].message()
        check(f"{MAX_SUBMISSION_MB} MB" in en and f"{MAX_SUBMISSION_MB} MB" in th,
              "the refusal names the submission's limit in MB, in Thai and English", f"{th} / {en}")


def office_checks(w):
    sid = w.draft()
    bomb = docx(zeros(500 << 20))
    cases = [
        (f"a DOCX of {len(bomb) // 1024} KB holding 500 MB of zeros", bomb, "expands to more than 100.0 MB"),
        ("a DOCX of a few KB holding 20 MB (1000:1)", docx(zeros(20 << 20)), "more than 100 times"),
        ("a DOCX declaring 1 KB for the 8 MB it holds", lying(docx([b"<w:p>" * ((8 << 20) // 5)])),
         "holds more data than it declares"),
    ]
    for label, content, reason in cases:
        before_files, before_rows = w.files(), len(w.evidence(sid))
        r = w.upload(sid, content, "report.docx")
        th, en = r.message()
        check(r.status == 400 and reason in en and THAI.search(th),
              f"{label}: {r.status} (want 400 saying '{reason}')", f"{th} / {en}")
        check(w.files() == before_files and len(w.evidence(sid)) == before_rows,
              f"{label}: nothing recorded, no file kept")
    real_docx = docx([("<w:document>" + "<w:p>รายงานผลการดำเนินงาน</w:p>" * 2000 + "</w:document>").encode()])
    for label, content, name in (("a real DOCX", real_docx, "report.docx"), ("a real XLSX", xlsx(), "data.xlsx")):
        r = w.upload(sid, content, name)
        check(r.status == 201, f"{label} of {len(content)} bytes is accepted ({r.status})",
              r.raw[:200].decode("utf-8", "replace"))


def metrics_checks(w, token_base, token):
    r = w.public.request("GET", "/metrics")
    check(r.status == 200 and r.raw.startswith(b"# HELP"), f"/metrics from loopback, no token set: {r.status}")
    for header, value in (("X-Forwarded-For", "203.0.113.9"), ("Forwarded", "for=203.0.113.9"),
                          ("X-Real-IP", "203.0.113.9")):
        r = w.public.request("GET", "/metrics", headers={header: value})
        check(r.status == 403 and b"esar_" not in r.raw,
              f"/metrics forwarded by a proxy ({header}) is refused: {r.status}")
    other = Client(token_base)
    for label, headers in (("no token", {}), ("a wrong token", {"Authorization": "Bearer nope"}),
                           ("the token as a cookie", {"Cookie": f"esar_session={token}"})):
        r = other.request("GET", "/metrics", headers=headers)
        check(r.status == 401 and b"esar_" not in r.raw and "bearer" in r.headers.get("www-authenticate", "").lower(),
              f"/metrics with --metrics-token and {label}: {r.status} (want 401)")
    r = other.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
    check(r.status == 200 and r.raw.startswith(b"# HELP"), f"/metrics with the token: {r.status}")


def main():
    tmp = tempfile.mkdtemp(prefix="esar-limits-")
    procs = []
    try:
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(tmp, "esar.db")
        data_dir = os.path.join(tmp, "files")
        os.makedirs(data_dir)
        for what in ("agencies", "framework", "data"):
            name = {"agencies": "agencies.csv", "framework": "framework.json", "data": "data.csv"}[what]
            esar_harness.run_cli(ESAR, ["import", what, os.path.join(EXAMPLE, name), "--db", db])
        for name, role, agency in (("admin1", "admin", None), ("ocs_reporter", "reporter", "OCS")):
            esar_harness.run_cli(ESAR, ["admin", "create-user", "--db", db, "--username", name, "--role", role]
                                 + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": PASSWORD})
        limits = ("--max-upload-mb", str(MAX_UPLOAD_MB), "--max-submission-files", str(MAX_FILES),
                  "--max-submission-mb", str(MAX_SUBMISSION_MB))
        proc, base, log = esar_harness.start_server(ESAR, db, data_dir, os.path.join(tmp, "server.log"),
                                                    extra=limits)
        procs.append((proc, log))
        token = uuid.uuid4().hex
        os.environ["ESAR_METRICS_TOKEN"] = token  # the second server takes it from the environment
        try:
            proc2, base2, log2 = esar_harness.start_server(ESAR, db, data_dir, os.path.join(tmp, "server2.log"))
        finally:
            del os.environ["ESAR_METRICS_TOKEN"]
        procs.append((proc2, log2))
        if check(base is not None and base2 is not None, "both servers started"):
            w = World(base, data_dir)
            for part in (quota_checks, office_checks):
                try:
                    part(w)
                except (RuntimeError, KeyError, IndexError, TypeError) as e:
                    check(False, f"{part.__name__} ran to the end", f"{type(e).__name__}: {e}")
            metrics_checks(w, base2, token)
    except Exception as e:  # noqa: BLE001 - report and fail, never leave a server running
        import traceback
        traceback.print_exc()
        check(False, "test ran to the end", f"{type(e).__name__}: {e}")
    finally:
        for proc, log in procs:
            esar_harness.stop_server(proc)
            log.close()
        if check.failed:
            for name in ("server.log", "server2.log"):
                path = os.path.join(tmp, name)
                if os.path.exists(path):
                    with open(path, encoding="utf-8", errors="replace") as f:
                        for line in f.readlines()[-5:]:
                            print(f"{name}:", line.rstrip())
        shutil.rmtree(tmp, ignore_errors=True)
    print(check.summary())
    return check.exit_code()


if __name__ == "__main__":
    sys.exit(main())
