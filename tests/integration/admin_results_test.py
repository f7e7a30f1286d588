#!/usr/bin/python3
"""The admin's table of a round's results (/admin/results?round=N) at more than one page: 120
agencies (bench/generate.py's synthetic framework and data, three ministries as parents) computed
through the API, then the table walked page by page (rel="next") in every order it offers. Each
order must hold every scored agency exactly once, with the total the API gives it; by score the
totals never rise (a missing one last), and each order read backwards is the other direction;
by ministry the agencies come in blocks of their ministry in Thai order, those without one last;
the sorted column says so (aria-sort) and its header links the other way; a page past the end
shows the last one; a search by code finds that agency alone.

    admin_results_test.py <esar binary>
"""
import html as htmllib
import json
import os
import re
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient, Browser, Checks, ServedScratch, run_cli  # noqa: E402

check = Checks()
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
AGENCIES = 120
# Thai dictionary order of the ministries' names: การคลัง < มหาดไทย < ยุติธรรม.
MINISTRIES = (("MOF", "กระทรวงการคลัง", "Ministry of Finance"),
              ("MOI", "กระทรวงมหาดไทย", "Ministry of Interior"),
              ("MOJ", "กระทรวงยุติธรรม", "Ministry of Justice"))
ROW = re.compile(r'<tr><td>([^<]*)</td><th scope="row">[^<]*</th><td>([^<]*)</td><td class="num">([^<]*)</td>')


def table(page_html):
    """The rows of the page's results table: (code, ministry, total text)."""
    return [tuple(htmllib.unescape(x) for x in m) for m in ROW.findall(page_html)]


def walk(admin, path):
    """Every row of the table from `path` on, following rel="next" links; also the first page."""
    rows, first, seen = [], None, 0
    while path and seen < 20:
        status, page = admin.page(path)
        check(status == 200, "%s answers 200 (%d)" % (path, status))
        first = first or page
        rows += table(page)
        m = re.search(r'<a href="([^"]+)" rel="next">', page)
        path = htmllib.unescape(m.group(1)).split("#")[0] if m else None
        seen += 1
    return rows, first


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-admin-results-") as scratch:
        db, work = scratch.db, scratch.work
        inputs = os.path.join(work, "input")
        subprocess.run([sys.executable, os.path.join(ROOT, "bench", "generate.py"), "--agencies", str(AGENCIES),
                        "--kpis", "6", "--out", inputs], check=True, stdout=subprocess.DEVNULL)
        # Three in four agencies under a ministry, the rest under none.
        with open(os.path.join(inputs, "agencies.csv"), encoding="utf-8") as f:
            lines = f.read().splitlines()
        out = [lines[0]] + ["%s,%s,%s,ministry," % m for m in MINISTRIES]
        for i, line in enumerate(lines[1:]):
            fields = line.split(",")
            fields[4] = ("", "MOF", "MOI", "MOJ")[i % 4]
            out.append(",".join(fields))
        with open(os.path.join(inputs, "agencies.csv"), "w", encoding="utf-8") as f:
            f.write("\n".join(out) + "\n")
        for kind, name in (("agencies", "agencies.csv"), ("framework", "framework.json"), ("data", "data.csv")):
            run_cli(esar, ["import", kind, os.path.join(inputs, name), "--db", db])
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", "admin", "--role", "admin"],
                env={"ESAR_PASSWORD": "demo-admin-2567"})
        base = scratch.serve(esar)
        api = ApiClient(base).login("admin", "demo-admin-2567")
        now = int(time.time() * 1000)
        rid = api.json("POST", "/api/v1/frameworks/1/rounds", {"round": 12, "deadline": now + 86400000}, expect=201)["id"]
        admin = Browser(base)
        admin.login("admin")
        status, page = admin.page("/admin/results?round=%d" % rid)
        check(status == 200 and 'id="table-h"' not in page, "before a computation the round has no table")
        api.json("POST", "/api/v1/rounds/%d/close" % rid, {"reason": "test"})
        api.json("POST", "/api/v1/rounds/%d/results" % rid, {"appeal_days": 0}, expect=201)
        scores = api.json("GET", "/api/v1/rounds/%d/results?stage=preliminary" % rid)["scores"]["agencies"]
        totals = {a["code"]: a.get("total") for a in scores}
        # The generated framework is for every kind of agency: the ministries are scored too.
        count = len(totals)
        check(AGENCIES <= count <= AGENCIES + len(MINISTRIES), "the API lists the agencies scored (%d)" % count)

        def same_total(code, text):
            want = totals.get(code)
            if want is None or text == "":
                return want is None and text == ""
            decimals = len(text.split(".")[1]) if "." in text else 0
            return abs(float(text.replace(",", "")) - want) <= 0.5 * 10 ** -decimals + 1e-9

        # ---- by score, best first: the default
        base_path = "/admin/results?round=%d" % rid
        rows, first = walk(admin, base_path)
        codes = [r[0] for r in rows]
        check(sorted(codes) == sorted(totals) and len(set(codes)) == len(codes),
              "by score, the pages hold every agency once (%d rows, %d distinct)" % (len(codes), len(set(codes))))
        check(len(table(first)) == 50 and "<span>หน้า 1 / 3</span>" in first
              and "จำนวนหน่วยงาน %d" % count in first,
              "a page holds 50 of the %d agencies, page 1 of 3 (%d rows)" % (count, len(table(first))))
        check(all(same_total(c, t) for c, _, t in rows),
              "every total is the one the API gives (%r)" % [(c, t, totals.get(c)) for c, _, t in rows
                                                             if not same_total(c, t)][:3])
        values = [float(t.replace(",", "")) if t else float("-inf") for _, _, t in rows]
        check(all(a >= b for a, b in zip(values, values[1:])), "best first: the totals never rise")
        header = re.search(r'<th scope="col" class="num" aria-sort="([a-z]+)"><a href="([^"]+)">', first)
        check(header is not None and header.group(1) == "descending" and "dir=asc" in header.group(2)
              and "sort=score" in header.group(2),
              "the score column says it is sorted descending and links the other way (%r)"
              % ((header.groups() if header else None),))
        check(re.search(r'aria-sort="none"><a href="[^"]*sort=name', first) is not None,
              "the name column is not marked sorted")
        check('rel="prev"' not in first, "the first page links no previous page")
        rows_asc, first_asc = walk(admin, base_path + "&sort=score&dir=asc")
        check(rows_asc == rows[::-1], "worst first is best first read backwards")
        check('aria-sort="ascending"><a href="' in first_asc, "worst first says ascending")

        # ---- by name, both ways
        by_name, first_name = walk(admin, base_path + "&sort=name&dir=asc")
        by_name_desc, _ = walk(admin, base_path + "&sort=name&dir=desc")
        check(sorted(r[0] for r in by_name) == sorted(totals) and by_name_desc == by_name[::-1]
              and by_name != rows, "by name, every agency once, descending the reverse of ascending")
        header = re.search(r'<th scope="col" aria-sort="([a-z]+)"><a href="([^"]+)">หน่วยงาน</a>', first_name)
        check(header is not None and header.group(1) == "ascending" and "dir=desc" in header.group(2),
              "the name column says ascending and links descending (%r)" % ((header.groups() if header else None),))

        # ---- by ministry: blocks in Thai order, none last
        by_ministry, _ = walk(admin, base_path + "&sort=ministry")
        blocks = [m for i, (_, m, _) in enumerate(by_ministry) if i == 0 or by_ministry[i - 1][1] != m]
        check(blocks == [m[1] for m in MINISTRIES] + [""] and len(by_ministry) == count,
              "by ministry, agencies come in their ministries' Thai order, those without one last (%r)" % blocks)

        # ---- a page past the end, the second page, a search
        status, page = admin.page(base_path + "&page=99999")
        check(status == 200 and "<span>หน้า 3 / 3</span>" in page and [r[0] for r in table(page)] == codes[100:],
              "a page past the end shows the last one")
        status, page = admin.page(base_path + "&sort=score&dir=desc&page=2")
        check([r[0] for r in table(page)] == codes[50:100] and 'rel="prev"' in page and 'rel="next"' in page,
              "page 2 holds the next 50 and links both ways")
        wanted = codes[57] if len(codes) > 57 else "AG00001"
        status, page = admin.page(base_path + "&q=" + urllib.parse.quote(wanted))
        check([r[0] for r in table(page)] == [wanted] and "จำนวนหน่วยงาน 1" in page,
              "a search by code finds that agency alone (%r)" % [r[0] for r in table(page)])
        status, page = admin.page(base_path + "&q=" + urllib.parse.quote("ไม่มีหน่วยงานนี้"))
        check(status == 200 and not table(page) and "ไม่พบหน่วยงานที่ค้นหา" in page,
              "a search that matches nothing says so")
        status, page = admin.page(base_path + "&sort=%3Cx%3E&page=-4")
        check(status == 200 and [r[0] for r in table(page)] == codes[:50],
              "an unknown sort or page falls back to the first page by score")
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
