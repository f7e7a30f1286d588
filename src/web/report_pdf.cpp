#include "web/report_pdf.h"

#include "common/thai.h"
#include "render/agency_report.h"
#include "render/zip_writer.h"
#include "service/report_digest.h"

namespace esar::web {

using nlohmann::json;

namespace {

// `text` with "{1}", "{2}", ... replaced by `values` in order.
std::string Fill(std::string text, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string slot = "{" + std::to_string(i + 1) + "}";
    const size_t at = text.find(slot);
    if (at != std::string::npos) text.replace(at, slot.size(), values[i]);
  }
  return text;
}

std::string Str(const json& j, const char* key) {
  return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

std::vector<std::string> Strings(const json& j, const char* key) {
  std::vector<std::string> out;
  if (!j.contains(key) || !j[key].is_array()) return out;
  for (const json& s : j[key]) {
    if (s.is_string() && !s.get<std::string>().empty()) out.push_back(s.get<std::string>());
  }
  return out;
}

// A result with its unit in reading order, as the pages show it ("ร้อยละ 94.36", "12 จังหวัด").
std::string WithUnit(const std::string& value, const std::string& unit) {
  return ValueWithUnit(value, unit);
}

// A criteria level table (level, points, target) from the page's model rows.
render::Table LevelTable(const PageCall& call, const json& levels) {
  render::Table t;
  t.columns = {{0.25, false}, {0.12, true}, {0.63, false}};
  t.header = {call.T("doc.level"), call.T("doc.points"), call.T("doc.target")};
  for (const json& l : levels) t.rows.push_back({Str(l, "name"), Str(l, "points"), Str(l, "target")});
  return t;
}

// A trend model's years as a table: year, result (KPIs only), score.
render::Table TrendTable(const PageCall& call, const json& trend, bool with_result) {
  render::Table t;
  if (with_result) {
    t.columns = {{0.4, false}, {0.3, true}, {0.3, true}};
    t.header = {call.T("history.year"), call.T("report.result"), call.T("report.kpi_score")};
  } else {
    t.columns = {{0.6, false}, {0.4, true}};
    t.header = {call.T("history.year"), call.T("report.score")};
  }
  for (const json& y : trend["years"]) {
    if (with_result) {
      t.rows.push_back({Str(y, "year"), Str(y, "result"), Str(y, "score")});
    } else {
      t.rows.push_back({Str(y, "year"), Str(y, "score")});
    }
    t.bold_rows.push_back(y.value("now", false));
  }
  return t;
}

// The parts of one KPI, in the order of the seeds: details, action plan, the evaluation items
// with the result, the score and how it was reached, criteria, earlier years.
render::KpiPart KpiPart(const PageCall& call, const json& k) {
  render::KpiPart part;
  part.heading = call.T("report.kpi") + " " + Str(k, "id") + " " + Str(k, "name");
  part.line = call.T("report.kpi_weight") + " " + Str(k, "weight") + " · " +
              call.T("report.result") + " " + WithUnit(Str(k, "result"), Str(k, "unit")) + " · " +
              call.T("report.kpi_score") + " " + Str(k, "score") + " · " + Str(k, "status");
  const json& doc = k["doc"];
  render::Section details{call.T("pdf.details")};
  auto labelled = [&](const char* label_key, const std::string& text) {
    if (!text.empty()) details.paragraphs.push_back(call.T(label_key) + ": " + text);
  };
  labelled("doc.description", Str(doc, "description"));
  for (const std::string& d : Strings(doc, "definitions"))
    details.paragraphs.push_back(call.T("doc.definitions") + ": " + d);
  labelled("doc.scope", Str(doc, "scope"));
  labelled("pdf.data_collection", Str(doc, "data_collection"));
  labelled("doc.data_source", Str(doc, "data_source"));
  labelled("doc.formula", Str(doc, "formula"));
  if (doc.contains("baseline")) {
    for (const json& b : doc["baseline"]) {
      details.paragraphs.push_back(call.T("doc.baseline") + " " + call.T("doc.fy") + " " +
                                   std::to_string(b.value("year", 0)) + ": " + Str(b, "text"));
    }
  }
  labelled("doc.benefit", Str(doc, "benefit"));
  part.sections.push_back(details);
  render::Section plan{call.T("pdf.plan")};
  plan.items = Strings(doc, "steps");
  plan.numbered = true;
  part.sections.push_back(plan);

  render::Section items{call.T("pdf.items")};
  items.table.columns = {{0.62, false}, {0.38, true}};
  items.table.header = {call.T("pdf.item"), call.T("pdf.performance")};
  for (const json& i : k["items"])
    items.table.rows.push_back({Str(i, "name"), WithUnit(Str(i, "value"), Str(i, "unit"))});
  items.table.rows.push_back({Str(k, "name"), WithUnit(Str(k, "result"), Str(k, "unit"))});
  items.table.bold_rows.assign(items.table.rows.size(), false);
  items.table.bold_rows.back() = true;
  part.sections.push_back(items);

  render::Section score{call.T("report.explain")};
  score.paragraphs.push_back(call.T("report.kpi_score") + " " + Str(k, "score") + " · " +
                             call.T("report.weighted") + " " + Str(k, "weighted"));
  score.items = Strings(k, "explanation");
  score.numbered = true;
  part.sections.push_back(score);

  if (doc.contains("criteria") && doc["criteria"].is_object()) {
    const json& c = doc["criteria"];
    render::Section criteria{call.T("doc.criteria")};
    if (c.value("lower_is_better", false)) criteria.paragraphs.push_back(call.T("doc.lower_is_better"));
    if (c.contains("levels")) criteria.table = LevelTable(call, c["levels"]);
    if (c.contains("points")) {
      criteria.table.columns = {{0.8, false}, {0.2, true}};
      criteria.table.header = {call.T("doc.item"), call.T("doc.points")};
      for (const json& p : c["points"]) criteria.table.rows.push_back({Str(p, "text"), Str(p, "points")});
    }
    part.sections.push_back(criteria);
    if (c.contains("groups")) {
      for (const json& g : c["groups"]) {
        render::Section group{Str(g, "name") + " (" + Str(g, "range") + ")"};
        if (g.contains("levels")) group.table = LevelTable(call, g["levels"]);
        part.sections.push_back(group);
      }
    }
  }
  if (k.contains("trend") && k["trend"].is_object()) {
    render::Section earlier{call.T("history.kpi_trend")};
    earlier.table = TrendTable(call, k["trend"], true);
    part.sections.push_back(earlier);
  }
  return part;
}

}  // namespace

std::string SiteAddress(const HttpRequest& request) {
  const std::string& host = request.Header("host");
  if (host.empty() || host.size() > 255) return "";
  for (char c : host) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '-' || c == ':' || c == '[' || c == ']';
    if (!ok) return "";
  }
  return std::string(request.tls ? "https://" : "http://") + host;
}

Result<ReportFile> MakeAgencyReportPdf(PageCall& call, int64_t round_id, const std::string& code,
                                       const std::string& base_url, const FrameworkLoader& load) {
  auto data = BuildAgencyReport(call, round_id, code, load);
  if (!data) return data.status();
  if (data->result.stage != service::ResultStage::kPublished) {
    return Status::NotFound("ยังไม่มีผลการประเมินที่เผยแพร่ของรอบนี้",
                            "this round has no published results yet");
  }
  auto digest =
      service::PublishedRowsDigest(call.db, data->result.id, data->result.rows_from, code);
  if (!digest) return digest.status();
  const json& m = data->model;
  const std::string verify = base_url + "/verify/" + *digest;

  render::AgencyReport r;
  r.document.title = call.T("pdf.title") + " " + Str(m, "name");
  r.document.author = call.T("pdf.author");
  // The address on a line of its own: a reader copies it whole.
  r.document.footer = Fill(call.T("pdf.verify"), {"\n" + verify});
  r.document.page_word = call.T("pdf.page");
  r.document.of_word = call.T("pdf.of");
  r.document.created_ms = data->result.computed_at;
  r.title = call.T("pdf.title");
  r.agency = Str(m, "name");
  r.ministry = Str(m, "ministry");
  r.period = Str(m, "period");
  r.figures.columns = {{1, true}, {1, true}, {1, false}};
  r.figures.header = {call.T("report.weight"), call.T("report.score"), call.T("pdf.summary")};
  r.figures.rows = {{Str(m, "weight"), Str(m, "total"),
                     m["grade"].is_string() ? m["grade"].get<std::string>() : "-"}};
  r.figures.size_pt = 16;
  r.summary = call.T("report.summary_a") + " " + Str(m, "total") + " " + call.T("report.summary_b") +
              (m["grade"].is_string() ? " " + call.T("report.summary_c") + " " + Str(m, "grade")
                                      : std::string());
  r.provenance = {
      Fill(call.T("pdf.made_from"),
           {Str(m, "period"), Str(m, "stage"), Str(m, "computed_at"),
            std::to_string(data->result.id)}),
      Fill(call.T("pdf.digest"), {*digest}),
      Fill(call.T("pdf.verify"), {verify})};
  if (m.contains("reopened") && m["reopened"].is_string())
    r.provenance.push_back(m["reopened"].get<std::string>());
  if (m["trend"].is_object()) {
    r.total_trend.heading = call.T("history.total_trend");
    r.total_trend.table = TrendTable(call, m["trend"], false);
  }
  r.kpi_table.heading = call.T("report.table");
  render::Table& t = r.kpi_table.table;
  t.columns = {{0.40, false}, {0.12, true}, {0.18, true}, {0.13, true}, {0.17, true}};
  t.header = {call.T("report.kpi"), call.T("report.kpi_weight"), call.T("report.result"),
              call.T("report.kpi_score"), call.T("report.weighted")};
  for (const json& c : m["components"]) {
    if (m["components"].size() > 1) {
      t.rows.push_back({Str(c, "name"), "", "", "", ""});
      t.bold_rows.resize(t.rows.size(), false);
      t.bold_rows.back() = true;
    }
    for (const json& k : c["kpis"]) {
      t.rows.push_back({Str(k, "id") + " " + Str(k, "name"), Str(k, "weight"),
                        WithUnit(Str(k, "result"), Str(k, "unit")), Str(k, "score"),
                        Str(k, "weighted")});
    }
  }
  t.rows.push_back({call.T("report.total"), Str(m, "weight"), "", "", Str(m, "total")});
  t.bold_rows.resize(t.rows.size(), false);
  t.bold_rows.back() = true;
  for (const json& k : m["kpis"]) r.kpis.push_back(KpiPart(call, k));

  auto bytes = render::RenderAgencyReport(r);
  if (!bytes) return bytes.status();
  const int fiscal_year = data->framework->framework.fiscal_year;
  return ReportFile{code + "-" + std::to_string(fiscal_year) + "-" +
                        std::to_string(data->round.round) + ".pdf",
                    std::move(*bytes), *digest};
}

Result<std::vector<std::string>> PublishedAgencies(PageCall& call, int64_t round_id) {
  service::Results results(call.db, call.clock);
  auto meta = results.LatestMeta(call.actor, round_id, service::ResultStage::kPublished);
  if (!meta) return meta.status();
  std::vector<std::string> codes;
  constexpr int64_t kPage = 1000;
  for (int64_t offset = 0;; offset += kPage) {
    auto page = results.Totals(call.actor, *meta, kPage, offset, "code");
    if (!page) return page.status();
    for (const service::AgencyTotal& t : *page) codes.push_back(t.code);
    if (static_cast<int64_t>(page->size()) < kPage) break;
  }
  return codes;
}

Result<std::string> MakeRoundReportsZip(PageCall& call, int64_t round_id,
                                        const PdfBatchMaker& make, int* count) {
  auto codes = PublishedAgencies(call, round_id);
  if (!codes) return codes.status();
  auto files = make(*codes);
  if (!files) return files.status();
  render::ZipWriter zip;
  auto meta = service::Results(call.db, call.clock)
                  .LatestMeta(call.actor, round_id, service::ResultStage::kPublished);
  if (!meta) return meta.status();
  for (const ReportFile& f : *files) {
    Status added = zip.Add(f.name, f.bytes, meta->computed_at);
    if (!added.ok()) return added;
  }
  *count = static_cast<int>(files->size());
  return zip.Finish();
}

}  // namespace esar::web
