#include "domain/framework_diff.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

namespace esar::domain {
namespace {

// Texts longer than this are said to have changed, not quoted: a definition of a page would
// drown the list.
constexpr size_t kQuoteLimit = 160;

std::string Num(double v) { return ShortestDecimal(v); }

std::string Num(const std::optional<double>& v) { return v ? ShortestDecimal(*v) : "-"; }

std::string Quote(const std::string& s) { return s.empty() ? "-" : "“" + s + "”"; }

bool Same(const LocalizedText& a, const LocalizedText& b) { return a.th == b.th && a.en == b.en; }

std::string Join(const std::vector<std::string>& items, const std::string& sep = ", ") {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? sep : "") + items[i];
  return out.empty() ? "-" : out;
}

std::string Rounds(const std::vector<int>& rounds) {
  std::vector<std::string> items;
  for (int r : rounds) items.push_back(std::to_string(r));
  return Join(items);
}

std::string TargetText(const Target& t, Lang lang) {
  if (!t.present) return "-";
  if (!t.strict) return t.expression;
  return (lang == Lang::kThai ? "มากกว่า " : "above ") + t.expression;
}

const char* TypeName(VariableType t, Lang lang) {
  const bool th = lang == Lang::kThai;
  switch (t) {
    case VariableType::kNumber: return th ? "ตัวเลข" : "number";
    case VariableType::kPercent: return th ? "ร้อยละ" : "percent";
    case VariableType::kCount: return th ? "จำนวนนับ" : "count";
    case VariableType::kPassFail: return th ? "ผ่าน/ไม่ผ่าน" : "pass/fail";
    case VariableType::kNumberList: return th ? "รายการตัวเลข" : "list of numbers";
    case VariableType::kDerived: return th ? "คำนวณจากสูตร" : "computed by a formula";
    case VariableType::kDate: return th ? "วันที่" : "date";
  }
  return "";
}

const char* FormName(CriteriaForm f, Lang lang) {
  const bool th = lang == Lang::kThai;
  switch (f) {
    case CriteriaForm::kLevels: return th ? "ค่าเป้าหมายตามระดับ" : "targets per level";
    case CriteriaForm::kMilestones: return th ? "ขั้นความสำเร็จ (milestone)" : "milestones";
    case CriteriaForm::kPoints: return th ? "คะแนนตามองค์ประกอบ" : "points per item";
    case CriteriaForm::kConditions: return th ? "เงื่อนไขตามระดับ" : "conditions per level";
    case CriteriaForm::kGroups: return th ? "แบ่งกลุ่มตามข้อมูลพื้นฐาน" : "groups by a baseline";
  }
  return "";
}

std::string BelowBasicText(const std::optional<BelowBasic>& b, Lang lang) {
  const bool th = lang == Lang::kThai;
  if (!b) return th ? "ตามกรอบการประเมิน" : "as the framework says";
  if (b->rule == BelowBasic::Rule::kZero) return th ? "ได้ 0 คะแนน" : "scores 0";
  return (th ? "เทียบสัดส่วนจากผล " : "interpolated from a result of ") + Num(b->zero_point);
}

std::string FlagsText(const Kpi& k, Lang lang) {
  const bool th = lang == Lang::kThai;
  std::vector<std::string> f;
  if (k.is_new) f.push_back(th ? "ตัวชี้วัดใหม่" : "new KPI");
  if (k.continuing) f.push_back(th ? "ตัวชี้วัดต่อเนื่อง" : "continuing KPI");
  if (k.reform_plan) f.push_back(th ? "ตัวชี้วัดแผนปฏิรูป" : "reform-plan KPI");
  if (k.monitoring_only) f.push_back(th ? "ติดตามผลเท่านั้น" : "monitoring only");
  return Join(f);
}

// The changes found so far, each with the words that say where ("ตัวชี้วัด 3: กลุ่ม 2: ").
class Differ {
 public:
  Differ(const Framework& before, const Framework& after) : before_(before), after_(after) {}

  std::vector<FrameworkChange> Run() {
    Settings();
    Components();
    std::set<std::string> seen;
    for (const Kpi& k : after_.kpis) {
      seen.insert(k.id);
      const Kpi* old = FindTop(before_.kpis, k.id);
      KpiChanges(old, &k, "", "");
    }
    for (const Kpi& k : before_.kpis) {
      if (!seen.count(k.id)) KpiChanges(&k, nullptr, "", "");
    }
    Assignments();
    return std::move(out_);
  }

  // The criteria's differences alone (for comparing agencies' own targets).
  void CriteriaChanges(const std::string& kpi, const std::string& th, const std::string& en,
                       const Criteria& a, const Criteria& b);

 private:
  static const Kpi* FindTop(const std::vector<Kpi>& kpis, const std::string& id) {
    for (const Kpi& k : kpis) {
      if (k.id == id) return &k;
    }
    return nullptr;
  }

  void Add(const std::string& kpi, std::string th, std::string en) {
    out_.push_back({kpi, {std::move(th), std::move(en)}});
  }

  // "<what> A → B" in both languages.
  void Changed(const std::string& kpi, const std::string& th, const std::string& en,
               const std::string& a_th, const std::string& b_th, const std::string& a_en,
               const std::string& b_en) {
    Add(kpi, th + " " + a_th + " → " + b_th, en + " " + a_en + " → " + b_en);
  }
  void Changed(const std::string& kpi, const std::string& th, const std::string& en,
               const std::string& a, const std::string& b) {
    Changed(kpi, th, en, a, b, a, b);
  }

  // A text field: quoted when short enough, else "changed".
  void TextField(const std::string& kpi, const std::string& th, const std::string& en,
                 const LocalizedText& a, const LocalizedText& b) {
    if (Same(a, b)) return;
    if (a.th.size() + a.en.size() + b.th.size() + b.en.size() <= 2 * kQuoteLimit) {
      Changed(kpi, th, en, Quote(a.Pick(Lang::kThai)), Quote(b.Pick(Lang::kThai)),
              Quote(a.Pick(Lang::kEnglish)), Quote(b.Pick(Lang::kEnglish)));
    } else {
      Add(kpi, th + " แก้ไขแล้ว", en + " edited");
    }
  }

  void TextList(const std::string& kpi, const std::string& th, const std::string& en,
                const std::vector<LocalizedText>& a, const std::vector<LocalizedText>& b) {
    const size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      const std::string n_th = th + " ข้อ " + std::to_string(i + 1);
      const std::string n_en = en + " item " + std::to_string(i + 1);
      if (i >= a.size()) {
        Add(kpi, n_th + " เพิ่ม " + Quote(b[i].Pick(Lang::kThai)),
            n_en + " added " + Quote(b[i].Pick(Lang::kEnglish)));
      } else if (i >= b.size()) {
        Add(kpi, n_th + " ลบ " + Quote(a[i].Pick(Lang::kThai)),
            n_en + " removed " + Quote(a[i].Pick(Lang::kEnglish)));
      } else {
        TextField(kpi, n_th, n_en, a[i], b[i]);
      }
    }
  }

  void YearEntries(const std::string& kpi, const std::string& th, const std::string& en,
                   const std::vector<YearEntry>& a, const std::vector<YearEntry>& b) {
    std::map<int, const YearEntry*> old_by_year, new_by_year;
    for (const YearEntry& e : a) old_by_year[e.fiscal_year] = &e;
    for (const YearEntry& e : b) new_by_year[e.fiscal_year] = &e;
    auto text = [](const YearEntry& e, Lang lang) {
      if (e.value) return Num(*e.value);
      return Quote(e.text.Pick(lang));
    };
    for (const auto& [year, e] : new_by_year) {
      const std::string y = " " + std::to_string(year);
      auto old = old_by_year.find(year);
      if (old == old_by_year.end()) {
        Add(kpi, th + " ปี" + y + " เพิ่ม " + text(*e, Lang::kThai),
            en + y + " added " + text(*e, Lang::kEnglish));
      } else if (old->second->value != e->value || !Same(old->second->text, e->text)) {
        Changed(kpi, th + " ปี" + y, en + y, text(*old->second, Lang::kThai),
                text(*e, Lang::kThai), text(*old->second, Lang::kEnglish),
                text(*e, Lang::kEnglish));
      }
    }
    for (const auto& [year, e] : old_by_year) {
      if (new_by_year.count(year)) continue;
      const std::string y = " " + std::to_string(year);
      Add(kpi, th + " ปี" + y + " ลบ " + text(*e, Lang::kThai),
          en + y + " removed " + text(*e, Lang::kEnglish));
    }
  }

  std::string LevelName(size_t i, Lang lang) const {
    const auto& levels = after_.levels.size() > i ? after_.levels : before_.levels;
    if (i < levels.size() && !levels[i].name.Pick(lang).empty()) return levels[i].name.Pick(lang);
    return (lang == Lang::kThai ? "ระดับ " : "level ") + std::to_string(i + 1);
  }

  void Settings();
  void Components();
  void KpiChanges(const Kpi* a, const Kpi* b, const std::string& parent_th,
                  const std::string& parent_en);
  void Variables(const std::string& kpi, const std::string& th, const std::string& en,
                 const Kpi& a, const Kpi& b);
  void References(const std::string& kpi, const std::string& th, const std::string& en,
                  const Kpi& a, const Kpi& b);
  void Documentation(const std::string& kpi, const std::string& th, const std::string& en,
                     const KpiDocumentation& a, const KpiDocumentation& b);
  void Assignments();

  const Framework& before_;
  const Framework& after_;
  std::vector<FrameworkChange> out_;
};

void Differ::Settings() {
  if (before_.fiscal_year != after_.fiscal_year) {
    Changed("", "ปีงบประมาณ", "fiscal year", std::to_string(before_.fiscal_year),
            std::to_string(after_.fiscal_year));
  }
  TextField("", "ชื่อกรอบการประเมิน", "framework title", before_.title, after_.title);
  const size_t n = std::max(before_.levels.size(), after_.levels.size());
  for (size_t i = 0; i < n; ++i) {
    const std::string th = "คะแนนของ" + LevelName(i, Lang::kThai);
    const std::string en = "points of the " + LevelName(i, Lang::kEnglish) + " level";
    if (i >= before_.levels.size()) {
      Add("", th + " เพิ่ม " + Num(after_.levels[i].points),
          en + " added " + Num(after_.levels[i].points));
    } else if (i >= after_.levels.size()) {
      Add("", th + " ลบ", en + " removed");
    } else {
      TextField("", "ชื่อระดับที่ " + std::to_string(i + 1), "name of level " + std::to_string(i + 1),
                before_.levels[i].name, after_.levels[i].name);
      if (before_.levels[i].points != after_.levels[i].points) {
        Changed("", th, en, Num(before_.levels[i].points), Num(after_.levels[i].points));
      }
    }
  }
  if (before_.below_basic.rule != after_.below_basic.rule ||
      before_.below_basic.zero_point != after_.below_basic.zero_point) {
    Changed("", "ผลต่ำกว่าเป้าหมายขั้นต้น", "a result below the basic target",
            BelowBasicText(before_.below_basic, Lang::kThai),
            BelowBasicText(after_.below_basic, Lang::kThai),
            BelowBasicText(before_.below_basic, Lang::kEnglish),
            BelowBasicText(after_.below_basic, Lang::kEnglish));
  }
  if (before_.disordered_targets != after_.disordered_targets) {
    auto text = [](DisorderedTargets d, Lang lang) -> std::string {
      if (d == DisorderedTargets::kRaise) return lang == Lang::kThai ? "ยกขึ้นเท่าระดับก่อนหน้า" : "raised";
      return lang == Lang::kThai ? "ข้ามระดับนั้น" : "skipped";
    };
    Changed("", "ค่าเป้าหมายที่กลับทิศ", "targets out of order",
            text(before_.disordered_targets, Lang::kThai),
            text(after_.disordered_targets, Lang::kThai),
            text(before_.disordered_targets, Lang::kEnglish),
            text(after_.disordered_targets, Lang::kEnglish));
  }
  const Decimals& da = before_.decimals;
  const Decimals& db = after_.decimals;
  if (da.result != db.result) {
    Changed("", "ทศนิยมของผลการดำเนินงาน", "decimals of results", std::to_string(da.result),
            std::to_string(db.result));
  }
  if (da.score != db.score) {
    Changed("", "ทศนิยมของคะแนน", "decimals of scores", std::to_string(da.score),
            std::to_string(db.score));
  }
  if (da.total != db.total) {
    Changed("", "ทศนิยมของคะแนนรวม", "decimals of totals", std::to_string(da.total),
            std::to_string(db.total));
  }
  const size_t g = std::max(before_.grades.size(), after_.grades.size());
  for (size_t i = 0; i < g; ++i) {
    if (i >= before_.grades.size()) {
      Add("", "ระดับผลการประเมิน " + Quote(after_.grades[i].name.th) + " ตั้งแต่ " +
                  Num(after_.grades[i].min_total) + " เพิ่ม",
          "grade " + Quote(after_.grades[i].name.en) + " from " + Num(after_.grades[i].min_total) +
              " added");
    } else if (i >= after_.grades.size()) {
      Add("", "ระดับผลการประเมิน " + Quote(before_.grades[i].name.th) + " ลบ",
          "grade " + Quote(before_.grades[i].name.en) + " removed");
    } else {
      TextField("", "ชื่อระดับผลการประเมินที่ " + std::to_string(i + 1),
                "name of grade " + std::to_string(i + 1), before_.grades[i].name,
                after_.grades[i].name);
      if (before_.grades[i].min_total != after_.grades[i].min_total) {
        Changed("", "คะแนนรวมขั้นต่ำของ " + Quote(after_.grades[i].name.th),
                "lowest total of " + Quote(after_.grades[i].name.en),
                Num(before_.grades[i].min_total), Num(after_.grades[i].min_total));
      }
    }
  }
}

void Differ::Components() {
  std::map<std::string, const Component*> old_by_id;
  for (const Component& c : before_.components) old_by_id[c.id] = &c;
  std::set<std::string> seen;
  for (const Component& c : after_.components) {
    seen.insert(c.id);
    auto old = old_by_id.find(c.id);
    const std::string th = "องค์ประกอบ " + Quote(c.name.Pick(Lang::kThai));
    const std::string en = "component " + Quote(c.name.Pick(Lang::kEnglish));
    if (old == old_by_id.end()) {
      Add("", th + " เพิ่ม สัดส่วน " + Num(c.share), en + " added, share " + Num(c.share));
      continue;
    }
    TextField("", "ชื่อองค์ประกอบ " + c.id, "name of component " + c.id, old->second->name, c.name);
    if (old->second->share != c.share) {
      Changed("", th + ": สัดส่วน", en + ": share", Num(old->second->share), Num(c.share));
    }
  }
  for (const Component& c : before_.components) {
    if (seen.count(c.id)) continue;
    Add("", "องค์ประกอบ " + Quote(c.name.Pick(Lang::kThai)) + " ลบ",
        "component " + Quote(c.name.Pick(Lang::kEnglish)) + " removed");
  }
}

void Differ::KpiChanges(const Kpi* a, const Kpi* b, const std::string& parent_th,
                        const std::string& parent_en) {
  const Kpi& any = b ? *b : *a;
  const std::string kpi = any.id;
  const std::string th = parent_th + "ตัวชี้วัด " + kpi + ":";
  const std::string en = parent_en + "KPI " + kpi + ":";
  if (!a) {
    Add(kpi, th + " เพิ่ม " + Quote(b->name.Pick(Lang::kThai)),
        en + " added " + Quote(b->name.Pick(Lang::kEnglish)));
    return;
  }
  if (!b) {
    Add(kpi, th + " ลบ " + Quote(a->name.Pick(Lang::kThai)),
        en + " removed " + Quote(a->name.Pick(Lang::kEnglish)));
    return;
  }
  TextField(kpi, th + " ชื่อ", en + " name", a->name, b->name);
  if (a->key != b->key) Changed(kpi, th + " รหัสข้ามปี", en + " key", Quote(a->key), Quote(b->key));
  if (a->component != b->component) {
    Changed(kpi, th + " องค์ประกอบ", en + " component", Quote(a->component), Quote(b->component));
  }
  const std::string flags_a = FlagsText(*a, Lang::kThai), flags_b = FlagsText(*b, Lang::kThai);
  if (flags_a != flags_b) {
    Changed(kpi, th + " ลักษณะ", en + " flags", flags_a, flags_b, FlagsText(*a, Lang::kEnglish),
            FlagsText(*b, Lang::kEnglish));
  }
  TextField(kpi, th + " หน่วย", en + " unit", a->unit, b->unit);
  if (a->rounds != b->rounds) {
    Changed(kpi, th + " รอบที่ประเมิน", en + " rounds scored", Rounds(a->rounds), Rounds(b->rounds));
  }
  if (a->weight_in_parent != b->weight_in_parent) {
    Changed(kpi, th + " สัดส่วนในตัวชี้วัดหลัก", en + " share of its parent",
            Num(a->weight_in_parent), Num(b->weight_in_parent));
  }
  if (a->result != b->result) {
    Changed(kpi, th + " สูตรคำนวณผล", en + " result formula", Quote(a->result), Quote(b->result));
  }
  Variables(kpi, th, en, *a, *b);
  References(kpi, th, en, *a, *b);
  if (a->cases.has_value() != b->cases.has_value()) {
    Add(kpi, th + (b->cases ? " คำนวณผลจากบันทึกเรื่อง" : " ไม่คำนวณผลจากบันทึกเรื่องแล้ว"),
        en + (b->cases ? " computed from case records" : " no longer computed from case records"));
  }
  if (a->criteria.has_value() != b->criteria.has_value()) {
    Add(kpi,
        th + (b->criteria ? " มีเกณฑ์ของตนเอง (ไม่ใช่ตัวชี้วัดประกอบ)" : " เป็นตัวชี้วัดประกอบจากตัวชี้วัดย่อย"),
        en + (b->criteria ? " has criteria of its own (no longer composite)"
                          : " composite of its sub-KPIs"));
  } else if (a->criteria) {
    CriteriaChanges(kpi, th, en, *a->criteria, *b->criteria);
  }
  Documentation(kpi, th, en, a->doc, b->doc);
  std::set<std::string> seen;
  for (const Kpi& sub : b->sub_kpis) {
    seen.insert(sub.id);
    KpiChanges(FindTop(a->sub_kpis, sub.id), &sub, th + " ", en + " ");
  }
  for (const Kpi& sub : a->sub_kpis) {
    if (!seen.count(sub.id)) KpiChanges(&sub, nullptr, th + " ", en + " ");
  }
}

void Differ::Variables(const std::string& kpi, const std::string& th, const std::string& en,
                       const Kpi& a, const Kpi& b) {
  std::map<std::string, const Variable*> old_by_id;
  for (const Variable& v : a.variables) old_by_id[v.id] = &v;
  std::set<std::string> seen;
  for (const Variable& v : b.variables) {
    seen.insert(v.id);
    const std::string vth = th + " ข้อมูล " + Quote(v.name.Pick(Lang::kThai).empty() ? v.id : v.name.Pick(Lang::kThai));
    const std::string ven = en + " value " + Quote(v.name.Pick(Lang::kEnglish).empty() ? v.id : v.name.Pick(Lang::kEnglish));
    auto old = old_by_id.find(v.id);
    if (old == old_by_id.end()) {
      Add(kpi, vth + " เพิ่ม", ven + " added");
      continue;
    }
    const Variable& o = *old->second;
    TextField(kpi, vth + " ชื่อ", ven + " name", o.name, v.name);
    TextField(kpi, vth + " หน่วย", ven + " unit", o.unit, v.unit);
    if (o.type != v.type) {
      Changed(kpi, vth + " ชนิด", ven + " type", TypeName(o.type, Lang::kThai),
              TypeName(v.type, Lang::kThai), TypeName(o.type, Lang::kEnglish),
              TypeName(v.type, Lang::kEnglish));
    }
    if (o.length != v.length) {
      Changed(kpi, vth + " จำนวนรายการ", ven + " length", std::to_string(o.length),
              std::to_string(v.length));
    }
    if (o.formula != v.formula) {
      Changed(kpi, vth + " สูตร", ven + " formula", Quote(o.formula), Quote(v.formula));
    }
    if (o.optional != v.optional) {
      Add(kpi, vth + (v.optional ? " ไม่รายงานได้ (นับเป็น 0)" : " ต้องรายงาน"),
          ven + (v.optional ? " may be left out (counts as 0)" : " must be reported"));
    }
    if (o.min != v.min) Changed(kpi, vth + " ค่าต่ำสุด", ven + " minimum", Num(o.min), Num(v.min));
    if (o.max != v.max) Changed(kpi, vth + " ค่าสูงสุด", ven + " maximum", Num(o.max), Num(v.max));
  }
  for (const Variable& v : a.variables) {
    if (seen.count(v.id)) continue;
    Add(kpi, th + " ข้อมูล " + Quote(v.name.Pick(Lang::kThai).empty() ? v.id : v.name.Pick(Lang::kThai)) + " ลบ",
        en + " value " + Quote(v.name.Pick(Lang::kEnglish).empty() ? v.id : v.name.Pick(Lang::kEnglish)) + " removed");
  }
}

std::string ReferenceText(const Reference& r, Lang lang) {
  const bool th = lang == Lang::kThai;
  std::string out = (r.kpi.empty() ? "" : (th ? "ตัวชี้วัด " : "KPI ") + r.kpi + " ") + r.variable;
  if (r.fiscal_year != 0) out += (th ? " ปี " : " FY") + std::to_string(r.fiscal_year);
  out += (th ? " รอบ " : " round ") + std::to_string(r.round);
  if (r.from_result) {
    out += (th ? " (จากผลการประเมินของ " : " (from the published ") + r.from_result->key +
           (r.from_result->score ? (th ? " คะแนน)" : " score)") : (th ? ")" : " result)"));
  }
  return out;
}

void Differ::References(const std::string& kpi, const std::string& th, const std::string& en,
                        const Kpi& a, const Kpi& b) {
  std::map<std::string, const Reference*> old_by_name;
  for (const Reference& r : a.references) old_by_name[r.name] = &r;
  std::set<std::string> seen;
  for (const Reference& r : b.references) {
    seen.insert(r.name);
    const std::string rth = th + " ข้อมูลพื้นฐาน " + r.name;
    const std::string ren = en + " baseline " + r.name;
    auto old = old_by_name.find(r.name);
    if (old == old_by_name.end()) {
      Add(kpi, rth + " เพิ่ม: " + ReferenceText(r, Lang::kThai),
          ren + " added: " + ReferenceText(r, Lang::kEnglish));
      continue;
    }
    const std::string was_th = ReferenceText(*old->second, Lang::kThai);
    const std::string now_th = ReferenceText(r, Lang::kThai);
    if (was_th != now_th) {
      Changed(kpi, rth, ren, was_th, now_th, ReferenceText(*old->second, Lang::kEnglish),
              ReferenceText(r, Lang::kEnglish));
    }
  }
  for (const Reference& r : a.references) {
    if (!seen.count(r.name)) {
      Add(kpi, th + " ข้อมูลพื้นฐาน " + r.name + " ลบ", en + " baseline " + r.name + " removed");
    }
  }
}

void Differ::Documentation(const std::string& kpi, const std::string& th, const std::string& en,
                           const KpiDocumentation& a, const KpiDocumentation& b) {
  TextField(kpi, th + " คำอธิบาย", en + " description", a.description, b.description);
  TextList(kpi, th + " นิยาม", en + " definition", a.definitions, b.definitions);
  TextField(kpi, th + " ขอบเขตการประเมิน", en + " scope", a.scope, b.scope);
  TextField(kpi, th + " วิธีการเก็บข้อมูล", en + " data collection", a.data_collection,
            b.data_collection);
  TextField(kpi, th + " แหล่งที่มาของข้อมูล", en + " data source", a.data_source, b.data_source);
  TextField(kpi, th + " สูตรคำนวณ", en + " formula", a.formula_text, b.formula_text);
  YearEntries(kpi, th + " ข้อมูลพื้นฐาน", en + " baseline", a.baseline, b.baseline);
  YearEntries(kpi, th + " แผนระยะยาว", en + " roadmap", a.roadmap, b.roadmap);
  TextList(kpi, th + " ขั้นตอนการดำเนินงาน", en + " step", a.steps, b.steps);
  TextField(kpi, th + " ประโยชน์ที่ประชาชนจะได้รับ", en + " benefit to citizens", a.benefit,
            b.benefit);
  std::map<std::string, const PlanLink*> old_links;
  for (const PlanLink& l : a.plan_links) old_links[l.plan] = &l;
  std::set<std::string> seen;
  for (const PlanLink& l : b.plan_links) {
    seen.insert(l.plan);
    auto old = old_links.find(l.plan);
    static const std::vector<LocalizedText> kNone;
    TextList(kpi, th + " ความเชื่อมโยงกับแผน " + l.plan, en + " link to plan " + l.plan,
             old == old_links.end() ? kNone : old->second->items, l.items);
  }
  for (const PlanLink& l : a.plan_links) {
    if (!seen.count(l.plan)) {
      Add(kpi, th + " ความเชื่อมโยงกับแผน " + l.plan + " ลบ", en + " link to plan " + l.plan + " removed");
    }
  }
}

void Differ::CriteriaChanges(const std::string& kpi, const std::string& th, const std::string& en,
                             const Criteria& a, const Criteria& b) {
  if (a.form != b.form) {
    Changed(kpi, th + " รูปแบบเกณฑ์", en + " form of criteria", FormName(a.form, Lang::kThai),
            FormName(b.form, Lang::kThai), FormName(a.form, Lang::kEnglish),
            FormName(b.form, Lang::kEnglish));
    return;
  }
  switch (b.form) {
    case CriteriaForm::kLevels: {
      const LevelsCriteria& la = a.levels;
      const LevelsCriteria& lb = b.levels;
      if (la.direction != lb.direction) {
        const bool lower = lb.direction == Direction::kLowerIsBetter;
        Add(kpi, th + (lower ? " ค่ายิ่งน้อยยิ่งดี" : " ค่ายิ่งมากยิ่งดี"),
            en + (lower ? " lower is better" : " higher is better"));
      }
      if (la.scoring != lb.scoring) {
        const bool step = lb.scoring == LevelScoring::kStep;
        Add(kpi, th + (step ? " ให้คะแนนตามระดับที่ถึง (ไม่เทียบสัดส่วน)" : " เทียบสัดส่วนระหว่างระดับ"),
            en + (step ? " scored by the level reached (no interpolation)"
                       : " interpolated between levels"));
      }
      const size_t n = std::max(la.targets.size(), lb.targets.size());
      for (size_t i = 0; i < n; ++i) {
        static const Target kNone;
        const Target& ta = i < la.targets.size() ? la.targets[i] : kNone;
        const Target& tb = i < lb.targets.size() ? lb.targets[i] : kNone;
        if (ta.present == tb.present && ta.expression == tb.expression && ta.strict == tb.strict) {
          continue;
        }
        Changed(kpi, th + " " + LevelName(i, Lang::kThai), en + " " + LevelName(i, Lang::kEnglish),
                TargetText(ta, Lang::kThai), TargetText(tb, Lang::kThai),
                TargetText(ta, Lang::kEnglish), TargetText(tb, Lang::kEnglish));
      }
      const bool bb_same = la.below_basic.has_value() == lb.below_basic.has_value() &&
                           (!la.below_basic || (la.below_basic->rule == lb.below_basic->rule &&
                                                la.below_basic->zero_point == lb.below_basic->zero_point));
      if (!bb_same) {
        Changed(kpi, th + " ผลต่ำกว่าเป้าหมายขั้นต้น", en + " a result below the basic target",
                BelowBasicText(la.below_basic, Lang::kThai),
                BelowBasicText(lb.below_basic, Lang::kThai),
                BelowBasicText(la.below_basic, Lang::kEnglish),
                BelowBasicText(lb.below_basic, Lang::kEnglish));
      }
      break;
    }
    case CriteriaForm::kMilestones: {
      if (a.milestones.cumulative != b.milestones.cumulative) {
        const bool c = b.milestones.cumulative;
        Add(kpi, th + (c ? " ต้องผ่านขั้นก่อนหน้าทุกขั้น" : " แต่ละขั้นนับแยกกัน"),
            en + (c ? " milestones are cumulative" : " each level's milestones count alone"));
      }
      const size_t n = std::max(a.milestones.levels.size(), b.milestones.levels.size());
      for (size_t i = 0; i < n; ++i) {
        static const std::vector<Milestone> kNone;
        const auto& ma = i < a.milestones.levels.size() ? a.milestones.levels[i] : kNone;
        const auto& mb = i < b.milestones.levels.size() ? b.milestones.levels[i] : kNone;
        std::vector<LocalizedText> ta, tb;
        for (const Milestone& m : ma) ta.push_back(m.text);
        for (const Milestone& m : mb) tb.push_back(m.text);
        TextList(kpi, th + " " + LevelName(i, Lang::kThai) + " ขั้นความสำเร็จ",
                 en + " " + LevelName(i, Lang::kEnglish) + " milestone", ta, tb);
        const size_t m = std::min(ma.size(), mb.size());
        for (size_t j = 0; j < m; ++j) {
          if (ma[j].variable != mb[j].variable) {
            Changed(kpi, th + " " + LevelName(i, Lang::kThai) + " ขั้นที่ " + std::to_string(j + 1) + " ข้อมูลที่ใช้",
                    en + " " + LevelName(i, Lang::kEnglish) + " milestone " + std::to_string(j + 1) + " value",
                    ma[j].variable, mb[j].variable);
          }
          // A due date moved (or set, or dropped) changes which reports count as on time.
          const std::string due_a = ma[j].due ? IsoDate(*ma[j].due) + " (" + ma[j].reached + ")" : "–";
          const std::string due_b = mb[j].due ? IsoDate(*mb[j].due) + " (" + mb[j].reached + ")" : "–";
          if (due_a != due_b) {
            Changed(kpi, th + " " + LevelName(i, Lang::kThai) + " ขั้นที่ " + std::to_string(j + 1) + " วันที่กำหนด",
                    en + " " + LevelName(i, Lang::kEnglish) + " milestone " + std::to_string(j + 1) + " due date",
                    due_a, due_b);
          }
        }
      }
      break;
    }
    case CriteriaForm::kPoints: {
      std::map<std::string, const PointsItem*> old_items;
      for (const PointsItem& p : a.points.items) old_items[p.id] = &p;
      std::set<std::string> seen;
      for (const PointsItem& p : b.points.items) {
        seen.insert(p.id);
        const std::string pth = th + " องค์ประกอบคะแนน " + Quote(p.text.Pick(Lang::kThai));
        const std::string pen = en + " item " + Quote(p.text.Pick(Lang::kEnglish));
        auto old = old_items.find(p.id);
        if (old == old_items.end()) {
          Add(kpi, pth + " เพิ่ม " + Num(p.points) + " คะแนน", pen + " added, " + Num(p.points) + " points");
          continue;
        }
        const PointsItem& o = *old->second;
        TextField(kpi, th + " องค์ประกอบคะแนน " + p.id + " ข้อความ", en + " item " + p.id + " text",
                  o.text, p.text);
        if (o.points != p.points) Changed(kpi, pth + " คะแนน", pen + " points", Num(o.points), Num(p.points));
        if (o.condition != p.condition) {
          Changed(kpi, pth + " เงื่อนไข", pen + " condition", Quote(o.condition), Quote(p.condition));
        }
        if (o.prerequisites != p.prerequisites) {
          Changed(kpi, pth + " ต้องผ่านก่อน", pen + " prerequisites", Join(o.prerequisites),
                  Join(p.prerequisites));
        }
      }
      for (const PointsItem& p : a.points.items) {
        if (seen.count(p.id)) continue;
        Add(kpi, th + " องค์ประกอบคะแนน " + Quote(p.text.Pick(Lang::kThai)) + " ลบ",
            en + " item " + Quote(p.text.Pick(Lang::kEnglish)) + " removed");
      }
      break;
    }
    case CriteriaForm::kConditions: {
      const size_t n = std::max(a.conditions.levels.size(), b.conditions.levels.size());
      for (size_t i = 0; i < n; ++i) {
        const std::string ca = i < a.conditions.levels.size() ? a.conditions.levels[i] : "";
        const std::string cb = i < b.conditions.levels.size() ? b.conditions.levels[i] : "";
        if (ca == cb) continue;
        Changed(kpi, th + " เงื่อนไขของ" + LevelName(i, Lang::kThai),
                en + " condition of the " + LevelName(i, Lang::kEnglish) + " level", Quote(ca),
                Quote(cb));
      }
      break;
    }
    case CriteriaForm::kGroups: {
      if (a.groups.by != b.groups.by) {
        Changed(kpi, th + " แบ่งกลุ่มตาม", en + " groups chosen by", Quote(a.groups.by),
                Quote(b.groups.by));
      }
      if (a.groups.integer != b.groups.integer) {
        Add(kpi, th + (b.groups.integer ? " ค่าที่ใช้แบ่งกลุ่มเป็นจำนวนเต็ม" : " ค่าที่ใช้แบ่งกลุ่มมีทศนิยมได้"),
            en + (b.groups.integer ? " the grouping value is a whole number"
                                   : " the grouping value may have decimals"));
      }
      std::map<std::string, const Group*> old_groups;
      for (const Group& g : a.groups.groups) old_groups[g.id] = &g;
      std::set<std::string> seen;
      for (const Group& g : b.groups.groups) {
        seen.insert(g.id);
        const std::string gth = th + " กลุ่ม " + g.id + ":";
        const std::string gen = en + " group " + g.id + ":";
        auto old = old_groups.find(g.id);
        if (old == old_groups.end()) {
          Add(kpi, gth + " เพิ่ม (" + g.range.ToString() + ")", gen + " added (" + g.range.ToString() + ")");
          continue;
        }
        const Group& o = *old->second;
        TextField(kpi, gth + " ชื่อ", gen + " name", o.name, g.name);
        if (o.range.ToString() != g.range.ToString()) {
          Changed(kpi, gth + " ช่วง", gen + " range", o.range.ToString(), g.range.ToString());
        }
        if (o.criteria && g.criteria) {
          CriteriaChanges(kpi, gth, gen, *o.criteria, *g.criteria);
        }
      }
      for (const Group& g : a.groups.groups) {
        if (!seen.count(g.id)) Add(kpi, th + " กลุ่ม " + g.id + " ลบ", en + " group " + g.id + " removed");
      }
      break;
    }
  }
  const size_t n = std::max(a.level_texts.size(), b.level_texts.size());
  for (size_t i = 0; i < n; ++i) {
    static const LocalizedText kEmpty;
    TextField(kpi, th + " ข้อความของ" + LevelName(i, Lang::kThai),
              en + " wording of the " + LevelName(i, Lang::kEnglish) + " level",
              i < a.level_texts.size() ? a.level_texts[i] : kEmpty,
              i < b.level_texts.size() ? b.level_texts[i] : kEmpty);
  }
}

// One agency pattern's (an agency code, or "*") settings for one KPI after every rule applied.
struct Effective {
  std::optional<double> weight;
  const Criteria* criteria = nullptr;
  bool exempt = false;
  LocalizedText reason;
};

std::map<std::pair<std::string, std::string>, Effective> Flatten(const Framework& fw) {
  std::map<std::pair<std::string, std::string>, Effective> out;
  for (const AssignmentRule& rule : fw.assignments) {
    for (const std::string& agency : rule.agencies) {
      for (const AssignedKpi& k : rule.kpis) {
        Effective& e = out[{agency, k.kpi}];
        if (k.weight) e.weight = k.weight;
        if (k.criteria) e.criteria = k.criteria.get();
        if (k.exempt) {
          e.exempt = true;
          e.reason = k.exempt_reason;
        }
      }
    }
  }
  return out;
}

void Differ::Assignments() {
  const auto a = Flatten(before_);
  const auto b = Flatten(after_);
  auto who = [](const std::string& agency, Lang lang) -> std::string {
    if (agency == "*") return lang == Lang::kThai ? "ทุกหน่วยงาน" : "every agency";
    return (lang == Lang::kThai ? "หน่วยงาน " : "agency ") + agency;
  };
  for (const auto& [key, e] : b) {
    const auto& [agency, kpi] = key;
    const std::string th = who(agency, Lang::kThai) + " ตัวชี้วัด " + kpi + ":";
    const std::string en = who(agency, Lang::kEnglish) + " KPI " + kpi + ":";
    auto old = a.find(key);
    static const Effective kNone;
    const bool added = old == a.end();
    const Effective& o = added ? kNone : old->second;
    if (added && e.weight) {
      Add(kpi, th + " มอบหมาย น้ำหนัก " + Num(e.weight), en + " assigned, weight " + Num(e.weight));
    } else if (o.weight != e.weight) {
      Changed(kpi, th + " น้ำหนัก", en + " weight", Num(o.weight), Num(e.weight));
    }
    if (o.exempt != e.exempt) {
      Add(kpi, th + (e.exempt ? " ยกเว้นการประเมิน " + Quote(e.reason.Pick(Lang::kThai)) : " ไม่ยกเว้นแล้ว"),
          en + (e.exempt ? " exempt " + Quote(e.reason.Pick(Lang::kEnglish)) : " no longer exempt"));
    }
    if ((o.criteria == nullptr) != (e.criteria == nullptr)) {
      Add(kpi, th + (e.criteria ? " มีค่าเป้าหมายเฉพาะหน่วยงาน" : " ใช้ค่าเป้าหมายของกรอบการประเมิน"),
          en + (e.criteria ? " has targets of its own" : " uses the framework's targets"));
    } else if (o.criteria) {
      CriteriaChanges(kpi, th + " ค่าเป้าหมายเฉพาะ:", en + " own targets:", *o.criteria, *e.criteria);
    }
  }
  for (const auto& [key, e] : a) {
    if (b.count(key)) continue;
    Add(key.second, who(key.first, Lang::kThai) + " ตัวชี้วัด " + key.second + ": เลิกมอบหมาย",
        who(key.first, Lang::kEnglish) + " KPI " + key.second + ": no longer assigned");
  }
}

}  // namespace

std::vector<FrameworkChange> DiffFrameworks(const Framework& before, const Framework& after) {
  return Differ(before, after).Run();
}

}  // namespace esar::domain
