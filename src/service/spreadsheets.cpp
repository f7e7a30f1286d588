#include "service/spreadsheets.h"

#include <xlsxwriter.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "common/text.h"
#include "common/thai.h"
#include "formats/inputs.h"
#include "formats/xlsx_reader.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "storage/result_rows.h"

namespace esar::service {

namespace {

using formats::Cell;
using formats::Column;
using nlohmann::json;

constexpr int64_t kPage = 500;  // agencies (or entries) read at a time

Cell Text(std::string s) { return Cell::Text(std::move(s)); }

// `s` without the spaces, tabs and line breaks around it.
std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

// At most `bytes` bytes of the UTF-8 text `s`, cut before a character, never inside one.
std::string Utf8Prefix(const std::string& s, size_t bytes) {
  if (s.size() <= bytes) return s;
  size_t end = bytes;
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return s.substr(0, end);
}

// "0.00" for `decimals` 2; "0" for none.
std::string NumberFormat(int decimals) {
  if (decimals <= 0) return "0";
  return "0." + std::string(static_cast<size_t>(std::min(decimals, 10)), '0');
}

// The reportable KPIs in the framework's order, each top-level KPI followed by its sub-KPIs.
void Flatten(const std::vector<domain::Kpi>& kpis, std::vector<const domain::Kpi*>& out) {
  for (const domain::Kpi& k : kpis) {
    out.push_back(&k);
    Flatten(k.sub_kpis, out);
  }
}

struct StatusWords {
  const char* th;
  const char* en;
};

// The words of the pages (templates/messages.json, status.*) for a submission's status.
StatusWords StatusText(const std::string& status) {
  if (status == "draft") return {"ร่าง", "draft"};
  if (status == "approved") return {"อนุมัติแล้ว รอส่ง", "approved, not sent"};
  if (status == "submitted") return {"ส่งแล้ว รอตรวจ", "submitted, awaiting review"};
  if (status == "returned") return {"ส่งกลับให้แก้ไข", "returned for changes"};
  if (status == "accepted") return {"ผ่านการตรวจ", "accepted"};
  return {"ยังไม่เริ่ม", "not started"};
}

bool Settled(const std::string& status) { return status == "submitted" || status == "accepted"; }

// The criteria that apply to `agency` for `kpi`: the framework's, replaced by the agency's own
// targets when an assignment rule gives them (the rule the KPI pages follow, web/kpi_view.cpp).
const domain::Criteria* CriteriaFor(const domain::Framework& framework, const std::string& agency,
                                    const domain::Kpi& kpi) {
  const domain::Criteria* found = kpi.criteria ? &*kpi.criteria : nullptr;
  for (const domain::AssignmentRule& rule : framework.assignments) {
    const bool applies =
        std::find(rule.agencies.begin(), rule.agencies.end(), agency) != rule.agencies.end() ||
        std::find(rule.agencies.begin(), rule.agencies.end(), "*") != rule.agencies.end();
    if (!applies) continue;
    for (const domain::AssignedKpi& assigned : rule.kpis) {
      if (assigned.kpi == kpi.id && assigned.criteria) found = assigned.criteria.get();
    }
  }
  return found;
}

// The criteria in a line or a few, in both languages: each level's points and target as the
// seed words it, or the targets' expressions, the milestones, the points' items, the groups.
std::string CriteriaSummary(const domain::Framework& framework, const domain::Criteria* c) {
  if (!c) return "";
  std::vector<std::string> parts;
  auto level_name = [&](size_t i) {
    if (i < framework.levels.size()) {
      const auto& l = framework.levels[i];
      return l.name.th + " / " + l.name.en + " (" + ShortestDecimal(l.points) + ")";
    }
    return std::to_string(i + 1);
  };
  if (!c->level_texts.empty()) {
    for (size_t i = 0; i < c->level_texts.size(); ++i) {
      const auto& t = c->level_texts[i];
      if (t.th.empty() && t.en.empty()) continue;
      parts.push_back(level_name(i) + ": " + t.th + (t.en.empty() ? "" : " / " + t.en));
    }
  } else if (c->form == domain::CriteriaForm::kLevels) {
    const bool lower = c->levels.direction == domain::Direction::kLowerIsBetter;
    for (size_t i = 0; i < c->levels.targets.size(); ++i) {
      const auto& t = c->levels.targets[i];
      parts.push_back(level_name(i) + ": " +
                      (t.present
                           ? std::string(t.strict ? (lower ? "< " : "> ") : (lower ? "≤ " : "≥ ")) +
                                 t.expression
                           : "-"));
    }
  } else if (c->form == domain::CriteriaForm::kMilestones) {
    for (size_t i = 0; i < c->milestones.levels.size(); ++i) {
      std::string line = level_name(i) + ":";
      for (const auto& m : c->milestones.levels[i])
        line += " " + m.text.th + " / " + m.text.en + ";";
      parts.push_back(line);
    }
  } else if (c->form == domain::CriteriaForm::kPoints) {
    for (const auto& item : c->points.items)
      parts.push_back("+" + ShortestDecimal(item.points) + " " + item.text.th + " / " +
                      item.text.en);
  } else if (c->form == domain::CriteriaForm::kGroups) {
    std::string line = "ตามกลุ่ม / by group (" + c->groups.by + "):";
    for (const auto& g : c->groups.groups) line += " " + g.name.th + " " + g.range.ToString() + ";";
    parts.push_back(line);
  } else {
    parts.push_back("ตามเงื่อนไขของแต่ละระดับ / by each level's condition");
  }
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? "" : "\n") + p;
  // Excel holds at most 32,767 characters in a cell; a summary is a hint, not the criteria.
  if (out.size() > 2000) out = Utf8Prefix(out, 2000) + "…";
  return out;
}

// The allowed values of a variable in words, in each language: the upload's messages use one
// language each, the template's cells show both.
LocalizedText AllowedRange(const domain::Variable& v) {
  using domain::VariableType;
  switch (v.type) {
    case VariableType::kPassFail:
      return {"ผ่าน หรือ ไม่ผ่าน", "pass or fail"};
    case VariableType::kDate:
      return {"วันที่ เช่น 15/1/2564 หรือ 2021-01-15", "a date such as 15/1/2564 or 2021-01-15"};
    case VariableType::kNumberList: {
      const std::string bounds = v.min || v.max
                                     ? " (" + (v.min ? ShortestDecimal(*v.min) : "") + " – " +
                                           (v.max ? ShortestDecimal(*v.max) : "") + ")"
                                     : "";
      return {std::to_string(v.length) + " ตัวเลข คั่นด้วย ;" + bounds,
              std::to_string(v.length) + " numbers separated by ;" + bounds};
    }
    default:
      break;
  }
  const bool whole = v.type == VariableType::kCount;
  LocalizedText kind{whole ? "จำนวนเต็ม" : "ตัวเลข", whole ? "whole number" : "number"};
  const std::optional<double> min = whole && !v.min ? std::optional<double>(0) : v.min;
  std::string bounds;
  if (min && v.max)
    bounds = " " + ShortestDecimal(*min) + " – " + ShortestDecimal(*v.max);
  else if (min)
    bounds = " ≥ " + ShortestDecimal(*min);
  else if (v.max)
    bounds = " ≤ " + ShortestDecimal(*v.max);
  return {kind.th + bounds, kind.en + bounds};
}

// AllowedRange in both languages in one cell of the template.
std::string AllowedRangeInBoth(const domain::Variable& v) {
  const LocalizedText range = AllowedRange(v);
  return range.th + " / " + range.en;
}

// Checks one filled value against its variable; the JSON value to report, or why not.
Result<json> CellValue(const domain::Variable& v, const std::string& text) {
  using domain::VariableType;
  auto parsed = formats::ParseValue(text);
  if (!parsed) return parsed.status();
  const std::vector<double>& values = *parsed;
  if (v.type == VariableType::kPassFail) {
    const std::string t = Trim(text);
    if (values.size() != 1 || (values[0] != 0 && values[0] != 1))
      return Status::InvalidInput("ต้องเป็น ผ่าน หรือ ไม่ผ่าน", "must be pass or fail");
    return json(values[0] == 1 ? "ผ่าน" : "ไม่ผ่าน");
  }
  if (v.type == VariableType::kDate) {
    // Stored as the web form stores it: the ISO date.
    const auto day = domain::ParseCaseDate(Trim(text));
    if (!day)
      return Status::InvalidInput("ต้องเป็นวันที่ เช่น 15/1/2564 หรือ 2021-01-15",
                                  "must be a date such as 15/1/2564 or 2021-01-15");
    return json(domain::IsoDate(*day));
  }
  auto in_range = [&](double d) -> Status {
    if (v.type == VariableType::kCount && (d < 0 || d != std::floor(d)))
      return Status::InvalidInput("ต้องเป็นจำนวนเต็มตั้งแต่ 0", "must be a whole number from 0");
    if ((v.min && d < *v.min) || (v.max && d > *v.max)) {
      const LocalizedText range = AllowedRange(v);
      return Status::InvalidInput(
          ShortestDecimal(d) + " อยู่นอกช่วงที่รับได้ (" + range.th + ")",
          ShortestDecimal(d) + " is outside the allowed range (" + range.en + ")");
    }
    return Status::Ok();
  };
  if (v.type == VariableType::kNumberList) {
    if (static_cast<int>(values.size()) != v.length) {
      return Status::InvalidInput("ต้องมี " + std::to_string(v.length) + " ตัวเลข คั่นด้วย ; (มี " +
                                      std::to_string(values.size()) + ")",
                                  "needs " + std::to_string(v.length) +
                                      " numbers separated by ; (has " +
                                      std::to_string(values.size()) + ")");
    }
    for (double d : values) {
      Status s = in_range(d);
      if (!s.ok()) return s;
    }
    return json(values);
  }
  if (values.size() != 1) return Status::InvalidInput("ต้องเป็นตัวเลขเดียว", "must be a single number");
  Status s = in_range(values[0]);
  if (!s.ok()) return s;
  return json(values[0]);
}

// The columns of the template's values sheet (0-based), which an upload reads back.
enum TemplateColumn : size_t {
  kColKpi = 0,
  kColKpiName,
  kColVariable,
  kColVariableName,
  kColUnit,
  kColRange,
  kColCriteria,
  kColValue,
  kColCount
};
enum NotesColumn : size_t {
  kNoteKpi = 0,
  kNoteName,
  kNoteExplanation,
  kNoteProblems,
  kNoteRemarks
};

// The last revision of each KPI an agency has saved in a round: its status, values and texts.
struct SavedReport {
  std::string status;
  json values = json::object();
  std::string explanation, problems, remarks;
};

Result<std::map<std::string, SavedReport>> CurrentReports(storage::Database& db, int64_t round_id,
                                                          const std::string& agency) {
  auto rows = db.Query(
      "SELECT s.kpi, s.status, r.values_json, r.explanation, r.problems, r.remarks FROM "
      "submissions s JOIN submission_revisions r ON r.submission_id = s.id AND r.revision = "
      "s.revision WHERE s.round_id = ? AND s.agency_code = ?",
      {round_id, agency});
  if (!rows) return rows.status();
  std::map<std::string, SavedReport> out;
  for (const storage::Row& r : *rows) {
    SavedReport saved;
    saved.status = r.Text(1);
    // esar wrote it; a value that no longer parses is shown as missing rather than failing.
    saved.values = json::parse(r.Text(2), nullptr, false);
    if (!saved.values.is_object()) saved.values = json::object();
    saved.explanation = r.Text(3);
    saved.problems = r.Text(4);
    saved.remarks = r.Text(5);
    out[r.Text(0)] = std::move(saved);
  }
  return out;
}

// Walks agencies in code order a page at a time, so that a round of 8,000 agencies is never
// whole in memory: `read(after)` gives the next at most kPage rows whose column 0 (the agency
// code) comes after `after` ("" for the first page), `each(rows)` writes one page. Stops at an
// empty or short page, or at the first error either returns.
template <class Read, class Each>
Status ForEachPageOfAgencies(Read read, Each each) {
  std::string after;
  while (true) {
    auto rows = read(after);
    if (!rows) return rows.status();
    if (rows->empty()) return Status::Ok();
    after = rows->back().Text(0);
    Status s = each(*rows);
    if (!s.ok()) return s;
    if (static_cast<int64_t>(rows->size()) < kPage) return Status::Ok();
  }
}

Status WorkbookFailed(lxw_error e) {
  return Status::IoError(std::string("เขียนแบบฟอร์ม XLSX ไม่ได้: ") + lxw_strerror(e),
                         std::string("cannot write the XLSX template: ") + lxw_strerror(e));
}

}  // namespace

std::string DownloadName(const std::string& what, int fiscal_year, int round,
                         formats::SheetFormat format) {
  return what + "-" + std::to_string(fiscal_year) + "-" + std::to_string(round) + "." +
         formats::SheetExtension(format);
}

Status Spreadsheets::ResultsTable(const Actor& actor, int64_t round_id, ResultStage stage,
                                  formats::TableWriter& out) {
  Results results(db_, clock_);
  return db_.ReadSnapshot([&]() -> Status {
    auto meta = results.LatestMeta(actor, round_id, stage);
    if (!meta) return meta.status();
    auto stored = Cycle(db_, clock_).Framework(meta->framework_id);
    if (!stored) return stored.status();
    const domain::Framework& f = stored->framework;
    const bool own_only = results.SeesOwnAgencyOnly(actor, *meta);
    std::vector<const domain::Kpi*> kpis;
    Flatten(f.kpis, kpis);
    std::vector<Column> columns = {
        {"รหัสหน่วยงาน / Agency code", 12},
        {"ชื่อหน่วยงาน / Agency (th)", 40},
        {"Agency (en)", 30},
        {"ประเภท / Kind", 12},
        {"สังกัด / Parent", 12},
        {"คะแนนรวม / Total", 12, NumberFormat(f.decimals.total)},
        {"ระดับ / Grade (th)", 14},
        {"Grade (en)", 14},
        {"น้ำหนักที่ประเมิน / Scored weight", 12, NumberFormat(2)},
    };
    const size_t fixed = columns.size();
    std::map<std::string, size_t> column_of;  // KPI id -> its result column (score next)
    for (const domain::Kpi* k : kpis) {
      column_of[k->id] = columns.size();
      columns.push_back({"ตัวชี้วัด " + k->id + " ผล / KPI " + k->id + " result", 12,
                         NumberFormat(f.decimals.result)});
      columns.push_back({"ตัวชี้วัด " + k->id + " คะแนน / KPI " + k->id + " score", 12,
                         NumberFormat(f.decimals.score)});
    }
    Status s = out.BeginSheet("ผลการประเมิน (Results)", columns);
    if (!s.ok()) return s;
    auto read = [&](const std::string& after) {
      std::string sql =
          "SELECT t.agency_code, COALESCE(a.name_th, ''), COALESCE(a.name_en, ''), t.kind, "
          "t.parent, t.total, t.grade, t.scored_weight FROM " +
          storage::ResultRowsSource(db_, "result_totals", meta->rows_from) +
          " t LEFT JOIN agencies a ON a.code = t.agency_code WHERE t.result_id = ? AND "
          "t.agency_code > ?";
      std::vector<storage::Value> params = {meta->rows_from, after};
      if (own_only) {
        sql += " AND t.agency_code = ?";
        params.emplace_back(actor.agency);
      }
      sql += " ORDER BY t.agency_code LIMIT " + std::to_string(kPage);
      return db_.Query(sql, params);
    };
    std::vector<Cell> cells;
    return ForEachPageOfAgencies(read, [&](const std::vector<storage::Row>& totals) -> Status {
      // The page's agencies by their codes, not as a range between its first and last: on
      // PostgreSQL result_kpis.agency_code compares by bytes (migration 19) while the page was
      // ordered in result_totals' collation, the database's, whose order may differ.
      std::string in;
      std::vector<storage::Value> params = {meta->rows_from};
      for (const storage::Row& t : totals) {
        in += in.empty() ? "?" : ", ?";
        params.emplace_back(t.Text(0));
      }
      auto rows = db_.Query("SELECT agency_code, kpi, result, score FROM " +
                                storage::ResultRowsSource(db_, "result_kpis", meta->rows_from) +
                                " WHERE result_id = ? AND agency_code IN (" + in + ")",
                            params);
      if (!rows) return rows.status();
      std::map<std::string, std::vector<const storage::Row*>> by_agency;
      for (const storage::Row& r : *rows) by_agency[r.Text(0)].push_back(&r);
      for (const storage::Row& t : totals) {
        cells.assign(columns.size(), Cell{});
        const std::string code = t.Text(0);
        cells[0] = Text(code);
        cells[1] = Text(t.Text(1));
        cells[2] = Text(t.Text(2));
        cells[3] = Text(t.Text(3));
        cells[4] = Text(t.Text(4));
        if (!t.IsNull(5)) cells[5] = Cell::Number(t.Real(5));
        const int64_t grade = t.IsNull(6) ? -1 : t.Int(6);
        if (grade >= 0 && grade < static_cast<int64_t>(f.grades.size())) {
          cells[6] = Text(f.grades[static_cast<size_t>(grade)].name.th);
          cells[7] = Text(f.grades[static_cast<size_t>(grade)].name.en);
        }
        cells[8] = Cell::Number(t.Real(7));
        for (const storage::Row* r : by_agency[code]) {
          const auto col = column_of.find(r->Text(1));
          if (col == column_of.end() || col->second < fixed) continue;
          if (!r->IsNull(2)) cells[col->second] = Cell::Number(r->Real(2));
          if (!r->IsNull(3)) cells[col->second + 1] = Cell::Number(r->Real(3));
        }
        Status added = out.AddRow(cells);
        if (!added.ok()) return added;
      }
      return Status::Ok();
    });
  });
}

Status Spreadsheets::StatusTable(const Actor& actor, int64_t round_id, formats::TableWriter& out) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  const bool own =
      (actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) && !actor.agency.empty();
  if (!all && !own)
    return Denied(actor, "ดูสถานะการส่งรายงานของรอบ", "see a round's submission status");
  Cycle cycle(db_, clock_);
  return db_.ReadSnapshot([&]() -> Status {
    auto status = cycle.StatusOf(round_id);
    if (!status) return status.status();
    auto stored = cycle.Framework(status->round.framework_id);
    if (!stored) return stored.status();
    const domain::Framework& f = stored->framework;
    auto extensions = cycle.Extensions(round_id);
    if (!extensions) return extensions.status();
    std::map<std::string, int64_t> extended;
    for (const Extension& e : *extensions) extended[e.agency] = e.deadline;
    const KpiDutyResolver duties(f, status->round.round);
    const int64_t now = clock_.NowMs();
    Status s = out.BeginSheet("สถานะการส่ง (Status)", {{"รหัสหน่วยงาน / Agency code", 12},
                                                      {"ชื่อหน่วยงาน / Agency (th)", 40},
                                                      {"Agency (en)", 30},
                                                      {"สังกัด / Parent", 12},
                                                      {"ตัวชี้วัด / KPI", 8},
                                                      {"ชื่อตัวชี้วัด / KPI name", 40},
                                                      {"สถานะ / Status (th)", 18},
                                                      {"Status (en)", 18},
                                                      {"ฉบับที่ / Revision", 8},
                                                      {"แก้ไขล่าสุด / Last change", 20},
                                                      {"กำหนดส่ง / Deadline", 16},
                                                      {"เลยกำหนด / Overdue", 10}});
    if (!s.ok()) return s;
    auto read = [&](const std::string& after) {
      std::string sql =
          "SELECT code, name_th, name_en, COALESCE(parent, '') FROM agencies WHERE code > ?";
      std::vector<storage::Value> params = {after};
      if (!f.agency_kind.empty()) {
        sql += " AND kind = ?";
        params.emplace_back(f.agency_kind);
      }
      if (!all) {
        sql += " AND code = ?";
        params.emplace_back(actor.agency);
      }
      sql += " ORDER BY code LIMIT " + std::to_string(kPage);
      return db_.Query(sql, params);
    };
    return ForEachPageOfAgencies(read, [&](const std::vector<storage::Row>& agencies) -> Status {
      auto rows = db_.Query(
          "SELECT agency_code, kpi, status, revision, updated_at FROM submissions WHERE "
          "round_id = ? AND agency_code >= ? AND agency_code <= ?",
          {round_id, agencies.front().Text(0), agencies.back().Text(0)});
      if (!rows) return rows.status();
      std::map<std::pair<std::string, std::string>, const storage::Row*> saved;
      for (const storage::Row& r : *rows) saved[{r.Text(0), r.Text(1)}] = &r;
      for (const storage::Row& a : agencies) {
        const std::string code = a.Text(0);
        int64_t deadline = status->round.deadline;
        if (auto e = extended.find(code); e != extended.end())
          deadline = std::max(deadline, e->second);
        if (status->closed_early_at) deadline = std::min(deadline, status->closed_early_at);
        for (const KpiDuty& d : duties.For(code)) {
          if (!d.Reportable()) continue;
          const domain::Kpi* kpi = domain::FindKpi(f.kpis, d.kpi);
          const auto found = saved.find({code, d.kpi});
          const std::string state = found == saved.end() ? "" : found->second->Text(2);
          const StatusWords words = StatusText(state);
          const bool overdue = now > deadline && !Settled(state);
          std::vector<Cell> cells = {
              Text(code),
              Text(a.Text(1)),
              Text(a.Text(2)),
              Text(a.Text(3)),
              Text(d.kpi),
              Text(kpi ? kpi->name.th : ""),
              Text(words.th),
              Text(words.en),
              found == saved.end() ? Cell{}
                                   : Cell::Number(static_cast<double>(found->second->Int(3))),
              found == saved.end() ? Cell{}
                                   : Text(FormatDateTime(found->second->Int(4), Lang::kThai)),
              Text(FormatDate(deadline, Lang::kThai)),
              Text(overdue ? "ใช่ / yes" : "")};
          Status added = out.AddRow(cells);
          if (!added.ok()) return added;
        }
      }
      return Status::Ok();
    });
  });
}

Status Spreadsheets::QueueTable(const Actor& actor, QueueFilter filter, formats::TableWriter& out) {
  Reporting reporting(db_, clock_);
  Cycle cycle(db_, clock_);
  if (!filter.now) filter.now = clock_.NowMs();
  Status s = out.BeginSheet("รายการตรวจ (Queue)", {{"รหัสหน่วยงาน / Agency code", 12},
                                                   {"ชื่อหน่วยงาน / Agency (th)", 40},
                                                   {"Agency (en)", 30},
                                                   {"สังกัด / Parent (th)", 30},
                                                   {"รอบ / Round", 8},
                                                   {"ตัวชี้วัด / KPI", 8},
                                                   {"ชื่อตัวชี้วัด / KPI name", 40},
                                                   {"สถานะ / Status (th)", 18},
                                                   {"Status (en)", 18},
                                                   {"ฉบับที่ / Revision", 8},
                                                   {"แก้ไขล่าสุด / Last change", 20},
                                                   {"กำหนดส่ง / Deadline", 16},
                                                   {"เลยกำหนด / Overdue", 10}});
  if (!s.ok()) return s;
  return db_.ReadSnapshot([&]() -> Status {
    struct RoundOf {
      std::shared_ptr<StoredFramework> framework;
      int round = 12;
    };
    std::map<int64_t, RoundOf> rounds;  // by round id
    filter.limit = 1000;
    filter.offset = 0;
    while (true) {
      auto page = reporting.Queue(actor, filter);
      if (!page) return page.status();
      for (const SubmissionSummary& sub : page->items) {
        RoundOf& known = rounds[sub.round_id];
        if (!known.framework) {
          auto round = cycle.Round(sub.round_id);
          if (!round) return round.status();
          auto stored = cycle.Framework(round->framework_id);
          if (!stored) return stored.status();
          known.framework = std::make_shared<StoredFramework>(std::move(*stored));
          known.round = round->round;
        }
        const StoredFramework* fw = known.framework.get();
        const domain::Kpi* kpi = domain::FindKpi(fw->framework.kpis, sub.kpi);
        const std::string state = SubmissionStatusName(sub.status);
        const StatusWords words = StatusText(state);
        const bool overdue = sub.deadline < filter.now && !Settled(state);
        s = out.AddRow(
            {Text(sub.agency), Text(sub.agency_name_th), Text(sub.agency_name_en),
             Text(sub.ministry_name_th),
             Text(std::to_string(fw->fiscal_year) + " · " + fw->agency_kind + " · " +
                  RoundName(known.round, Lang::kThai)),
             Text(sub.kpi), Text(kpi ? kpi->name.th : ""), Text(words.th), Text(words.en),
             Cell::Number(sub.revision), Text(FormatDateTime(sub.updated_at, Lang::kThai)),
             Text(FormatDate(sub.deadline, Lang::kThai)), Text(overdue ? "ใช่ / yes" : "")});
        if (!s.ok()) return s;
      }
      filter.offset += filter.limit;
      if (page->items.size() < static_cast<size_t>(filter.limit)) break;
    }
    return Status::Ok();
  });
}

Status Spreadsheets::AuditTable(const Actor& actor, int64_t from_ms, int64_t to_ms,
                                formats::TableWriter& out) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "ดาวน์โหลดบันทึกการตรวจสอบ", "download the audit log");
  Status s = out.BeginSheet("บันทึกการตรวจสอบ (Audit)", {{"ลำดับ / Seq", 8},
                                                       {"เวลา / Time", 20},
                                                       {"ผู้ทำ / Actor", 16},
                                                       {"การกระทำ / Action", 20},
                                                       {"รายการ / Entity", 20},
                                                       {"ก่อน / Before", 40},
                                                       {"หลัง / After", 40},
                                                       {"แฮช / Hash", 20}});
  if (!s.ok()) return s;
  return db_.ReadSnapshot([&]() -> Status {
    int64_t after = 0;
    while (true) {
      auto rows = db_.Query(
          "SELECT l.seq, l.at, COALESCE(u.username, ''), l.action, l.entity, l.before_json, "
          "l.after_json, l.hash FROM audit_log l LEFT JOIN users u ON u.id = l.actor WHERE "
          "l.seq > ? AND l.at >= ? AND l.at < ? ORDER BY l.seq LIMIT " +
              std::to_string(kPage),
          {after, from_ms, to_ms});
      if (!rows) return rows.status();
      for (const storage::Row& r : *rows) {
        after = r.Int(0);
        s = out.AddRow({Cell::Number(static_cast<double>(r.Int(0))),
                        Text(FormatDateTime(r.Int(1), Lang::kThai)),
                        Text(r.Text(2).empty() ? "ระบบ / system" : r.Text(2)), Text(r.Text(3)),
                        Text(r.Text(4)), Text(r.Text(5)), Text(r.Text(6)), Text(r.Text(7))});
        if (!s.ok()) return s;
      }
      if (static_cast<int64_t>(rows->size()) < kPage) break;
    }
    return Status::Ok();
  });
}

Status Spreadsheets::AgenciesTable(const Actor& actor, formats::TableWriter& out) {
  if (!actor.Is(Role::kAdmin))
    return Denied(actor, "ดาวน์โหลดรายชื่อหน่วยงาน", "download the agencies");
  auto agencies = Directory(db_, clock_).Agencies();
  if (!agencies) return agencies.status();
  // The import's column names, not words: the file goes back in as it comes out.
  Status s = out.BeginSheet("agencies", {{"code", 14},
                                         {"name_th", 50},
                                         {"name_en", 50},
                                         {"kind", 14},
                                         {"parent", 14},
                                         {"email", 30}});
  if (!s.ok()) return s;
  for (const domain::Agency& a : *agencies) {
    s = out.AddRow({Text(a.code), Text(a.name.th), Text(a.name.en), Text(a.kind), Text(a.parent),
                    Text(a.email.value_or(""))});
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Spreadsheets::WriteTemplate(const Actor& actor, int64_t round_id, const std::string& agency,
                                   const std::string& path) {
  if (!((actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) && actor.OfAgency(agency)))
    return Denied(actor, "ดาวน์โหลดแบบฟอร์มรายงานของหน่วยงาน " + agency,
                  "download the reporting template of agency " + agency);
  Cycle cycle(db_, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return round.status();
  auto stored = cycle.Framework(round->framework_id);
  if (!stored) return stored.status();
  const domain::Framework& f = stored->framework;
  auto names = db_.Query("SELECT name_th, name_en FROM agencies WHERE code = ?", {agency});
  if (!names) return names.status();
  if (names->empty())
    return Status::NotFound("ไม่พบหน่วยงาน \"" + agency + "\"", "no agency \"" + agency + "\"");
  // What the agency itself reported last (any status), so that a round partly filled on the
  // pages or by an earlier upload is not typed again and its notes are not lost; the central
  // office's imported data is not the agency's report and stays out.
  auto saved = CurrentReports(db_, round_id, agency);
  if (!saved) return saved.status();
  std::vector<const domain::Kpi*> reportable;
  for (const KpiDuty& d : KpiDuties(f, round->round, agency)) {
    if (!d.Reportable()) continue;
    if (const domain::Kpi* k = domain::FindKpi(f.kpis, d.kpi)) reportable.push_back(k);
  }
  if (reportable.empty()) {
    return Status::NotFound("หน่วยงาน " + agency + " ไม่มีตัวชี้วัดที่ต้องรายงานในรอบนี้",
                            "agency " + agency + " has no KPI to report in this round");
  }

  lxw_workbook* book = workbook_new(path.c_str());
  if (!book) return WorkbookFailed(LXW_ERROR_CREATING_TMPFILE);
  lxw_format* heading = workbook_add_format(book);
  format_set_bold(heading);
  format_set_text_wrap(heading);
  format_set_bg_color(heading, 0xE8EEF7);
  format_set_align(heading, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* wrap = workbook_add_format(book);
  format_set_text_wrap(wrap);
  format_set_align(wrap, LXW_ALIGN_VERTICAL_TOP);
  // The only cells to fill are left unlocked; the sheet is protected (without a password: it
  // guards against slips, not people) so the KPI and variable columns an upload reads stay put.
  lxw_format* fill = workbook_add_format(book);
  format_set_unlocked(fill);
  format_set_bg_color(fill, 0xFFF8D6);
  format_set_border(fill, LXW_BORDER_THIN);
  format_set_align(fill, LXW_ALIGN_VERTICAL_TOP);
  lxw_format* fill_wrap = workbook_add_format(book);
  format_set_unlocked(fill_wrap);
  format_set_text_wrap(fill_wrap);
  format_set_bg_color(fill_wrap, 0xFFF8D6);
  format_set_border(fill_wrap, LXW_BORDER_THIN);
  format_set_align(fill_wrap, LXW_ALIGN_VERTICAL_TOP);

  // Every text cell written goes through the neutraliser: KPI names come from a framework file.
  auto put = [](lxw_worksheet* ws, lxw_row_t r, lxw_col_t c, const std::string& text,
                lxw_format* fmt) {
    const std::string safe = formats::NeutralizeFormula(Utf8Prefix(text, 32000));
    worksheet_write_string(ws, r, c, safe.c_str(), fmt);
  };

  lxw_worksheet* how = workbook_add_worksheet(book, "วิธีใช้ (How to)");
  lxw_worksheet* values = workbook_add_worksheet(book, kTemplateValuesSheet);
  lxw_worksheet* notes = workbook_add_worksheet(book, kTemplateNotesSheet);
  worksheet_activate(values);

  worksheet_set_column(how, 0, 0, 110, wrap);
  const std::string agency_name = (*names)[0].Text(0);
  const std::vector<std::string> lines = {
      "แบบฟอร์มรายงานผลการดำเนินงาน / Reporting template",
      "หน่วยงาน / Agency: " + agency + " " + agency_name,
      FiscalYearName(f.fiscal_year, Lang::kThai) + " · " + RoundName(round->round, Lang::kThai) +
          " / " + FiscalYearName(f.fiscal_year, Lang::kEnglish) + " · " +
          RoundName(round->round, Lang::kEnglish),
      "1. กรอกค่าในคอลัมน์ \"ค่า\" (สีเหลือง) ของชีต \"" + std::string(kTemplateValuesSheet) +
          "\" ตามหน่วยและช่วงที่รับได้ / Fill the yellow \"Value\" column of the values sheet, "
          "in the unit and range shown.",
      "2. ผ่าน/ไม่ผ่าน: เลือกจากรายการ; หลายตัวเลข: คั่นด้วย ; / Pass or fail: pick from the list; "
      "several numbers: separate them with ;",
      "3. คำชี้แจง ปัญหา อุปสรรค และข้อสังเกตอื่น กรอกในชีต \"" + std::string(kTemplateNotesSheet) +
          "\" / Explanations, problems and remarks go in the notes sheet.",
      "4. อัปโหลดไฟล์ที่หน้า \"รายงานของหน่วยงาน\": ค่าจะถูกบันทึกเป็นร่าง ยังไม่ส่ง; หากมีเซลล์ใดผิด "
      "ระบบจะบอกชีต แถว และคอลัมน์ และไม่บันทึกอะไรเลย / Upload it on the agency page: the values "
      "become drafts, not submitted; if any cell is wrong, its sheet, row and column are named and "
      "nothing is saved.",
      "ตัวชี้วัดที่ไม่มีค่าในไฟล์จะไม่ถูกเปลี่ยน / KPIs without values in the file are left as they are."};
  for (size_t i = 0; i < lines.size(); ++i)
    put(how, static_cast<lxw_row_t>(i), 0, lines[i], i == 0 ? heading : wrap);

  const std::vector<std::pair<std::string, double>> columns = {
      {"ตัวชี้วัด / KPI", 8},
      {"ชื่อตัวชี้วัด / KPI name", 36},
      {"รหัสตัวแปร / Variable id", 14},
      {"ตัวแปร / Variable", 32},
      {"หน่วย / Unit", 12},
      {"ช่วงที่รับได้ / Allowed range", 24},
      {"เกณฑ์การประเมิน (สรุป) / Criteria (summary)", 48},
      {"ค่า / Value", 16}};
  for (size_t c = 0; c < columns.size(); ++c) {
    const auto col = static_cast<lxw_col_t>(c);
    worksheet_set_column(values, col, col, columns[c].second, c == kColValue ? nullptr : wrap);
    put(values, 0, col, columns[c].first, heading);
  }
  worksheet_freeze_panes(values, 1, 0);
  lxw_row_t row = 1;
  for (const domain::Kpi* k : reportable) {
    const std::string criteria = CriteriaSummary(f, CriteriaFor(f, agency, *k));
    for (const domain::Variable& v : k->variables) {
      if (v.type == domain::VariableType::kDerived) continue;
      put(values, row, kColKpi, k->id, wrap);
      put(values, row, kColKpiName, k->name.th + (k->name.en.empty() ? "" : " / " + k->name.en),
          wrap);
      put(values, row, kColVariable, v.id, wrap);
      put(values, row, kColVariableName,
          v.name.th + (v.name.en.empty() ? "" : " / " + v.name.en) +
              (v.optional ? " (ไม่บังคับ / optional)" : ""),
          wrap);
      const LocalizedText& unit = v.unit.th.empty() && v.unit.en.empty() ? k->unit : v.unit;
      put(values, row, kColUnit,
          unit.th + (unit.en.empty() || unit.en == unit.th ? "" : " / " + unit.en), wrap);
      put(values, row, kColRange, AllowedRangeInBoth(v), wrap);
      put(values, row, kColCriteria, criteria, wrap);
      // What the KPI page shows now, so that a partly filled round is not typed again.
      const auto report = saved->find(k->id);
      const json* now = nullptr;
      if (report != saved->end() && report->second.values.contains(v.id))
        now = &report->second.values[v.id];
      if (now && now->is_number()) {
        worksheet_write_number(values, row, kColValue, now->get<double>(), fill);
      } else if (now && now->is_string()) {
        put(values, row, kColValue, now->get<std::string>(), fill);
      } else if (now && now->is_array()) {
        std::string list;
        for (const json& d : *now) {
          if (d.is_number()) list += (list.empty() ? "" : ";") + ShortestDecimal(d.get<double>());
        }
        put(values, row, kColValue, list, fill);
      } else {
        worksheet_write_blank(values, row, kColValue, fill);
      }
      // Excel's own check as the cell is typed; the upload checks again (a file can be made
      // by anything).
      lxw_data_validation dv = {};
      const std::string range = AllowedRangeInBoth(v);
      const std::string title = "ค่า / Value";
      dv.input_title = const_cast<char*>(title.c_str());
      dv.input_message = const_cast<char*>(range.c_str());
      dv.error_title = const_cast<char*>(title.c_str());
      const std::string error = "ต้องเป็น / must be: " + range;
      dv.error_message = const_cast<char*>(error.c_str());
      dv.error_type = LXW_VALIDATION_ERROR_TYPE_STOP;
      dv.ignore_blank = LXW_VALIDATION_ON;
      // libxlsxwriter takes the list as char** and only reads it.
      char pass[] = "ผ่าน";
      char fail[] = "ไม่ผ่าน";
      char* pass_fail[] = {pass, fail, nullptr};
      bool validate = true;
      if (v.type == domain::VariableType::kPassFail) {
        dv.validate = LXW_VALIDATION_TYPE_LIST;
        dv.value_list = pass_fail;
      } else if (v.type == domain::VariableType::kNumberList ||
                 v.type == domain::VariableType::kDate) {
        validate = false;  // "3;4;5" and "15/1/2564" are text to Excel: checked on upload only
      } else {
        dv.validate = v.type == domain::VariableType::kCount ? LXW_VALIDATION_TYPE_INTEGER
                                                             : LXW_VALIDATION_TYPE_DECIMAL;
        const double low = v.min ? *v.min : (v.type == domain::VariableType::kCount ? 0 : -1e15);
        const double high = v.max ? *v.max : 1e15;
        dv.criteria = LXW_VALIDATION_CRITERIA_BETWEEN;
        dv.minimum_number = low;
        dv.maximum_number = high;
      }
      if (validate) {
        const lxw_error e = worksheet_data_validation_cell(values, row, kColValue, &dv);
        if (e != LXW_NO_ERROR) {
          workbook_close(book);
          return WorkbookFailed(e);
        }
      }
      ++row;
    }
  }
  worksheet_protect(values, nullptr, nullptr);

  const std::vector<std::pair<std::string, double>> note_columns = {
      {"ตัวชี้วัด / KPI", 8},
      {"ชื่อตัวชี้วัด / KPI name", 36},
      {"คำชี้แจงประกอบผลการดำเนินงาน / Explanation", 48},
      {"ปัญหา อุปสรรค / Problems", 36},
      {"ข้อสังเกตอื่น / Remarks", 36}};
  for (size_t c = 0; c < note_columns.size(); ++c) {
    const auto col = static_cast<lxw_col_t>(c);
    worksheet_set_column(notes, col, col, note_columns[c].second, nullptr);
    put(notes, 0, col, note_columns[c].first, heading);
  }
  worksheet_freeze_panes(notes, 1, 0);
  row = 1;
  for (const domain::Kpi* k : reportable) {
    put(notes, row, kNoteKpi, k->id, wrap);
    put(notes, row, kNoteName, k->name.th, wrap);
    const auto report = saved->find(k->id);
    const std::array<std::string, 3> texts =
        report == saved->end()
            ? std::array<std::string, 3>{}
            : std::array<std::string, 3>{report->second.explanation, report->second.problems,
                                         report->second.remarks};
    for (size_t i = 0; i < texts.size(); ++i) {
      const auto c = static_cast<lxw_col_t>(kNoteExplanation + i);
      if (texts[i].empty()) {
        worksheet_write_blank(notes, row, c, fill_wrap);
      } else {
        put(notes, row, c, texts[i], fill_wrap);
      }
    }
    ++row;
  }
  worksheet_protect(notes, nullptr, nullptr);
  const lxw_error closed = workbook_close(book);
  if (closed != LXW_NO_ERROR) return WorkbookFailed(closed);
  return Status::Ok();
}

Result<TemplateUpload> Spreadsheets::UploadTemplate(const Actor& actor, int64_t round_id,
                                                    const std::string& agency,
                                                    std::string_view bytes) {
  // Who may save drafts is Reporting's rule; asked first, so that nobody else learns anything
  // about the file's contents from the answer.
  if (!(actor.Is(Role::kReporter) && actor.OfAgency(agency)))
    return Denied(actor, "บันทึกร่างรายงานของหน่วยงาน " + agency, "save drafts for agency " + agency);
  // A template is a few hundred rows: bounds far below the imports'.
  formats::XlsxLimits limits;
  limits.max_rows = 20'000;
  limits.max_cells = 200'000;
  limits.max_part_bytes = int64_t{16} << 20;
  limits.max_total_bytes = int64_t{32} << 20;
  limits.max_text_bytes = int64_t{8} << 20;
  auto book = formats::ReadXlsx(bytes, limits);
  if (!book) return book.status();
  const formats::XlsxSheet* sheet = book->Find(kTemplateValuesSheet);
  if (!sheet) {
    return Status::InvalidInput(
        std::string("ไม่พบชีต \"") + kTemplateValuesSheet + "\": ใช้แบบฟอร์มที่ดาวน์โหลดจาก esar",
        std::string("no sheet \"") + kTemplateValuesSheet +
            "\": use the template downloaded from esar");
  }
  Cycle cycle(db_, clock_);
  auto round = cycle.Round(round_id);
  if (!round) return round.status();
  auto stored = cycle.Framework(round->framework_id);
  if (!stored) return stored.status();
  const domain::Framework& f = stored->framework;
  std::set<std::string> reportable;
  for (const KpiDuty& d : KpiDuties(f, round->round, agency)) {
    if (d.Reportable()) reportable.insert(d.kpi);
  }

  TemplateUpload out;
  auto bad = [&](const std::string& sheet_name, int64_t row, size_t col, const std::string& th,
                 const std::string& en) {
    out.errors.push_back({sheet_name, row, formats::ColumnName(col), th, en});
  };
  // Per KPI, in the order met: its values, and the first row naming it (for its refusals).
  std::vector<std::string> order;
  std::map<std::string, json> values;
  std::map<std::string, int64_t> first_row;
  std::set<std::pair<std::string, std::string>> seen;
  for (const formats::XlsxRow& r : sheet->rows) {
    if (r.number == 1) continue;  // the headings
    const std::string kpi_id = Trim(r.Cell(kColKpi));
    const std::string variable = Trim(r.Cell(kColVariable));
    const std::string text = Trim(r.Cell(kColValue));
    if (kpi_id.empty() && variable.empty() && text.empty()) continue;
    const domain::Kpi* kpi = domain::FindKpi(f.kpis, kpi_id);
    if (!kpi || !reportable.count(kpi_id)) {
      bad(sheet->name, r.number, kColKpi, "ตัวชี้วัด \"" + kpi_id + "\" ไม่ใช่ตัวชี้วัดที่หน่วยงานนี้รายงานในรอบนี้",
          "KPI \"" + kpi_id + "\" is not one this agency reports in this round");
      continue;
    }
    const auto v = std::find_if(kpi->variables.begin(), kpi->variables.end(),
                                [&](const domain::Variable& x) { return x.id == variable; });
    if (v == kpi->variables.end() || v->type == domain::VariableType::kDerived) {
      bad(sheet->name, r.number, kColVariable,
          "ตัวชี้วัด " + kpi_id + " ไม่มีตัวแปร \"" + variable + "\" ที่ต้องรายงาน",
          "KPI " + kpi_id + " has no reported variable \"" + variable + "\"");
      continue;
    }
    if (!seen.insert({kpi_id, variable}).second) {
      bad(sheet->name, r.number, kColVariable,
          "ตัวแปร " + variable + " ของตัวชี้วัด " + kpi_id + " ซ้ำกับแถวก่อนหน้า",
          "variable " + variable + " of KPI " + kpi_id + " appears twice");
      continue;
    }
    if (text.empty()) continue;  // left blank: not reported in this upload
    auto value = CellValue(*v, text);
    if (!value) {
      bad(sheet->name, r.number, kColValue,
          "ค่า \"" + Utf8Prefix(text, 100) + "\" ของตัวชี้วัด " + kpi_id + " ตัวแปร " + variable + ": " +
              value.status().message_th(),
          "value \"" + Utf8Prefix(text, 100) + "\" of KPI " + kpi_id + " variable " + variable +
              ": " + value.status().message_en());
      continue;
    }
    if (!values.count(kpi_id)) {
      order.push_back(kpi_id);
      values[kpi_id] = json::object();
      first_row[kpi_id] = r.number;
    }
    values[kpi_id][variable] = std::move(*value);
  }
  // The notes: explanation, problems, remarks of KPIs that have values.
  std::map<std::string, std::array<std::string, 3>> texts;
  if (const formats::XlsxSheet* notes = book->Find(kTemplateNotesSheet)) {
    for (const formats::XlsxRow& r : notes->rows) {
      if (r.number == 1) continue;
      const std::string kpi_id = Trim(r.Cell(kNoteKpi));
      std::array<std::string, 3> t = {r.Cell(kNoteExplanation), r.Cell(kNoteProblems),
                                      r.Cell(kNoteRemarks)};
      if (kpi_id.empty() && t[0].empty() && t[1].empty() && t[2].empty()) continue;
      if (!reportable.count(kpi_id)) {
        bad(notes->name, r.number, kNoteKpi,
            "ตัวชี้วัด \"" + kpi_id + "\" ไม่ใช่ตัวชี้วัดที่หน่วยงานนี้รายงานในรอบนี้",
            "KPI \"" + kpi_id + "\" is not one this agency reports in this round");
        continue;
      }
      for (size_t i = 0; i < 3; ++i) {
        if (!IsValidUtf8(t[i]) || t[i].size() > 64 * 1024) {
          bad(notes->name, r.number, kNoteExplanation + i, "ข้อความยาวเกิน 64 KB หรือไม่ใช่ UTF-8",
              "the text is longer than 64 KB or not UTF-8");
        }
      }
      if (!values.count(kpi_id) && (!t[0].empty() || !t[1].empty() || !t[2].empty())) {
        bad(notes->name, r.number, kNoteExplanation,
            "มีคำชี้แจงของตัวชี้วัด " + kpi_id + " แต่ไม่มีค่าในชีต \"" + kTemplateValuesSheet + "\"",
            "KPI " + kpi_id + " has notes but no values in the values sheet");
        continue;
      }
      texts[kpi_id] = std::move(t);
    }
  }
  auto saved = CurrentReports(db_, round_id, agency);
  if (!saved) return saved.status();
  std::vector<Report> reports;
  for (const std::string& kpi_id : order) {
    Report report;
    report.kpi = kpi_id;
    report.values_json = values[kpi_id].dump();
    if (auto t = texts.find(kpi_id); t != texts.end()) {
      report.explanation = t->second[0];
      report.problems = t->second[1];
      report.remarks = t->second[2];
    }
    // A KPI whose values and texts are those saved already is left alone: a template downloaded
    // (prefilled) and sent back makes no new revision of what did not change, and does not
    // collide with what was submitted since.
    if (auto same = saved->find(kpi_id);
        same != saved->end() && same->second.values == values[kpi_id] &&
        same->second.explanation == report.explanation &&
        same->second.problems == report.problems && same->second.remarks == report.remarks) {
      continue;
    }
    // The form's own check, per KPI, so that its refusal names the KPI's row.
    Status valid = CheckReport(f, agency, report, round->round);
    if (!valid.ok()) {
      bad(sheet->name, first_row[kpi_id], kColValue, "ตัวชี้วัด " + kpi_id + ": " + valid.message_th(),
          "KPI " + kpi_id + ": " + valid.message_en());
      continue;
    }
    reports.push_back(std::move(report));
  }
  if (!out.errors.empty()) return out;
  if (order.empty()) {
    return Status::InvalidInput("ไม่มีค่าที่กรอกไว้ในชีต \"" + std::string(kTemplateValuesSheet) + "\"",
                                "no values are filled in the values sheet");
  }
  if (reports.empty()) return out;  // every KPI as saved already: nothing to do
  auto drafts = Reporting(db_, clock_).SaveDrafts(actor, round_id, agency, reports);
  if (!drafts) return drafts.status();
  out.drafts = std::move(*drafts);
  return out;
}

}  // namespace esar::service
