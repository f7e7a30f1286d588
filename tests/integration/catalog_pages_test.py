#!/usr/bin/python3
"""The data catalog in the browser (issue 11 §3), with the OPDC FY2565 example, whose KPI 7
takes datasets_listed and datasets_complete_metadata from the catalog: the upload form on the
agency's KPI page (CSRF in the query string, a bad file's message in Thai and English beside the
form again with nothing stored), the KPI page's counts and link once uploaded, the dataset page
(/catalogs/{id}: counts, the variables they filled, each dataset's faults in both languages,
filtered complete / incomplete, in file or Thai title order, paged 50 a page, the downloads), who
may read it (the agency's reporter and approver, evaluators, admins; not another agency, not the
public), the review page's link, and the form gone once the report is submitted.

    catalog_pages_test.py ESAR   (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import io
import json
import os
import re
import subprocess
import sys
import time

from esar_harness import ApiClient, Browser, Checks, ServedScratch, import_example, text_of

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "opdc-2565")
check = Checks()


def read(name):
    with open(os.path.join(EXAMPLE, name), "rb") as f:
        return f.read()


def form_body(data, name, ctype="text/csv", field="catalog", boundary="----esar-catalog-page"):
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; "
            f"filename=\"{name}\"\r\nContent-Type: {ctype}\r\n\r\n").encode() + data + b"\r\n"
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


# Titles whose Thai dictionary order differs from their code point order: the leading vowels
# เ / โ / ไ sort after their consonant, so "เกษตร" comes after "กลาง" and before "ขนส่ง".
TITLES = ["ไข่ไก่", "กลาง", "เกษตร", "ขนส่ง", "โครงการ", "กฎหมาย"]
THAI_ORDER = ["กฎหมาย", "กลาง", "เกษตร", "ขนส่ง", "ไข่ไก่", "โครงการ"]


def generated(n):
    """A CSV catalog of `n` datasets from the draft's complete first row: every third has no
    contact e-mail. Returns (bytes, complete)."""
    lines = read("catalog-draft.csv").decode("utf-8").splitlines()
    cols = lines[0].split(",")
    base = next(csv.reader([lines[1]]))
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(cols)
    complete = 0
    for i in range(n):
        row = list(base)
        row[cols.index("name")] = f"ds-{i:04d}"
        row[cols.index("title")] = f"{TITLES[i % len(TITLES)]} {i:04d}"
        if i % 3 == 1:
            row[cols.index("maintainer_email")] = ""
        else:
            complete += 1
        w.writerow(row)
    return out.getvalue().encode("utf-8"), complete


def names_on(html):
    return re.findall(r'<td class="num"[^>]*>\d+</td><td class="num"[^>]*>\d+</td><th scope="row">([^<]*)</th><td[^>]*>([^<]*)</td>', html)


def demo_catalog(esar, work):
    """The demo's catalog (examples/opdc-2565/catalog/) is what its generator writes, with the
    counts the example's README states: 60 datasets, 43 complete."""
    r = subprocess.run([sys.executable, os.path.join(EXAMPLE, "catalog", "generate.py"), work],
                       capture_output=True, text=True)
    with open(os.path.join(work, "catalog.json"), "rb") as f:
        made = f.read()
    check(r.returncode == 0 and made == read(os.path.join("catalog", "catalog.json")),
          "the demo catalog is what catalog/generate.py writes", r.stderr[-300:])
    r = subprocess.run([esar, "catalog", "check", "--catalog", os.path.join(EXAMPLE, "catalog", "catalog.json"),
                        "--format", "json"], capture_output=True, text=True)
    out = json.loads(r.stdout) if r.returncode == 0 else {}
    check(out.get("datasets") == 60 and out.get("complete") == 43,
          "  60 datasets, 43 complete, as the README says", r.stdout[:200] + r.stderr[-200:])


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-catalog-pages-") as scratch:
        users = [("admin", "admin", None), ("evaluator", "evaluator", None), ("reporter.opdc", "reporter", "OPDC"),
                 ("approver.opdc", "approver", "OPDC"), ("reporter.d01", "reporter", "D01")]
        demo_catalog(esar, scratch.work)
        import_example(esar, scratch.db, users, example=EXAMPLE)
        base = scratch.serve(esar, extra=["--max-upload-mb", "1"])
        admin = ApiClient(base).login("admin", "demo-admin-2567")
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": deadline}, expect=201)["id"]
        kpi_page = f"/agency/rounds/{round_id}/kpis/7"
        api_uploads = f"/api/v1/rounds/{round_id}/agencies/OPDC/kpis/7/catalog"

        reporter = Browser(base)
        reporter.login("reporter.opdc")
        status, html = reporter.page(kpi_page)
        token = reporter.csrf(html)
        form = re.search(r'<form method="post" action="([^"]+)" enctype="multipart/form-data" id="catalog-form">', html)
        check(status == 200 and form is not None and 'id="catalog-none"' in html and 'name="catalog" type="file"' in html,
              "the KPI 7 page offers the catalog upload form before any upload", html[:300])
        action = form.group(1).replace("&amp;", "&") if form else ""
        check(f"/agency/rounds/{round_id}/kpis/7/catalog?csrf={token}" in action,
              "  the form posts to the KPI's catalog address with the session's token", action)

        # ---- CSRF: no token, another token: refused, nothing stored
        body, ctype = form_body(read("catalog-draft.csv"), "catalog-draft.csv")
        for what, q in (("no token", ""), ("a wrong token", "csrf=" + "0" * len(token or "x"))):
            status, _, raw = reporter.request("POST", f"{kpi_page}/catalog?{q}&back={kpi_page}", body=body, content_type=ctype)
            check(status == 403, f"an upload with {what} is refused (403)", f"{status} {raw[:200]!r}")
        evaluator_api = ApiClient(base).login("evaluator", "demo-evaluator-2567")
        check(evaluator_api.json("GET", api_uploads).get("uploads") == [], "  nothing stored by them")

        # ---- a bad file: its message in Thai and English beside the form again, nothing stored
        status, _, raw = reporter.request("POST", action, body=form_body(read("catalog.json")[:-200], "catalog.json",
                                                                         "application/json")[0],
                                          content_type=ctype)
        page = raw.decode("utf-8")
        err = re.search(r'<div class="error" role="alert" id="catalog-error">(.*?)</div>', page, re.S)
        check(status == 400 and err is not None and "บรรทัด" in err.group(1) and 'lang="en"' in err.group(1)
              and "line" in err.group(1) and 'id="catalog-form"' in page and 'aria-invalid="true"' in page,
              "a cut JSON file: its line named in Thai and English beside the upload form again",
              f"{status} {text_of(page)[:400]}")
        empty = read("catalog-draft.csv").decode("utf-8").splitlines()[0].encode() + b"\n"
        status, _, raw = reporter.request("POST", action, body=form_body(empty, "empty.csv")[0], content_type=ctype)
        check(status == 400 and "ไม่มีชุดข้อมูล" in raw.decode("utf-8") and "holds no dataset" in raw.decode("utf-8"),
              "a catalog without datasets: refused beside the form in both languages", f"{status}")
        big = b"x" * (1 << 20) + b"y" * 4096
        try:
            status, _, raw = reporter.request("POST", action, body=form_body(big, "big.csv")[0], content_type=ctype)
        except OSError as e:  # the server may answer before reading the whole body, and close
            status, raw = 0, str(e).encode()
        check(status in (400, 413) and 'id="catalog-error"' in raw.decode("utf-8", "replace"),
              "a file past --max-upload-mb: refused beside the form", f"{status} {raw[:200]!r}")
        check(evaluator_api.json("GET", api_uploads).get("uploads") == [], "  nothing stored by any bad file")

        # ---- the draft catalog from the form: back to the KPI page with its counts and the link
        status, headers, _ = reporter.request("POST", action, body=body, content_type=ctype)
        where = headers.get("location", "")
        check(status == 303 and where.startswith(kpi_page + "?done=catalog") and where.endswith("#catalog"),
              "the draft catalog uploaded from the form: back to the KPI page", f"{status} {where}")
        status, html = reporter.page(kpi_page + "?done=catalog")
        counts = re.search(r'<dl class="figures" id="catalog-counts">(.*?)</dl>', html, re.S)
        link = re.search(r'<a href="/catalogs/(\d+)" id="catalog-link">', html)
        check(status == 200 and counts is not None and re.sub(r"\s+", " ", text_of(counts.group(1))).split()[-7:]
              == ["4", "คำอธิบายข้อมูลครบถ้วน", "2", "ไม่ครบถ้วน", "2", "ร้อยละที่ครบถ้วน", "50.00"]
              and link is not None and "ตรวจบัญชีข้อมูลแล้ว" in html,
              "  the KPI page shows 4 datasets, 2 complete, 2 incomplete, 50.00 % and links the dataset page",
              counts and text_of(counts.group(1)))
        field = re.search(r'<input id="v_datasets_listed"[^>]*>', html)
        check(field is not None and "readonly" in field.group(0) and 'value="4"' in field.group(0),
              "  datasets_listed is shown read-only with the catalog's 4", field and field.group(0))
        draft_id = int(link.group(1)) if link else 0
        status, headers, _ = reporter.request("POST", action, body=body, content_type=ctype)
        where = headers.get("location", "")
        status2, html = reporter.page(where.split("#")[0])
        check(status == 303 and "done=catalog_unchanged" in where and "ไฟล์เหมือนบัญชีข้อมูลฉบับที่ใช้อยู่" in html
              and f'href="/catalogs/{draft_id}" id="catalog-link"' in html,
              "the same file again: nothing new stored, said so", f"{status} {where}")

        # ---- the dataset page of the draft catalog
        status, html = reporter.page(f"/catalogs/{draft_id}")
        rows = names_on(html)
        check(status == 200 and [n for _, n in rows] == ["opdc-kpi-results", "opdc-complaints", "opdc-gecc-centres", "opdc-awards"],
              "the dataset page lists the 4 datasets in file order", rows)
        variables = text_of(re.search(r'<ul id="catalog-variables">(.*?)</ul>', html, re.S).group(1)) if 'catalog-variables' in html else ""
        check("datasets_listed = 4" in variables and "datasets_complete_metadata = 2" in variables,
              "  with the values given to the KPI's variables", variables)
        check("อีเมลผู้ติดต่อ" in html and "Contact Email" in html and "data(at)opdc.go.th" in html
              and 'lang="en"' in html, "  each fault in Thai (the schema's labels) with the English beside it")
        status, html = reporter.page(f"/catalogs/{draft_id}?status=incomplete")
        check(status == 200 and [n for _, n in names_on(html)] == ["opdc-complaints", "opdc-gecc-centres"]
              and "<option value=\"incomplete\" selected>" in html,
              "  filtered to the incomplete ones", names_on(html))
        status, html = reporter.page(f"/catalogs/{draft_id}?status=complete")
        check([n for _, n in names_on(html)] == ["opdc-kpi-results", "opdc-awards"], "  filtered to the complete ones")
        status, html = reporter.page(f"/catalogs/{draft_id}?sort=title")
        check([n for _, n in names_on(html)] == ["opdc-kpi-results", "opdc-awards", "opdc-complaints", "opdc-gecc-centres"],
              "  in Thai order of the titles (เรื่อง… after รางวัล…, before ศูนย์…)", names_on(html))
        status, html = reporter.page(f"/catalogs/{draft_id}?status=nonsense&sort=nonsense&page=abc")
        check(status == 200 and len(names_on(html)) == 4, "  unknown filter values show everything, in file order")
        xlsx = re.search(r'<a href="(/api/v1/catalogs/\d+/datasets/export\?status=incomplete&amp;format=xlsx)"', 
                         reporter.page(f"/catalogs/{draft_id}?status=incomplete")[1])
        check(xlsx is not None, "  the XLSX download keeps the filter")
        csv_link = re.search(r'<a href="(/api/v1/catalogs/\d+/datasets/export\?format=csv)"', reporter.page(f"/catalogs/{draft_id}")[1])
        if csv_link:
            status, headers, raw = reporter.request("GET", csv_link.group(1))
            rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
            check(status == 200 and len(rows) == 5 and "text/csv" in headers.get("content-type", ""),
                  "  the CSV download from the page's link: a header and 4 datasets", f"{status} {len(rows)}")
        else:
            check(False, "  the page links the CSV download")

        # ---- who may read it
        approver = Browser(base)
        approver.login("approver.opdc")
        status, html = approver.page(f"/catalogs/{draft_id}")
        check(status == 200 and "dataset-list" in html, "the agency's approver reads the dataset page")
        status, html = approver.page(kpi_page)
        check(status == 200 and 'id="catalog-link"' in html and 'id="catalog-form"' not in html,
              "  the approver sees the counts on the KPI page but no upload form")
        d01 = Browser(base)
        d01.login("reporter.d01")
        status, html = d01.page(f"/catalogs/{draft_id}")
        check(status == 403 and "dataset-list" not in html, "another agency's reporter may not read it (403)", status)
        status, _, raw = d01.request("POST", f"/agency/rounds/{round_id}/kpis/7/catalog?csrf={d01.csrf(d01.page('/agency')[1])}&back=/agency",
                                     body=body, content_type=ctype)
        check(status in (400, 403), "  nor upload a catalog for KPI 7 (not its KPI)", status)
        public = Browser(base)
        status, headers, raw = public.request("GET", f"/catalogs/{draft_id}")
        check(status in (302, 303, 401) and b"dataset-list" not in raw, "the public is sent to log in", status)
        evaluator = Browser(base)
        evaluator.login("evaluator")
        status, html = evaluator.page(f"/catalogs/{draft_id}")
        check(status == 200 and "dataset-list" in html, "an evaluator reads the dataset page")
        adminb = Browser(base)
        adminb.login("admin")
        status, html = adminb.page(f"/catalogs/{draft_id}")
        check(status == 200 and "dataset-list" in html, "an admin reads the dataset page")
        for bad in ("999999", "abc", "-1"):
            status, _ = evaluator.page(f"/catalogs/{bad}")
            check(status == 404, f"/catalogs/{bad}: 404", status)

        # ---- 130 datasets: three pages of 50, filtered and Thai-ordered across pages
        data, complete = generated(130)
        status, headers, _ = reporter.request("POST", action, body=form_body(data, "many.csv")[0], content_type=ctype)
        check(status == 303, "130 datasets uploaded from the form", status)
        status, html = reporter.page(kpi_page)
        link = re.search(r'<a href="/catalogs/(\d+)" id="catalog-link">', html)
        many = int(link.group(1)) if link else 0
        check(many != draft_id, "  the KPI page now links the new upload")
        seen = []
        for p in (1, 2, 3):
            status, html = reporter.page(f"/catalogs/{many}" + (f"?page={p}" if p > 1 else ""))
            seen += [n for _, n in names_on(html)]
            check(f"{p} / 3" in text_of(html), f"  page {p} of 3")
        check(seen == [f"ds-{i:04d}" for i in range(130)], "  every dataset once, in file order, 50 a page", len(seen))
        status, html = reporter.page(f"/catalogs/{many}?page=99")
        check([n for _, n in names_on(html)] == [f"ds-{i:04d}" for i in range(100, 130)],
              "  a page past the end shows the last")
        status, html = reporter.page(f"/catalogs/{many}?status=complete&page=2")
        good = [i for i in range(130) if i % 3 != 1]
        prev = re.search(r'<a href="([^"]+)" rel="prev">', html)
        check(len(good) == complete and [n for _, n in names_on(html)] == [f"ds-{i:04d}" for i in good[50:]]
              and prev is not None and "status=complete" in prev.group(1),
              "  page 2 of the complete ones, its links keeping the filter", prev and prev.group(1))
        status, html = reporter.page(f"/catalogs/{many}?status=incomplete&page=2")
        check([n for _, n in names_on(html)] == [f"ds-{i:04d}" for i in range(130) if i % 3 == 1]
              and "1 / 1" in text_of(html), "  the 43 incomplete ones fit one page (page 2 shows it)")
        titles = []
        for p in (1, 2, 3):
            status, html = reporter.page(f"/catalogs/{many}?sort=title&page={p}")
            titles += [t for t, _ in names_on(html)]
        want = sorted((f"{TITLES[i % 6]} {i:04d}" for i in range(130)),
                      key=lambda t: (THAI_ORDER.index(t.split()[0]), t.split()[1]))
        check(titles == want, "  by title: Thai dictionary order across the pages", titles[:8])
        check(f"{complete}/130" in text_of(reporter.page(f"/catalogs/{many}")[1]),
              "  the history lists this upload's counts", complete)
        status, html = reporter.page(f"/catalogs/{draft_id}")
        check("มีฉบับใหม่แทนแล้ว" in html, "the replaced upload's page says so")

        # ---- English
        reporter.request("GET", "/lang/en")
        status, html = reporter.page(f"/catalogs/{draft_id}")
        check(status == 200 and "What is missing or wrong" in html and 'lang="th"' in html and "Contact Email" in html,
              "the English page: faults in English with the Thai beside them")
        reporter.request("GET", "/lang/th")

        # ---- the review page links it; once submitted the form is gone
        api = ApiClient(base).login("reporter.opdc", "demo-reporter.opdc-2567")
        uploads = api.json("GET", api_uploads).get("uploads", [])
        sid = uploads[0]["submission_id"] if uploads else 0
        appr = ApiClient(base).login("approver.opdc", "demo-approver.opdc-2567")
        appr.json("POST", f"/api/v1/submissions/{sid}/approve")
        appr.json("POST", f"/api/v1/submissions/{sid}/submit")
        status, html = evaluator.page(f"/review/submissions/{sid}")
        check(status == 200 and f'href="/catalogs/{many}" id="catalog-link"' in html and 'id="catalog-form"' not in html,
              "the evaluator's review page links the dataset page, with no upload form")
        status, html = reporter.page(kpi_page)
        check(status == 200 and 'id="catalog-form"' not in html and 'id="catalog-link"' in html,
              "a submitted report: the KPI page keeps the link, without the form")
        status, _, raw = reporter.request("POST", action, body=body, content_type=ctype)
        check(status == 409 and 'id="catalog-form"' not in raw.decode("utf-8"),
              "  and an upload posted anyway is refused (409) on the error page", status)
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
