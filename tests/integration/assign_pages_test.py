#!/usr/bin/python3
"""An agency's KPIs and weights in the browser (issue 12 §2), through the pages without
JavaScript, on the database ESAR_TEST_DB_URL names (a fresh PostgreSQL schema under
with_pg_schema.sh) or a fresh SQLite file: the agency form links the assignment form; the form
shows every KPI of the framework of the agency's kind, ticked when assigned, with its weight and
the sums; weights that do not add up are named beside the total (in Thai, and in English with
lang=en) with what was typed kept and nothing saved; a good form is saved into the framework and
shown again as entered, the other agencies' KPIs unchanged; a stale form is refused with 409;
only admins reach the form, never without the CSRF field; unknown agencies answer 404.

    assign_pages_test.py <esar binary>
Prints FAIL lines, then `N passed, M failed`; exits 1 on any failure.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from esar_harness import ApiClient, Browser, Checks, ServedScratch, import_example, text_of  # noqa: E402
from authoring_pages_test import beside, form_of  # noqa: E402

check = Checks()


def field_id(name):
    """The HTML id of form field `name` as web/form_fields.h makes it."""
    return "f-" + re.sub(r"[^A-Za-z0-9_-]", "-", name)


def assignments(api, framework, agency):
    """The KPIs and weights framework `framework` (by the API) gives `agency`: {kpi: weight},
    resolved as docs/formats.md §3 says (later rules override, field by field)."""
    doc = api.json("GET", "/api/v1/frameworks/%d" % framework)["document"]
    out = {}
    for rule in doc.get("assignments", []):
        if agency in rule["agencies"] or "*" in rule["agencies"]:
            for entry in rule["kpis"]:
                out[entry["kpi"]] = entry.get("weight", out.get(entry["kpi"], 0))
    return out


def main():
    esar = sys.argv[1]
    with ServedScratch("esar-assign-pages-") as scratch:
        import_example(esar, scratch.db, [("admin", "admin", None), ("reporter.dsd", "reporter", "DSD"),
                                          ("evaluator", "evaluator", None)])
        base = scratch.serve(esar)
        admin = Browser(base)
        admin.login("admin")
        status, page = admin.page("/admin/agencies/DSD/edit")
        here = "/admin/agencies/DSD/kpis"
        check(status == 200 and 'href="%s"' % here in page, "the agency form links its KPIs and weights (%d)" % status)

        # Only admins reach it; unknown agencies are 404.
        status, headers, _ = Browser(base).get(here)
        check(status == 303 and headers.get("location", "").startswith("/login"),
              "the public is sent to log in (%d)" % status)
        for who in ("evaluator", "reporter.dsd"):
            b = Browser(base)
            b.login(who)
            status, _, _ = b.get(here)
            check(status == 403, "%s may not open the form (%d)" % (who, status))
        for path in ("/admin/agencies/NOPE/kpis", "/admin/agencies/%3Cb%3E/kpis"):
            status, _, _ = admin.get(path)
            check(status == 404, "%s answers 404 (%d)" % (path, status))

        # The form as stored: DSD has KPIs 5-8 at 25 each (KPI 7 exempt).
        status, page = admin.page(here)
        fields = form_of(page, here)
        check(status == 200 and all(fields.get("assigned.%s" % k) == "1" for k in "5678") and
              not any("assigned.%s" % k in fields for k in "1234"),
              "KPIs 5-8 are ticked, 1-4 not (%d): %s" % (status, sorted(k for k in fields if k.startswith("assigned"))))
        check(fields.get("weight.5") == "25" and fields.get("weight.1") == "",
              "each weight as stored (%s, %s)" % (fields.get("weight.5"), fields.get("weight.1")))
        check("น้ำหนักรวมทั้งหมด 100 จาก 100" in text_of(page), "the total is shown: 100 of 100")
        # FY2567 names its components on the KPIs without listing them: each group's legend is
        # the component's usual name, not its id.
        legends = re.findall(r"<legend>([^<]*)</legend>", page)
        check(any(l.startswith("องค์ประกอบที่ 1 การประเมินประสิทธิภาพ") for l in legends) and
              not any(l.split(" · ")[0] in ("performance", "potential") for l in legends),
              "the components' legends are their names, not their ids: %s" % legends[:4])
        csrf = admin.csrf(page)

        # Weights that do not add up: named beside the total, what was typed kept, nothing saved.
        bad = dict(fields, csrf=csrf, intent="save")
        bad["weight.8"] = "15"
        status, _, raw = admin.request("POST", here, bad)
        text = raw.decode()
        m = re.search(r'id="total">.*?</p>\s*<div class="field-error">(.*?)</div>', text, re.S)
        said = text_of(m.group(1)) if m else ""
        check(status == 400 and "รวมกันได้ 90 แต่ต้องเท่ากับ 100" in said,
              "90 in all is refused beside the total in Thai (%d): %r" % (status, said))
        check(form_of(text, here).get("weight.8") == "15", "the weight typed is kept")
        check("น้ำหนักรวมทั้งหมด 90 จาก 100" in text_of(text), "the total shown is what was typed: 90")
        admin.request("GET", "/lang/en?next=/")
        status, _, raw = admin.request("POST", here, bad)
        check(status == 400 and "add up to 90, not 100" in raw.decode(),
              "and in English in the English interface (%d)" % status)
        admin.request("GET", "/lang/th?next=/")
        bad["weight.8"] = "ยี่สิบ"
        status, _, raw = admin.request("POST", here, bad)
        check(status == 400 and "ต้องเป็นตัวเลข" in beside(raw.decode(), field_id("weight.8")),
              "a weight that is not a number is named beside it (%d): %r" %
              (status, beside(raw.decode(), field_id("weight.8"))))
        bad["weight.8"] = "<script>x</script>"
        status, _, raw = admin.request("POST", here, bad)
        check(status == 400 and "<script>x" not in raw.decode(), "hostile text comes back escaped (%d)" % status)
        status, page = admin.page(here)
        check(form_of(page, here).get("weight.8") == "25", "nothing was saved")

        # Checking shows the sums without saving.
        good = dict(fields, csrf=csrf, intent="check")
        good.pop("assigned.7")
        good.pop("weight.7")
        # KPI 7 was exempt: taking it away while the exemption stays ticked is refused by it.
        status, _, raw = admin.request("POST", here, good)
        check(status == 400 and "ยกเว้นไม่ได้" in beside(raw.decode(), field_id("exempt.7")),
              "unticking an exempt KPI with its exemption kept is said beside the exemption (%d)" % status)
        good.pop("exempt.7")
        good.update({"assigned.1": "1", "weight.1": "40", "weight.5": "20", "weight.6": "20", "weight.8": "20"})
        status, _, raw = admin.request("POST", here, good)
        check(status == 200 and "น้ำหนักครบถูกต้อง" in raw.decode(), "check says the weights add up (%d)" % status)
        status, page = admin.page(here)
        check(form_of(page, here).get("weight.1") == "", "checking saved nothing")

        # CSRF, roles.
        save = dict(good, intent="save")
        status, _, _ = admin.request("POST", here, dict(save, csrf=""))
        check(status == 403, "without the CSRF field nothing is saved (%d)" % status)
        ev = Browser(base)
        ev.login("evaluator")
        status, _, _ = ev.request("POST", here, dict(save, csrf=ev.csrf(ev.page("/")[1]) or csrf))
        check(status == 403, "an evaluator may not save (%d)" % status)

        # Saved: shown again as entered; the framework page and the API tell the same.
        status, headers, _ = admin.request("POST", here, save)
        where = headers.get("location", "")
        check(status == 303 and "done=kpis_assigned" in where, "the admin saves DSD's KPIs (%d %s)" % (status, where))
        status, page = admin.page(where)
        again = form_of(page, here)
        check(status == 200 and again.get("assigned.1") == "1" and again.get("weight.1") == "40" and
              "assigned.7" not in again and again.get("weight.5") == "20",
              "the form shows what was saved: KPI 1 at 40, KPI 7 gone")
        check("บันทึกตัวชี้วัดและน้ำหนักแล้ว" in page, "the page says it was saved")
        api = ApiClient(base)
        api.login("admin", "demo-admin-2567")
        check(assignments(api, 1, "DSD") == {"1": 40, "5": 20, "6": 20, "8": 20},
              "the framework assigns DSD what was entered: %s" % assignments(api, 1, "DSD"))
        check(assignments(api, 1, "OCS") == {"1": 20, "2": 20, "3": 15, "4": 15, "5": 7.5, "6": 7.5, "7": 7.5, "8": 7.5},
              "OCS keeps its KPIs: %s" % assignments(api, 1, "OCS"))
        check(assignments(api, 1, "BOI") == {"5": 25, "6": 25, "7": 25, "8": 25},
              "BOI keeps its KPIs: %s" % assignments(api, 1, "BOI"))

        # The form sent again from the page before the save is stale: 409, nothing changed.
        stale = dict(save)
        stale["weight.1"], stale["weight.5"] = "20", "40"
        status, _, raw = admin.request("POST", here, stale)
        check(status == 409, "a stale form is refused with 409 (%d)" % status)
        check(assignments(api, 1, "DSD")["1"] == 40, "and changes nothing")

        # ---- every department of the Ministry of Labour at once, after a confirmation ----
        status, page = admin.page("/admin/agencies")
        check('href="/admin/assignments"' in page, "the agencies page links the group form")
        status, page = admin.page("/admin/assignments")
        check(status == 200 and 'name="kind"' in page and 'name="parent"' in page,
              "the group form asks for the kind and the ministry first (%d)" % status)
        group = "/admin/assignments"
        status, page = admin.page(group + "?kind=department&parent=MOL")
        text = text_of(page)
        members = [c for c in ("DSD", "DCLS", "DLIS", "OCS", "BOI") if "(%s)" % c in text]
        check(status == 200 and members == ["DSD", "DCLS", "DLIS"],
              "the form names the three departments of MOL, and no other (%d): %s" % (status, members))
        fields = form_of(page, group)
        check(fields.get("kind") == "department" and fields.get("parent") == "MOL" and "own.shown" not in fields,
              "the form carries its group")
        csrf = admin.csrf(page)
        form = {k: v for k, v in fields.items() if not k.startswith(("assigned.", "weight."))}
        form.update({"csrf": csrf, "assigned.3": "1", "weight.3": "30", "assigned.4": "1", "weight.4": "60"})
        status, _, raw = admin.request("POST", group, dict(form, intent="review"))
        check(status == 400 and "รวมกันได้ 90" in raw.decode() and "confirm-agencies" not in raw.decode(),
              "weights adding up to 90 get no confirmation (%d)" % status)
        form["weight.4"] = "70"
        status, _, raw = admin.request("POST", group, dict(form, intent="review"))
        confirm = raw.decode()
        listed = re.search(r'id="confirm-agencies"(.*?)</ul>', confirm, re.S)
        listed = text_of(listed.group(1)) if listed else ""
        check(status == 200 and all("(%s)" % c in listed for c in ("DSD", "DCLS", "DLIS")) and "(BOI)" not in listed,
              "the confirmation lists the three agencies it will change (%d): %s" % (status, listed[:300]))
        check("1 (40)" in listed and "3 (30), 4 (70)" in listed,
              "each with its KPIs now and after: %s" % listed[:300])
        sent = form_of(confirm, group)
        check(sent.get("agencies") == "DSD,DCLS,DLIS" or sorted(sent.get("agencies", "").split(",")) == ["DCLS", "DLIS", "DSD"],
              "the confirmation carries the agencies it listed (%s)" % sent.get("agencies"))
        status, _, _ = admin.request("POST", group, dict(sent, csrf="", intent="save"))
        check(status == 403, "without the CSRF field the group is not saved (%d)" % status)
        status, _, raw = admin.request("POST", group, dict(sent, agencies="DSD,DCLS", intent="save"))
        check(status == 409, "a confirmation that listed other agencies than the group's now is refused with 409 (%d)" % status)
        check(assignments(api, 1, "DCLS").get("3") is None, "and nothing was saved")
        status, headers, _ = admin.request("POST", group, dict(sent, intent="save"))
        check(status == 303 and "done=kpis_assigned" in headers.get("location", ""),
              "the confirmed group is saved (%d)" % status)
        for code in ("DSD", "DCLS", "DLIS"):
            check(assignments(api, 1, code) == {"3": 30, "4": 70},
                  "%s gets KPIs 3 and 4: %s" % (code, assignments(api, 1, code)))
        check(assignments(api, 1, "BOI") == {"5": 25, "6": 25, "7": 25, "8": 25}, "BOI keeps its KPIs")
        doc = api.json("GET", "/api/v1/frameworks/1")["document"]
        check(sum(1 for r in doc["assignments"] if sorted(r["agencies"]) == ["DCLS", "DLIS", "DSD"]) == 1,
              "one rule names the three")
        status, _, _ = admin.request("POST", group, dict(sent, intent="save"))
        check(status == 409, "the confirmation sent twice is stale: 409 (%d)" % status)
        status, _, _ = admin.get(group + "?kind=nokind")
        check(status == 400, "a kind without agencies is refused (%d)" % status)

        # ---- the agency's e-mail address: in its form, checked, on its home page, in the export ----
        edit = "/admin/agencies/DSD/edit"
        status, page = admin.page(edit)
        agency = form_of(page, edit)
        check(status == 200 and agency.get("email") == "", "the agency form has an empty e-mail field (%d)" % status)
        status, _, raw = admin.request("POST", edit, dict(agency, csrf=csrf, email="saraban at dsd"))
        check(status == 400 and "อีเมล" in beside(raw.decode(), "f-email") and
              form_of(raw.decode(), edit).get("email") == "saraban at dsd",
              "a bad address is refused beside the field, what was typed kept (%d)" % status)
        status, headers, _ = admin.request("POST", edit, dict(agency, csrf=csrf, email="saraban@dsd.go.th"))
        check(status == 303, "a good address is saved (%d)" % status)
        status, page = admin.page(edit)
        check(form_of(page, edit).get("email") == "saraban@dsd.go.th", "the form shows it again")
        rep = Browser(base)
        rep.login("reporter.dsd")
        status, page = rep.page("/agency")
        check(status == 200 and "saraban@dsd.go.th" in page, "the agency's home page shows its address (%d)" % status)
        listed = {a["code"]: a for a in api.json("GET", "/api/v1/agencies")}
        check(listed["DSD"].get("email") == "saraban@dsd.go.th" and listed["OCS"].get("email") == "",
              "the agencies' export gives the address to an admin")

        # The audit trail has the change.
        status, page = admin.page("/admin/audit?kind=framework")
        check(status == 200 and "DSD" in text_of(page), "the audit trail shows the framework change naming DSD")

    print(check.summary())
    return 0 if check.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
