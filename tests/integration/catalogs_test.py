#!/usr/bin/python3
"""Data catalogs through the running server (issue 11 §3), with the OPDC FY2565 example, whose
KPI 7 takes its datasets_listed and datasets_complete_metadata from the catalog: the reporter
uploads the draft catalog (CSV: 4 datasets, 2 complete, hand-checked in catalog_cli_test.py),
then the complete one (JSON: 10 of 10), which replaces it (both kept); the counts become KPI 7's
draft and are no longer typed; the reporter and the evaluator read each dataset with what is
missing or wrong (filtered complete / incomplete, paged, as CSV and XLSX). A catalog of 30,000
datasets generated here, with a known set of faults. Attack paths: a file past --max-upload-mb,
tampered JSON, nesting past the depth limit, a huge string, wrong types, bytes that are not
UTF-8, unknown or doubled parts, the same file twice, two uploads at once, another agency's
user, the approver, the evaluator, the public; a submitted report refuses a new upload, a
returned one takes it. After every refusal nothing is stored.

    catalogs_test.py ESAR   (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import openpyxl

from esar_harness import ApiClient, Browser, run_cli, start_server, stop_server

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "opdc-2565")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def read(name):
    with open(os.path.join(EXAMPLE, name), "rb") as f:
        return f.read()


def body_of(data, name="catalog.csv", ctype="text/csv", field="catalog", boundary="----esar-catalog"):
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


HEADER = read("catalog-draft.csv").decode("utf-8").splitlines()[0]
GOOD_ROW = read("catalog-draft.csv").decode("utf-8").splitlines()[1]


def generated(n):
    """A CSV catalog of `n` datasets from the draft's complete first row: every 7th has a bad
    e-mail, every 11th no contact person. Returns (bytes, complete, bad_email, no_maintainer)."""
    cols = HEADER.split(",")
    base = next(csv.reader([GOOD_ROW]))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    complete = bad_email = no_maintainer = 0
    for i in range(n):
        row = list(base)
        row[cols.index("name")] = f"ds-{i:06d}"
        row[cols.index("title")] = f"ชุดข้อมูลที่ {i}"
        faulty = False
        if i % 7 == 3:
            row[cols.index("maintainer_email")] = f"no-at-sign-{i}"
            bad_email += 1
            faulty = True
        if i % 11 == 5:
            row[cols.index("maintainer")] = ""
            no_maintainer += 1
            faulty = True
        complete += not faulty
        w.writerow(row)
    return out.getvalue().encode("utf-8"), complete, bad_email, no_maintainer


def main():
    esar = sys.argv[1]
    work = tempfile.mkdtemp(prefix="esar-catalogs-")
    proc = None
    try:
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(work, "esar.db")
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        users = [("admin", "admin", None), ("evaluator", "evaluator", None), ("reporter.opdc", "reporter", "OPDC"),
                 ("approver.opdc", "approver", "OPDC"), ("reporter.d01", "reporter", "D01")]
        for name, role, agency in users:
            run_cli(esar, ["admin", "create-user", "--db", db, "--username", name, "--role", role]
                    + (["--agency", agency] if agency else []), env={"ESAR_PASSWORD": "demo-" + name + "-2565"})
        proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "server.log"),
                                     extra=["--max-upload-mb", "16"])
        if not base:
            sys.exit("catalogs_test.py: esar serve did not start")
        admin, evaluator, reporter, approver, d01 = (ApiClient(base, check).login(n, "demo-" + n + "-2565")
                                                     for n, _, _ in users)
        public = ApiClient(base, check)
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        path = lambda kpi="7", agency="OPDC": f"/api/v1/rounds/{round_id}/agencies/{agency}/kpis/{kpi}/catalog"
        kpi_path = f"/api/v1/rounds/{round_id}/agencies/OPDC/kpis/7"

        # ---- before any upload the counts are typed (as the example's data.csv does)
        reporter.json("PUT", kpi_path, {"values": {"datasets_listed": 3, "datasets_complete_metadata": 3},
                                        "explanation": "คำชี้แจง KPI 7"})

        # ---- the draft catalog (CSV): 4 datasets, 2 complete; the counts become the draft
        body, ctype = body_of(read("catalog-draft.csv"))
        up = reporter.json("POST", path(), raw=body, content_type=ctype, expect=201)
        s = up.get("summary", {})
        check(s.get("datasets") == 4 and s.get("complete") == 2 and s.get("incomplete") == 2
              and s.get("complete_percent") == 50 and s.get("format") == "csv",
              f"the draft catalog: 2 of 4 complete, 50% ({s})")
        sub = reporter.json("GET", f"/api/v1/submissions/{up.get('submission_id')}")
        report = sub.get("report", sub)
        values = report.get("values", {})
        check(values.get("datasets_listed") == 4 and values.get("datasets_complete_metadata") == 2
              and report.get("explanation") == "คำชี้แจง KPI 7",
              f"  the draft holds the counts as KPI 7's variables, the explanation kept ({values})")
        check(sub.get("status") == "draft" and sub.get("revision") == up.get("revision"), "  a draft, the upload's revision")
        check([f["role"] for f in up.get("files", [])] == ["catalog"] and up["files"][0]["media_type"] == "text/csv"
              and up["files"][0]["size"] == len(read("catalog-draft.csv")), "  the file kept with its type and size")
        first_id = up.get("id")
        page = evaluator.json("GET", f"/api/v1/catalogs/{first_id}/datasets")
        check(page.get("total") == 4 and [d["complete"] for d in page.get("items", [])] == [True, False, False, True]
              and [d["line"] for d in page["items"]] == [2, 3, 4, 5],
              f"every dataset in file order with its line ({[(d.get('name'), d.get('complete')) for d in page.get('items', [])]})")
        bad = evaluator.json("GET", f"/api/v1/catalogs/{first_id}/datasets?status=incomplete")
        faults = {d["name"]: sorted((f["field"], f["kind"]) for f in d["faults"]) for d in bad.get("items", [])}
        check(bad.get("total") == 2 and faults.get("opdc-complaints") == [("maintainer_email", "bad_email"), ("update_frequency_unit", "not_a_choice")]
              and ("maintainer", "missing") in faults.get("opdc-gecc-centres", []),
              f"  incomplete: what is missing or wrong, by field ({faults})")
        texts = [f for d in bad.get("items", []) for f in d["faults"]]
        check(all(f["th"] and f["en"] and f["th"] != f["en"] for f in texts)
              and any("อีเมลผู้ติดต่อ" in f["th"] and "Contact Email" in f["en"] for f in texts),
              "  each fault in Thai and English with the schema's labels")
        good = evaluator.json("GET", f"/api/v1/catalogs/{first_id}/datasets?status=complete&limit=1&offset=1")
        check(good.get("total") == 2 and [d["name"] for d in good.get("items", [])] == ["opdc-awards"],
              "  complete, paged: the second complete dataset")
        for q in ("status=nope", "limit=0", "limit=501", "offset=-1", "limit=abc"):
            status, _, data = evaluator.call("GET", f"/api/v1/catalogs/{first_id}/datasets?{q}")
            err = json.loads(data).get("error", {}) if data[:1] == b"{" else {}
            check(status == 400 and err.get("message_th") and err.get("message_en"), f"  ?{q}: 400 in Thai and English ({status})")
        status, headers, data = reporter.call("GET", f"/api/v1/catalogs/{first_id}/datasets/export?format=csv&status=incomplete")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) if status == 200 else []
        check(status == 200 and [r[2] for r in rows[1:]] == ["opdc-complaints", "opdc-gecc-centres"]
              and "อีเมลผู้ติดต่อ" in rows[1][5] and "Contact Email" in rows[1][6],
              f"  the incomplete datasets as CSV, faults in Thai and English ({rows[:2]})")
        status, headers, data = evaluator.call("GET", f"/api/v1/catalogs/{first_id}/datasets/export?format=xlsx")
        rows = list(openpyxl.load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)) if status == 200 else []
        check(status == 200 and len(rows) == 5 and [r[4] for r in rows[1:]] == ["ครบ / yes", "ไม่ครบ / no", "ไม่ครบ / no", "ครบ / yes"],
              f"  every dataset as XLSX ({rows[:2]})")

        # ---- the same file again: nothing new
        again = reporter.json("POST", path(), raw=body, content_type=ctype, expect=200)
        check(again.get("unchanged") is True and again.get("id") == first_id, "the same file twice stores nothing")

        # ---- the counts are no longer typed: another value refused, none given keeps them
        status, _, data = reporter.call("PUT", kpi_path, {"values": {"datasets_listed": 5}})
        err = json.loads(data.decode("utf-8")).get("error", {}) if data[:1] == b"{" else {}
        check(status == 400 and "catalog" in err.get("message_en", "") and "บัญชีข้อมูล" in err.get("message_th", ""),
              f"a typed value for a catalog count is refused in Thai and English: {status} {data[:300]!r}")
        reporter.json("PUT", kpi_path, {"values": {"datasets_used": 1}, "explanation": "คำชี้แจงใหม่"})
        sub = reporter.json("GET", f"/api/v1/submissions/{up.get('submission_id')}")
        kept = sub.get("report", sub).get("values", {})
        check(kept.get("datasets_listed") == 4 and kept.get("datasets_complete_metadata") == 2 and kept.get("datasets_used") == 1,
              f"  a save without the counts keeps the upload's ({kept})")

        # ---- the complete catalog (JSON) replaces it; both kept
        body2, ctype2 = body_of(read("catalog.json"), "catalog.json", "application/json")
        up2 = reporter.json("POST", path(), raw=body2, content_type=ctype2, expect=201)
        s = up2.get("summary", {})
        check(s.get("datasets") == 10 and s.get("complete") == 10 and s.get("complete_percent") == 100
              and s.get("format") == "json", f"the JSON export: 10 of 10 ({s})")
        listed = evaluator.json("GET", path())
        uploads = listed.get("uploads", [])
        check([u["id"] for u in uploads] == [up2.get("id"), first_id] and uploads[1]["replaced_by"] == up2.get("id")
              and listed.get("current", {}).get("id") == up2.get("id"),
              "  it replaces the draft catalog, which is kept")
        check(evaluator.json("GET", f"/api/v1/catalogs/{first_id}/datasets").get("total") == 4,
              "  the replaced upload's datasets are still readable")
        sub = reporter.json("GET", f"/api/v1/submissions/{up2.get('submission_id')}")
        values = sub.get("report", sub).get("values", {})
        check(values.get("datasets_listed") == 10 and values.get("datasets_complete_metadata") == 10
              and values.get("datasets_used") == 1, f"  the draft now holds 10 and 10 ({values})")
        # ---- the KPI form shows the counts read-only with where they come from
        browser = Browser(base)
        browser.login_fields({"username": "reporter.opdc", "password": "demo-reporter.opdc-2565", "next": "/"})
        status, html = browser.page(f"/agency/rounds/{round_id}/kpis/7")
        field = re.search(r'<input id="v_datasets_listed"[^>]*>', html)
        check(status == 200 and field is not None and "readonly" in field.group(0) and 'value="10"' in field.group(0)
              and "คำนวณจากบัญชีข้อมูล (Data Catalog) ที่อัปโหลด" in html,
              f"the KPI 7 form shows the catalog's counts read-only with their source ({field and field.group(0)})")
        typed = re.search(r'<input id="v_datasets_used"[^>]*>', html)
        check(typed is not None and "readonly" not in typed.group(0), "  a variable the catalog does not fill stays typed")
        status, _, _ = evaluator.call("GET", f"/api/v1/case-logs/{first_id}")
        check(status == 404, f"a catalog is not a case log ({status})")

        # ---- hostile files: each refused with a clear message, nothing stored
        n_before = len(evaluator.json("GET", path()).get("uploads", []))
        deep = b'{"result": {"results": [{"title": ' + b"[" * 200 + b"]" * 200 + b"}]}}"
        hostile = [
            ("tampered JSON (cut short)", read("catalog.json")[:-200], "catalog.json", "application/json", 400, ["line", "บรรทัด"]),
            ("nesting 200 deep", deep, "deep.json", "application/json", 400, ["deep", "ลึก"]),
            ("a 2 MB title", b'{"result": {"results": [{"title": "' + b"x" * (2 << 20) + b'"}]}}', "huge.json", "application/json", 400, ["1048576"]),
            ("results not an array", b'{"result": {"results": {"a": 1}}}', "obj.json", "application/json", 400, ["result.results"]),
            ("a dataset that is a number", b'{"result": {"results": [1, 2]}}', "num.json", "application/json", 400, ["object"]),
            ("no result at all", b'{"help": "x"}', "none.json", "application/json", 400, ["result.results"]),
            ("not UTF-8", HEADER.encode() + b"\nabc,\xff\xfe,,\n", "latin.csv", "text/csv", 400, ["UTF-8"]),
            ("a CSV quote left open", HEADER.encode() + b'\nabc,"never closed\n', "open.csv", "text/csv", 400, ["quote", "\""]),
            ("a CSV without the fields", b"a,b,c\n1,2,3\n", "other.csv", "text/csv", 400, ["header", "หัว"]),
            ("an empty catalog", HEADER.encode() + b"\n", "empty.csv", "text/csv", 400, ["no dataset"]),
            ("an empty file", b"", "zero.csv", "text/csv", 400, ["empty"]),
            ("17 MB", b"x" * (17 << 20), "big.csv", "text/csv", 413, ["MB"]),
        ]
        for what, data, name, ctype_, want, words in hostile:
            b, c = body_of(data, name, ctype_)
            status, _, answer = reporter.call("POST", path(), raw=b, content_type=c)
            err = json.loads(answer.decode("utf-8", "replace")).get("error", {}) if answer[:1] == b"{" else {}
            text = err.get("message_th", "") + " " + err.get("message_en", "")
            check(status == want and err.get("message_th") and err.get("message_en")
                  and err["message_th"] != err["message_en"] and any(w in text for w in words),
                  f"{what}: {want} in Thai and English ({status} {text[:200]!r})")
        for what, b, c in (
                ("an unknown part", *body_of(read("catalog.json"), field="cases")),
                ("two catalog parts", b"--B\r\nContent-Disposition: form-data; name=\"catalog\"; filename=\"a.json\"\r\n\r\n{}\r\n"
                 b"--B\r\nContent-Disposition: form-data; name=\"catalog\"; filename=\"b.json\"\r\n\r\n{}\r\n--B--\r\n",
                 "multipart/form-data; boundary=B"),
                ("a part that is not a file", b"--B\r\nContent-Disposition: form-data; name=\"catalog\"\r\n\r\n{}\r\n--B--\r\n",
                 "multipart/form-data; boundary=B")):
            status, _, answer = reporter.call("POST", path(), raw=b, content_type=c)
            check(status == 400 and b"message_en" in answer, f"{what}: 400 ({status} {answer[:160]!r})")
        status, _, _ = reporter.call("POST", path(), raw=read("catalog.json"), content_type="application/json")
        check(status == 415, f"a body that is not multipart: 415 ({status})")
        check(len(evaluator.json("GET", path()).get("uploads", [])) == n_before, "  nothing stored by any refusal")

        # ---- who may: only the agency's reporters upload; its users and evaluators read
        for who, name in ((d01, "another agency's reporter"), (approver, "the approver"), (evaluator, "the evaluator"),
                          (admin, "the admin")):
            status, _, _ = who.call("POST", path(), raw=body2, content_type=ctype2)
            check(status == 403, f"upload by {name}: 403 ({status})")
        status, _, _ = public.call("POST", path(), raw=body2, content_type=ctype2)
        check(status in (401, 403), f"upload by the public refused ({status})")
        d01.json("POST", path("7", "D01"), raw=body2, content_type=ctype2, expect=400)  # KPI 7 is not D01's
        d01.json("POST", path("1", "D01"), raw=body2, content_type=ctype2, expect=400)  # KPI 1 takes no catalog
        d01.json("GET", f"/api/v1/catalogs/{first_id}", expect=403)
        d01.json("GET", f"/api/v1/catalogs/{first_id}/datasets", expect=403)
        d01.json("GET", f"/api/v1/catalogs/{first_id}/datasets/export?format=csv", expect=403)
        d01.json("GET", path(), expect=403)
        public.json("GET", f"/api/v1/catalogs/{first_id}/datasets", expect=401)
        approver.json("GET", f"/api/v1/catalogs/{first_id}/datasets")
        evaluator.json("GET", "/api/v1/catalogs/999999", expect=404)
        evaluator.json("GET", "/api/v1/catalogs/abc", expect=404)

        # ---- 30,000 datasets: streamed, every one kept, the faults where they were put
        big, complete, bad_email, no_maintainer = generated(30000)
        bb, bc = body_of(big, "big.csv")
        up3 = reporter.json("POST", path(), raw=bb, content_type=bc, expect=201)
        s = up3.get("summary", {})
        check(s.get("datasets") == 30000 and s.get("complete") == complete
              and abs(s.get("complete_percent", 0) - complete * 100 / 30000) < 1e-9,
              f"30,000 datasets ({len(big)} bytes): {complete} complete ({s})")
        big_id = up3.get("id")
        bad = evaluator.json("GET", f"/api/v1/catalogs/{big_id}/datasets?status=incomplete&limit=500&offset=0")
        check(bad.get("total") == 30000 - complete, f"  {30000 - complete} incomplete ({bad.get('total')})")
        last = evaluator.json("GET", f"/api/v1/catalogs/{big_id}/datasets?limit=500&offset=29990")
        check([d["name"] for d in last.get("items", [])] == [f"ds-{i:06d}" for i in range(29990, 30000)]
              and last["items"][-1]["line"] == 30001, "  the last page: the last 10 datasets, in order, with their lines")
        status, _, data = evaluator.call("GET", f"/api/v1/catalogs/{big_id}/datasets/export?format=csv&status=incomplete")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig")))) if status == 200 else []
        emails = sum("Contact Email" in r[6] for r in rows[1:])
        people = sum("Contact Person" in r[6] for r in rows[1:])
        check(status == 200 and len(rows) - 1 == 30000 - complete and emails == bad_email and people == no_maintainer,
              f"  the incomplete ones as CSV: {emails} bad e-mails, {people} without a contact person")

        # ---- two uploads at once: both kept, one current, its draft standing
        results = []

        def upload(data):
            b, c = body_of(data, "catalog.json", "application/json")
            results.append(reporter.call("POST", path(), raw=b, content_type=c)[0])
        variant = json.loads(read("catalog.json"))
        variant["result"]["results"][4]["maintainer"] = ""
        threads = [threading.Thread(target=upload, args=(v,))
                   for v in (read("catalog.json"), json.dumps(variant, ensure_ascii=False).encode("utf-8"))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        uploads = evaluator.json("GET", path()).get("uploads", [])
        current = [u for u in uploads if u["current"]]
        check(sorted(results) == [201, 201] and len(current) == 1 and len(uploads) == n_before + 3,
              f"two uploads at once: {sorted(results)}, {len(uploads)} kept, one current")
        sub = reporter.json("GET", f"/api/v1/submissions/{current[0]['submission_id']}") if current else {}
        values = sub.get("report", sub).get("values", {})
        check(current and sub.get("revision") == current[0]["revision"]
              and values.get("datasets_complete_metadata") == current[0]["summary"]["complete"],
              "  the current upload's draft stands, with its counts")

        # ---- submitted: refused; returned: corrected by a new upload
        sid = current[0]["submission_id"] if current else 0
        approver.json("POST", f"/api/v1/submissions/{sid}/approve")
        approver.json("POST", f"/api/v1/submissions/{sid}/submit")
        status, _, data = reporter.call("POST", path(), raw=body, content_type=ctype)
        check(status == 409 and b"submitted" in data, f"a submitted report refuses a new upload: 409 ({data[:200]!r})")
        evaluator.json("POST", f"/api/v1/submissions/{sid}/return", {"comment": "แก้บัญชีข้อมูล"})
        fixed = reporter.json("POST", path(), raw=body2, content_type=ctype2, expect=201)
        sub = reporter.json("GET", f"/api/v1/submissions/{sid}")
        check(sub.get("status") == "draft" and fixed.get("summary", {}).get("complete") == 10,
              "a returned report is corrected by a new upload (a draft again)")

        # ---- the audit log holds every upload, unbroken
        stop_server(proc)
        proc = None
        r = subprocess.run([esar, "audit", "verify", "--db", db, "--data-dir", os.path.join(work, "files")],
                           capture_output=True, text=True)
        check(r.returncode == 0, f"esar audit verify: {r.stdout.strip()[-200:]} {r.stderr.strip()[-200:]}")
    finally:
        if proc:
            stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
