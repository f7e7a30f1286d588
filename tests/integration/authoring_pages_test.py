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
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import Browser, Checks, form_of, import_example, run_cli, ServedScratch, text_of  # noqa: E402

check = Checks()


def beside(page, field_id):
    """The error shown under field `field_id` (its -err element's text), or ""."""
    m = re.search(r'id="%s-err">(.*?)</div>' % re.escape(field_id), page, re.S)
    return text_of(m.group(1)).strip() if m else ""


def sources_checks(admin, reporter, new_id):
    """Where a KPI's values come from (issue 12 §1), as forms on the FY2568 draft `new_id`:
    references and baselines, the case rule, other agencies' results; no JSON typed."""
    api = "/api/v1/frameworks/%s" % new_id

    def document():
        return json.loads(admin.request("GET", api)[2])["document"]

    # PMQA (KPI 8) reads FY2567's published result: shown as a row of words, not JSON.
    action8 = "/admin/frameworks/%s/kpis/8" % new_id
    status, page = admin.page(action8)
    fields = form_of(page, action8)
    check(status == 200 and fields.get("sources.shown") == "1" and fields.get("references.0.name") == "s"
          and fields.get("references.0.source") == "result" and fields.get("references.0.key") == "pmqa"
          and fields.get("references.0.fiscal_year") == "2567" and fields.get("references.0.read") == "result",
          "KPI 8's baseline is a row: s from the published FY2567 result of pmqa (%d)" % status)
    check("ที่มาของข้อมูล" in text_of(page) and "ค่าอ้างอิงและข้อมูลพื้นฐาน" in text_of(page),
          "  under \"ที่มาของข้อมูล\", \"ค่าอ้างอิงและข้อมูลพื้นฐาน\"")

    # ---- a baseline from last year's published result, added to KPI 3 by the form ----
    action3 = "/admin/frameworks/%s/kpis/3" % new_id
    status, page = admin.page(action3)
    fields = form_of(page, action3)
    blank = next(i for i in range(50) if fields.get("references.%d.name" % i, None) == "")
    row = "references.%d." % blank
    status, _, raw = admin.request("POST", action3, dict(fields, **{row + "name": "last", row + "source": "kpi",
                                                                    "intent": "save"}))
    page = raw.decode()
    said = beside(page, "f-references-%d-variable" % blank)
    check(status == 400 and "ต้องบอกที่มา" in said,
          "a reference with neither a KPI variable nor a published result is refused beside it (%d): %s"
          % (status, said))
    status, _, raw = admin.request("POST", action3, dict(fields, **{row + "name": "last", row + "source": "result",
                                                                    row + "key": "PMQA", row + "fiscal_year": "2567",
                                                                    "intent": "save"}))
    said = beside(raw.decode(), "f-references-%d-key" % blank)
    check(status == 400 and "a–z 0–9" in said, "  a malformed key is refused beside the key (%d): %s" % (status, said))
    added = dict(fields, **{row + "name": "last", row + "source": "result", row + "key": "pmqa",
                            row + "variable": "ria_completed",
                            row + "fiscal_year": "2567", row + "round": "12", row + "read": "score"})
    status, _, raw = admin.request("POST", action3, dict(added, intent="check"))
    page = raw.decode()
    check(status == 200 and "ยังไม่มีผลที่เผยแพร่หรือนำเข้า" in text_of(page),
          "  checked: FY2567 has no published pmqa result yet, and the row says so (%d)" % status)
    row_class = re.search(r'<fieldset class="([^"]*)" id="r-references-%d"' % blank, page)
    row_html = page[page.find('id="r-references-%d"' % blank):]
    row_html = row_html[:row_html.find("</fieldset>")]
    check(row_class is not None and "has-warning" in row_class.group(1) and "has-error" not in row_class.group(1)
          and 'class="field-warning"' in row_html and 'class="field-error"' not in row_html
          and "aria-invalid" not in row_html,
          "  as a warning, not an error: the row is marked as a warning and none of its fields as wrong (%s)"
          % (row_class.group(1) if row_class else None))
    warning_box = page[page.find('id="warning-summary"'):]
    warning_box = warning_box[:warning_box.find("</div>")]
    check('id="summary"' not in page and "ยังบันทึกไม่ได้" not in text_of(page)
          and 'id="warning-summary"' in page and 'ค่าอ้างอิง "last" ไม่ได้ใช้' in text_of(warning_box)
          and ('href="#r-references-%d"' % blank) in warning_box,
          "  the summary at the top lists the row's warning as worth checking, linked to the row, not as a "
          "reason the form is not saved: %s" % text_of(warning_box)[:300])
    status, _, _ = reporter.request("POST", action3, dict(added, intent="save"))
    check(status == 403, "  a reporter may not save it (%d)" % status)
    status, _, _ = admin.request("POST", action3, dict(added, csrf="", intent="save"))
    check(status == 403, "  nor may the admin without the CSRF field (%d)" % status)
    status, _, _ = admin.request("POST", action3, dict(added, intent="save"))
    kpi3 = document()["kpis"][2]
    check(status == 303 and kpi3.get("references") == [{"name": "last", "variable": "ria_completed", "fiscal_year": 2567,
                                                        "from_result": {"key": "pmqa", "read": "score"}}],
          "  saved: last = the FY2567 12-month score of pmqa (%d): %s" % (status, kpi3.get("references")))
    status, _, _ = admin.request("POST", action3, dict(added, intent="save"))
    check(status == 409, "  the same form sent again from the old version is refused (%d)" % status)

    # ---- the case rule of KPI 1 (seed 002): variables chosen from the KPI's ----
    action1 = "/admin/frameworks/%s/kpis/1" % new_id
    status, page = admin.page(action1)
    fields = form_of(page, action1)
    cases_before = document()["kpis"][0]["cases"]
    check(fields.get("cases.kinds.act") == "1" and fields.get("cases.pause.ria") == "1"
          and fields.get("cases.on_time") == "completed_within_standard" and fields.get("cases.counted") == "received"
          and fields.get("cases.classes.2.id") == "long" and fields.get("cases.classes.2.standard") == "12",
          "KPI 1's case rule is a form: kinds, pauses, the two variables, class long = 12 months")
    status, _, raw = admin.request("POST", action1, dict(fields, **{"cases.on_time": "no_such_variable",
                                                                    "intent": "save"}))
    said = beside(raw.decode(), "f-cases-on-time")
    check(status == 400 and "ไม่ใช่ตัวแปรของตัวชี้วัดนี้" in said,
          "  a variable that is not the KPI's is refused beside it (%d): %s" % (status, said))
    status, _, _ = admin.request("POST", action1, dict(fields, **{"cases.classes.2.standard": "10", "intent": "save"}))
    cases = document()["kpis"][0]["cases"]
    expected = json.loads(json.dumps(cases_before))
    expected["classes"][2]["standard"] = {"months": 10}
    check(status == 303 and cases == expected, "  class long's standard 10 months saved, nothing else changed (%d)" % status)

    # ---- a cross-agency KPI made by the form ----
    status, page = admin.page("/admin/frameworks/%s" % new_id)
    link = re.search(r'href="([^"]*/kpis/(\d+)\?new=1)"', page)
    number = link.group(2) if link else "10"
    action = "/admin/frameworks/%s/kpis/%s" % (new_id, number)
    status, page = admin.page(action + "?new=1")
    fields = form_of(page, action)
    check(status == 200 and "from_agencies.key" in fields and 'name="from_agencies.kinds.department"' in page,
          "a new KPI's form offers the agencies rule, the kinds to tick (%d)" % status)
    fields.update({"name.th": "ร้อยละของกรมที่ผ่านเกณฑ์ PMQA", "component": "performance",
                   "variables.0.id": "departments_ok", "variables.0.type": "percent",
                   "criteria.form": "levels", "intent": "check"})
    status, _, raw = admin.request("POST", action, fields)
    fields = form_of(raw.decode(), action)
    fields.update({"criteria.targets.0.value": "60", "criteria.targets.1.value": "70",
                   "criteria.targets.2.value": "80", "from_agencies.variable": "departments_ok",
                   "from_agencies.key": "pmqa", "from_agencies.measure": "median",
                   "from_agencies.level": "2", "from_agencies.kinds.department": "1", "intent": "save"})
    status, _, raw = admin.request("POST", action, fields)
    said = beside(raw.decode(), "f-from-agencies-measure")
    check(status == 400 and "เลือกวิธีคำนวณ" in said, "  an unknown measure is refused beside it (%d): %s" % (status, said))
    fields["from_agencies.measure"] = "share"
    status, _, raw = admin.request("POST", action, fields)
    made = document()["kpis"][-1]
    check(status == 303 and made.get("from_agencies") == {"variable": "departments_ok", "key": "pmqa",
                                                          "measure": "share", "level": 2,
                                                          "agencies": {"kinds": ["department"]}},
          "  saved: the share of departments at level 2 or above of pmqa (%d): %s" % (status, made.get("from_agencies")))

    # ---- a directory too large to offer every agency as a box: codes typed ----
    status, page = admin.page(action)
    small_kb = len(page.encode()) / 1024
    many = [{"code": "LAO%03d" % i, "name": {"th": "องค์การบริหารส่วนตำบลทดสอบ %d" % i,
                                             "en": "Test SAO %d" % i}, "kind": "department"}
            for i in range(250)]
    status, _, raw = admin.request("PUT", "/api/v1/agencies", body=json.dumps({"agencies": many}).encode(),
                                   content_type="application/json",
                                   headers={"X-CSRF-Token": admin.csrf(page)})
    check(status == 200, "250 more agencies added (%d): %s" % (status, raw[:200]))
    status, page = admin.page(action)
    fields = form_of(page, action)
    kb = len(page.encode()) / 1024
    check(status == 200 and "from_agencies.typed_codes" in fields and 'name="from_agencies.codes.LAO001"' not in page
          and kb < small_kb + 5,
          "  past 200 agencies the rule offers a field to type codes, not a box for each (%d; %.0f kB, %.0f kB before)"
          % (status, kb, small_kb))
    fields.update({"from_agencies.typed_codes": "LAO001, LAO002  LAO001", "intent": "save"})
    status, _, raw = admin.request("POST", action, fields)
    made = document()["kpis"][-1]
    check(status == 303 and made.get("from_agencies", {}).get("agencies") == {"kinds": ["department"],
                                                                              "codes": ["LAO001", "LAO002"]},
          "  two codes typed (one twice) are saved once each (%d): %s" % (status, made.get("from_agencies")))
    status, page = admin.page(action)
    boxes = re.findall(r'<input[^>]*name="from_agencies\.codes\.(LAO\d+)"[^>]*>', page)
    ticked = [b for b in boxes if re.search(r'name="from_agencies\.codes\.%s"[^>]*checked' % b, page)]
    check(sorted(boxes) == ["LAO001", "LAO002"] and sorted(ticked) == ["LAO001", "LAO002"]
          and "องค์การบริหารส่วนตำบลทดสอบ 1 (LAO001)" in page,
          "  the rule's agencies come back as ticked boxes with their names: %s" % boxes)
    fields = form_of(page, action)
    fields.update({"from_agencies.codes.LAO001": "", "intent": "save"})
    fields.pop("from_agencies.codes.LAO001")
    status, _, raw = admin.request("POST", action, fields)
    made = document()["kpis"][-1]
    check(status == 303 and made["from_agencies"].get("agencies", {}).get("codes") == ["LAO002"],
          "  one unticked leaves the rule (%d): %s" % (status, made.get("from_agencies")))
    # A code the directory does not have stays in the rule as a box of its own, labelled so, and
    # saving the form again keeps it.
    status, page = admin.page(action)
    fields = form_of(page, action)
    fields.update({"from_agencies.typed_codes": "NOPE9", "intent": "save"})
    status, _, raw = admin.request("POST", action, fields)
    status, page = admin.page(action)
    check(re.search(r'name="from_agencies\.codes\.NOPE9"[^>]*checked', page) is not None
          and "NOPE9 · ไม่มีในทะเบียนหน่วยงาน" in page,
          "  an unknown code typed is shown as a ticked box saying it is not in the directory")
    status, _, raw = admin.request("POST", action, dict(form_of(page, action), intent="save"))
    made = document()["kpis"][-1]
    check(status == 303 and made["from_agencies"].get("agencies", {}).get("codes") == ["LAO002", "NOPE9"],
          "  saved again unchanged, it stays (%d): %s" % (status, made.get("from_agencies")))

    # ---- in English ----
    admin.request("GET", "/lang/en?next=/admin/frameworks")
    status, page = admin.page(action1)
    fields = form_of(page, action1)
    status, _, raw = admin.request("POST", action1, dict(fields, **{"cases.counted": "no_such_variable",
                                                                    "intent": "save"}))
    said = beside(raw.decode(), "f-cases-counted")
    check(status == 400 and "is not one of this KPI's variables" in said and "Where the values come from" in raw.decode(),
          "  the same refusal in English beside the field (%d): %s" % (status, said))
    admin.request("GET", "/lang/th?next=/admin/frameworks")


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-authoring-") as scratch:
        db = scratch.db
        import_example(esar, db, (("admin", "admin", None), ("reporter.ocs", "reporter", "OCS")))
        # One earlier-year value imported (as data.csv of the example has it), for the preview.
        pmqa_2566 = os.path.join(scratch.work, "pmqa-2566.csv")
        with open(pmqa_2566, "w", encoding="utf-8") as f:
            f.write("agency,kpi,variable,fiscal_year,round,value\nOCS,8,pmqa,2566,12,420.50\n")
        run_cli(esar, ["import", "data", pmqa_2566, "--db", db])
        base = scratch.serve(esar)
        admin = Browser(base)
        admin.login("admin")
        status, page = admin.page("/admin/frameworks/1")
        check(status == 200 and "สร้างกรอบการประเมิน ปีงบประมาณ พ.ศ. 2568" in page,
              "the FY2567 framework offers to make FY2568's (%d)" % status)
        check("ความเปลี่ยนแปลงจาก" not in page, "version 1 lists no changes (it has no version before)")
        token = admin.csrf(page)

        # ---- the editor's preview before any round is open: the imported FY2566 value ----
        # OCS's PMQA score of FY2566 (420.50, from the example's data.csv) chooses its group.
        status, page = admin.page("/admin/frameworks/1/kpis/8?preview=OCS")
        mine = re.search(r'<div class="agency-criteria">(.*?)</div>\s*<details', page, re.S)
        mine = text_of(mine.group(1)) if mine else ""
        check(status == 200 and "ปี 2566 420.50 คะแนน → " in mine and "428.91" in mine and "ยังไม่ทราบ" not in mine,
              "with no round open yet, the preview for OCS takes its imported FY2566 score 420.50 "
              "and its group's targets (%d): %r" % (status, mine[:200]))

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
        # ---- the KPI form: no JSON typed ----
        action = "/admin/frameworks/%s/kpis/3" % new_id
        status, page = admin.page(action)
        fields = form_of(page, action)
        check(status == 200 and 'for="f-name-th">ชื่อ (ภาษาไทย)' in page and fields.get("unit.th") == "ร้อยละ",
              "the KPI editor shows KPI 3 as a form with Thai labels (%d)" % status)
        check("variables.0.id" in fields and "doc.scope.th" in fields and "doc.definitions.0.th" in fields,
              "  with its variables, scope and definitions")
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        before = json.loads(raw)["document"]
        status, headers, _ = admin.request("POST", action, dict(fields, intent="save"))
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        check(status == 303 and json.loads(raw)["document"] == before,
              "saving the untouched form changes nothing (%d)" % status)
        status, _, raw = admin.request("POST", action, dict(fields, key="PMQA 4", intent="save"))
        page = raw.decode()
        check(status == 400 and "อักษรอังกฤษตัวเล็ก" in beside(page, "f-key"),
              "a malformed key is refused, the reason beside the key field (%d): %s" % (status, beside(page, "f-key")))
        check('href="#f-key"' in page, "  and the summary links to the field")
        status, _, raw = admin.request("POST", action, dict(fields, key="pmqa", intent="save"))
        page = raw.decode()
        check(status == 400 and "pmqa" in beside(page, "f-key"),
              "esar check's duplicate key shows beside the key field (%d): %s" % (status, beside(page, "f-key")))
        status, _, raw = admin.request("POST", action, dict(fields, **{"variables.0.min": "ten", "intent": "save"}))
        check(status == 400 and "ต้องเป็นตัวเลข" in beside(raw.decode(), "f-variables-0-min"),
              "a minimum that is not a number is named beside its field (%d)" % status)
        changed = dict(fields, **{"unit.th": "ร้อยละของร่างพระราชบัญญัติ", "doc.steps.0.th": "ขั้นที่หนึ่ง", "intent": "save"})
        status, headers, _ = admin.request("POST", action, changed)
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        kpi3 = json.loads(raw)["document"]["kpis"][2]
        check(status == 303 and kpi3["unit"]["th"] == "ร้อยละของร่างพระราชบัญญัติ"
              and kpi3["documentation"]["steps"] == ["ขั้นที่หนึ่ง"],
              "the unit and a first step are saved from the form (%d)" % status)
        status, _, raw = admin.request("POST", action, changed)
        check(status == 409, "the same form sent again from the old version is refused (%d)" % status)

        # ---- the criteria form: levels (KPI 3), no JSON typed ----
        status, page = admin.page(action)
        fields = form_of(page, action)
        check(fields.get("criteria.form") == "levels" and fields.get("criteria.targets.2.value") == "100"
              and fields.get("criteria.direction") == "higher",
              "KPI 3's criteria are a form: its targets, direction and scoring (%s)" % fields.get("criteria.targets.2.value"))
        check("ยังไม่มีแบบฟอร์ม" not in text_of(page), "  and the page does not send them to the JSON editor")
        status, _, raw = admin.request("POST", action, dict(fields, **{"criteria.targets.1.value": "no_such_name + 1",
                                                                       "intent": "check"}))
        page = raw.decode()
        check(status == 400 and "no_such_name" in beside(page, "f-criteria-targets-1-value"),
              "esar check's error about a target formula shows beside that target (%d): %s"
              % (status, beside(page, "f-criteria-targets-1-value")))
        status, _, raw = admin.request("POST", action, dict(fields, **{"criteria.targets.2.value": "",
                                                                       "criteria.targets.2.strict": "1",
                                                                       "intent": "save"}))
        check(status == 400 and "เป้าหมายขั้นที่ 3" in beside(raw.decode(), "f-criteria-targets-2-value"),
              "a strict target without a value is refused beside its field (%d)" % status)
        status, headers, _ = admin.request("POST", action, dict(fields, **{"criteria.targets.2.value": "95",
                                                                           "criteria.targets.2.strict": "1",
                                                                           "criteria.scoring": "step",
                                                                           "intent": "save"}))
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        criteria = json.loads(raw)["document"]["kpis"][2]["criteria"]
        check(status == 303 and criteria["targets"][2] == {"above": 95} and criteria["scoring"] == "step"
              and criteria["targets"][:2] == [80, 90],
              "a strict advanced target and step scoring are saved from the form (%d): %s" % (status, criteria))

        # ---- groups by a baseline (KPI 8: PMQA by the FY2566 score s), no JSON typed ----
        action8 = "/admin/frameworks/%s/kpis/8" % new_id
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        kpi8_before = json.loads(raw)["document"]["kpis"][7]
        status, page = admin.page(action8)
        fields = form_of(page, action8)
        check(status == 200 and fields.get("criteria.form") == "groups" and fields.get("criteria.by") == "s"
              and fields.get("criteria.groups.2.criteria.targets.2.value") == "s * 1.02"
              and fields.get("criteria.groups.1.low_kind") == "at_least" and fields.get("criteria.groups.1.high") == "400",
              "KPI 8's groups are a form: by s, group 2 from 350 below 400, group 3's advanced target s * 1.02")
        check("ไม่มีแบบฟอร์ม" not in text_of(page) and "แบบฟอร์มยังแสดงไม่ได้" not in text_of(page),
              "  and the page does not send them to the JSON editor")
        check(fields.get("criteria.groups.4.id") == "" and fields.get("criteria.groups.4.criteria.form") == "levels",
              "  with a blank group to add, its criteria shown as targets per level")
        status, headers, _ = admin.request("POST", action8, dict(fields, intent="save"))
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        check(status == 303 and json.loads(raw)["document"]["kpis"][7] == kpi8_before,
              "the untouched groups form saves KPI 8 exactly as it was (%d)" % status)
        status, page = admin.page(action8)
        fields = form_of(page, action8)
        status, _, raw = admin.request("POST", action8, dict(fields, **{
            "criteria.groups.2.criteria.targets.1.value": "no_such_name * 2", "intent": "check"}))
        page = raw.decode()
        check(status == 400 and "no_such_name" in beside(page, "f-criteria-groups-2-criteria-targets-1-value"),
              "a group's target formula naming nothing is shown beside that target (%d): %s"
              % (status, beside(page, "f-criteria-groups-2-criteria-targets-1-value")))
        status, _, raw = admin.request("POST", action8, dict(fields, **{"criteria.groups.1.low": "สามร้อยห้าสิบ",
                                                                        "intent": "save"}))
        check(status == 400 and "ขอบล่างของกลุ่ม 2" in beside(raw.decode(), "f-criteria-groups-1-low"),
              "a bound that is not a number is named beside it, in words (%d): %s"
              % (status, beside(raw.decode(), "f-criteria-groups-1-low")))
        status, _, _ = admin.request("POST", action8, dict(fields, **{
            "criteria.groups.2.criteria.targets.2.value": "s * 1.03", "intent": "save"}))
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        groups = json.loads(raw)["document"]["kpis"][7]["criteria"]["groups"]
        check(status == 303 and groups[2]["criteria"]["targets"][2] == "s * 1.03"
              and groups[3] == kpi8_before["criteria"]["groups"][3],
              "group 3's advanced target s * 1.03 is saved from the form, group 4 untouched (%d)" % status)
        status, page = admin.page("/admin/frameworks/%s/kpis/5" % new_id)
        fields5 = form_of(page, "/admin/frameworks/%s/kpis/5" % new_id)
        check(status == 200 and fields5.get("criteria.groups.0.criteria.form") == "conditions"
              and fields5.get("criteria.groups.0.criteria.conditions.0") == "quality_percent >= 90",
              "KPI 5's groups of conditions are a form too: group 1's basic condition")

        # ---- a form chosen anew without JavaScript: KPI 4 from levels to points ----
        action4 = "/admin/frameworks/%s/kpis/4" % new_id
        status, page = admin.page(action4)
        fields = form_of(page, action4)
        status, _, raw = admin.request("POST", action4, dict(fields, **{"criteria.form": "points", "intent": "check"}))
        page = raw.decode()
        points_fields = form_of(page, action4)
        check(status == 400 and "criteria.items.0.id" in points_fields and "criteria.targets.0.value" not in points_fields,
              "choosing points and pressing check shows the items' fields instead of the targets (%d)" % status)
        check("อย่างน้อย 1 รายการ" in text_of(page), "  and says points need at least one item")
        points_fields.update({"criteria.items.0.id": "held", "criteria.items.0.points": "100",
                              "criteria.items.0.when": "hearings_completed >= hearings_required",
                              "criteria.items.1.id": "extra", "criteria.items.1.points": "10",
                              "criteria.items.1.when": "hearings_completed > 0",
                              "criteria.items.1.requires": "nothing_before", "intent": "save"})
        status, _, raw = admin.request("POST", action4, points_fields)
        check(status == 400 and "nothing_before" in beside(raw.decode(), "f-criteria-items-1-requires"),
              "a prerequisite that is not an earlier item is named beside its field (%d)" % status)
        points_fields["criteria.items.1.requires"] = "held"
        status, _, raw = admin.request("POST", action4, points_fields)
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        criteria = json.loads(raw)["document"]["kpis"][3]["criteria"]
        check(status == 303 and criteria["form"] == "points" and criteria["items"][1]["requires"] == ["held"]
              and "targets" not in criteria,
              "KPI 4 saved with points items, the second requiring the first (%d): %s" % (status, criteria))

        # ---- a new KPI from the framework page, without JSON ----
        status, page = admin.page("/admin/frameworks/%s" % new_id)
        link = re.search(r'href="([^"]*/kpis/9\?new=1)"', page)
        check(status == 200 and link is not None and "เพิ่มตัวชี้วัด 9" in text_of(page),
              "the framework page offers to add KPI 9 (the number after the highest)")
        action9 = "/admin/frameworks/%s/kpis/9" % new_id
        status, page = admin.page(htmllib.unescape(link.group(1)) if link else action9 + "?new=1")
        fields = form_of(page, action9)
        check(status == 200 and fields.get("new") == "1" and "criteria.form" in fields and "kpi_json" not in page,
              "  its page is an empty form with the criteria's form to choose and no JSON editor (%d)" % status)
        fields.update({"name.th": "ร้อยละของเรื่องร้องเรียนที่แก้ไขเสร็จ", "component": "performance",
                       "variables.0.id": "solved_percent", "variables.0.type": "percent",
                       "criteria.form": "levels", "intent": "check"})
        status, _, raw = admin.request("POST", action9, fields)
        page = raw.decode()
        fields = form_of(page, action9)
        check("criteria.targets.2.value" in fields and fields.get("new") == "1"
              and fields.get("variables.0.id") == "solved_percent",
              "  checking with levels chosen shows a target per level, what was typed kept (%d)" % status)
        fields.update({"criteria.targets.0.value": "70", "criteria.targets.1.value": "80",
                       "criteria.targets.2.value": "no_such_name", "intent": "save"})
        status, _, raw = admin.request("POST", action9, fields)
        check(status == 400 and "no_such_name" in beside(raw.decode(), "f-criteria-targets-2-value"),
              "  an unknown name in a target is named beside it; nothing saved (%d)" % status)
        fields["criteria.targets.2.value"] = "90"
        status, headers, _ = admin.request("POST", action9, fields)
        _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
        kpi9 = json.loads(raw)["document"]["kpis"][-1]
        check(status == 303 and kpi9["id"] == "9" and kpi9["criteria"] == {"form": "levels", "targets": [70, 80, 90]}
              and kpi9["variables"] == [{"id": "solved_percent", "type": "percent"}],
              "  KPI 9 is added with its variable and targets (%d): %s" % (status, kpi9))
        status, _, _ = admin.request("POST", action9, fields)
        check(status in (409,), "  the same new KPI sent again is refused (%d)" % status)
        status, _ = admin.page("/admin/frameworks/%s/kpis/99" % new_id)
        check(status == 404, "an unknown KPI without ?new=1 is still not found (%d)" % status)

        # ---- a composite KPI (KPI 9 made of 9.1 and 9.2), no JSON typed ----
        def api_kpis():
            _, _, raw = admin.request("GET", "/api/v1/frameworks/%s" % new_id)
            return json.loads(raw)["document"]["kpis"]
        status, page = admin.page(action9)
        f9 = form_of(page, action9)
        check('value="sub_kpis"' in page, "KPI 9's criteria form offers sub-KPIs")
        status, _, raw = admin.request("POST", action9, dict(f9, **{"criteria.form": "sub_kpis", "intent": "check"}))
        page = raw.decode()
        check(status == 400 and "ตัวชี้วัดย่อยตัวแรก" in beside(page, "f-criteria-form") and 'id="add-sub"' in page,
              "choosing sub-KPIs says the first is added on its own page, and offers to add it (%d)" % status)
        status, page = admin.page(action9 + "?add_sub=1&sub_id=9.1&sub_name=%E0%B8%A2%E0%B9%88%E0%B8%AD%E0%B8%A2%E0%B8%AB%E0%B8%99%E0%B8%B6%E0%B9%88%E0%B8%87&sub_weight=100")
        action91 = "/admin/frameworks/%s/kpis/9.1" % new_id
        f91 = form_of(page, action91)
        check(status == 200 and f91.get("new") == "1" and f91.get("parent") == "9" and f91.get("weight") == "100"
              and f91.get("name.th") == "ย่อยหนึ่ง" and "criteria.form" in f91,
              "the new sub-KPI 9.1's page has its name and share, its criteria to choose (%d)" % status)
        f91.update({"variables.0.id": "p91", "variables.0.type": "percent", "criteria.form": "levels", "intent": "check"})
        status, _, raw = admin.request("POST", action91, f91)
        f91 = form_of(raw.decode(), action91)
        f91.update({"criteria.targets.0.value": "70", "criteria.targets.1.value": "80",
                    "criteria.targets.2.value": "90", "intent": "save"})
        status, headers, _ = admin.request("POST", action91, f91)
        kpi9 = api_kpis()[8]
        check(status == 303 and "criteria" not in kpi9 and [s["id"] for s in kpi9["sub_kpis"]] == ["9.1"]
              and kpi9["sub_kpis"][0]["weight"] == 100
              and kpi9["sub_kpis"][0]["criteria"] == {"form": "levels", "targets": [70, 80, 90]},
              "KPI 9 is made composite by saving 9.1 (share 100, its own targets) (%d): %s" % (status, kpi9))
        status, page = admin.page(action9 + "?add_sub=1&sub_id=9.1&sub_name=x&sub_weight=10")
        check(status == 409 and "9.1" in beside(page, "sub-id"),
              "adding 9.1 again is refused beside the number field (%d)" % status)
        status, page = admin.page(action9 + "?add_sub=1&sub_id=9.2&sub_name=%E0%B8%AA%E0%B8%AD%E0%B8%87&sub_weight=40")
        action92 = "/admin/frameworks/%s/kpis/9.2" % new_id
        f92 = form_of(page, action92)
        check(f92.get("shares.9.1") == "100", "9.2's page shows 9.1's share beside its own")
        f92.update({"variables.0.id": "p92", "variables.0.type": "percent", "criteria.form": "conditions",
                    "criteria.conditions.0": "p92 >= 50", "criteria.conditions.1": "p92 >= 60",
                    "criteria.conditions.2": "p92 >= 70", "intent": "save"})
        status, _, raw = admin.request("POST", action92, f92)
        page = raw.decode()
        check(status == 400 and "รวมกันได้ 140 แต่ต้องเท่ากับ 100" in beside(page, "f-weight"),
              "shares summing to 140 are refused beside the share, esar check's words (%d): %s"
              % (status, beside(page, "f-weight")))
        admin.request("GET", "/lang/en?next=/admin")
        status, _, raw = admin.request("POST", action92, f92)
        check(status == 400 and "weigh 140 together, not 100" in beside(raw.decode(), "f-weight"),
              "  and in English (%d): %s" % (status, beside(raw.decode(), "f-weight")))
        admin.request("GET", "/lang/th?next=/admin")
        check(len(api_kpis()[8]["sub_kpis"]) == 1, "  nothing was saved")
        status, headers, _ = admin.request("POST", action92, dict(f92, **{"shares.9.1": "60"}))
        kpi9 = api_kpis()[8]
        check(status == 303 and [(s["id"], s["weight"]) for s in kpi9["sub_kpis"]] == [("9.1", 60), ("9.2", 40)],
              "9.2 is added with 40, 9.1 set to 60 on the same page (%d)" % status)
        # The parent's form: the rows, an untouched save, a sub-KPI's own page.
        before = api_kpis()
        status, page = admin.page(action9)
        f9 = form_of(page, action9)
        check(f9.get("criteria.form") == "sub_kpis" and f9.get("sub_kpis.1.id") == "9.2"
              and f9.get("sub_kpis.1.weight") == "40" and 'href="%s"' % action92 in page
              and 'href="%s/remove"' % action92 in page,
              "KPI 9's form lists 9.1 and 9.2 with their shares, links to edit and remove them")
        status, _, _ = admin.request("POST", action9, dict(f9, intent="save"))
        check(status == 303 and api_kpis() == before, "the untouched composite form changes nothing (%d)" % status)
        status, page = admin.page(action92)
        f92 = form_of(page, action92)
        old_token = f92.get("token")
        check(status == 200 and f92.get("weight") == "40" and f92.get("criteria.conditions.1") == "p92 >= 60",
              "9.2 is edited by the same KPI form at its own address (%d)" % status)
        status, _, _ = admin.request("POST", action92, dict(f92, intent="save"))
        check(status == 303 and api_kpis() == before, "  saved untouched: nothing changes (%d)" % status)
        status, page = admin.page(action92)
        f92 = form_of(page, action92)
        status, _, _ = admin.request("POST", action92, dict(f92, **{"criteria.conditions.1": "p92 >= 65", "intent": "save"}))
        after = api_kpis()
        want = json.loads(json.dumps(before))
        want[8]["sub_kpis"][1]["criteria"]["levels"][1] = "p92 >= 65"
        check(status == 303 and after == want,
              "9.2's condition of level 2 saved; its parent and sibling exactly as they were (%d)" % status)
        status, _, _ = admin.request("POST", action92, dict(f92, token=old_token, intent="save"))
        check(status == 409, "a sub-KPI's form sent from an older version is refused (%d)" % status)
        status, _, _ = reporter.request("POST", action92, dict(f92, csrf=token, intent="save"))
        check(status == 403, "a reporter may not save a sub-KPI (%d)" % status)
        status, _, raw = admin.request("GET", "/admin/frameworks/%s/kpis/9.7" % new_id)
        check(status == 404 and b"<html" in raw and b"9.7" in raw,
              "a sub-KPI that does not exist is a page, not raw JSON (%d)" % status)
        status, page = admin.page("/admin/frameworks/%s" % new_id)
        shown = text_of(page)
        check(status == 200 and 'id="kpi-9-2"' in page and "ตัวชี้วัดย่อย 9.2 สอง" in shown
              and 'href="%s"' % action92 in page and shown.count("เกณฑ์การประเมิน") >= 2,
              "the framework page shows 9.2 with its criteria table and a link to edit it")
        # Removing 9.2: a confirmation with 9.1's share; refused unless the shares sum to 100.
        remove = action92 + "/remove"
        status, page = admin.page(remove)
        fr = form_of(page, remove)
        check(status == 200 and fr.get("shares.9.1") == "60" and "ตัวชี้วัดย่อย 9.2 สอง" in text_of(page),
              "the removal asks for confirmation, showing 9.2 and 9.1's share (%d)" % status)
        status, _, _ = admin.request("POST", remove, dict(fr, csrf=""))
        check(status == 403, "  without the CSRF field it is refused (%d)" % status)
        status, _, _ = reporter.request("POST", remove, dict(fr, csrf=token))
        check(status == 403, "  a reporter may not remove a sub-KPI (%d)" % status)
        status, _, raw = admin.request("POST", remove, fr)
        check(status == 400 and "รวมกันได้ 60" in text_of(raw.decode()) and len(api_kpis()[8]["sub_kpis"]) == 2,
              "  with 9.1 left at 60 it is refused, nothing removed (%d)" % status)
        status, headers, _ = admin.request("POST", remove, dict(fr, **{"shares.9.1": "100"}))
        kpi9 = api_kpis()[8]
        check(status == 303 and [(s["id"], s["weight"]) for s in kpi9["sub_kpis"]] == [("9.1", 100)],
              "  with 9.1 at 100, 9.2 is removed (%d)" % status)
        status, _, _ = admin.request("POST", remove, dict(fr, **{"shares.9.1": "100"}))
        check(status == 404, "  removing it a second time: no such sub-KPI (%d)" % status)
        status, page = admin.page(action91 + "/remove")
        fr = form_of(page, action91 + "/remove")
        status, _, raw = admin.request("POST", action91 + "/remove", fr)
        check(status == 400 and "ตัวสุดท้าย" in text_of(raw.decode()), "the last sub-KPI cannot be removed (%d)" % status)

        # ---- groups inside groups: a forged form nesting deeper than the form's limit ----
        status, page = admin.page(action8)
        f8 = form_of(page, action8)
        deep = "criteria.groups.0.criteria."
        forged = dict(f8, intent="check")
        for depth in range(2):
            forged.update({deep + "form": "groups", deep + "by": "s", deep + "groups.0.id": "g%d" % depth,
                           deep + "groups.0.low_kind": "at_least", deep + "groups.0.low": "0"})
            deep += "groups.0.criteria."
        forged.update({deep + "form": "groups", deep + "by": "s", deep + "groups.0.id": "too-deep"})
        status, _, raw = admin.request("POST", action8, forged)
        field = "f-" + (deep + "form").replace(".", "-")
        check(status == 400 and "ไม่เกิน 3 ชั้น" in beside(raw.decode(), field),
              "a forged form nesting groups 4 deep is refused beside that field (%d): %s"
              % (status, beside(raw.decode(), field)))

        sources_checks(admin, reporter, new_id)

        # ---- the components form ----
        status, page = admin.page("/admin/frameworks/%s" % new_id)
        cfields = form_of(page, "/admin/frameworks/%s/components" % new_id)
        check("components.0.share" in cfields, "the framework page has the components form")
        status, _, _ = reporter.request("POST", "/admin/frameworks/%s/components" % new_id,
                                        dict(cfields, csrf=token))
        check(status == 403, "a reporter may not change components (%d)" % status)
        status, _, _ = admin.request("POST", "/admin/frameworks/%s/components" % new_id, dict(cfields, csrf=""))
        check(status == 403, "without the CSRF field the components form is refused (%d)" % status)
        status, _, _ = reporter.request("POST", action, dict(fields, csrf=token, intent="save"))
        check(status == 403, "a reporter may not save the KPI form (%d)" % status)
        cfields.update({"components.0.id": "performance", "components.0.name.th": "ประสิทธิผล",
                        "components.0.share": "เจ็ดสิบ"})
        status, _, raw = admin.request("POST", "/admin/frameworks/%s/components" % new_id, cfields)
        check(status == 400 and "0–100" in beside(raw.decode(), "f-components-0-share"),
              "a share that is not a number is named beside its field (%d)" % status)
        admin.request("GET", "/lang/en?next=/admin/frameworks")
        status, page = admin.page(where.split("#")[0])
        check("KPI 1: advanced 100 → 97" in text_of(page), "  and in English: KPI 1: advanced 100 → 97")
    print(check.summary())
    sys.exit(check.exit_code())


if __name__ == "__main__":
    main()
