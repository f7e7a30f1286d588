#!/usr/bin/python3
"""History across fiscal years through the running server, as scripts/run sets up the demo: the
Council of State example's FY2565 and FY2566 results loaded with `esar import results`, its data
without FY2566 PMQA (KPI 8's s), the FY2567 round computed and published. Then the FY2567 PMQA
baseline comes from the FY2566 results (with its source in the explanation and on the KPI form),
the agency report shows each KPI's and the total's earlier years, and the dashboard the change
from the year before per ministry and shared KPI.

    history_test.py ESAR      (SQLite; under with_pg_schema.sh, PostgreSQL via ESAR_TEST_DB_URL)
"""
import csv
import html as html_lib
import http.cookiejar
import json
import os
import re
import sys
import time
import urllib.error
import urllib.request

from esar_harness import Browser, form_of, run_cli, ServedScratch

EXAMPLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "ocs-2567")
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


class Client:
    """Cookies and the CSRF token of one login, JSON in and out."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        self.csrf = None

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"}
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=None if body is None else json.dumps(body).encode())
        try:
            with self.opener.open(req) as r:
                return r.status, r.read().decode("utf-8")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8")

    def json(self, method, path, body=None, expect=200):
        status, text = self.call(method, path, body)
        check(status == expect, "%s %s: %d (%s)" % (method, path, status, text[:200] if status != expect else "as expected"))
        return json.loads(text) if text.startswith("{") else {}


def text_of(page):
    """The page's text: tags dropped, entities decoded, spaces squeezed."""
    return re.sub(r"\s+", " ", html_lib.unescape(re.sub(r"<[^>]+>", " ", page)))


def dashboard_figures(page):
    """What the dashboard shows of PMQA (KPI 8, shared): the agencies at each level and the
    average line, and the averages by ministry, as {"levels": [...], "average": str, "ministries": str}."""
    shared = re.search(r"8 การประเมินสถานะ.*?</table>", page, re.S)
    ministry = re.search(r'aria-labelledby="ministry-h">(.*?)</table>', page, re.S)
    return {
        "levels": [int(n) for n in re.findall(r'<td class="num">(\d+)</td>', shared.group(0))] if shared else None,
        "average": text_of(shared.group(0)).split("เปลี่ยนจากปีก่อน")[0] if shared else None,
        "ministries": text_of(ministry.group(1)) if ministry else None,
    }


def published_levels(admin, round_id, kpi_id, count):
    """The agencies at each level of `kpi_id` in the newest published result, as the API gives it."""
    scores = admin.json("GET", "/api/v1/rounds/%d/results?stage=published" % round_id)["scores"]["agencies"]
    levels = [0] * count
    for a in scores:
        for k in a["kpis"]:
            if k["id"] == kpi_id and (k.get("level") or 0) < count:
                levels[k.get("level") or 0] += 1
    return levels


def fixed(value, decimals):
    """A number as the pages print it (FormatDecimal + thousands): 15 significant digits, then
    half up at `decimals`, no minus on a zero."""
    from decimal import Decimal, ROUND_HALF_UP
    magnitude = abs(value)
    digits = 1 if magnitude < 1 else len(str(int(magnitude)))
    text = "%.*f" % (max(0, 15 - digits), magnitude)
    rounded = Decimal(text).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    out = "{:,.{}f}".format(rounded, decimals)
    return "-" + out if value < 0 and rounded != 0 else out


def dashboard_matches_count(admin, public, round_id):
    """The dashboard's figures (now aggregated in SQL, issue 9) against the same figures counted
    here by hand from the API's published result, the agencies' file and the FY2566 results file:
    agencies and average, the year before, the grades, the ministries' and PMQA's averages, levels
    and changes."""
    messages = json.load(open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                           "templates", "messages.json"), encoding="utf-8"))
    with open(os.path.join(EXAMPLE, "agencies.csv"), encoding="utf-8") as f:
        directory = {row["code"]: row for row in csv.DictReader(f)}
    last_total, last_pmqa = {}, {}
    with open(os.path.join(EXAMPLE, "past-results.csv"), encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["fiscal_year"] != "2566" or row["round"] != "12":
                continue
            last_total[row["agency"]] = float(row["total"])
            if row["kpi_key"] == "pmqa" and row["score"]:
                last_pmqa[row["agency"]] = float(row["score"])
    agencies = admin.json("GET", "/api/v1/rounds/%d/results?stage=published" % round_id)["scores"]["agencies"]
    framework = admin.json("GET", "/api/v1/frameworks/1")["document"]
    totals = {a["code"]: a["total"] if isinstance(a.get("total"), (int, float)) else 0 for a in agencies}
    both = [c for c in totals if c in last_total]
    want = {"agencies": str(len(totals)), "average": fixed(sum(totals.values()) / len(totals), 2),
            "before": fixed(sum(last_total[c] for c in both) / len(both), 2), "compared": len(both),
            "improved": sum(1 for c in both if totals[c] > last_total[c])}
    grades = {}
    for a in agencies:
        name = a.get("grade") or messages["dashboard.no_grade"][0]
        grades[name] = grades.get(name, 0) + 1
    want["grades"] = grades
    ministries = {}
    for code, total in totals.items():
        parent = directory[code]["parent"]
        name = directory[parent]["name_th"] if parent else messages["dashboard.no_ministry"][0]
        ministries.setdefault(name, []).append(code)
    want["ministries"] = {}
    for name, codes in ministries.items():
        average = sum(totals[c] for c in codes) / len(codes)
        had = [c for c in codes if c in last_total]
        change = "–"
        if had:
            delta = average - sum(last_total[c] for c in had) / len(had)
            change = ("+" if delta >= 0 else "") + fixed(delta, 2)
        want["ministries"][name] = (str(len(codes)), fixed(average, 2), change)
    levels = [0] * (len(framework["levels"]) + 1)
    scores, changes = [], []
    for a in agencies:
        k = next(k for k in a["kpis"] if k["id"] == "8")
        levels[min(max(k.get("level") or 0, 0), len(framework["levels"]))] += 1
        if k["status"] == "scored" and isinstance(k.get("score"), (int, float)):
            scores.append(k["score"])
            if a["code"] in last_pmqa:
                changes.append(k["score"] - last_pmqa[a["code"]])
    delta = sum(changes) / len(changes)
    want["pmqa"] = (levels, fixed(sum(scores) / len(scores), 2),
                    ("+" if delta >= 0 else "") + fixed(delta, 2), str(len(changes)))

    status, page = public.call("GET", "/dashboard")
    figures = re.findall(r'<dd class="big">([^<]*)</dd>', page)
    previous = re.search(r"ปีก่อน 2566</dt><dd>([^ ]+) <span class=\"muted\">\(\S+ (\d+), \S+ (\d+)\)", page)
    got = {"agencies": figures[0] if figures else None, "average": figures[1] if len(figures) > 1 else None,
           "before": previous.group(1) if previous else None,
           "compared": int(previous.group(2)) if previous else None,
           "improved": int(previous.group(3)) if previous else None}
    section = re.search(r'aria-labelledby="grades-h">(.*?)</table>', page, re.S)
    got["grades"] = {html_lib.unescape(n): int(c) for n, c in re.findall(
        r'<th scope="row">([^<]*)</th><td class="num">(\d+)</td>', section.group(1) if section else "")
        if int(c) or html_lib.unescape(n) in grades}
    section = re.search(r'aria-labelledby="ministry-h">(.*?)</table>', page, re.S)
    got["ministries"] = {html_lib.unescape(n): (c, a, text_of(ch).strip()) for n, c, a, ch in re.findall(
        r'<th scope="row">([^<]*)</th><td class="num">([^<]*)</td><td class="num">([^<]*)</td>'
        r'<td class="num">(.*?)</td></tr>', section.group(1) if section else "")}
    shared = re.search(r"<h3>8 [^<]*</h3>\s*<p class=\"kpi-change\">(.*?)</p>.*?<tbody>(.*?)</tbody>", page, re.S)
    line = text_of(shared.group(1)) if shared else ""
    numbers = re.search(r"(\S+) · \S+ (\S+) \(\S+ (\d+)\)", line)
    got["pmqa"] = ([int(n) for n in re.findall(r'<td class="num">(\d+)</td>', shared.group(2))] if shared else None,
                   numbers.group(1) if numbers else None, numbers.group(2) if numbers else None,
                   numbers.group(3) if numbers else None)
    for what in want:
        check(status == 200 and got[what] == want[what],
              "the dashboard's %s are those counted from the published rows: %r (counted %r)"
              % (what, got[what], want[what]))


def republish_refreshes_dashboard(admin, public, round_id):
    """The dashboard is kept between publications (X-Cache: hit); a changed result published again
    (new PMQA values, the round reopened, computed, finalized, published) is on the next answer."""
    status, page = public.call("GET", "/dashboard")
    before = dashboard_figures(page)
    check(status == 200 and before["levels"] and before["ministries"],
          "the dashboard shows PMQA's levels and the ministries' averages (%r)" % before)
    check(before["levels"] == published_levels(admin, round_id, "8", len(before["levels"] or [])),
          "PMQA's levels are the published ones (%r)" % before["levels"])
    request = urllib.request.Request(public.base + "/dashboard")
    with public.opener.open(request) as r:
        check(r.headers.get("X-Cache") == "hit", "the dashboard is kept until a publication (%r)" % r.headers.get("X-Cache"))
    # FY2567 PMQA of three agencies raised to the top: their level and their totals move.
    admin.json("POST", "/api/v1/data", {"observations": [
        {"agency": code, "kpi": "8", "variable": "pmqa", "fiscal_year": 2567, "round": 12, "value": 500}
        for code in ("DCLS", "OGGP", "BOI")]})
    deadline = int((time.time() + 30 * 86400) * 1000)
    admin.json("POST", "/api/v1/rounds/%d/reopen" % round_id, {"reason": "แก้ข้อมูล PMQA", "deadline": deadline})
    admin.json("POST", "/api/v1/rounds/%d/close" % round_id, {"reason": "ทดสอบ"})
    admin.json("POST", "/api/v1/rounds/%d/results" % round_id, {"appeal_days": 0}, expect=201)
    admin.json("POST", "/api/v1/rounds/%d/results/final" % round_id, {}, expect=201)
    admin.json("POST", "/api/v1/rounds/%d/results/publish" % round_id, {}, expect=201)
    with public.opener.open(urllib.request.Request(public.base + "/dashboard")) as r:
        cache, page = r.headers.get("X-Cache"), r.read().decode("utf-8")
    after = dashboard_figures(page)
    want = published_levels(admin, round_id, "8", len(before["levels"] or []))
    check(cache == "miss" and after["levels"] == want and after["levels"] != before["levels"],
          "after the new publication the dashboard is built again (%r) with its PMQA levels %r "
          "(published %r; before %r)" % (cache, after["levels"], want, before["levels"]))
    check(after["average"] != before["average"] and after["ministries"] != before["ministries"],
          "and PMQA's average and the ministries' averages moved (%r -> %r)" % (before["average"], after["average"]))


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-history-") as scratch:
        work, db = scratch.work, scratch.db
        with open(os.path.join(EXAMPLE, "data.csv"), encoding="utf-8") as f:
            data = [line for line in f if ",8,pmqa,2566," not in line]
        with open(os.path.join(work, "data.csv"), "w", encoding="utf-8") as f:
            f.writelines(data)
        run_cli(esar, ["import", "agencies", os.path.join(EXAMPLE, "agencies.csv"), "--db", db])
        run_cli(esar, ["import", "framework", os.path.join(EXAMPLE, "framework.json"), "--db", db])
        run_cli(esar, ["import", "data", os.path.join(work, "data.csv"), "--db", db])
        run_cli(esar, ["import", "results", os.path.join(EXAMPLE, "past-results.csv"), "--db", db])
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", "admin", "--role", "admin"],
                env={"ESAR_PASSWORD": "demo-admin-2567"})
        run_cli(esar, ["admin", "create-user", "--db", db, "--username", "reporter.dcls", "--role", "reporter",
                       "--agency", "DCLS"], env={"ESAR_PASSWORD": "demo-reporter-2567"})
        base = scratch.serve(esar)

        admin = Client(base)
        session = admin.json("POST", "/api/v1/session", {"username": "admin", "password": "demo-admin-2567"})
        admin.csrf = session.get("csrf_token")
        framework_id = 1  # the only framework
        deadline = int((time.time() + 30 * 86400) * 1000)
        round_id = admin.json("POST", "/api/v1/frameworks/%d/rounds" % framework_id,
                              {"round": 12, "deadline": deadline}, expect=201)["id"]

        # ---- the KPI form: DCLS's PMQA shows s with where it came from
        reporter = Client(base)
        session = reporter.json("POST", "/api/v1/session", {"username": "reporter.dcls", "password": "demo-reporter-2567"})
        reporter.csrf = session.get("csrf_token")
        status, page = reporter.call("GET", "/agency/rounds/%d/kpis/8" % round_id)
        form = text_of(page)
        check(status == 200 and "ข้อมูลพื้นฐาน คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566 (s) = 310.00 จากผลการประเมินปี 2566 ที่เผยแพร่แล้ว" in form,
              "the KPI form shows s = 310.00 from the published FY2566 results (%d)" % status)
        # Issue 12 §4: the criteria with the agency's own baseline and group filled in, in words.
        group1 = "ส่วนราชการที่มีคะแนนผลการประเมินในปีงบประมาณ พ.ศ. 2566 ต่ำกว่า 350 คะแนน"
        pmqa_2566 = "คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566"
        criteria = re.search(r'<div class="agency-criteria">(.*?)</div>\s*<details', page, re.S)
        mine = text_of(criteria.group(1)) if criteria else ""
        check((pmqa_2566 + " 310.00 คะแนน → " + group1) in mine,
              "the KPI form says DCLS's FY2566 PMQA score 310.00 chooses group 1: %r" % mine[:160])
        check("275.00" in mine and "310.00" in mine and "350.00" in mine,
              "  and gives group 1's targets as numbers: 275.00 / 310.00 / 350.00")
        check("(x <" not in form and "≤ x" not in form and "จัดกลุ่มตาม s " not in form,
              "  with no internal range or variable name left on the page")
        check("(ตั้งแต่ 350 แต่น้อยกว่า 400)" in form, "  the other groups' ranges in words")

        # The framework editor's preview: the criteria as DCLS will see them, from the form as
        # checked (unsaved).
        editor = Browser(base)
        editor.login_fields({"username": "admin", "password": "demo-admin-2567", "next": "/"})
        action8 = "/admin/frameworks/%d/kpis/8" % framework_id
        status, page = editor.page(action8)
        check(status == 200 and '<option value="DCLS">' in page,
              "the KPI editor offers DCLS for its criteria preview (%d)" % status)
        status, page = editor.page(action8 + "?preview=DCLS")
        shown = text_of(page)
        check(status == 200 and pmqa_2566 + " 310.00 คะแนน → " + group1 in shown,
              "  and shows DCLS's group and targets when chosen (%d)" % status)
        fields = form_of(page, action8)
        check(fields.get("preview") == "DCLS", "  the editor's form carries the chosen agency")
        status, _, raw = editor.request("POST", action8, dict(fields, **{
            "criteria.groups.0.criteria.targets.2.value": "360", "intent": "check"}))
        checked = raw.decode()
        criteria = re.search(r'<div class="agency-criteria">(.*?)</div>\s*<details', checked, re.S)
        mine = text_of(criteria.group(1)) if criteria else ""
        check(status == 200 and "360.00" in mine and "350.00" not in mine,
              "  pressing check shows the changed advanced target 360.00 before saving (%d): %r"
              % (status, mine[:200]))
        _, _, raw = editor.request("GET", "/api/v1/frameworks/%d" % framework_id)
        kpi8 = next(k for k in json.loads(raw)["document"]["kpis"] if k["id"] == "8")
        check(kpi8["criteria"]["groups"][0]["criteria"]["targets"][2] == 350,
              "  and nothing was saved by the check")

        # ---- FY2567 computed and published: PMQA's s from the FY2566 results
        admin.json("POST", "/api/v1/rounds/%d/close" % round_id, {"reason": "ทดสอบ"})
        admin.json("POST", "/api/v1/rounds/%d/results" % round_id, {"appeal_days": 14}, expect=201)
        admin.json("POST", "/api/v1/rounds/%d/results/close-appeals" % round_id, {"reason": "ทดสอบ"})
        admin.json("POST", "/api/v1/rounds/%d/results/final" % round_id, {}, expect=201)
        admin.json("POST", "/api/v1/rounds/%d/results/publish" % round_id, {}, expect=201)
        with open(os.path.join(EXAMPLE, "expected.json"), encoding="utf-8") as f:
            expected = {a["code"]: a for a in json.load(f)["agencies"]}
        scores = admin.json("GET", "/api/v1/rounds/%d/results" % round_id)["scores"]["agencies"]
        for a in scores:
            if a["code"] not in expected or a["code"] == "OCS":
                continue  # OCS's own KPIs 1-4 are reported through the workflow, not imported here
            want = next(k for k in expected[a["code"]]["kpis"] if k["id"] == "8")
            got = next(k for k in a["kpis"] if k["id"] == "8")
            check(abs(got["score"] - want["score"]) < 1e-9,
                  "%s KPI 8 scores %.4f as expected.json (s from FY2566's results)" % (a["code"], got["score"]))

        # ---- the agency report: earlier years per KPI and for the total
        public = Client(base)
        status, page = public.call("GET", "/results/%d/agencies/DCLS" % round_id)
        report = text_of(page)
        check(status == 200, "the public opens DCLS's report (%d)" % status)
        total = re.search(r'<table class="data compact trend" id="trend-total">(.*?)</table>', page, re.S)
        check(total is not None and "ปีงบประมาณ พ.ศ. 2565" in total.group(1) and "68.900" in total.group(1)
              and "71.030" in total.group(1) and "70.246" in total.group(1),
              "the total's trend: 68.900 (2565), 71.030 (2566), 70.246 now")
        pmqa = re.search(r'id="kpi-8-trend-table">(.*?)</table>', page, re.S)
        check(pmqa is not None and "298.40" in pmqa.group(1) and "310.00" in pmqa.group(1)
              and "300.00" in pmqa.group(1) and "<caption" in pmqa.group(1),
              "KPI 8's trend: 298.40, 310.00, then 300.00 this year, with a caption")
        check('id="kpi-1-trend-table"' not in page, "a KPI with no earlier year has no trend")
        # The small line: DCLS's PMQA scores 62.00, 70.00 and 67.857 drawn at 0, 60 and 120.
        line = re.search(r'id="kpi-8-trend".*?<svg class="spark"[^>]*aria-hidden="true"[^>]*><polyline points="([^"]+)"', page, re.S)
        check(line is not None and line.group(1) == "0.0,12.6 60.0,10.4 120.0,11.0",
              "KPI 8's small line, hidden from screen readers (%s)" % (line.group(1) if line else None))
        check("ข้อมูลพื้นฐาน คะแนนผลการประเมินสถานะการเป็นระบบราชการ 4.0 (PMQA 4.0) ปี 2566 (s) = 310.00 จากผลการประเมินปี 2566 ที่เผยแพร่แล้ว" in report,
              "the explanation gives s's source")
        english = Client(base)
        english.call("GET", "/lang/en")
        status, page = english.call("GET", "/results/%d/agencies/DCLS" % round_id)
        check("baseline PMQA 4.0 score in FY2566 (s) = 310.00 from the published FY2566 results" in text_of(page),
              "in English: from the published FY2566 results")

        # ---- the dashboard: the change from the year before, per ministry and shared KPI
        status, page = public.call("GET", "/dashboard")
        dash = text_of(page)
        check(status == 200 and "ปีก่อน 2566" in dash, "the dashboard compares with FY2566 (%d)" % status)
        ministry = re.search(r'aria-labelledby="ministry-h">(.*?)</table>', page, re.S)
        check(ministry is not None and re.search(r'class="(up|down)">[+-]\d', ministry.group(1)) is not None,
              "the averages by ministry show the change from FY2566")
        shared = re.search(r"8 การประเมินสถานะ.*?</table>", page, re.S)
        check(shared is not None and re.search(r"เปลี่ยนจากปีก่อน <span class=\"(up|down)\">[+-]\d+\.\d\d</span>",
                                                shared.group(0)) is not None,
              "PMQA, a shared KPI, shows the change of its average score from FY2566")

        dashboard_matches_count(admin, public, round_id)

        # ---- a new publication refreshes the kept dashboard (keyed on the published results)
        republish_refreshes_dashboard(admin, public, round_id)
    if failures:
        print("%d failed" % len(failures))
        sys.exit(1)
    print("all passed")


if __name__ == "__main__":
    main()
