#!/usr/bin/python3
"""Framework authoring through the pages, without JavaScript (issue 12 §1): a new fiscal year
made from last year's framework (once: a second time is refused and says why), and a change to
a frozen framework shown on the new version's page in words. Run on SQLite, and on PostgreSQL
under with_pg_schema.sh.

    authoring_pages_test.py <esar binary>
"""
import html as htmllib
import json
import os
import re
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import Browser, Checks, import_example, start_server, stop_server, text_of  # noqa: E402

check = Checks()


def main():
    esar = sys.argv[1]
    work = tempfile.mkdtemp(prefix="esar-authoring-")
    proc = None
    try:
        db = os.environ.get("ESAR_TEST_DB_URL") or os.path.join(work, "esar.db")
        import_example(esar, db, (("admin", "admin", None), ("reporter.ocs", "reporter", "OCS")))
        proc, base, _ = start_server(esar, db, os.path.join(work, "files"), os.path.join(work, "server.log"))
        if not base:
            sys.exit("authoring_pages_test.py: esar serve did not start")
        admin = Browser(base)
        admin.login("admin")
        status, page = admin.page("/admin/frameworks/1")
        check(status == 200 and "สร้างกรอบการประเมิน ปีงบประมาณ พ.ศ. 2568" in page,
              "the FY2567 framework offers to make FY2568's (%d)" % status)
        check("ความเปลี่ยนแปลงจาก" not in page, "version 1 lists no changes (it has no version before)")
        token = admin.csrf(page)

        # ---- a new fiscal year from last year's ----
        status, headers, _ = admin.request("POST", "/admin/frameworks/1/next-year", {"csrf": ""})
        check(status == 403, "without the CSRF field the new year is refused (%d)" % status)
        reporter = Browser(base)
        reporter.login("reporter.ocs")
        status, _, _ = reporter.request("POST", "/admin/frameworks/1/next-year", {"csrf": token})
        check(status == 403, "a reporter may not start a year (%d)" % status)
        status, headers, _ = admin.request("POST", "/admin/frameworks/1/next-year", {"csrf": token})
        where = headers.get("location", "")
        check(status == 303 and where.endswith("?done=next_year"), "the admin starts FY2568 (%d %s)" % (status, where))
        status, page = admin.page(where)
        shown = text_of(page)
        check(status == 200 and "ปีงบประมาณ พ.ศ. 2568" in shown and "ร่าง" in shown,
              "the new framework is FY2568, a draft (%d)" % status)
        check("สร้างกรอบการประเมินของปีงบประมาณใหม่จากปีก่อนแล้ว" in shown, "  and the page says it was made")
        check("ตัวชี้วัด 8" in shown and "PMQA" in shown, "  with last year's KPIs")
        new_id = re.search(r"/admin/frameworks/(\d+)", where).group(1)
        status, _, raw = admin.request("POST", "/admin/frameworks/1/next-year", {"csrf": token})
        body = text_of(raw.decode())
        check(status == 409 and "ปีงบประมาณ 2568 มีกรอบการประเมินของหน่วยงานประเภทนี้แล้ว" in body,
              "starting FY2568 a second time is refused and says why (%d)" % status)
        status, page = admin.page("/admin/frameworks")
        check(len(re.findall(r">ปีงบประมาณ พ.ศ. 2568<", page)) == 1, "the list has one FY2568 framework")
        # The API gives the copy: keys kept, PMQA's baseline is FY2567's published result.
        status, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        if status == 200:
            doc = json.loads(raw)
            doc = doc.get("document", doc)
            pmqa = [k for k in doc["kpis"] if k.get("key") == "pmqa"]
            check(len(pmqa) == 1 and pmqa[0]["references"][0]["fiscal_year"] == 2567
                  and pmqa[0]["references"][0]["from_result"]["key"] == "pmqa",
                  "the copy's PMQA baseline reads FY2567's published result")
        else:
            check(False, "the API gives the new framework (%d)" % status)

        # ---- a change to a frozen framework becomes version 2, shown in words ----
        status, page = admin.page("/admin/rounds")
        status, headers, _ = admin.request("POST", "/admin/rounds", {"csrf": admin.csrf(page), "framework": "1",
                                                                     "round": "12", "date": "2099-09-30", "time": "16:30"})
        check(status == 303, "a round of FY2567 opens and freezes its framework (%d)" % status)
        # Two editors open KPI 1 of the frozen version 1; the first saves (version 2), the
        # second's save is refused and says why, and makes no version 3.
        status, page = admin.page("/admin/frameworks/1/kpis/1")
        status, other = admin.page("/admin/frameworks/1/kpis/1")
        token = re.search(r'name="token" value="([0-9a-f]{64})"', page)
        check(token is not None, "the KPI editor carries the version it was opened on")
        m = re.search(r'<textarea id="kpi_json"[^>]*>(.*?)</textarea>', page, re.S)
        kpi = json.loads(htmllib.unescape(m.group(1)))
        kpi["criteria"]["targets"][2] = 97
        status, headers, _ = admin.request("POST", "/admin/frameworks/1/kpis/1",
                                           {"csrf": admin.csrf(page), "token": token.group(1) if token else "",
                                            "kpi_json": json.dumps(kpi, ensure_ascii=False), "intent": "save"})
        where = headers.get("location", "")
        check(status == 303, "the frozen framework's KPI 1 is saved (%d)" % status)
        kpi["criteria"]["targets"][2] = 98
        second = re.search(r'name="token" value="([0-9a-f]{64})"', other).group(1)
        status, _, raw = admin.request("POST", "/admin/frameworks/1/kpis/1",
                                       {"csrf": admin.csrf(other), "token": second,
                                        "kpi_json": json.dumps(kpi, ensure_ascii=False), "intent": "save"})
        check(status == 409 and "ฉบับที่ 2 ที่ใหม่กว่าแล้ว" in text_of(raw.decode()),
              "the second editor's save of version 1 is refused: version 2 is newer (%d)" % status)
        status, page = admin.page("/admin/frameworks")
        check(len(re.findall(r">ปีงบประมาณ พ.ศ. 2567<", page)) == 2, "  FY2567 has two versions, not three")
        status, page = admin.page(where.split("#")[0])
        shown = text_of(page)
        check("ฉบับที่ 2" in shown and "ความเปลี่ยนแปลงจาก ฉบับที่ 1" in shown,
              "the new version's page says what changed from version 1")
        check("ตัวชี้วัด 1: เป้าหมายขั้นสูง 100 → 97" in shown, "  in words: ตัวชี้วัด 1: เป้าหมายขั้นสูง 100 → 97")
        # Two editors of the FY2568 draft: the second, opened before the first saved, is refused.
        status, first = admin.page("/admin/frameworks/%s/kpis/1" % new_id)
        status, second = admin.page("/admin/frameworks/%s/kpis/1" % new_id)
        tokens = [re.search(r'name="token" value="([0-9a-f]{64})"', p).group(1) for p in (first, second)]
        m = re.search(r'<textarea id="kpi_json"[^>]*>(.*?)</textarea>', first, re.S)
        kpi = json.loads(htmllib.unescape(m.group(1)))
        kpi["criteria"]["targets"][0] = 70
        fields = {"csrf": admin.csrf(first), "kpi_json": json.dumps(kpi, ensure_ascii=False), "intent": "save"}
        status, headers, _ = admin.request("POST", "/admin/frameworks/%s/kpis/1" % new_id, dict(fields, token=tokens[0]))
        check(status == 303, "the first editor saves the FY2568 draft (%d)" % status)
        kpi["criteria"]["targets"][0] = 60
        fields["kpi_json"] = json.dumps(kpi, ensure_ascii=False)
        status, _, raw = admin.request("POST", "/admin/frameworks/%s/kpis/1" % new_id, dict(fields, token=tokens[1]))
        shown = text_of(raw.decode())
        check(status == 409 and "มีผู้อื่นบันทึกกรอบการประเมินนี้ระหว่างที่ท่านแก้ไข" in shown,
              "the second editor is refused and told someone else saved (%d)" % status)
        status, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        check(json.loads(raw)["document"]["kpis"][0]["criteria"]["targets"][0] == 70,
              "  the draft keeps the first editor's target 70")
        admin.request("GET", "/lang/en?next=/admin/frameworks")
        status, page = admin.page(where.split("#")[0])
        check("KPI 1: advanced 100 → 97" in text_of(page), "  and in English: KPI 1: advanced 100 → 97")
    finally:
        stop_server(proc)
        shutil.rmtree(work, ignore_errors=True)
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
