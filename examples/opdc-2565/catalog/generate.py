#!/usr/bin/python3
"""Generates the OPDC example's demo data catalog (catalog.json): a CKAN package_search export
(`result.results`) of 60 datasets for KPI 7 (Data Catalog) of examples/opdc-2565/framework.json,
some with complete metadata and some not, so that the dataset page has two pages and every kind
of fault to show.

No randomness: running it again writes the same file. Standard library only.

    python3 examples/opdc-2565/catalog/generate.py [OUT_DIR]     # default: this script's folder

Every dataset starts from the complete metadata of ../catalog.json's first dataset (each of the
14 items right), with its own name and title (12 topics x 5 fiscal years, 2561 - 2565). Then, by
its position i (0-based), these faults are put in, several in one dataset where the rules meet:

    i % 10 == 3   maintainer_email "data(at)opdc.go.th"      bad_email      (6 datasets)
    i % 10 == 7   notes empty                                 missing        (6)
    i % 15 == 11  update_frequency_unit "รายเดือน"            not_a_choice   (4)
    i % 20 == 13  objective ["อื่นๆ"] without objective_other  other_missing  (3)
    i == 58       no tags at all                              missing        (1)

The objective's datasets (13, 33, 53) are also among the bad e-mail's, so they carry two
faults each: 17 datasets are incomplete and 43 complete (71.67 %). The script prints the counts,
and the example's README states them (checked by tests/integration/
catalog_pages_test.py, which also runs this script and compares its output with the file).
"""
import copy
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOPICS = [
    ("kpi-results", "ผลการประเมินส่วนราชการ"),
    ("complaints", "เรื่องร้องเรียนผ่านศูนย์บริการ"),
    ("gecc", "ศูนย์ราชการสะดวก"),
    ("awards", "รางวัลเลิศรัฐ"),
    ("egov-services", "บริการภาครัฐแบบดิจิทัล"),
    ("sandbox", "งานที่ถ่ายโอนให้ภาคเอกชน"),
    ("hpp", "จังหวัดที่มีผลสัมฤทธิ์สูง"),
    ("pmqa", "คะแนนการพัฒนาคุณภาพการบริหารจัดการภาครัฐ"),
    ("reform", "การปฏิรูปเพื่ออำนวยความสะดวกในการประกอบธุรกิจ"),
    ("open-data", "ชุดข้อมูลเปิดที่เผยแพร่"),
    ("manpower", "อัตรากำลังส่วนราชการ"),
    ("training", "การฝึกอบรมข้าราชการ"),
]
YEARS = [2561, 2562, 2563, 2564, 2565]


def datasets():
    with open(os.path.join(HERE, "..", "catalog.json"), encoding="utf-8") as f:
        base = json.load(f)["result"]["results"][0]
    out = []
    i = 0
    for year in YEARS:
        for slug, title in TOPICS:
            d = copy.deepcopy(base)
            d["name"] = f"opdc-{slug}-{year}"
            d["title"] = f"{title} ปีงบประมาณ พ.ศ. {year}"
            d["notes"] = f"{title} ของปีงบประมาณ พ.ศ. {year} เผยแพร่ตามมาตรฐานข้อมูลเปิดภาครัฐ"
            if i % 10 == 3:
                d["maintainer_email"] = "data(at)opdc.go.th"
            if i % 10 == 7:
                d["notes"] = ""
            if i % 15 == 11:
                d["update_frequency_unit"] = "รายเดือน"
            if i % 20 == 13:
                d["objective"] = ["อื่นๆ"]
                d.pop("objective_other", None)
            if i == 58:
                d["tags"] = []
                d.pop("tag_string", None)
            out.append(d)
            i += 1
    return out


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else HERE
    items = datasets()
    doc = {"help": "package_search", "success": True, "result": {"count": len(items), "results": items}}
    with open(os.path.join(out_dir, "catalog.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")
    faulty = sum(1 for i in range(len(items))
                 if i % 10 in (3, 7) or i % 15 == 11 or i % 20 == 13 or i == 58)
    print(f"{len(items)} datasets, {len(items) - faulty} complete, {faulty} incomplete")


if __name__ == "__main__":
    main()
