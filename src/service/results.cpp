#include "service/results.h"

#include <map>
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "domain/engine.h"
#include "formats/report.h"
#include "service/audit.h"
#include "service/directory.h"
#include "service/history.h"

namespace esar::service {
namespace {

using nlohmann::json;

Result<ResultStage> ParseStage(const std::string& s) {
  if (s == "preliminary") return ResultStage::kPreliminary;
  if (s == "final") return ResultStage::kFinal;
  if (s == "published") return ResultStage::kPublished;
  return Status::Internal("unknown result stage " + s);
}

// The stages `actor` may read, from `stage` on, as an SQL list of constants: the public sees only
// what is published, whatever it asks for.
std::string VisibleStages(const Actor& actor, ResultStage stage) {
  const bool public_only = actor.Is(Role::kPublic);
  std::string stages = "'published'";
  if (!public_only && stage != ResultStage::kPublished) stages += ", 'final'";
  if (!public_only && stage == ResultStage::kPreliminary) stages += ", 'preliminary'";
  return stages;
}

}  // namespace

const char* ResultStageName(ResultStage stage) {
  switch (stage) {
    case ResultStage::kPreliminary:
      return "preliminary";
    case ResultStage::kFinal:
      return "final";
    case ResultStage::kPublished:
      return "published";
  }
  return "preliminary";
}

Result<std::string> Results::Score(int64_t round_id) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto framework = cycle_.Framework(round->framework_id);
  if (!framework) return framework.status();
  auto observations = cycle_.Observations();
  if (!observations) return observations.status();
  auto accepted = reporting_.AcceptedValues(round_id);
  if (!accepted) return accepted.status();
  observations->insert(observations->end(), accepted->begin(), accepted->end());
  auto agencies = Directory(db_, clock_).Agencies();
  if (!agencies) return agencies.status();
  // Baselines read from an earlier year's published result, where no value was imported.
  auto filled = History(db_, clock_).FillBaselines(framework->framework, *agencies, *observations);
  if (!filled) return filled.status();
  auto engine = domain::Engine::Compile(framework->framework, round->round);
  if (!engine) return engine.status();
  const auto scores = engine->Score(*agencies, *observations, true);
  formats::ScoreReport report{&framework->framework, &*agencies, &scores, round->round};
  json document = formats::ScoresJson(report, true, Lang::kThai);
  document["explanation_en"] = formats::ScoresJson(report, true, Lang::kEnglish)["agencies"];
  return document.dump();
}

json Results::Summarize(const json& document, const std::map<std::string, json>& english) {
  std::map<std::string, domain::Agency> directory;
  if (auto agencies = Directory(db_, clock_).Agencies()) {
    for (auto& a : *agencies) directory[a.code] = a;
  }
  json agencies = json::array();
  for (const json& a : document["agencies"]) {
    const std::string code = a["code"];
    json kpis = json::object();
    for (const json& k : a["kpis"]) {
      kpis[k["id"].get<std::string>()] = {
          {"level", k.contains("level") && k["level"].is_number() ? k["level"] : json(-1)},
          {"score", k.contains("score") && k["score"].is_number() ? k["score"] : json(nullptr)},
          {"status", k.contains("status") && k["status"].is_string() ? k["status"] : json("")}};
    }
    const auto found = directory.find(code);
    const auto en = english.find(code);
    agencies.push_back(
        {{"code", code},
         {"name_th", a["name"].value("th", "")},
         {"name_en", a["name"].value("en", "")},
         {"kind", found == directory.end() ? "" : found->second.kind},
         {"parent", found == directory.end() ? "" : found->second.parent},
         {"total", a["total"]},
         {"total_text", a.value("total_text", "")},
         {"grade", a.value("grade", json(nullptr))},
         {"grade_en",
          en == english.end() ? json(nullptr) : en->second.value("grade", json(nullptr))},
         {"scored_weight", a.contains("scored_weight") ? a["scored_weight"] : json(nullptr)},
         {"kpis", kpis}});
  }
  return {{"fiscal_year", document["fiscal_year"]},
          {"round", document["round"]},
          {"agencies", agencies}};
}

Result<std::vector<int64_t>> Results::RoundsWithResults(const Actor& actor, ResultStage stage) {
  auto rows = db_.Query(
      "SELECT DISTINCT rd.id FROM rounds rd JOIN results r ON r.framework_id = rd.framework_id "
      "AND r.round = rd.round WHERE r.stage IN (" +
      VisibleStages(actor, stage) + ") ORDER BY rd.id DESC");
  if (!rows) return rows.status();
  std::vector<int64_t> out;
  for (const storage::Row& r : *rows) out.push_back(r.Int(0));
  return out;
}

Result<StoredResult> Results::Summary(const Actor& actor, int64_t round_id, ResultStage stage) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto rows = db_.Query(
      "SELECT r.id, r.framework_id, r.round, r.stage, s.summary, r.computed_at, "
      "r.appeal_deadline FROM results r JOIN result_summaries s ON s.result_id = r.id "
      "WHERE r.framework_id = ? AND r.round = ? AND r.stage IN (" +
          VisibleStages(actor, stage) + ") ORDER BY r.id DESC LIMIT 1",
      {round->framework_id, int64_t{round->round}});
  if (!rows) return rows.status();
  if (rows->empty())
    return Status::NotFound("ยังไม่มีผลการประเมินของรอบนี้", "no results for this round yet");
  const storage::Row& r = (*rows)[0];
  auto found = ParseStage(r.Text(3));
  if (!found) return found.status();
  StoredResult out{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), *found, r.Text(4),
                   r.Int(5), r.Int(6)};
  if ((actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) &&
      *found != ResultStage::kPublished) {
    json summary = json::parse(out.document);
    json own = json::array();
    for (const json& a : summary["agencies"]) {
      if (a["code"] == actor.agency) own.push_back(a);
    }
    summary["agencies"] = own;
    out.document = summary.dump();
  }
  return out;
}

Result<int64_t> Results::OpenAppeals(const RoundInfo& round) {
  auto open = db_.Query(
      "SELECT COUNT(*) FROM appeals a JOIN results r ON r.id = a.result_id WHERE "
      "r.framework_id = ? AND r.round = ? AND a.status = 'open'",
      {round.framework_id, int64_t{round.round}});
  if (!open) return open.status();
  return (*open)[0].Int(0);
}

Result<StoredResult> Results::Advance(
    const Actor& actor, int64_t round_id, ResultStage stage, int64_t appeal_window_ms,
    const std::function<Status(const RoundStatus&)>& allowed,
    const std::function<Result<std::string>(const RoundStatus&)>& make) {
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    // Held to the end: no report, review or other change of state slips in between the check,
    // the scoring and the store.
    auto status = cycle_.LockForChange(round_id);
    if (!status) return status.status();
    Status ok = allowed(*status);
    if (!ok.ok()) return ok;
    auto document = make(*status);
    if (!document) return document.status();
    auto stored = StoreLocked(actor, status->round, stage, *document,
                              stage == ResultStage::kPreliminary ? now + appeal_window_ms : 0, now);
    if (!stored) return stored.status();
    id = *stored;
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<int64_t> Results::StoreLocked(const Actor& actor, const RoundInfo& round_info,
                                     ResultStage stage, const std::string& document,
                                     int64_t appeal_deadline, int64_t now) {
  const RoundInfo* round = &round_info;
  const int64_t round_id = round_info.id;
  auto rows = db_.Query(
      "INSERT INTO results (framework_id, round, stage, document, computed_by, computed_at, "
      "appeal_deadline) "
      "VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {round->framework_id, int64_t{round->round}, std::string(ResultStageName(stage)), document,
       UserRef(actor), now, appeal_deadline ? storage::Value{appeal_deadline} : storage::Value{}});
  if (!rows) return rows.status();
  const int64_t id = (*rows)[0].Int(0);
  json summary = json::object();
  const json parsed = json::parse(document);
  for (const json& a : parsed["agencies"]) summary[a["code"].get<std::string>()] = a["total"];
  // Each agency's part in a row of its own, so that one agency's result is read without
  // parsing the whole (for 400 agencies, megabytes of) document.
  std::map<std::string, json> english;
  if (parsed.contains("explanation_en")) {
    for (const json& a : parsed["explanation_en"]) english[a["code"].get<std::string>()] = a;
  }
  for (const json& a : parsed["agencies"]) {
    const std::string code = a["code"];
    const json part = {{"fiscal_year", parsed["fiscal_year"]},
                       {"round", parsed["round"]},
                       {"agency", a},
                       {"agency_en", english.count(code) ? english[code] : json(nullptr)}};
    // The metadata is repeated here so that reading one agency never touches `results`, whose
    // large document SQLite would otherwise read through to reach the columns after it.
    Status s = db_.Execute(
        "INSERT INTO result_agencies (result_id, agency_code, framework_id, round, stage, "
        "computed_at, appeal_deadline, "
        "document) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        {id, code, round->framework_id, int64_t{round->round}, std::string(ResultStageName(stage)),
         now, appeal_deadline ? storage::Value{appeal_deadline} : storage::Value{}, part.dump()});
    if (!s.ok()) return s;
  }
  Status summarized = db_.Execute("INSERT INTO result_summaries (result_id, summary) VALUES (?, ?)",
                                  {id, Summarize(parsed, english).dump()});
  if (!summarized.ok()) return summarized;
  Status audited = AuditLog(db_).Append(
      actor, now, std::string("results.") + ResultStageName(stage), "result/" + std::to_string(id),
      "{}", json{{"round", round_id}, {"totals", summary}}.dump());
  if (!audited.ok()) return audited;
  return id;
}

Result<StoredResult> Results::Load(int64_t result_id) {
  auto rows = db_.Query(
      "SELECT id, framework_id, round, stage, document, computed_at, appeal_deadline FROM results "
      "WHERE id = ?",
      {result_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีผลการประเมินนี้", "no such result");
  const storage::Row& r = (*rows)[0];
  auto stage = ParseStage(r.Text(3));
  if (!stage) return stage.status();
  return StoredResult{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), *stage, r.Text(4),
                      r.Int(5), r.Int(6)};
}

namespace {

// The refusal to go on from results that are already final or published.
Status AlreadyDone(RoundState state) {
  if (state == RoundState::kPublished) {
    return Status::Conflict(
        "ผลการประเมินของรอบนี้เผยแพร่แล้ว ทำรายการนี้ได้เมื่อเปิดรอบอีกครั้งพร้อมเหตุผล",
        "this round's results are published: reopen the round (with a reason) to do this");
  }
  return Status::Conflict(
      "ผลการประเมินของรอบนี้เป็นผลขั้นสุดท้ายแล้ว ทำรายการนี้ได้เมื่อเปิดรอบอีกครั้งพร้อมเหตุผล",
      "this round's results are final: reopen the round (with a reason) to do this");
}

Status StillOpen(const RoundStatus& status) {
  return Status::Conflict("รอบนี้ยังเปิดรับรายงานถึง " + FormatDateTime(status.closes_at, Lang::kThai) +
                              " ให้ปิดรับรายงานก่อนหรือรอให้พ้นกำหนด",
                          "reporting is open until " +
                              FormatDateTime(status.closes_at, Lang::kEnglish) +
                              ": close it first, or wait for the deadline");
}

Status OpenAppealsLeft(int64_t open) {
  return Status::Conflict("ยังมีอุทธรณ์ที่ยังไม่ได้วินิจฉัย " + std::to_string(open) + " เรื่อง",
                          std::to_string(open) + " appeals are still open");
}

}  // namespace

Result<StoredResult> Results::ComputePreliminary(const Actor& actor, int64_t round_id,
                                                 int64_t appeal_window_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "คำนวณผลการประเมิน", "compute results");
  auto allowed = [&](const RoundStatus& status) -> Status {
    switch (status.state) {
      case RoundState::kOpen:
        return StillOpen(status);
      case RoundState::kClosed:
        return Status::Ok();
      case RoundState::kPreliminary: {
        // Computing again would leave the open appeals on results nobody looks at.
        auto open = OpenAppeals(status.round);
        if (!open) return open.status();
        if (*open > 0) {
          return Status::Conflict(
              "ยังมีอุทธรณ์รอพิจารณา " + std::to_string(*open) + " เรื่อง ต้องวินิจฉัยก่อนคำนวณผลใหม่",
              std::to_string(*open) + " appeals are open: decide them before computing again");
        }
        return Status::Ok();
      }
      default:
        return AlreadyDone(status.state);
    }
  };
  return Advance(actor, round_id, ResultStage::kPreliminary, appeal_window_ms, allowed,
                 [&](const RoundStatus&) { return Score(round_id); });
}

Result<StoredResult> Results::CloseAppeals(const Actor& actor, int64_t round_id,
                                           const std::string& reason) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ปิดรับอุทธรณ์", "close the appeal window");
  if (reason.size() > 64 * 1024 || !IsValidUtf8(reason)) {
    return Status::InvalidInput("เหตุผลต้องเป็นข้อความ UTF-8 ไม่เกิน 64 KB",
                                "the reason must be UTF-8 text of at most 64 KB");
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto status = cycle_.LockForChange(round_id);
    if (!status) return status.status();
    if (status->state != RoundState::kPreliminary || now >= status->appeal_deadline) {
      return Status::Conflict("รอบนี้ไม่มีระยะอุทธรณ์ที่เปิดอยู่", "this round has no open appeal window");
    }
    id = status->result_id;
    Status s = db_.Execute("UPDATE results SET appeal_deadline = ? WHERE id = ?", {now, id});
    if (!s.ok()) return s;
    s = db_.Execute("UPDATE result_agencies SET appeal_deadline = ? WHERE result_id = ?",
                    {now, id});
    if (!s.ok()) return s;
    return AuditLog(db_).Append(actor, now, "results.close_appeals", "result/" + std::to_string(id),
                                json{{"appeal_deadline", status->appeal_deadline}}.dump(),
                                json{{"appeal_deadline", now}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<Readiness> Results::ReadinessOf(const Actor& actor, int64_t round_id) {
  if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator)))
    return Denied(actor, "ดูความพร้อมของรอบการรายงาน", "see a round's readiness");
  Readiness out;
  auto status = cycle_.StatusOf(round_id);
  if (!status) return status.status();
  out.status = *status;
  auto framework = cycle_.Framework(status->round.framework_id);
  if (!framework) return framework.status();
  auto agencies = Directory(db_, clock_).Agencies();
  if (!agencies) return agencies.status();
  // One query for every submission of the round; the duties come from the framework.
  auto rows =
      db_.Query("SELECT agency_code, kpi, status FROM submissions WHERE round_id = ?", {round_id});
  if (!rows) return rows.status();
  std::map<std::pair<std::string, std::string>, std::string> state;
  for (const storage::Row& r : *rows) state[{r.Text(0), r.Text(1)}] = r.Text(2);
  const domain::Framework& fw = framework->framework;
  const KpiDutyResolver duties(fw, status->round.round);
  for (const domain::Agency& a : *agencies) {
    if (!fw.agency_kind.empty() && a.kind != fw.agency_kind) continue;
    int64_t due = 0, missing = 0;
    for (const KpiDuty& d : duties.For(a.code)) {
      if (!d.Reportable()) continue;
      ++due;
      const auto found = state.find({a.code, d.kpi});
      const std::string s = found == state.end() ? "" : found->second;
      if (s == "submitted") {
        ++out.awaiting_review;
      } else if (s == "accepted") {
        ++out.accepted;
      } else {
        ++missing;
      }
    }
    if (due == 0) continue;
    ++out.agencies;
    out.kpis_due += due;
    out.kpis_missing += missing;
    out.agencies_missing += missing > 0;
  }
  auto open = OpenAppeals(status->round);
  if (!open) return open.status();
  out.open_appeals = *open;
  if (status->result_id) {
    auto decided =
        db_.Query("SELECT COUNT(*) FROM appeals WHERE result_id = ? AND status <> 'open'",
                  {status->result_id});
    if (!decided) return decided.status();
    out.decided_appeals = (*decided)[0].Int(0);
    auto summary =
        db_.Query("SELECT summary FROM result_summaries WHERE result_id = ?", {status->result_id});
    if (!summary) return summary.status();
    if (!summary->empty()) {
      const json parsed = json::parse((*summary)[0].Text(0));
      for (const json& a : parsed["agencies"]) {
        ++out.agencies_scored;
        out.agencies_without_total += !a["total"].is_number();
      }
    }
  }
  return out;
}

Result<AppealInfo> Results::FileAppeal(const Actor& actor, int64_t result_id,
                                       const std::string& kpi, const std::string& reason) {
  auto result = Load(result_id);
  if (!result) return result.status();
  if (!(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ยื่นอุทธรณ์", "file appeals");
  if (result->stage != ResultStage::kPreliminary) {
    return Status::Conflict("อุทธรณ์ได้เฉพาะผลการประเมินเบื้องต้น",
                            "only preliminary results can be appealed");
  }
  if (clock_.NowMs() >= result->appeal_deadline) {
    return Status::Conflict("พ้นกำหนดยื่นอุทธรณ์แล้ว", "the appeal window has closed");
  }
  if (reason.empty() || reason.size() > 64 * 1024 || !IsValidUtf8(reason)) {
    return Status::InvalidInput("ต้องระบุเหตุผลการอุทธรณ์ (ไม่เกิน 64 KB)",
                                "an appeal needs a reason (at most 64 KB)");
  }
  bool scored = false;
  const json document = json::parse(result->document);
  for (const json& a : document["agencies"]) {
    if (a["code"] != actor.agency) continue;
    for (const json& k : a["kpis"]) scored = scored || k["id"] == kpi;
  }
  if (!scored) {
    return Status::InvalidInput("หน่วยงานนี้ไม่มีผลตัวชี้วัด " + kpi + " ในผลการประเมินนี้",
                                "this agency has no score for KPI " + kpi + " in these results");
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  auto round = db_.Query("SELECT id FROM rounds WHERE framework_id = ? AND round = ?",
                         {result->framework_id, int64_t{result->round}});
  if (!round) return round.status();
  if (round->empty()) return Status::Internal("results without their round");
  const int64_t round_id = (*round)[0].Int(0);
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(round_id, false);
    if (!locked.ok()) return locked;
    // Only the round's current results can be appealed: not once they are final, nor results
    // that a newer computation or a reopening replaced.
    auto status = cycle_.StatusOf(round_id);
    if (!status) return status.status();
    if (status->state == RoundState::kFinal || status->state == RoundState::kPublished) {
      return Status::Conflict("ผลการประเมินของรอบนี้เป็นผลขั้นสุดท้ายแล้ว อุทธรณ์ไม่ได้",
                              "the results of this round are final: no more appeals");
    }
    if (status->result_id != result_id) {
      return Status::Conflict("ผลการประเมินนี้ถูกแทนด้วยผลที่คำนวณใหม่แล้ว ให้อุทธรณ์ผลล่าสุด",
                              "these results were replaced by newer ones: appeal the newest");
    }
    if (now >= status->appeal_deadline) {
      return Status::Conflict("พ้นกำหนดยื่นอุทธรณ์แล้ว", "the appeal window has closed");
    }
    auto rows = db_.Query(
        "INSERT INTO appeals (result_id, agency_code, kpi, reason, filed_by, filed_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'open') "
        "RETURNING id",
        {result_id, actor.agency, kpi, reason, UserRef(actor), now});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(
        actor, now, "appeal.file", "appeal/" + std::to_string(id), "{}",
        json{{"result", result_id}, {"kpi", kpi}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return Appeal(actor, result_id, id);
}

Result<AppealInfo> Results::DecideAppeal(const Actor& actor, int64_t appeal_id, bool upheld,
                                         const std::string& reason,
                                         const std::string& corrected_values_json) {
  if (!(actor.Is(Role::kEvaluator) || actor.Is(Role::kAdmin)))
    return Denied(actor, "วินิจฉัยอุทธรณ์", "decide appeals");
  if (reason.empty())
    return Status::InvalidInput("ต้องระบุเหตุผลของคำวินิจฉัย", "a decision needs a reason");
  auto rows = db_.Query("SELECT result_id, agency_code, kpi, status FROM appeals WHERE id = ?",
                        {appeal_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีอุทธรณ์นี้", "no such appeal");
  const int64_t result_id = (*rows)[0].Int(0);
  const std::string agency = (*rows)[0].Text(1), kpi = (*rows)[0].Text(2);
  if ((*rows)[0].Text(3) != "open")
    return Status::Conflict("อุทธรณ์นี้วินิจฉัยแล้ว", "this appeal has been decided");
  auto result = Load(result_id);
  if (!result) return result.status();
  const int64_t now = clock_.NowMs();
  Status done = db_.Transaction([&]() -> Status {
    auto decided = db_.Query(
        "UPDATE appeals SET status = ?, decision_reason = ?, decided_by = ?, decided_at = ? WHERE "
        "id = ? AND status = 'open' RETURNING id",
        {std::string(upheld ? "upheld" : "rejected"), reason, UserRef(actor), now, appeal_id});
    if (!decided) return decided.status();
    // Another evaluator decided it meanwhile: this decision changes nothing.
    if (decided->empty()) return Status::Conflict("อุทธรณ์นี้วินิจฉัยแล้ว", "this appeal has been decided");
    Status s;
    std::vector<std::string> also;  // the submission a correction changes
    if (upheld && !corrected_values_json.empty()) {
      auto sub = db_.Query(
          "SELECT s.id, s.revision FROM submissions s JOIN rounds r ON r.id = s.round_id "
          "WHERE r.framework_id = ? AND r.round = ? AND s.agency_code = ? AND s.kpi = ? AND "
          "s.status = 'accepted'",
          {result->framework_id, int64_t{result->round}, agency, kpi});
      if (!sub) return sub.status();
      if (sub->empty()) {
        return Status::Conflict("ไม่มีรายงานที่ยอมรับแล้วของตัวชี้วัดนี้ให้แก้ค่า",
                                "no accepted submission of this KPI to correct");
      }
      auto framework = cycle_.Framework(result->framework_id);
      if (!framework) return framework.status();
      Status valid = CheckReport(framework->framework, agency,
                                 {kpi, corrected_values_json, "", "", ""}, result->round);
      if (!valid.ok()) return valid;
      s = db_.Execute(
          "INSERT INTO reviews (submission_id, revision, evaluator, decision, verified_json, "
          "comment, at) "
          "VALUES (?, ?, ?, 'accepted', ?, ?, ?)",
          {(*sub)[0].Int(0), (*sub)[0].Int(1), UserRef(actor), corrected_values_json,
           "อุทธรณ์: " + reason, now});
      if (!s.ok()) return s;
      also.push_back("submission/" + std::to_string((*sub)[0].Int(0)));
    }
    return AuditLog(db_).Append(
        actor, now, upheld ? "appeal.uphold" : "appeal.reject",
        "appeal/" + std::to_string(appeal_id), json{{"status", "open"}}.dump(),
        json{{"status", upheld ? "upheld" : "rejected"},
             {"reason", reason},
             {"corrected",
              corrected_values_json.empty() ? json(nullptr) : json::parse(corrected_values_json)}}
            .dump(),
        also);
  });
  if (!done.ok()) return done;
  return Appeal(actor, result_id, appeal_id);
}

Result<StoredResult> Results::Finalize(const Actor& actor, int64_t round_id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "สรุปผลการประเมิน", "finalize results");
  const int64_t now = clock_.NowMs();
  auto allowed = [&](const RoundStatus& status) -> Status {
    switch (status.state) {
      case RoundState::kOpen:
      case RoundState::kClosed:
        return Status::Conflict("ต้องคำนวณผลเบื้องต้นก่อน", "compute preliminary results first");
      case RoundState::kPreliminary:
        break;
      default:
        return AlreadyDone(status.state);
    }
    if (now < status.appeal_deadline) {
      return Status::Conflict("ระยะอุทธรณ์ยังเปิดถึง " +
                                  FormatDateTime(status.appeal_deadline, Lang::kThai) +
                                  " รอให้ครบกำหนดหรือปิดรับอุทธรณ์ก่อนกำหนด",
                              "the appeal window is open until " +
                                  FormatDateTime(status.appeal_deadline, Lang::kEnglish) +
                                  ": wait for it to end, or close it early");
    }
    auto open = OpenAppeals(status.round);
    if (!open) return open.status();
    if (*open > 0) return OpenAppealsLeft(*open);
    return Status::Ok();
  };
  return Advance(actor, round_id, ResultStage::kFinal, 0, allowed,
                 [&](const RoundStatus&) { return Score(round_id); });
}

Result<StoredResult> Results::Publish(const Actor& actor, int64_t round_id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "เผยแพร่ผลการประเมิน", "publish results");
  auto allowed = [&](const RoundStatus& status) -> Status {
    if (status.state == RoundState::kPublished) {
      return Status::Conflict("เผยแพร่ผลการประเมินของรอบนี้แล้ว",
                              "the results of this round are already published");
    }
    if (status.state != RoundState::kFinal) {
      return Status::Conflict("ต้องสรุปผลการประเมินขั้นสุดท้ายก่อนเผยแพร่",
                              "finalize the results before publishing");
    }
    return Status::Ok();
  };
  return Advance(actor, round_id, ResultStage::kPublished, 0, allowed,
                 [&](const RoundStatus& status) -> Result<std::string> {
                   auto final_result = Load(status.result_id);
                   if (!final_result) return final_result.status();
                   return final_result->document;
                 });
}

Result<StoredResult> Results::Latest(const Actor& actor, int64_t round_id, ResultStage stage) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  const std::string stages = VisibleStages(actor, stage);
  auto rows =
      db_.Query("SELECT id FROM results WHERE framework_id = ? AND round = ? AND stage IN (" +
                    stages + ") ORDER BY id DESC LIMIT 1",
                {round->framework_id, int64_t{round->round}});
  if (!rows) return rows.status();
  if (rows->empty())
    return Status::NotFound("ยังไม่มีผลการประเมินของรอบนี้", "no results for this round yet");
  auto result = Load((*rows)[0].Int(0));
  if (!result) return result.status();
  if ((actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) &&
      result->stage != ResultStage::kPublished) {
    // Before publication an agency sees only its own scores.
    json document = json::parse(result->document);
    json own = json::array();
    for (const json& a : document["agencies"]) {
      if (a["code"] == actor.agency) own.push_back(a);
    }
    document["agencies"] = own;
    json own_en = json::array();
    for (const json& a : document["explanation_en"]) {
      if (a["code"] == actor.agency) own_en.push_back(a);
    }
    document["explanation_en"] = own_en;
    result->document = document.dump();
  }
  return result;
}

Result<StoredResult> Results::LatestForAgency(const Actor& actor, int64_t round_id,
                                              ResultStage stage, const std::string& agency) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  const std::string stages = VisibleStages(actor, stage);
  auto rows = db_.Query(
      "SELECT result_id, framework_id, round, stage, document, computed_at, appeal_deadline FROM "
      "result_agencies "
      "WHERE agency_code = ? AND framework_id = ? AND round = ? AND stage IN (" +
          stages +
          ") "
          "ORDER BY result_id DESC LIMIT 1",
      {agency, round->framework_id, int64_t{round->round}});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("ยังไม่มีผลการประเมินของหน่วยงาน " + agency + " ในรอบนี้",
                            "no results for agency " + agency + " in this round yet");
  }
  const storage::Row& r = (*rows)[0];
  auto found = ParseStage(r.Text(3));
  if (!found) return found.status();
  // Before publication an agency's users see only their own agency.
  if ((actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) &&
      *found != ResultStage::kPublished && actor.agency != agency) {
    return Status::NotFound("ยังไม่มีผลการประเมินของหน่วยงาน " + agency + " ในรอบนี้",
                            "no results for agency " + agency + " in this round yet");
  }
  return StoredResult{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), *found, r.Text(4),
                      r.Int(5), r.Int(6)};
}

Result<AppealInfo> Results::Appeal(const Actor& actor, int64_t result_id, int64_t appeal_id) {
  auto all = Appeals(actor, result_id);
  if (!all) return all.status();
  for (const AppealInfo& a : *all) {
    if (a.id == appeal_id) return a;
  }
  return Status::NotFound("ไม่มีอุทธรณ์นี้", "no such appeal");
}

Result<std::vector<AppealInfo>> Results::AppealsOfRound(const Actor& actor, int64_t round_id) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูอุทธรณ์", "see appeals");
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  const std::string sql =
      "SELECT a.id, a.result_id, a.agency_code, a.kpi, a.reason, a.status, a.decision_reason "
      "FROM appeals a JOIN results r ON r.id = a.result_id WHERE r.framework_id = ? AND "
      "r.round = ?" +
      std::string(all ? "" : " AND a.agency_code = ?") + " ORDER BY a.id";
  std::vector<storage::Value> params = {round->framework_id, int64_t{round->round}};
  if (!all) params.emplace_back(actor.agency);
  auto rows = db_.Query(sql, params);
  if (!rows) return rows.status();
  std::vector<AppealInfo> out;
  for (const storage::Row& r : *rows) {
    out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)});
  }
  return out;
}

Result<std::vector<AppealInfo>> Results::Appeals(const Actor& actor, int64_t result_id) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูอุทธรณ์", "see appeals");
  auto rows = all ? db_.Query(
                        "SELECT id, result_id, agency_code, kpi, reason, status, decision_reason "
                        "FROM appeals "
                        "WHERE result_id = ? ORDER BY id",
                        {result_id})
                  : db_.Query(
                        "SELECT id, result_id, agency_code, kpi, reason, status, decision_reason "
                        "FROM appeals "
                        "WHERE result_id = ? AND agency_code = ? ORDER BY id",
                        {result_id, actor.agency});
  if (!rows) return rows.status();
  std::vector<AppealInfo> out;
  for (const storage::Row& r : *rows) {
    out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)});
  }
  return out;
}

}  // namespace esar::service
