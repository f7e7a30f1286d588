#!/usr/bin/python3
"""Generates a synthetic benchmark input for esar: a framework, agencies and their reported data.

    generate.py --agencies N --kpis K --out DIR [--seed 1]

writes
    DIR/framework.json          K top-level KPIs mixing every criteria form, assigned to every agency
    DIR/agencies.csv            N agencies
    DIR/data.csv                long form: agency,kpi,variable,fiscal_year,round,value
                                (FY2567 round 12, plus the FY2566 baselines the group KPIs need)
    DIR/subset/framework.json   only the "pandas subset" KPIs (same ids, so the same agencies.csv
                                and data.csv serve it): plain higher-is-better levels with constant
                                targets and linear interpolation, and PMQA-style baseline groups.

About 40% of the KPIs are in the subset. The rest cycle through: lower-is-better levels, a missing
standard level (null), a strict advanced target {"above": ...}, step scoring, milestones
(pass/fail), points with prerequisites, conditions on two measures, a composite KPI with two
sub-KPIs, and a result formula a * 100 / b. Values are realistic: some below basic, some above
advanced, and about 1% of (agency, KPI) pairs miss a value. Standard library only; deterministic
for a seed.
"""

import argparse
import json
import os
import random
import sys

FISCAL_YEAR = 2567
BASELINE_YEAR = 2566
ROUND = 12
MISSING_RATE = 0.01


def text(th, en):
    return {"th": th, "en": en}


def variable(vid, vtype, th, en, unit=None, vmin=None, vmax=None):
    v = {"id": vid, "type": vtype, "name": text(th, en)}
    if unit:
        v["unit"] = {"th": unit}
    if vmin is not None:
        v["min"] = vmin
    if vmax is not None:
        v["max"] = vmax
    return v


def clip(x, lo, hi):
    return lo if x < lo else hi if x > hi else x


def f2(x):
    """A reported number as agencies type it: at most two decimals."""
    s = "%.2f" % x
    s = s.rstrip("0").rstrip(".")
    return "0" if s in ("", "-0") else s


def level_value(rng, t1, t3, vmin, vmax):
    """A result around the targets: ~15% below basic, ~25-30% at or above advanced."""
    mu = t1 + 0.65 * (t3 - t1)
    sd = 0.6 * (t3 - t1)
    return clip(rng.gauss(mu, sd), vmin, vmax)


PASS, FAIL = "ผ่าน", "ไม่ผ่าน"


def pass_fail(rng, p):
    return PASS if rng.random() < p else FAIL


# ---- the pandas subset: plain levels (higher is better, constant targets) -------------------

PLAIN_LEVELS = [
    # (th, en, variable id, type, unit, min, max, targets, integer values)
    ("ร้อยละความสำเร็จของการดำเนินงานตามแผนปฏิบัติราชการประจำปี", "Success of the annual action plan (%)",
     "plan_percent", "percent", "ร้อยละ", 0, 100, [80, 90, 100], False),
    ("ร้อยละความพึงพอใจของผู้รับบริการ", "Service users' satisfaction (%)",
     "satisfaction", "percent", "ร้อยละ", 0, 100, [75, 80, 85], False),
    ("ร้อยละการเบิกจ่ายงบประมาณรายจ่ายภาพรวม", "Overall budget disbursement (%)",
     "disbursed", "percent", "ร้อยละ", 0, 100, [90, 95, 98], False),
    ("จำนวนงานบริการที่ให้บริการผ่านระบบดิจิทัล", "E-services offered",
     "e_services", "count", "งาน", 0, None, [5, 8, 10], True),
    ("คะแนนการประเมินคุณธรรมและความโปร่งใส (ITA)", "Integrity and transparency assessment (ITA) score",
     "ita", "number", "คะแนน", 0, 100, [80, 85, 90], False),
]


def make_plain_levels(kid, n):
    th, en, vid, vtype, unit, vmin, vmax, targets, integer = PLAIN_LEVELS[n % len(PLAIN_LEVELS)]
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": unit},
        "variables": [variable(vid, vtype, th, en, unit, vmin if vtype != "percent" else None, vmax)],
        "criteria": {"form": "levels", "targets": targets},
    }
    hi = vmax if vmax is not None else targets[2] * 2

    def rows(rng):
        v = level_value(rng, targets[0], targets[2], vmin, hi)
        return [(kid, vid, FISCAL_YEAR, str(int(round(v))) if integer else f2(v))]
    return kpi, rows


def make_pmqa_groups(kid, n):
    """PMQA 4.0 groups by the FY2566 score s (seed 002)."""
    th = "คะแนนผลการประเมินสถานะการพัฒนาองค์การสู่ระบบราชการ 4.0 (PMQA 4.0)"
    en = "PMQA 4.0 assessment score"
    if n:
        th += " ชุดที่ %d" % (n + 1)
        en += " (set %d)" % (n + 1)

    def levels(targets):
        return {"form": "levels", "targets": targets}
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "คะแนน", "en": "points"},
        "variables": [variable("pmqa", "number", "คะแนน PMQA 4.0", "PMQA 4.0 score", "คะแนน", 0, 500)],
        "references": [{"name": "s", "variable": "pmqa", "fiscal_year": BASELINE_YEAR}],
        "criteria": {
            "form": "groups", "by": "s",
            "groups": [
                {"id": "1", "name": text("กลุ่มที่ 1", "group 1"), "range": {"below": 350},
                 "criteria": levels([275, "s", 350])},
                {"id": "2", "name": text("กลุ่มที่ 2", "group 2"), "range": {"at_least": 350, "below": 400},
                 "criteria": levels([350, "s", "s * 1.10"])},
                {"id": "3", "name": text("กลุ่มที่ 3", "group 3"), "range": {"at_least": 400, "at_most": 450},
                 "criteria": levels([400, "s", "s * 1.02"])},
                {"id": "4", "name": text("กลุ่มที่ 4", "group 4"), "range": {"above": 450},
                 "criteria": levels([445, "(s + 445) / 2", "s"])},
            ],
        },
    }

    def rows(rng):
        s = round(clip(rng.gauss(390, 60), 150, 500), 2)
        v = clip(s + rng.gauss(8, 22), 0, 500)
        return [(kid, "pmqa", BASELINE_YEAR, f2(s)), (kid, "pmqa", FISCAL_YEAR, f2(v))]
    return kpi, rows


# ---- the rest of the mix ------------------------------------------------------------------

def make_lower(kid, n):
    th, en = "ระยะเวลาเฉลี่ยในการออกใบอนุญาต", "Average days to issue a permit"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "วัน", "en": "days"},
        "variables": [variable("days", "number", th, en, "วัน", 0, 365)],
        "criteria": {"form": "levels", "direction": "lower", "targets": [30, 25, 20]},
    }

    def rows(rng):
        return [(kid, "days", FISCAL_YEAR, f2(clip(rng.gauss(24, 6), 1, 365)))]
    return kpi, rows


def make_missing_level(kid, n):
    th, en = "คะแนนความพร้อมรัฐบาลดิจิทัล", "Digital-government readiness score"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "คะแนน", "en": "points"},
        "variables": [variable("readiness", "number", th, en, "คะแนน", 0, 100)],
        "criteria": {"form": "levels", "targets": [60, None, 80], "texts": [text("60 คะแนน", "60 points"), "-", text("80 คะแนน", "80 points")]},
    }

    def rows(rng):
        return [(kid, "readiness", FISCAL_YEAR, f2(clip(rng.gauss(72, 10), 0, 100)))]
    return kpi, rows


def make_strict(kid, n):
    th, en = "คะแนนการพัฒนาระบบข้อมูลเปิดภาครัฐ", "Open-government data score"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "คะแนน", "en": "points"},
        "variables": [variable("open_score", "number", th, en, "คะแนน", 0, 100)],
        "criteria": {"form": "levels", "targets": [70, 80, {"above": 80}]},
    }

    def rows(rng):
        v = 80 if rng.random() < 0.05 else clip(rng.gauss(79, 8), 0, 100)
        return [(kid, "open_score", FISCAL_YEAR, f2(v))]
    return kpi, rows


def make_step(kid, n):
    th, en = "จำนวนเรื่องตามแผนการปฏิรูปประเทศที่ดำเนินการแล้วเสร็จ", "National-reform items completed"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "เรื่อง", "en": "items"},
        "variables": [variable("reforms", "count", th, en, "เรื่อง")],
        "criteria": {"form": "levels", "scoring": "step", "targets": [2, 3, 4]},
    }

    def rows(rng):
        return [(kid, "reforms", FISCAL_YEAR, str(rng.choice([0, 1, 2, 2, 3, 3, 3, 4, 4, 5])))]
    return kpi, rows


def make_milestones(kid, n):
    vs = [
        ("plan_approved", "จัดทำแผนและผู้บริหารอนุมัติแผนภายในธันวาคม", "plan approved by December", 0.95),
        ("report_6m", "รายงานผลรอบ 6 เดือนครบถ้วน", "6-month report complete", 0.8),
        ("inspected_all", "ตรวจติดตามครบทุกหน่วยภายใน 30 กันยายน", "every unit inspected by 30 September", 0.6),
    ]
    th, en = "ความสำเร็จของการตรวจติดตามการดำเนินงาน", "Inspection work completed as planned"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en),
        "variables": [variable(v, "pass_fail", vth, ven) for v, vth, ven, _ in vs],
        "criteria": {"form": "milestones", "cumulative": True,
                     "levels": [[{"variable": v, "text": text(vth, ven)}] for v, vth, ven, _ in vs]},
    }

    def rows(rng):
        return [(kid, v, FISCAL_YEAR, pass_fail(rng, p)) for v, _, _, p in vs]
    return kpi, rows


def make_points(kid, n):
    """Data Catalog FY2565 (seed 000): items worth points, later ones needing earlier ones."""
    th, en = "การพัฒนาระบบบัญชีข้อมูล (Data Catalog)", "Data catalog development"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "คะแนน", "en": "points"},
        "variables": [
            variable("datasets_listed", "count", "จำนวนชุดข้อมูลในบัญชีข้อมูล", "datasets listed", "ชุดข้อมูล"),
            variable("datasets_complete_metadata", "count", "จำนวนชุดข้อมูลที่มีคำอธิบายข้อมูลครบ 14 รายการ",
                     "datasets with all 14 metadata items", "ชุดข้อมูล"),
            variable("catalog_url", "pass_fail", "มี URL บัญชีข้อมูลของหน่วยงาน", "agency catalog URL published"),
            variable("open_percent", "percent", "ร้อยละของชุดข้อมูลเปิดที่เผยแพร่", "open datasets published (%)", "ร้อยละ", None, 100),
            variable("dataset_used", "pass_fail", "มีการนำชุดข้อมูลไปใช้ประโยชน์จริง", "a dataset put to real use"),
        ],
        "criteria": {"form": "points", "items": [
            {"id": "list", "points": 50, "when": "datasets_listed >= 1", "text": text("มีรายชื่อชุดข้อมูล", "dataset list")},
            {"id": "metadata", "points": 15, "when": "datasets_complete_metadata == datasets_listed", "requires": ["list"],
             "text": text("คำอธิบายข้อมูลครบทุกชุด", "metadata complete for every dataset")},
            {"id": "url", "points": 10, "when": "catalog_url", "requires": ["list"], "text": text("มี URL บัญชีข้อมูล", "catalog URL")},
            {"id": "open", "points": 20, "when": "open_percent >= 100", "requires": ["metadata"],
             "text": text("เผยแพร่ชุดข้อมูลเปิดครบร้อยละ 100", "100% of open datasets published")},
            {"id": "use", "points": 5, "when": "dataset_used", "requires": ["list"], "text": text("นำไปใช้ประโยชน์", "put to use")},
        ]},
    }

    def rows(rng):
        listed = 0 if rng.random() < 0.05 else rng.randint(1, 40)
        complete = listed if rng.random() < 0.7 else rng.randint(0, max(listed - 1, 0))
        open_pct = 100 if rng.random() < 0.6 else rng.uniform(30, 99.99)
        return [
            (kid, "datasets_listed", FISCAL_YEAR, str(listed)),
            (kid, "datasets_complete_metadata", FISCAL_YEAR, str(complete)),
            (kid, "catalog_url", FISCAL_YEAR, pass_fail(rng, 0.85)),
            (kid, "open_percent", FISCAL_YEAR, f2(open_pct)),
            (kid, "dataset_used", FISCAL_YEAR, pass_fail(rng, 0.5)),
        ]
    return kpi, rows


def make_conditions(kid, n):
    """Data Catalog quality (seed 002): each level needs two measures at once."""
    th, en = "คุณภาพของชุดข้อมูลในบัญชีข้อมูลภาครัฐ", "Quality of the datasets in the government data catalog"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en),
        "variables": [
            variable("quality", "percent", "ร้อยละของชุดข้อมูลที่มีคุณภาพตามมาตรฐานข้อมูลเปิด", "datasets to the open standard (%)", "ร้อยละ", None, 100),
            variable("registered", "percent", "ร้อยละของชุดข้อมูลที่ลงทะเบียนในบัญชีข้อมูลภาครัฐ", "datasets registered in the government catalog (%)", "ร้อยละ", None, 100),
        ],
        "criteria": {"form": "conditions", "levels": [
            "quality >= 80 && registered >= 70",
            "quality >= 90 && registered >= 80",
            "quality >= 100 && registered >= 90",
        ]},
    }

    def rows(rng):
        q = 100 if rng.random() < 0.4 else clip(rng.gauss(88, 8), 0, 100)
        r = clip(rng.gauss(85, 10), 0, 100)
        return [(kid, "quality", FISCAL_YEAR, f2(q)), (kid, "registered", FISCAL_YEAR, f2(r))]
    return kpi, rows


def make_composite(kid, n):
    th, en = "การพัฒนาองค์การสู่ดิจิทัล", "Digital organisation development"
    s1, s2 = kid + ".1", kid + ".2"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en),
        "sub_kpis": [
            {"id": s1, "weight": 40, "name": text("ร้อยละความสำเร็จของแผนพัฒนาองค์การสู่ดิจิทัล", "Success of the digital organisation plan (%)"),
             "variables": [variable("plan_percent", "percent", "ร้อยละความสำเร็จของแผน", "plan success (%)", "ร้อยละ", None, 100)],
             "criteria": {"form": "levels", "targets": [80, 90, 100]}},
            {"id": s2, "weight": 60, "name": text("คะแนนเฉลี่ยความพึงพอใจต่อระบบดิจิทัล", "Average satisfaction with the digital systems (1-5)"),
             "variables": [variable("avg_rating", "number", "คะแนนเฉลี่ย", "average rating", "คะแนน", 0, 5)],
             "criteria": {"form": "levels", "targets": [3.5, 4.0, 4.5]}},
        ],
    }

    def rows(rng):
        return [
            (s1, "plan_percent", FISCAL_YEAR, f2(level_value(rng, 80, 100, 0, 100))),
            (s2, "avg_rating", FISCAL_YEAR, f2(level_value(rng, 3.5, 4.5, 0, 5))),
        ]
    return kpi, rows


def make_formula(kid, n):
    """Seed 002: items completed within the standard time / items received x 100."""
    th, en = "ร้อยละของงานที่แล้วเสร็จภายในระยะเวลามาตรฐาน", "Work completed within the standard time (%)"
    kpi = {
        "id": kid, "component": "all", "name": text(th, en), "unit": {"th": "ร้อยละ", "en": "percent"},
        "variables": [
            variable("completed", "count", "จำนวนเรื่องที่แล้วเสร็จภายในระยะเวลามาตรฐาน", "items completed within the standard time", "เรื่อง"),
            variable("received", "count", "จำนวนเรื่องที่รับเข้ามา", "items received", "เรื่อง", 1),
        ],
        "result": "completed * 100 / received",
        "criteria": {"form": "levels", "targets": [80, 90, 95]},
    }

    def rows(rng):
        received = rng.randint(20, 400)
        completed = int(round(received * clip(rng.gauss(0.9, 0.07), 0, 1)))
        return [(kid, "completed", FISCAL_YEAR, str(completed)), (kid, "received", FISCAL_YEAR, str(received))]
    return kpi, rows


OTHER_KINDS = [make_lower, make_missing_level, make_strict, make_step, make_milestones, make_points,
               make_conditions, make_composite, make_formula]


def weights(count):
    """`count` positive weights adding up to exactly 100, whole numbers while count <= 100."""
    if count <= 100:
        base, extra = divmod(100, count)
        return [base + (1 if i < extra else 0) for i in range(count)]
    w = [round(100.0 / count, 6)] * count
    w[-1] = round(100 - sum(w[:-1]), 6)
    return w


def build(kpi_count):
    """The KPIs in order: [(kpi, rows, in_subset)]."""
    subset_count = max(1, round(0.4 * kpi_count))
    out = []
    plain = groups = other = 0
    for i in range(kpi_count):
        kid = str(i + 1)
        # Spread the subset evenly; one subset KPI in three is a PMQA-style group KPI.
        in_subset = (i + 1) * subset_count // kpi_count > i * subset_count // kpi_count
        if in_subset:
            if (plain + groups) % 3 == 2:
                kpi, rows = make_pmqa_groups(kid, groups)
                groups += 1
            else:
                kpi, rows = make_plain_levels(kid, plain)
                plain += 1
        else:
            kpi, rows = OTHER_KINDS[other % len(OTHER_KINDS)](kid, other // len(OTHER_KINDS))
            other += 1
        out.append((kpi, rows, in_subset))
    return out


def framework(kpis, subset=False):
    ids = [k["id"] for k in kpis]
    title = text("กรอบการประเมินสังเคราะห์สำหรับวัดความเร็ว ปีงบประมาณ พ.ศ. 2567", "Synthetic benchmark framework, FY2567")
    if subset:
        title = {"th": title["th"] + " (ชุดย่อยสำหรับเทียบกับ pandas)", "en": title["en"] + " (pandas subset)"}
    return {
        "format": "esar-framework/1",
        "fiscal_year": FISCAL_YEAR,
        "agency_kind": "department",
        "title": title,
        "source": "bench/generate.py",
        "levels": [
            {"name": text("เป้าหมายขั้นต้น", "basic"), "points": 50},
            {"name": text("เป้าหมายมาตรฐาน", "standard"), "points": 75},
            {"name": text("เป้าหมายขั้นสูง", "advanced"), "points": 100},
        ],
        "decimals": {"result": 2, "score": 2, "total": 3},
        "below_basic": "zero",
        "disordered_targets": "raise",
        "components": [{"id": "all", "name": text("ตัวชี้วัดทั้งหมด", "all KPIs"), "share": 100}],
        "kpis": kpis,
        "assignments": [{"agencies": ["*"], "kpis": [{"kpi": k, "weight": w} for k, w in zip(ids, weights(len(ids)))]}],
    }


def write_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--agencies", type=int, required=True)
    ap.add_argument("--kpis", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    if args.agencies < 1 or args.kpis < 1:
        sys.exit("generate.py: --agencies and --kpis must be at least 1")
    if args.kpis < 15:
        print("generate.py: note: with fewer than 15 KPIs not every criteria form appears", file=sys.stderr)

    rng = random.Random(args.seed)
    kpis = build(args.kpis)
    os.makedirs(os.path.join(args.out, "subset"), exist_ok=True)
    write_json(os.path.join(args.out, "framework.json"), framework([k for k, _, _ in kpis]))
    write_json(os.path.join(args.out, "subset", "framework.json"),
               framework([k for k, _, s in kpis if s], subset=True))

    width = len(str(args.agencies))
    codes = ["AG%0*d" % (max(width, 5), i + 1) for i in range(args.agencies)]
    with open(os.path.join(args.out, "agencies.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("code,name_th,name_en,kind,parent\n")
        for i, code in enumerate(codes):
            f.write("%s,หน่วยงานสังเคราะห์ที่ %d,Synthetic agency %d,department,\n" % (code, i + 1, i + 1))

    row_makers = [rows for _, rows, _ in kpis]
    with open(os.path.join(args.out, "data.csv"), "w", encoding="utf-8", newline="") as f:
        f.write("agency,kpi,variable,fiscal_year,round,value\n")
        buf = []
        for code in codes:
            prefix = code + ","
            for rows in row_makers:
                rs = rows(rng)
                if rng.random() < MISSING_RATE:
                    # One of this year's values is not reported (a baseline is never missing: the
                    # framework check would call it an error, rightly).
                    current = [j for j, r in enumerate(rs) if r[2] == FISCAL_YEAR]
                    del rs[rng.choice(current)]
                for kid, var, year, value in rs:
                    buf.append("%s%s,%s,%d,%d,%s\n" % (prefix, kid, var, year, ROUND, value))
            if len(buf) > 100000:
                f.write("".join(buf))
                buf.clear()
        f.write("".join(buf))


if __name__ == "__main__":
    main()
