#pragma once

// Questions and answers about a cycle (issue 13 §4, seed 004): an agency's reporter or approver
// asks about a fiscal year of its kind of agency, optionally about one KPI; the central office
// answers; answers it publishes form the cycle's public Q&A, numbered in the order they were
// published (as the office numbers its letters) and searchable by whole Thai words.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "formats/qa_json.h"
#include "service/actor.h"
#include "storage/database.h"

namespace esar::service {

struct QuestionInfo {
  int64_t id = 0;
  int fiscal_year = 0;   // Buddhist Era
  int through_year = 0;  // the last fiscal year the answer covers (= fiscal_year unless imported)
  std::string agency_kind;
  std::string kpi;  // "" when the question is about the cycle as a whole
  std::string agency;  // the asking agency's code; "" for questions imported from a letter
  std::string agency_name_th, agency_name_en;
  int64_t asked_by = 0;  // user id; 0 when imported
  int64_t asked_at = 0;
  std::string question;
  bool answered = false;
  std::string answer;
  int64_t answered_by = 0;
  int64_t answered_at = 0;
  bool published = false;
  int number = 0;  // the public number, once first published (kept if withdrawn); 0 before
};

// Which questions a list shows; empty strings and 0 match everything.
struct QuestionFilter {
  int fiscal_year = 0;
  std::string agency_kind;
  // "waiting" (not answered), "answered" (answered, not published), "published", or "" for all.
  std::string state;
  int64_t limit = 50;
  int64_t offset = 0;
};

struct QuestionPage {
  std::vector<QuestionInfo> items;  // newest first
  int64_t total = 0;                // how many match, over all pages
};

// A cycle with a public Q&A: its years, kind and how many answers it has published.
struct QaCycle {
  int fiscal_year = 0;
  int through_year = 0;
  std::string agency_kind;
  int64_t published = 0;
};

// Called inside the transaction that answers a question, with the question as answered, so
// that whatever it writes (the asker's notice in the outbox) lands with the answer or not at
// all; a failure rolls the answer back.
using AnswerListener = std::function<Status(storage::Database& db, const QuestionInfo& answered)>;

class Questions {
 public:
  Questions(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The most a search may hold (bytes), and the most words of it that count.
  static constexpr size_t kMaxQueryBytes = 200;
  static constexpr size_t kMaxQueryWords = 8;

  // Every answer of this process is passed to `listener` (see AnswerListener); set once at
  // start, before any thread answers. Null (the default): nothing more is written.
  static void SetAnswerListener(AnswerListener listener);

  // The actor's agency asks `question` (plain text, not blank, at most 16 KB; trimmed) about
  // fiscal year `fiscal_year` of its kind of agency, about KPI `kpi` when not empty; reporters
  // and approvers only. The year must have a framework for the agency's kind or be the current
  // fiscal year (kInvalidInput otherwise); a KPI must be one of the newest such framework's
  // (sub-KPIs included). Audited ("question.ask").
  Result<QuestionInfo> Ask(const Actor& actor, int fiscal_year, const std::string& kpi,
                           const std::string& question);

  // The central office (admins) answers question `id`, or changes its answer, and publishes it
  // or not: `answer` plain text, not blank, at most 16 KB. Publishing gives the question the
  // next number of its cycle unless it has one; withdrawing keeps the number. The answer
  // listener runs in the same transaction when the answer text is new or changed. Audited
  // ("question.answer").
  Result<QuestionInfo> Answer(const Actor& actor, int64_t id, const std::string& answer,
                              bool publish);

  // Question `id`: for admins and evaluators, the asking agency's users, and, once published,
  // anyone. Others get kNotFound, as if it did not exist (an agency does not learn what another
  // asked).
  Result<QuestionInfo> Get(const Actor& actor, int64_t id);

  // The questions matching `filter` the actor may see, newest first, a page at a time: an
  // agency's users see their own agency's; admins and evaluators all; the public none (kind of
  // refusal: Denied).
  Result<QuestionPage> List(const Actor& actor, const QuestionFilter& filter);

  // The published answers of a cycle (anyone), in their number's order. With `query` (at most
  // kMaxQueryBytes, else kInvalidInput), only those whose question or answer holds every word
  // ICU finds in it (its first kMaxQueryWords), as whole words: "รายงาน" finds "การรายงาน"
  // (การ + รายงาน), Latin letters in any case.
  Result<std::vector<QuestionInfo>> Published(int fiscal_year, const std::string& agency_kind,
                                              const std::string& query = "");

  // Every cycle with published answers, newest fiscal year first.
  Result<std::vector<QaCycle>> PublishedCycles();

  // The fiscal years an agency of `agency_kind` may ask about now: those with a framework for
  // the kind, and the current one; newest first.
  Result<std::vector<int>> AskableYears(const std::string& agency_kind);

  // Loads a list of questions and answers the office published before esar (an esar-qa/1 file)
  // as published answers of its cycle with their numbers; admins (or the system) only. All or
  // nothing: a number taken by another text in the cycle is kConflict; an item already loaded
  // with the same texts is skipped, so loading a file again changes nothing. Returns how many
  // were added. Audited ("question.import", one entry per question).
  Result<int64_t> Import(const Actor& actor, const formats::QaFile& file);

 private:
  Result<QuestionInfo> Load(int64_t id);

  storage::Database& db_;
  const Clock& clock_;
};

// The Buddhist Era fiscal year `ms` falls in (1 October - 30 September, Bangkok time): 1 Oct
// 2023 is in 2567.
int FiscalYearAt(int64_t ms);

// The words `text` is searched by, as stored: " w1 w2 ... " (each ICU word once, with a space
// on both sides so that a LIKE on " word " matches whole words only).
std::string SearchWords(const std::string& text);

}  // namespace esar::service
