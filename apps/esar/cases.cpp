#include "cases.h"

#include <cstdio>
#include <iostream>
#include <string>

#include "common/thai.h"
#include "domain/engine.h"
#include "formats/case_log.h"
#include "formats/framework_json.h"

namespace esar::cli {
namespace {

int Fail(const Status& s, Lang lang) {
  std::cerr << (lang == Lang::kThai ? "esar: ข้อผิดพลาด: " : "esar: error: ")
            << s.ToString(lang == Lang::kThai) << "\n";
  return 2;
}

// stdout through a large buffer: ten million JSON entries are written one by one.
void Out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

}  // namespace

int RunCases(const CasesOptions& o, Lang lang) {
  const bool thai = lang == Lang::kThai;
  auto fw = formats::LoadFramework(o.framework);
  if (!fw) return Fail(fw.status(), lang);
  const domain::Kpi* kpi = domain::FindKpi(fw->kpis, o.kpi);
  if (!kpi) {
    return Fail(Status::NotFound("ไม่มีตัวชี้วัด " + o.kpi + " ในกรอบการประเมิน",
                                 "no KPI " + o.kpi + " in the framework"),
                lang);
  }
  if (!kpi->cases) {
    return Fail(
        Status::InvalidInput("ตัวชี้วัด " + o.kpi + " ไม่ได้คำนวณจากบันทึกเรื่อง (ไม่มี \"cases\")",
                             "KPI " + o.kpi + " is not computed from case records (no \"cases\")"),
        lang);
  }
  // The agency's assignment decides whether it has this KPI in this round at all.
  auto engine = domain::Engine::Compile(*fw, o.round);
  if (!engine) return Fail(engine.status(), lang);
  bool assigned = false;
  for (const auto& [id, weight] : engine->AssignedKpis(o.agency))
    assigned = assigned || id == o.kpi;
  if (!assigned) {
    return Fail(
        Status::NotFound("หน่วยงาน " + o.agency + " ไม่ได้รับมอบตัวชี้วัด " + o.kpi + " ใน" +
                             RoundName(o.round, Lang::kThai) + " (หรือได้รับยกเว้น)",
                         "agency " + o.agency + " is not assigned KPI " + o.kpi + " in the " +
                             RoundName(o.round, Lang::kEnglish) + " (or is exempt)"),
        lang);
  }
  auto evaluator = domain::CaseEvaluator::Create(*kpi->cases, o.round);
  if (!evaluator) return Fail(evaluator.status(), lang);

  auto cases = formats::OpenFileSource(o.cases);
  if (!cases) return Fail(cases.status(), lang);
  std::unique_ptr<formats::ByteSource> pauses;
  if (!o.pauses.empty()) {
    auto p = formats::OpenFileSource(o.pauses);
    if (!p) return Fail(p.status(), lang);
    pauses = std::move(*p);
  }
  formats::CaseLogInput input{o.cases, cases->get(), o.pauses, pauses.get()};

  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  const bool listing = !(o.format == "data" || (o.format == "json" && o.totals_only));

  // What is printed before the list: it needs the counts, which the first reading of the log
  // gives; the cases are then listed from a second reading (JudgeCaseLog calls `head` between
  // them, and only for a clean log, so nothing is printed from a bad one).
  std::optional<double> result;
  bool head_printed = false;
  auto head = [&](const domain::CaseTally& t) {
    head_printed = true;
    result = t.Result();
    if (o.format == "json") {
      std::string h =
          "{\"kpi\":\"" + o.kpi + "\",\"round\":" + std::to_string(o.round) + ",\"result\":";
      h += result ? ShortestDecimal(*result) : "null,\"reason\":\"no_counted_cases\"";
      h +=
          ",\"counted\":" + std::to_string(t.counted) + ",\"on_time\":" + std::to_string(t.on_time);
      Out(h + (listing ? ",\"cases\":[" : ",\"cases_read\":" + std::to_string(t.cases) + "}\n"));
    } else if (o.format == "csv") {
      Out(formats::CaseVerdictCsvHeader());
    } else if (o.format == "table") {
      const std::string res = result ? FormatDecimal(*result, fw->decimals.result) : "-";
      Out((thai ? "ตัวชี้วัด " : "KPI ") + o.kpi + " " + RoundName(o.round, lang) + "\n");
      Out((thai ? "ผล: " : "result: ") + res + (result ? " %" : "") + "  (" +
          std::to_string(t.on_time) + (thai ? " ตรงเวลา จาก " : " on time of ") +
          std::to_string(t.counted) + (thai ? " เรื่องที่นับ, อ่าน " : " counted, ") +
          std::to_string(t.cases) + (thai ? " เรื่อง)\n" : " read)\n"));
      char row[512];
      std::snprintf(row, sizeof row, "%-16s %-7s %-16s %-14s %-10s %-10s %6s %-7s %5s\n", "case_id",
                    thai ? "นับ" : "counted", thai ? "เหตุที่ไม่นับ" : "reason",
                    thai ? "ประเภท" : "class", thai ? "มาตรฐาน" : "standard",
                    thai ? "ครบกำหนด" : "due", thai ? "หยุดนับ" : "paused",
                    thai ? "ตรงเวลา" : "on_time", thai ? "ช้า" : "late");
      Out(row);
    }
  };
  bool first = true;
  std::string line;
  auto visit = [&](const domain::CaseRecord& c, const domain::CaseVerdict& v) {
    if (o.format == "json") {
      line = first ? "\n" : ",\n";
      line += formats::CaseVerdictJson(c, v, *evaluator);
      Out(line);
    } else if (o.format == "csv") {
      Out(formats::CaseVerdictCsv(c, v, *evaluator));
    } else {
      const domain::CaseClass* k =
          v.class_index >= 0 ? &evaluator->rule().classes[static_cast<size_t>(v.class_index)]
                             : nullptr;
      const std::string id(c.case_id);
      const std::string reason = domain::CaseReasonCode(v.reason, o.round);
      const std::string standard = k ? k->standard.ToString(lang) : "-";
      const std::string due = k ? domain::IsoDate(v.due) : "-";
      char row[512];
      std::snprintf(row, sizeof row, "%-16s %-7s %-16s %-14s %-10s %-10s %6d %-7s %5d\n",
                    id.c_str(), v.counted ? (thai ? "นับ" : "yes") : (thai ? "ไม่นับ" : "no"),
                    reason.empty() ? "-" : reason.c_str(), k ? k->id.c_str() : "-",
                    standard.c_str(), due.c_str(), v.paused_days,
                    v.counted ? (v.on_time ? (thai ? "ใช่" : "yes") : (thai ? "ไม่" : "no")) : "-",
                    v.late_days);
      Out(row);
    }
    first = false;
  };

  auto outcome = listing ? formats::JudgeCaseLog(input, *evaluator, visit, {}, head)
                         : formats::JudgeCaseLog(input, *evaluator);
  if (!outcome) return Fail(outcome.status(), lang);
  if (!outcome->ok()) {
    std::cerr << formats::CaseLogProblemsText(*outcome, lang);
    std::cerr << (thai ? "esar: บันทึกเรื่องมีปัญหา " + std::to_string(outcome->problem_count) +
                             " รายการ จึงไม่คำนวณผล\n"
                       : "esar: the case log has " + std::to_string(outcome->problem_count) +
                             " problems, so no result is computed\n");
    return 1;
  }
  const domain::CaseTally& t = outcome->tally;
  if (o.format == "data") {
    // Rows of data.csv (docs/formats.md §5), so that the result enters scoring like typed values.
    const domain::CaseRule& rule = *kpi->cases;
    if (rule.on_time_variable.empty()) {
      return Fail(Status::InvalidInput(
                      "ตัวชี้วัด " + o.kpi + " ไม่ได้ระบุตัวแปรที่ผลนับเรื่องเติมให้ (cases.variables)",
                      "KPI " + o.kpi + " names no variables for the case counts (cases.variables)"),
                  lang);
    }
    const std::string prefix = o.agency + "," + o.kpi + ",";
    const std::string suffix =
        "," + std::to_string(fw->fiscal_year) + "," + std::to_string(o.round) + ",";
    Out("agency,kpi,variable,fiscal_year,round,value\n");
    Out(prefix + rule.on_time_variable + suffix + std::to_string(t.on_time) + "\n");
    Out(prefix + rule.counted_variable + suffix + std::to_string(t.counted) + "\n");
  } else {
    if (!head_printed) head(t);
    if (listing && o.format == "json") Out("\n]}\n");
  }
  std::fflush(stdout);
  return 0;
}

}  // namespace esar::cli
