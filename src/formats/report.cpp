#include "formats/report.h"

#include <fmt/format.h>

#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "domain/criteria_view.h"
#include "domain/expression.h"
#include "domain/from_agencies.h"
#include "domain/history.h"
#include "formats/csv.h"

namespace esar::formats {
namespace {

using domain::KpiScore;
using domain::KpiStatus;
using domain::TraceKind;
using nlohmann::json;

bool Th(Lang lang) { return lang == Lang::kThai; }

// fmt::format with the Thai or the English pattern.
template <typename... Args>
std::string Tr(bool thai, const char* th, const char* en, Args&&... args) {
  return fmt::format(fmt::runtime(thai ? th : en), std::forward<Args>(args)...);
}

// A number for reading: up to four decimals, trailing zeros dropped ("385", "299.25").
std::string Short(double v) {
  std::string s = FormatDecimal(v, 4);
  if (s.find('.') != std::string::npos) {
    s.erase(s.find_last_not_of('0') + 1);
    if (s.back() == '.') s.pop_back();
  }
  return s;
}

json NumberOrNull(double v) { return std::isnan(v) ? json(nullptr) : json(v); }

std::string LevelName(const domain::Framework& fw, int level, Lang lang) {
  if (level < 0 || static_cast<size_t>(level) >= fw.levels.size())
    return Th(lang) ? "ต่ำกว่าขั้นต้น" : "below basic";
  const auto& l = fw.levels[static_cast<size_t>(level)];
  return l.name.Pick(lang) + " (" + Short(l.points) + ")";
}

// A day of the calendar as people read it: "31 ธ.ค. 2563" / "31 Dec 2020".
std::string DayText(double day, Lang lang) {
  // Noon UTC of that day is the same day in Bangkok (UTC+7), where FormatDate reads it.
  return FormatDate(static_cast<int64_t>(day) * 86'400'000 + 43'200'000, lang);
}

// The explanation of a dated milestone (TraceKind::kMilestone with flag2): "✗ ขั้นที่ 2
// อนุมัติแผน: บรรลุ 15 ม.ค. 2564 หลังกำหนด 31 ธ.ค. 2563 จึงไม่นับ".
std::string DatedMilestoneLine(const domain::TraceStep& s, Lang lang) {
  const bool th = Th(lang);
  const std::string head = Tr(th, "{} ขั้นที่ {} {}", "{} step {} {}", s.flag ? "✓" : "✗", s.level + 1,
                              s.name.empty() ? s.id : s.name.Pick(lang));
  const std::string due = DayText(s.value, lang);
  if (s.detail == "on_time") {
    return head + Tr(th, ": บรรลุ {} ภายในกำหนด {} — ผ่าน",
                     ": reached on {}, by its due date {} — passed", DayText(s.value2, lang), due);
  }
  if (s.detail == "late") {
    return head + Tr(th, ": บรรลุ {} หลังกำหนด {} จึงไม่นับ",
                     ": reached on {}, after its due date {}, so it does not count",
                     DayText(s.value2, lang), due);
  }
  if (s.detail == "no_date") {
    return head + Tr(th, ": รายงานว่าบรรลุแต่ไม่ได้ระบุวันที่บรรลุ (กำหนด {}) จึงไม่นับ",
                     ": reported reached without the date it was reached (due {}), so it does "
                     "not count",
                     due);
  }
  return head + Tr(th, ": ยังไม่บรรลุ (กำหนด {}) — ไม่ผ่าน", ": not reached (due {}) — not passed", due);
}

std::string StatusText(KpiStatus s, Lang lang) {
  switch (s) {
    case KpiStatus::kScored:
      return Th(lang) ? "ประเมินแล้ว" : "scored";
    case KpiStatus::kExempt:
      return Th(lang) ? "ยกเว้น" : "exempt";
    case KpiStatus::kMonitoring:
      return Th(lang) ? "ติดตามผล" : "monitoring";
    case KpiStatus::kMissing:
      return Th(lang) ? "ไม่มีผล" : "missing";
  }
  return "";
}

const domain::Agency* FindAgency(const std::vector<domain::Agency>& agencies,
                                 const std::string& code) {
  for (const auto& a : agencies) {
    if (a.code == code) return &a;
  }
  return nullptr;
}

std::string GradeName(const domain::Framework& fw, int grade, Lang lang) {
  return grade >= 0 ? fw.grades[static_cast<size_t>(grade)].name.Pick(lang) : "";
}

std::string Total(const domain::Framework& fw, double total) {
  return FormatDecimal(total, fw.decimals.total);
}

// The first line of a value computed from other agencies' results: what was computed and from
// how many agencies.
std::string PeerRuleLine(const domain::FromAgencies& rule, const domain::PeerComputation& c,
                         const std::string& variable, int rd, bool th) {
  std::string reached;
  if (rule.level > 0) {
    reached = Tr(th, "ถึงระดับ {} ขึ้นไป", "at level {} or above", rule.level);
  } else {
    if (rule.at_least)
      reached += Tr(th, "ผลอย่างน้อย {}", "a result of at least {}", Short(*rule.at_least));
    if (rule.at_most) {
      reached += (reached.empty() ? "" : (th ? " และ" : " and ")) +
                 Tr(th, "ผลไม่เกิน {}", "a result of at most {}", Short(*rule.at_most));
    }
  }
  size_t hits = 0;
  for (const domain::PeerEntry& e : c.counted) hits += e.reached ? 1 : 0;
  const size_t n = c.counted.size();
  std::string what;
  switch (rule.measure) {
    case domain::PeerMeasure::kShare:
      what =
          Tr(th, "ร้อยละของหน่วยงานที่ตัวชี้วัด {} {}: {} จาก {} หน่วยงาน",
             "share of agencies whose KPI {} is {}: {} of {} agencies", rule.key, reached, hits, n);
      break;
    case domain::PeerMeasure::kCount:
      what = Tr(th, "จำนวนหน่วยงานที่ตัวชี้วัด {} {}: {} จาก {} หน่วยงาน",
                "number of agencies whose KPI {} is {}: {} of {} agencies", rule.key, reached, hits,
                n);
      break;
    case domain::PeerMeasure::kAverage:
      what = Tr(th, "ค่าเฉลี่ยผลตัวชี้วัด {} ของ {} หน่วยงาน",
                "average of the results of KPI {} of {} agencies", rule.key, n);
      break;
    case domain::PeerMeasure::kSum:
      what = Tr(th, "ผลรวมผลตัวชี้วัด {} ของ {} หน่วยงาน", "sum of the results of KPI {} of {} agencies",
                rule.key, n);
      break;
    case domain::PeerMeasure::kMin:
      what = Tr(th, "ผลต่ำสุดของตัวชี้วัด {} ใน {} หน่วยงาน", "lowest result of KPI {} among {} agencies",
                rule.key, n);
      break;
    case domain::PeerMeasure::kMax:
      what = Tr(th, "ผลสูงสุดของตัวชี้วัด {} ใน {} หน่วยงาน", "highest result of KPI {} among {} agencies",
                rule.key, n);
      break;
  }
  if (std::isnan(c.value)) {
    return Tr(th, "{} คำนวณจากผลของหน่วยงานอื่นไม่ได้: ไม่มีหน่วยงานที่นับได้ ({})",
              "{} cannot be computed from other agencies' results: no agency counted ({})",
              variable, what);
  }
  return Tr(th, "{} = {} คำนวณจากผลของหน่วยงานอื่นในปีงบประมาณและรอบเดียวกัน — {}",
            "{} = {} computed from other agencies' results of the same fiscal year and round — {}",
            variable, FormatDecimal(c.value, rd), what);
}

// The agencies counted, each with its result and level (and, for a share or count, whether it
// reached).
std::string PeerCountedLine(const domain::FromAgencies& rule, const domain::PeerComputation& c,
                            int rd, bool th) {
  const bool counts =
      rule.measure == domain::PeerMeasure::kShare || rule.measure == domain::PeerMeasure::kCount;
  std::string list;
  for (const domain::PeerEntry& e : c.counted) {
    std::string item = e.agency + " (";
    item += std::isnan(e.result) ? (th ? "ไม่มีผล" : "no result")
                                 : (th ? "ผล " : "result ") + FormatDecimal(e.result, rd);
    if (rule.level > 0) item += Tr(th, " ระดับ {}", ", level {}", e.level);
    if (counts) item += e.reached ? (th ? " ถึง" : ", reached") : (th ? " ไม่ถึง" : ", not reached");
    item += ")";
    list += (list.empty() ? "" : ", ") + item;
  }
  return Tr(th, "หน่วยงานที่นับ ({}): {}", "agencies counted ({}): {}", c.counted.size(), list);
}

// The agencies of the set left out, each with why.
std::string PeerLeftOutLine(const domain::PeerComputation& c, bool th) {
  std::string list;
  for (const domain::PeerEntry& e : c.left_out) {
    std::string why = e.reason;
    if (e.reason == "exempt") why = th ? "ยกเว้นการประเมิน" : "exempt";
    if (e.reason == "missing") why = th ? "ไม่มีผล" : "no result reported";
    if (e.reason == "monitoring") why = th ? "ตัวชี้วัดติดตามผล ไม่มีระดับ" : "monitoring only, no level";
    if (e.reason == "no_result")
      why = th ? "ไม่มีผลของตัวชี้วัดนี้ในรอบนี้" : "no result of this KPI in this round";
    list += (list.empty() ? "" : ", ") + e.agency + " (" + why + ")";
  }
  return Tr(th, "หน่วยงานที่ไม่นับ ({}): {}", "agencies left out ({}): {}", c.left_out.size(), list);
}

json KpiJson(const domain::Framework& fw, const KpiScore& k, bool with_trace, Lang lang) {
  json j = {{"id", k.kpi},
            {"result", NumberOrNull(k.result)},
            {"score", k.score},
            {"weight", k.weight},
            {"weighted", k.weighted},
            {"status", domain::KpiStatusName(k.status)},
            {"result_text", FormatDecimal(k.result, fw.decimals.result)},
            {"score_text", FormatDecimal(k.score, fw.decimals.score)},
            {"level", k.level >= 0 ? json(k.level + 1) : json(nullptr)}};
  if (!k.group.empty()) j["group"] = k.group;
  if (!k.sub_kpis.empty()) {
    json subs = json::array();
    for (const KpiScore& s : k.sub_kpis) subs.push_back(KpiJson(fw, s, with_trace, lang));
    j["sub_kpis"] = subs;
  }
  if (with_trace) j["explanation"] = ExplainKpi(fw, k, lang);
  return j;
}

}  // namespace

json ScoresJson(const ScoreReport& report, bool with_trace, Lang lang) {
  const domain::Framework& fw = *report.framework;
  json agencies = json::array();
  for (const domain::AgencyScore& a : *report.scores) {
    const domain::Agency* agency = FindAgency(*report.agencies, a.agency);
    json kpis = json::array();
    for (const KpiScore& k : a.kpis) kpis.push_back(KpiJson(fw, k, with_trace, lang));
    json components = json::array();
    for (const auto& c : a.components)
      components.push_back({{"id", c.component}, {"share", c.share}, {"weighted", c.weighted}});
    json grade = a.grade >= 0 ? json(fw.grades[static_cast<size_t>(a.grade)].name.Pick(lang))
                              : json(nullptr);
    agencies.push_back({{"code", a.agency},
                        {"name", agency ? json({{"th", agency->name.th}, {"en", agency->name.en}})
                                        : json(nullptr)},
                        {"total", NumberOrNull(a.total)},
                        {"total_text", Total(fw, a.total)},
                        {"grade", grade},
                        {"scored_weight", a.scored_weight},
                        {"components", components},
                        {"kpis", kpis}});
  }
  return {{"fiscal_year", fw.fiscal_year}, {"round", report.round}, {"agencies", agencies}};
}

std::string ScoresCsv(const ScoreReport& report, Lang lang) {
  const domain::Framework& fw = *report.framework;
  std::string out =
      "agency,agency_name,kpi,status,result,score,weight,weighted,level,group,total,grade\n";
  for (const domain::AgencyScore& a : *report.scores) {
    const domain::Agency* agency = FindAgency(*report.agencies, a.agency);
    const std::string name = agency ? agency->name.Pick(lang) : "";
    for (const KpiScore& k : a.kpis) {
      out += fmt::format("{},{},{},{},{},{},{},{},{},{},{},{}\n", CsvEscape(a.agency),
                         CsvEscape(name), CsvEscape(k.kpi), domain::KpiStatusName(k.status),
                         std::isnan(k.result) ? "" : FormatDecimal(k.result, fw.decimals.result),
                         FormatDecimal(k.score, fw.decimals.score), Short(k.weight),
                         FormatDecimal(k.weighted, 4),
                         k.level >= 0 ? std::to_string(k.level + 1) : "", CsvEscape(k.group),
                         Total(fw, a.total), CsvEscape(GradeName(fw, a.grade, lang)));
    }
  }
  return out;
}

std::string ScoresTable(const ScoreReport& report, Lang lang) {
  const domain::Framework& fw = *report.framework;
  std::string out;
  out += Th(lang) ? fmt::format("ปีงบประมาณ พ.ศ. {} รอบ {} เดือน — {} หน่วยงาน\n", fw.fiscal_year,
                                report.round, report.scores->size())
                  : fmt::format("Fiscal year {} (B.E.), {}-month round — {} agencies\n",
                                fw.fiscal_year, report.round, report.scores->size());
  for (const domain::AgencyScore& a : *report.scores) {
    const domain::Agency* agency = FindAgency(*report.agencies, a.agency);
    out += fmt::format("\n{} {}\n", a.agency, agency ? agency->name.Pick(lang) : "");
    out += fmt::format("  {} {}  {}\n", Th(lang) ? "คะแนนรวม" : "total", Total(fw, a.total),
                       GradeName(fw, a.grade, lang));
    out += fmt::format("  {:<8} {:>10} {:>8} {:>7} {:>9}  {}\n", Th(lang) ? "ตัวชี้วัด" : "KPI",
                       Th(lang) ? "ผล" : "result", Th(lang) ? "คะแนน" : "score",
                       Th(lang) ? "น้ำหนัก" : "weight", Th(lang) ? "ถ่วงน้ำหนัก" : "weighted",
                       Th(lang) ? "สถานะ" : "status");
    for (const KpiScore& k : a.kpis) {
      out += fmt::format(
          "  {:<8} {:>10} {:>8} {:>7} {:>9}  {}{}\n", k.kpi,
          std::isnan(k.result) ? "-" : FormatDecimal(k.result, fw.decimals.result),
          k.status == KpiStatus::kExempt ? "-" : FormatDecimal(k.score, fw.decimals.score),
          Short(k.weight), FormatDecimal(k.weighted, 3), StatusText(k.status, lang),
          k.group.empty() ? "" : (Th(lang) ? " กลุ่ม " : " group ") + k.group);
    }
  }
  return out;
}

std::vector<std::string> ExplainKpi(const domain::Framework& fw, const KpiScore& k, Lang lang) {
  const bool th = Th(lang);
  const int rd = fw.decimals.result;
  const int sd = fw.decimals.score;
  // A formula name as the agencies read it, the name itself beside it so that the formulas in
  // the lines below can still be followed: "คะแนนตัวชี้วัด ปี 2566 (s)". A formula, or a name the
  // framework gives no words, stays as written.
  const domain::Kpi* kpi = domain::FindKpi(fw.kpis, k.kpi);
  const auto named = [&](const std::string& name) {
    if (kpi == nullptr || !domain::IsIdentifier(name)) return name;
    const auto label = domain::LabelOfName(fw, *kpi, name);
    if (!label || label->label.Pick(lang).empty()) return name;
    return label->label.Pick(lang) + " (" + name + ")";
  };
  std::vector<std::string> lines;
  for (const domain::TraceStep& s : k.trace) {
    switch (s.kind) {
      case TraceKind::kResult:
        lines.push_back(s.text.empty()
                            ? Tr(th, "ผลการดำเนินงาน {}", "result {}", FormatDecimal(s.value, rd))
                            : Tr(th, "ผลการดำเนินงาน = {} = {}", "result = {} = {}", s.text,
                                 FormatDecimal(s.value, rd)));
        break;
      case TraceKind::kGroupChosen:
        lines.push_back(Tr(th, "อยู่ในกลุ่ม {}{} เพราะ {} = {} ({})",
                           "in group {}{} because {} = {} ({})", s.id,
                           s.name.empty() ? "" : " " + s.name.Pick(lang), named(s.text),
                           Short(s.value), s.detail));
        break;
      case TraceKind::kNoGroup:
        lines.push_back(Tr(th, "{} = {} ไม่ตกอยู่ในกลุ่มใด จึงให้ 0 คะแนน",
                           "{} = {} falls in no group, so 0 points", named(s.text),
                           Short(s.value)));
        break;
      case TraceKind::kTarget:
        lines.push_back(Tr(th, "{}: {}{}{}", "{}: {}{}{}", LevelName(fw, s.level, lang),
                           s.flag ? (th ? "มากกว่า " : "above ") : "", Short(s.value),
                           s.text.empty() ? "" : " (" + s.text + ")"));
        break;
      case TraceKind::kTargetMissing:
        lines.push_back(Tr(th, "{}: ไม่กำหนด (-) ข้ามระดับนี้", "{}: not set (-), level skipped",
                           LevelName(fw, s.level, lang)));
        break;
      case TraceKind::kTargetRaised:
        lines.push_back(Tr(th, "{}: ค่าเป้าหมาย {} ต่ำกว่าระดับก่อนหน้า จึงใช้ {} แทน",
                           "{}: target {} is below the previous level's, so {} is used instead",
                           LevelName(fw, s.level, lang), Short(s.value), Short(s.value2)));
        break;
      case TraceKind::kTargetSkipped:
        lines.push_back(Tr(th, "{}: ค่าเป้าหมาย {} ต่ำกว่าระดับก่อนหน้า จึงข้ามระดับนี้",
                           "{}: target {} is below the previous level's, so the level is skipped",
                           LevelName(fw, s.level, lang), Short(s.value)));
        break;
      case TraceKind::kTopReached:
        lines.push_back(
            Tr(th, "ผลถึง{} ({}) ได้ {} คะแนน", "the result reaches the {} target ({}): {} points",
               LevelName(fw, s.level, lang), Short(s.value), FormatDecimal(s.value2, sd)));
        break;
      case TraceKind::kInterpolated:
        lines.push_back(Tr(
            th, "ผล {} อยู่ระหว่าง{} {} และ{} {}: {} + ({} − {}) ÷ ({} − {}) × ({} − {}) = {} คะแนน",
            "result {} lies between {} {} and {} {}: {} + ({} − {}) ÷ ({} − {}) × ({} − {}) = {} "
            "points",
            Short(s.value), LevelName(fw, s.level, lang), Short(s.value2),
            LevelName(fw, s.level2, lang), Short(s.value4), Short(s.value3), Short(s.value),
            Short(s.value2), Short(s.value4), Short(s.value2), Short(s.value5), Short(s.value3),
            FormatDecimal(s.value6, sd)));
        break;
      case TraceKind::kStepReached:
        lines.push_back(s.level >= 0 ? Tr(th, "ถึง{} ได้ {} คะแนน", "reaches {}: {} points",
                                          LevelName(fw, s.level, lang), FormatDecimal(s.value, sd))
                                     : std::string(th ? "ไม่ถึงระดับใด ได้ 0 คะแนน"
                                                      : "reaches no level: 0 points"));
        break;
      case TraceKind::kBelowBasic:
        lines.push_back(
            s.flag
                ? Tr(th, "ผล {} ต่ำกว่าเป้าหมายขั้นต้น {}: เทียบสัดส่วนจาก {} ได้ {} คะแนน",
                     "result {} is below the basic target {}: interpolated from {}, {} points",
                     Short(s.value), Short(s.value2), Short(s.value3), FormatDecimal(s.value6, sd))
                : Tr(th, "ผล {} ต่ำกว่าเป้าหมายขั้นต้น {}: 0 คะแนน",
                     "result {} is below the basic target {}: 0 points", Short(s.value),
                     Short(s.value2)));
        break;
      case TraceKind::kMilestone:
        if (s.flag2) {
          lines.push_back(DatedMilestoneLine(s, lang));
          break;
        }
        lines.push_back(
            fmt::format("{} {} — {}", s.flag ? "✓" : "✗", s.name.empty() ? s.id : s.name.Pick(lang),
                        s.flag ? (th ? "ผ่าน" : "passed") : (th ? "ไม่ผ่าน" : "not passed")));
        break;
      case TraceKind::kCondition:
        lines.push_back(
            Tr(th, "{} {}: {} — {}", "{} {}: {} — {}", s.flag ? "✓" : "✗",
               LevelName(fw, s.level, lang), s.text,
               s.flag ? (th ? "เป็นจริง" : "holds") : (th ? "ไม่เป็นจริง" : "does not hold")));
        break;
      case TraceKind::kPointsItem:
        lines.push_back(fmt::format("{} {} (+{}){}", s.flag ? "✓" : "✗",
                                    s.name.empty() ? s.id : s.name.Pick(lang), Short(s.value),
                                    s.flag2 ? (th ? " — ไม่นับ เพราะยังไม่ผ่านรายการที่ต้องมาก่อน"
                                                  : " — not counted: a prerequisite is not met")
                                            : ""));
        break;
      case TraceKind::kSubKpi:
        lines.push_back(Tr(th, "ตัวชี้วัดย่อย {}: {} คะแนน × {} ÷ 100 = {}",
                           "sub-KPI {}: {} points × {} ÷ 100 = {}", s.id,
                           FormatDecimal(s.value, sd), Short(s.value2), Short(s.value3)));
        break;
      case TraceKind::kWeight:
        lines.push_back(Tr(th, "น้ำหนัก {}: {} × {} ÷ 100 = {}", "weight {}: {} × {} ÷ 100 = {}",
                           Short(s.value2), FormatDecimal(s.value, sd), Short(s.value2),
                           Short(s.value3)));
        break;
      case TraceKind::kExempt:
        lines.push_back(th ? "ยกเว้นการประเมินตัวชี้วัดนี้" +
                                 (s.name.empty() ? std::string() : ": " + s.name.Pick(lang))
                           : "exempt from this KPI" +
                                 (s.name.empty() ? std::string() : ": " + s.name.Pick(lang)));
        break;
      case TraceKind::kNotInRound:
        lines.push_back(
            Tr(th, "ไม่ประเมินในรอบ {} เดือน", "not assessed in the {}-month round", Short(s.value)));
        break;
      case TraceKind::kMonitoring:
        lines.push_back(th ? "ตัวชี้วัดติดตามผล (Monitoring) ไม่นำมาคิดคะแนน"
                           : "monitoring only: not scored");
        break;
      case TraceKind::kMissing:
        lines.push_back(s.text == "baseline" ? Tr(th, "ไม่มีข้อมูลพื้นฐาน \"{}\" จึงให้ 0 คะแนน",
                                                  "no baseline \"{}\", so 0 points", s.id)
                                             : Tr(th, "ไม่ได้รายงาน \"{}\" จึงให้ 0 คะแนน",
                                                  "\"{}\" was not reported, so 0 points", s.id));
        break;
      case TraceKind::kBaseline: {
        const std::string value = FormatDecimal(s.value, s.flag ? sd : rd);
        const std::string what =
            s.flag ? (th ? "คะแนน" : "score") : (th ? "ผลการดำเนินงาน" : "result");
        if (s.text.empty()) {
          lines.push_back(Tr(th,
                             "ข้อมูลพื้นฐาน {} = {} นำเข้าแทนผลการประเมินปี {} ที่เผยแพร่แล้ว "
                             "(ตัวชี้วัด {} {} รอบ {} เดือน)",
                             "baseline {} = {} imported in place of the published FY{} results "
                             "(KPI {}, {}, {}-month round)",
                             named(s.id), value, s.level, s.detail, what, s.level2));
        } else {
          lines.push_back(
              Tr(th,
                 "ข้อมูลพื้นฐาน {} = {} จากผลการประเมินปี {} ที่เผยแพร่แล้ว "
                 "(ตัวชี้วัด {} {} รอบ {} เดือน{})",
                 "baseline {} = {} from the published FY{} results "
                 "(KPI {}, {}, {}-month round{})",
                 named(s.id), value, s.level, s.detail, what, s.level2,
                 s.text == domain::kFilledFromImported
                     ? (th ? " นำเข้าด้วย esar import results" : ", loaded by esar import results")
                     : ""));
        }
        break;
      }
      case TraceKind::kFromAgencies: {
        domain::FromAgencies rule;
        const auto c = domain::DecodePeerSource(s.detail, &rule);
        if (!c) break;
        lines.push_back(PeerRuleLine(rule, *c, s.id, rd, th));
        if (!c->counted.empty()) lines.push_back(PeerCountedLine(rule, *c, rd, th));
        if (!c->left_out.empty()) lines.push_back(PeerLeftOutLine(*c, th));
        break;
      }
      case TraceKind::kNotComputable:
        lines.push_back(Tr(th, "คำนวณ {} ไม่ได้ (เช่น หารด้วยศูนย์) จึงให้ 0 คะแนน",
                           "{} cannot be computed (e.g. division by zero), so 0 points", s.text));
        break;
    }
  }
  return lines;
}

std::string ExplainAgency(const ScoreReport& report, const domain::AgencyScore& a,
                          const std::string& kpi_filter, Lang lang) {
  const domain::Framework& fw = *report.framework;
  const bool th = Th(lang);
  const domain::Agency* agency = FindAgency(*report.agencies, a.agency);
  std::string out;
  std::string ministry;
  if (agency && !agency->parent.empty()) {
    const domain::Agency* parent = FindAgency(*report.agencies, agency->parent);
    ministry = " / " + (parent ? parent->name.Pick(lang) : agency->parent);
  }
  out += fmt::format("{} {}{}\n", a.agency, agency ? agency->name.Pick(lang) : "", ministry);
  out += th ? fmt::format("ปีงบประมาณ พ.ศ. {} รอบ {} เดือน\n", fw.fiscal_year, report.round)
            : fmt::format("Fiscal year {} (B.E.), {}-month round\n", fw.fiscal_year, report.round);
  const std::string grade = GradeName(fw, a.grade, lang);
  if (a.scored_weight == 100.0) {
    out += Tr(th, "คะแนนการประเมิน {}{}\n", "evaluation score {}{}\n", Total(fw, a.total),
              grade.empty() ? "" : " — " + grade);
  } else {
    out += Tr(th, "คะแนนการประเมิน {}{} (ปรับเทียบจากน้ำหนักที่ประเมิน {} เป็น 100)\n",
              "evaluation score {}{} (rescaled from the {} weight assessed to 100)\n",
              Total(fw, a.total), grade.empty() ? "" : " — " + grade, Short(a.scored_weight));
  }
  std::function<void(const KpiScore&, const std::string&)> print = [&](const KpiScore& k,
                                                                       const std::string& indent) {
    const domain::Kpi* kpi = domain::FindKpi(fw.kpis, k.kpi);
    out += fmt::format("\n{}{} {} {}\n", indent, th ? "ตัวชี้วัด" : "KPI", k.kpi,
                       kpi ? kpi->name.Pick(lang) : "");
    out += Tr(th, "{}  สถานะ: {}  คะแนน {}\n", "{}  status: {}  score {}\n", indent,
              StatusText(k.status, lang), FormatDecimal(k.score, fw.decimals.score));
    for (const std::string& line : ExplainKpi(fw, k, lang)) out += indent + "  " + line + "\n";
    for (const KpiScore& sub : k.sub_kpis) print(sub, indent + "  ");
  };
  bool found = kpi_filter.empty();
  for (const KpiScore& k : a.kpis) {
    if (!kpi_filter.empty() && k.kpi != kpi_filter) continue;
    found = true;
    print(k, "");
  }
  if (!found) out += Tr(th, "\nหน่วยงานนี้ไม่มีตัวชี้วัด {}\n", "\nthis agency has no KPI {}\n", kpi_filter);
  return out;
}

std::string FindingsText(const std::vector<domain::Finding>& findings, Lang lang) {
  const bool th = Th(lang);
  std::string out;
  for (const domain::Finding& f : findings) {
    const std::string where = f.where.ToString();
    out += fmt::format("{}: {}{} [{}]\n",
                       f.severity == domain::Severity::kError ? (th ? "ข้อผิดพลาด" : "error")
                                                              : (th ? "คำเตือน" : "warning"),
                       where.empty() ? "" : where + ": ", th ? f.message_th : f.message_en, f.code);
  }
  return out;
}

}  // namespace esar::formats
