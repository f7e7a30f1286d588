#include "catalog.h"

#include <cstdio>
#include <iostream>

#include "common/thai.h"
#include "domain/engine.h"
#include "formats/catalog.h"
#include "formats/framework_json.h"

namespace esar::cli {
namespace {

int Fail(const Status& s, Lang lang) {
  std::cerr << (lang == Lang::kThai ? "esar: ข้อผิดพลาด: " : "esar: error: ")
            << s.ToString(lang == Lang::kThai) << "\n";
  return 2;
}

void Out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }

// The data.csv rows (docs/formats.md §5) of the KPI's catalog variables, after checking that the
// KPI has them and that the agency is assigned it in the round.
int PrintData(const CatalogOptions& o, const formats::CatalogSummary& sum, Lang lang) {
  if (o.framework.empty() || o.kpi.empty() || o.agency.empty()) {
    return Fail(Status::InvalidInput("--format data ต้องระบุ --framework, --kpi และ --agency",
                                     "--format data needs --framework, --kpi and --agency"),
                lang);
  }
  auto fw = formats::LoadFramework(o.framework);
  if (!fw) return Fail(fw.status(), lang);
  const domain::Kpi* kpi = domain::FindKpi(fw->kpis, o.kpi);
  if (!kpi) {
    return Fail(Status::NotFound("ไม่มีตัวชี้วัด " + o.kpi + " ในกรอบการประเมิน",
                                 "no KPI " + o.kpi + " in the framework"),
                lang);
  }
  if (!kpi->catalog) {
    return Fail(Status::InvalidInput(
                    "ตัวชี้วัด " + o.kpi + " ไม่ได้ใช้ผลตรวจบัญชีข้อมูล (ไม่มี \"catalog\")",
                    "KPI " + o.kpi + " does not use the catalog check (no \"catalog\")"),
                lang);
  }
  auto engine = domain::Engine::Compile(*fw, o.round);
  if (!engine) return Fail(engine.status(), lang);
  bool assigned = false;
  for (const auto& [id, weight] : engine->AssignedKpis(o.agency)) assigned = assigned || id == o.kpi;
  if (!assigned) {
    return Fail(
        Status::NotFound("หน่วยงาน " + o.agency + " ไม่ได้รับมอบตัวชี้วัด " + o.kpi + " ใน" +
                             RoundName(o.round, Lang::kThai) + " (หรือได้รับยกเว้น)",
                         "agency " + o.agency + " is not assigned KPI " + o.kpi + " in the " +
                             RoundName(o.round, Lang::kEnglish) + " (or is exempt)"),
        lang);
  }
  const std::string prefix = o.agency + "," + o.kpi + ",";
  const std::string suffix =
      "," + std::to_string(fw->fiscal_year) + "," + std::to_string(o.round) + ",";
  const domain::CatalogRule& rule = *kpi->catalog;
  Out("agency,kpi,variable,fiscal_year,round,value\n");
  if (!rule.datasets_variable.empty())
    Out(prefix + rule.datasets_variable + suffix + std::to_string(sum.datasets) + "\n");
  if (!rule.complete_variable.empty())
    Out(prefix + rule.complete_variable + suffix + std::to_string(sum.complete) + "\n");
  if (!rule.complete_percent_variable.empty()) {
    Out(prefix + rule.complete_percent_variable + suffix + ShortestDecimal(sum.CompletePercent()) +
        "\n");
  }
  return 0;
}

}  // namespace

int RunCatalogCheck(const CatalogOptions& o, Lang lang) {
  const bool thai = lang == Lang::kThai;
  auto src = formats::OpenFileSource(o.catalog);
  if (!src) return Fail(src.status(), lang);
  // First reading: is the file well formed? (Nothing printed from a malformed one.)
  auto sum = formats::CheckCatalog(**src, o.catalog);
  if (!sum) return Fail(sum.status(), lang);
  if (o.format == "data") return PrintData(o, *sum, lang);
  if (Status s = (*src)->Rewind(); !s.ok()) return Fail(s, lang);

  static char buffer[1 << 20];
  std::setvbuf(stdout, buffer, _IOFBF, sizeof buffer);
  const std::string percent = FormatDecimal(sum->CompletePercent(), 2);
  bool first = true;
  if (o.format == "json") {
    Out("{\"datasets\":" + std::to_string(sum->datasets) +
        ",\"complete\":" + std::to_string(sum->complete) +
        ",\"complete_percent\":" + ShortestDecimal(sum->CompletePercent()) + ",\"items\":[");
  } else if (o.format == "csv") {
    Out(formats::CatalogCsvHeader(lang));
  } else {
    Out(thai ? "บัญชีข้อมูล " + o.catalog + ": " + std::to_string(sum->datasets) +
                   " ชุดข้อมูล คำอธิบายข้อมูลครบ 14 รายการ " + std::to_string(sum->complete) +
                   " ชุด (ร้อยละ " + percent + ")\n"
             : "catalog " + o.catalog + ": " + std::to_string(sum->datasets) + " datasets, " +
                   std::to_string(sum->complete) + " with all 14 metadata items (" + percent +
                   " %)\n");
  }
  auto visit = [&](const formats::CatalogDataset& d) {
    if (o.format == "json") {
      Out((first ? "\n" : ",\n") + formats::CatalogDatasetJson(d));
    } else if (o.format == "csv") {
      Out(formats::CatalogDatasetCsv(d, lang));
    } else if (!d.complete()) {
      Out((thai ? "ชุดข้อมูลที่ " : "dataset ") + std::to_string(d.index + 1) +
          (thai ? " (บรรทัด " : " (line ") + std::to_string(d.line) + ") " +
          (d.name.empty() ? "" : d.name + " ") + (d.title.empty() ? "" : "\"" + d.title + "\"") +
          ":\n");
      for (const formats::CatalogFault& f : d.faults) Out("  - " + f.Text(lang) + "\n");
    }
    first = false;
  };
  auto again = formats::CheckCatalog(**src, o.catalog, visit);
  if (!again) return Fail(again.status(), lang);
  if (o.format == "json") Out("\n]}\n");
  std::fflush(stdout);
  return 0;
}

}  // namespace esar::cli
