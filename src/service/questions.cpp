#include "service/questions.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "common/text.h"
#include "common/thai.h"
#include "service/audit.h"
#include "service/cycle.h"

namespace esar::service {
namespace {

using nlohmann::json;

AnswerListener& Listener() {
  static AnswerListener listener;
  return listener;
}

constexpr const char* kSelect =
    "SELECT q.id, q.fiscal_year, q.through_year, q.agency_kind, q.kpi, q.agency_code, a.name_th, "
    "a.name_en, q.asked_by, q.asked_at, q.question, q.answer, q.answered_by, q.answered_at, "
    "q.published, q.number FROM questions q LEFT JOIN agencies a ON a.code = q.agency_code ";

QuestionInfo FromRow(const storage::Row& r) {
  QuestionInfo q;
  q.id = r.Int(0);
  q.fiscal_year = static_cast<int>(r.Int(1));
  q.through_year = static_cast<int>(r.Int(2));
  q.agency_kind = r.Text(3);
  q.kpi = r.Text(4);
  q.agency = r.Text(5);
  q.agency_name_th = r.Text(6);
  q.agency_name_en = r.Text(7);
  q.asked_by = r.Int(8);
  q.asked_at = r.Int(9);
  q.question = r.Text(10);
  q.answered = !r.IsNull(11);
  q.answer = r.Text(11);
  q.answered_by = r.Int(12);
  q.answered_at = r.Int(13);
  q.published = r.Int(14) != 0;
  q.number = static_cast<int>(r.Int(15));
  return q;
}

// A question's or answer's text as stored: plain text, trimmed, not blank, at most 16 KB.
Result<std::string> CheckedText(const std::string& raw, const char* what_th, const char* what_en) {
  if (!IsPlainText(raw)) {
    return Status::InvalidInput(std::string(what_th) + "ต้องเป็นข้อความ UTF-8 ที่ไม่มีอักขระควบคุม",
                                std::string("the ") + what_en +
                                    " must be UTF-8 text without control characters");
  }
  std::string text = TrimSpaces(raw);
  if (text.empty()) {
    return Status::InvalidInput(std::string("ต้องระบุ") + what_th,
                                std::string("the ") + what_en + " is empty");
  }
  if (text.size() > formats::kMaxQaTextBytes) {
    return Status::InvalidInput(std::string(what_th) + "ยาวเกิน 16 KB",
                                std::string("the ") + what_en + " is longer than 16 KB");
  }
  return text;
}

bool HasKpi(const std::vector<domain::Kpi>& kpis, const std::string& id) {
  for (const domain::Kpi& k : kpis) {
    if (k.id == id || HasKpi(k.sub_kpis, id)) return true;
  }
  return false;
}

Status NoSuchQuestion() { return Status::NotFound("ไม่มีคำถามนี้", "no such question"); }

}  // namespace

void Questions::SetAnswerListener(AnswerListener listener) { Listener() = std::move(listener); }

int FiscalYearAt(int64_t ms) {
  const std::string day = IsoDateInBangkok(ms);  // "2023-10-01"
  const int year = std::stoi(day.substr(0, 4));
  const int month = std::stoi(day.substr(5, 2));
  return year + 543 + (month >= 10 ? 1 : 0);
}

std::string SearchWords(const std::string& text) {
  std::set<std::string> seen;
  std::string out = " ";
  for (std::string& word : ThaiWords(text)) {
    if (!seen.insert(word).second) continue;
    out += word;
    out += ' ';
  }
  return out;
}

Result<QuestionInfo> Questions::Load(int64_t id) {
  auto rows = db_.Query(std::string(kSelect) + "WHERE q.id = ?", {id});
  if (!rows) return rows.status();
  if (rows->empty()) return NoSuchQuestion();
  return FromRow((*rows)[0]);
}

Result<std::vector<int>> Questions::AskableYears(const std::string& agency_kind) {
  auto rows =
      db_.Query("SELECT DISTINCT fiscal_year FROM frameworks WHERE agency_kind = ?", {agency_kind});
  if (!rows) return rows.status();
  std::set<int, std::greater<int>> years = {FiscalYearAt(clock_.NowMs())};
  for (const storage::Row& r : *rows) years.insert(static_cast<int>(r.Int(0)));
  return std::vector<int>(years.begin(), years.end());
}

Result<QuestionInfo> Questions::Ask(const Actor& actor, int fiscal_year, const std::string& kpi,
                                    const std::string& question) {
  if (!(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) || actor.agency.empty())
    return Denied(actor, "ถามคำถามของหน่วยงาน", "ask questions for an agency");
  auto text = CheckedText(question, "คำถาม", "question");
  if (!text) return text.status();
  auto agency = db_.Query("SELECT kind FROM agencies WHERE code = ?", {actor.agency});
  if (!agency) return agency.status();
  if (agency->empty()) return Status::NotFound("ไม่มีหน่วยงานนี้", "no such agency");
  const std::string kind = (*agency)[0].Text(0);
  auto years = AskableYears(kind);
  if (!years) return years.status();
  if (std::find(years->begin(), years->end(), fiscal_year) == years->end()) {
    return Status::InvalidInput(
        "ถามได้เฉพาะปีงบประมาณที่มีกรอบการประเมินของหน่วยงานประเภทนี้ หรือปีงบประมาณปัจจุบัน",
        "questions can be asked about a fiscal year with a framework for this kind of agency, or "
        "the current one");
  }
  if (!kpi.empty()) {
    if (!formats::IsValidKpiId(kpi))
      return Status::InvalidInput("รหัสตัวชี้วัดไม่ถูกต้อง", "not a KPI id");
    auto framework = Cycle(db_, clock_).LatestFramework(fiscal_year, kind);
    if (!framework || !HasKpi(framework->framework.kpis, kpi)) {
      return Status::InvalidInput(
          "ไม่มีตัวชี้วัด " + kpi + " ในกรอบการประเมินปีงบประมาณ พ.ศ. " + std::to_string(fiscal_year),
          "there is no KPI " + kpi + " in the framework of FY " + std::to_string(fiscal_year));
    }
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto rows = db_.Query(
        "INSERT INTO questions (fiscal_year, through_year, agency_kind, kpi, agency_code, "
        "asked_by, asked_at, question, published, search_words) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
        "0, ?) RETURNING id",
        {int64_t{fiscal_year}, int64_t{fiscal_year}, kind, kpi, actor.agency, UserRef(actor), now,
         *text, SearchWords(*text)});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(actor, now, "question.ask", "question/" + std::to_string(id), "{}",
                                json{{"fiscal_year", fiscal_year},
                                     {"agency_kind", kind},
                                     {"kpi", kpi},
                                     {"question", *text}}
                                    .dump());
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<QuestionInfo> Questions::Answer(const Actor& actor, int64_t id, const std::string& answer,
                                       bool publish) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ตอบคำถาม", "answer questions");
  auto text = CheckedText(answer, "คำตอบ", "answer");
  if (!text) return text.status();
  const int64_t now = clock_.NowMs();
  Status done = db_.Transaction([&]() -> Status {
    // The audit lock first (PostgreSQL; SQLite's write lock does it): two answers published at
    // once in one cycle must not both take the same next number.
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    auto before = Load(id);
    if (!before) return before.status();
    int64_t number = before->number;
    if (publish && number == 0) {
      auto next = db_.Query(
          "SELECT COALESCE(MAX(number), 0) + 1 FROM questions WHERE fiscal_year = ? AND "
          "agency_kind = ?",
          {int64_t{before->fiscal_year}, before->agency_kind});
      if (!next) return next.status();
      number = (*next)[0].Int(0);
    }
    const bool changed = !before->answered || before->answer != *text;
    Status updated = db_.Execute(
        "UPDATE questions SET answer = ?, answered_by = ?, answered_at = ?, published = ?, "
        "number = ?, search_words = ? WHERE id = ?",
        {*text, changed ? UserRef(actor) : storage::Value{before->answered_by},
         changed ? now : before->answered_at, int64_t{publish ? 1 : 0},
         number ? storage::Value{number} : storage::Value{},
         SearchWords(before->question + "\n" + *text), id});
    if (!updated.ok()) return updated;
    Status logged = audit.Append(
        actor, now, "question.answer", "question/" + std::to_string(id),
        json{{"answer", before->answered ? json(before->answer) : json(nullptr)},
             {"published", before->published}}
            .dump(),
        json{{"answer", *text}, {"published", publish}, {"number", number}}.dump());
    if (!logged.ok()) return logged;
    if (!changed || !Listener()) return Status::Ok();
    auto after = Load(id);
    if (!after) return after.status();
    return Listener()(db_, *after);
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<QuestionInfo> Questions::Get(const Actor& actor, int64_t id) {
  auto q = Load(id);
  if (!q) return q;
  if (actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator) || q->published ||
      (!q->agency.empty() && actor.OfAgency(q->agency)))
    return q;
  return NoSuchQuestion();
}

Result<QuestionPage> Questions::List(const Actor& actor, const QuestionFilter& filter) {
  std::string where = "WHERE 1 = 1";
  std::vector<storage::Value> params;
  if (actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) {
    where += " AND q.agency_code = ?";
    params.push_back(actor.agency);
  } else if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator))) {
    return Denied(actor, "ดูรายการคำถาม", "list questions");
  }
  if (filter.fiscal_year) {
    where += " AND q.fiscal_year = ?";
    params.push_back(int64_t{filter.fiscal_year});
  }
  if (!filter.agency_kind.empty()) {
    where += " AND q.agency_kind = ?";
    params.push_back(filter.agency_kind);
  }
  if (filter.state == "waiting") {
    where += " AND q.answer IS NULL";
  } else if (filter.state == "answered") {
    where += " AND q.answer IS NOT NULL AND q.published = 0";
  } else if (filter.state == "published") {
    where += " AND q.published = 1";
  } else if (!filter.state.empty()) {
    return Status::InvalidInput("สถานะต้องเป็น waiting, answered หรือ published",
                                "state must be waiting, answered or published");
  }
  QuestionPage page;
  auto count = db_.Query("SELECT COUNT(*) FROM questions q " + where, params);
  if (!count) return count.status();
  page.total = (*count)[0].Int(0);
  params.push_back(std::clamp<int64_t>(filter.limit, 1, 500));
  params.push_back(std::max<int64_t>(filter.offset, 0));
  auto rows = db_.Query(std::string(kSelect) + where + " ORDER BY q.id DESC LIMIT ? OFFSET ?",
                        params);
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) page.items.push_back(FromRow(r));
  return page;
}

Result<std::vector<QuestionInfo>> Questions::Published(int fiscal_year,
                                                       const std::string& agency_kind,
                                                       const std::string& query) {
  if (query.size() > kMaxQueryBytes || !IsPlainText(query)) {
    return Status::InvalidInput("คำค้นต้องเป็นข้อความไม่เกิน 200 ไบต์",
                                "the search must be text of at most 200 bytes");
  }
  std::string sql = std::string(kSelect) +
                    "WHERE q.fiscal_year = ? AND q.agency_kind = ? AND q.published = 1";
  std::vector<storage::Value> params = {int64_t{fiscal_year}, agency_kind};
  std::set<std::string> words;
  for (const std::string& word : ThaiWords(query)) {
    if (words.size() == kMaxQueryWords) break;
    if (!words.insert(word).second) continue;
    sql += " AND q.search_words LIKE ? ESCAPE '\\'";
    params.push_back(storage::ContainsPattern(" " + word + " "));
  }
  auto rows = db_.Query(sql + " ORDER BY q.number", params);
  if (!rows) return rows.status();
  std::vector<QuestionInfo> out;
  for (const storage::Row& r : *rows) out.push_back(FromRow(r));
  return out;
}

Result<std::vector<QaCycle>> Questions::PublishedCycles() {
  auto rows = db_.Query(
      "SELECT fiscal_year, agency_kind, MAX(through_year), COUNT(*) FROM questions WHERE "
      "published = 1 GROUP BY fiscal_year, agency_kind ORDER BY fiscal_year DESC, agency_kind");
  if (!rows) return rows.status();
  std::vector<QaCycle> out;
  for (const storage::Row& r : *rows) {
    out.push_back({static_cast<int>(r.Int(0)), static_cast<int>(r.Int(2)), r.Text(1), r.Int(3)});
  }
  return out;
}

Result<int64_t> Questions::Import(const Actor& actor, const formats::QaFile& file) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "นำเข้าคำถามและคำตอบ", "import questions");
  int64_t added = 0;
  Status done = db_.Transaction([&]() -> Status {
    AuditLog audit(db_);
    Status locked = audit.LockForAppend();
    if (!locked.ok()) return locked;
    for (const formats::QaItem& item : file.items) {
      auto taken = db_.Query(
          "SELECT question, answer FROM questions WHERE fiscal_year = ? AND agency_kind = ? AND "
          "number = ?",
          {int64_t{file.fiscal_year}, file.agency_kind, int64_t{item.number}});
      if (!taken) return taken.status();
      if (!taken->empty()) {
        if ((*taken)[0].Text(0) == item.question && (*taken)[0].Text(1) == item.answer) continue;
        return Status::Conflict(
            "ข้อ " + std::to_string(item.number) + " ของรอบนี้มีคำถามอื่นอยู่แล้ว",
            "number " + std::to_string(item.number) + " of this cycle holds another question");
      }
      auto rows = db_.Query(
          "INSERT INTO questions (fiscal_year, through_year, agency_kind, kpi, asked_at, "
          "question, answer, answered_by, answered_at, published, number, search_words) VALUES "
          "(?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
          {int64_t{file.fiscal_year}, int64_t{file.through_year}, file.agency_kind, item.kpi,
           file.as_of_ms, item.question, item.answer, UserRef(actor), file.as_of_ms,
           int64_t{item.number}, SearchWords(item.question + "\n" + item.answer)});
      if (!rows) return rows.status();
      const int64_t id = (*rows)[0].Int(0);
      Status logged = audit.Append(actor, clock_.NowMs(), "question.import",
                                   "question/" + std::to_string(id), "{}",
                                   json{{"fiscal_year", file.fiscal_year},
                                        {"through_year", file.through_year},
                                        {"agency_kind", file.agency_kind},
                                        {"number", item.number}}
                                       .dump());
      if (!logged.ok()) return logged;
      ++added;
    }
    return Status::Ok();
  });
  if (!done.ok()) return done;
  return added;
}

}  // namespace esar::service
