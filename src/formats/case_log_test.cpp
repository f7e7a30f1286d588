// The case-log reader (issue 11 §1 input rules): dates, BOM, quoting, empty values, every bad
// row named by file, line and column in both languages, nothing passed on from a bad log, the
// same verdicts however the bytes arrive; and the framework's "cases" field.
#include "formats/case_log.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "formats/framework_json.h"

namespace esar::formats {
namespace {

using domain::CaseReason;
using domain::Day;
using domain::DayFromCivil;

const char kHeader[] =
    "case_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,completed,"
    "backlog\n";
const char kPauseHeader[] = "case_id,reason,start,end\n";

// Seed 002 KPI 1 as the OCS example states it, read through the framework reader.
domain::CaseRule Kpi1Rule() {
  const std::string text = R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "p",
    "name": "k", "variables": [{"id": "ok", "type": "count"}, {"id": "n", "type": "count"}],
    "result": "ok * 100 / n",
    "criteria": {"form": "levels", "targets": [80, 90, 100]},
    "cases": {
      "kinds": ["act", "royal_decree", "ministerial_regulation"],
      "excluded_categories": [1, 2, 3, 4, 5, 6],
      "pauses_not_counted": ["ria", "committee", "outside"],
      "cutoffs": {"6": "2024-03-31", "12": "2024-09-30"},
      "classes": [
        {"id": "short", "when": {"sections": {"at_least": 1, "at_most": 10}},
         "standard": {"months": 3},
         "windows": [{"rounds": [6, 12], "from": "2023-07-01", "to": "2024-06-30"}]},
        {"id": "annex_11", "when": {"annex_pages": {"at_least": 11}}, "standard": {"months": 8},
         "windows": [{"rounds": [6, 12], "from": "2023-02-01", "to": "2024-01-31"}]}],
      "backlog": {"rounds": [12], "kinds": ["act", "opinion"]},
      "variables": {"on_time": "ok", "counted": "n"}}}]})";
  auto fw = ParseFramework(text, "f.json");
  EXPECT_TRUE(fw.ok()) << fw.status().ToString(false);
  return *fw->kpis[0].cases;
}

struct Judged {
  CaseLogOutcome outcome;
  std::vector<std::pair<std::string, domain::CaseVerdict>> visited;
};

Judged JudgeText(const std::string& cases, const std::string& pauses, int round = 12,
                 CaseLogLimits limits = {}) {
  auto ev = domain::CaseEvaluator::Create(Kpi1Rule(), round);
  EXPECT_TRUE(ev.ok());
  auto cs = MemorySource(cases);
  auto ps = MemorySource(pauses);
  CaseLogInput in{"cases.csv", cs.get(), "pauses.csv", pauses.empty() ? nullptr : ps.get()};
  Judged j;
  auto out = JudgeCaseLog(
      in, *ev,
      [&](const domain::CaseRecord& c, const domain::CaseVerdict& v) {
        j.visited.emplace_back(std::string(c.case_id), v);
      },
      limits);
  EXPECT_TRUE(out.ok());
  j.outcome = std::move(*out);
  return j;
}

TEST(CaseLogTest, ReadsIsoAndThaiDatesWithAByteOrderMark) {
  // A (15 Jan 2024, short, due 14 Apr) done 10 Apr: on time. B written in Thai dates, the same.
  // C received 15/1/2567 done 20/4/2567 with a 10-day RIA pause: due 24 Apr, on time.
  const std::string cases = std::string("\xEF\xBB\xBF") + kHeader +
                            "A,act,5,,,,,2024-01-15,2024-04-10,\n"
                            "B,royal_decree,5,0,0,0,0,15/1/2567,10/04/2567,0\n"
                            "C,act,5,,,,,15/1/2567,20/4/2567,\n";
  const std::string pauses = std::string(kPauseHeader) + "C,ria,1/2/2567,10/2/2567\n";
  Judged j = JudgeText(cases, pauses);
  ASSERT_TRUE(j.outcome.ok()) << CaseLogProblemsText(j.outcome, Lang::kEnglish);
  EXPECT_EQ(j.outcome.tally.counted, 3);
  EXPECT_EQ(j.outcome.tally.on_time, 3);
  ASSERT_EQ(j.visited.size(), 3u);
  EXPECT_EQ(j.visited[0].first, "A");  // the BOM is not part of the first column's name
  EXPECT_EQ(domain::IsoDate(j.visited[0].second.due), "2024-04-14");
  EXPECT_EQ(j.visited[2].second.paused_days, 10);
  EXPECT_EQ(domain::IsoDate(j.visited[2].second.due), "2024-04-24");
}

TEST(CaseLogTest, EmptyCountsAreZeroAndEmptySectionsAreNotStated) {
  const std::string cases = std::string(kHeader) +
                            "A,act,,,,,,2024-01-15,2024-02-01,\n"     // no class at all
                            "B,act,,,,11,,2023-06-01,2023-09-01,\n";  // annex 11: 8 months
  Judged j = JudgeText(cases, "");
  ASSERT_TRUE(j.outcome.ok());
  EXPECT_EQ(j.visited[0].second.reason, CaseReason::kUnclassified);
  EXPECT_TRUE(j.visited[1].second.counted);
  EXPECT_EQ(j.outcome.tally.by_reason[static_cast<int>(CaseReason::kUnclassified)], 1);
}

TEST(CaseLogTest, QuotedFieldsMayHoldCommasQuotesAndLineBreaks) {
  const std::string cases = std::string(kHeader) +
                            "\"A,1\",act,5,,,,,2024-01-15,2024-02-01,\n"
                            "\"B \"\"x\"\"\nline\",act,5,,,,,2024-01-15,2024-02-01,\r\n"
                            "C,act,5,,,,,2024-01-15,2024-02-01,\n"
                            "D,act,5,,,,,2024-01-15,2024-13-01,\n";  // line 6 (B spans 3–4)
  Judged j = JudgeText(cases, "");
  ASSERT_EQ(j.outcome.problem_count, 1);
  EXPECT_EQ(j.outcome.problems[0].line, 6);
  EXPECT_EQ(j.outcome.problems[0].column, "completed");
  const std::string fixed = cases.substr(0, cases.rfind("D,")) + "D,act,5,,,,,2024-01-15,,\n";
  j = JudgeText(fixed, "");
  ASSERT_TRUE(j.outcome.ok());
  EXPECT_EQ(j.visited[0].first, "A,1");
  EXPECT_EQ(j.visited[1].first, "B \"x\"\nline");
}

TEST(CaseLogTest, EveryBadRowIsListedWithFileLineAndColumnAndNothingIsPassedOn) {
  const std::string cases = std::string(kHeader) +
                            "A,act,5,,,,,2024-01-15,2024-02-01,\n"  // 2 good
                            "B,Act,5,,,,,2024-01-15,,\n"            // 3 kind upper case
                            "C,act,5,,2,,,2024-01-15,,\n"           // 4 maps_complex 2
                            "D,act,5,,,,7,2024-01-15,,\n"           // 5 category 7
                            "E,act,5,,,,,15/1/67,,\n"               // 6 two-digit year
                            "F,act,5,,,,,2024-01-15,2024-01-14,\n"  // 7 completed before
                            "A,act,5,,,,,2024-01-15,,\n"            // 8 duplicate of line 2
                            "G,act,-1,,,,,2024-01-15,,2\n"          // 9 sections, backlog
                            "H,act,5,,,,,2024-01-15\n";             // 10 too few fields
  const std::string pauses = std::string(kPauseHeader) +
                             "A,ria,2024-02-01,2024-01-31\n"  // 2 ends before it starts
                             "Z,ria,2024-02-01,\n"            // 3 no such case
                             "A,lunch,2024-02-01,\n"          // 4 unknown reason
                             "B,committee,2024-02-01,\n";     // 5 B's row is bad, B exists
  Judged j = JudgeText(cases, pauses);
  EXPECT_FALSE(j.outcome.ok());
  EXPECT_TRUE(j.visited.empty());
  std::vector<std::string> got;
  for (const CaseLogProblem& p : j.outcome.problems)
    got.push_back(p.file + ":" + std::to_string(p.line) + ":" + p.column);
  const std::vector<std::string> want = {
      "cases.csv:3:kind",     "cases.csv:4:maps_complex", "cases.csv:5:special_category",
      "cases.csv:6:received", "cases.csv:7:completed",    "cases.csv:8:case_id",
      "cases.csv:9:sections", "cases.csv:9:backlog",      "cases.csv:10:",
      "pauses.csv:2:end",     "pauses.csv:3:case_id",     "pauses.csv:4:reason"};
  EXPECT_EQ(got, want);
  EXPECT_EQ(j.outcome.problem_count, 12);
  // Both languages, the file and line first.
  const CaseLogProblem& dup = j.outcome.problems[5];
  EXPECT_EQ(dup.ToString(Lang::kEnglish),
            "cases.csv:8: column case_id: the case id \"A\" repeats line 2");
  EXPECT_EQ(dup.ToString(Lang::kThai), "cases.csv:8: คอลัมน์ case_id: รหัสเรื่อง \"A\" ซ้ำกับบรรทัด 2");
  EXPECT_NE(j.outcome.problems[1].en.find("from 0 to 1"), std::string::npos);
}

TEST(CaseLogTest, AMissingColumnIsNamedAtTheHeader) {
  const std::string cases =
      "case_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,backlog\n"
      "A,act,5,,,,,2024-01-15,\n";
  Judged j = JudgeText(cases, "");
  ASSERT_EQ(j.outcome.problem_count, 1);
  EXPECT_EQ(j.outcome.problems[0].line, 1);
  EXPECT_EQ(j.outcome.problems[0].column, "completed");
  EXPECT_EQ(j.outcome.problems[0].en, "the header has no column completed");
}

TEST(CaseLogTest, ProblemsBeyondTheLimitAreCountedNotKept) {
  std::string cases = kHeader;
  for (int i = 0; i < 30; ++i) cases += "X" + std::to_string(i) + ",act,5,,,,,bad,,\n";
  CaseLogLimits limits;
  limits.max_problems = 10;
  Judged j = JudgeText(cases, "", 12, limits);
  EXPECT_EQ(j.outcome.problem_count, 30);
  EXPECT_EQ(j.outcome.problems.size(), 10u);
  EXPECT_NE(CaseLogProblemsText(j.outcome, Lang::kEnglish).find("and 20 more"), std::string::npos);
}

// A log long enough to be judged in several batches by several workers: the problems kept are
// still the first of the file, in order, and the counts add up over the workers.
TEST(CaseLogTest, ALargeLogIsJudgedInBatchesWithTheFirstProblemsKept) {
  std::string cases = kHeader;
  for (int i = 0; i < 40000; ++i) {
    const bool bad = i % 1000 == 999;
    cases += "C" + std::to_string(i) + ",act,5,,,,," + (bad ? "x" : "2024-01-15") + ",2024-02-01,\n";
  }
  CaseLogLimits limits;
  limits.max_problems = 5;
  Judged j = JudgeText(cases, "", 12, limits);
  EXPECT_EQ(j.outcome.problem_count, 40);
  ASSERT_EQ(j.outcome.problems.size(), 5u);
  for (size_t k = 0; k < 5; ++k) {
    EXPECT_EQ(j.outcome.problems[k].line, 2 + 999 + 1000 * static_cast<int64_t>(k));  // C999 on line 1001
    EXPECT_EQ(j.outcome.problems[k].column, "received");
  }
  cases = kHeader;
  for (int i = 0; i < 40000; ++i) cases += "C" + std::to_string(i) + ",act,5,,,,,2024-01-15,2024-02-01,\n";
  cases += "C123,act,5,,,,,2024-01-15,,\n";  // a repeat, far from the first
  j = JudgeText(cases, "", 12, limits);
  ASSERT_EQ(j.outcome.problem_count, 1);
  EXPECT_EQ(j.outcome.problems[0].line, 40002);
  cases.resize(cases.rfind("C123,"));
  j = JudgeText(cases, "", 12, limits);
  ASSERT_TRUE(j.outcome.ok());
  EXPECT_EQ(j.outcome.tally.counted, 40000);
  EXPECT_EQ(j.outcome.tally.on_time, 40000);
  EXPECT_EQ(j.visited.size(), 40000u);
}

// Hands out its text a few bytes at a time, so records cross every buffer boundary.
class Dribble : public ByteSource {
 public:
  explicit Dribble(std::string text) : text_(std::move(text)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min({n, text_.size() - pos_, 1 + pos_ % 7});
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }

 private:
  std::string text_;
  size_t pos_ = 0;
};

TEST(CaseLogTest, TheSameVerdictsWhateverTheReadSizes) {
  std::string cases = std::string("\xEF\xBB\xBF") + kHeader;
  std::string pauses = kPauseHeader;
  for (int i = 0; i < 3000; ++i) {
    const int d = 1 + i % 28;
    cases += "\"c" + std::to_string(i) + "\",act," + std::to_string(1 + i % 12) + ",,,," +
             std::to_string(i % 9 == 0 ? 2 : 0) + "," + std::to_string(d) + "/1/2567," +
             (i % 5 ? "2024-04-" + std::string(d < 10 ? "0" : "") + std::to_string(d) : "") + "," +
             std::to_string(i % 50 == 0 ? 1 : 0) + "\r\n";
    if (i % 3 == 0)
      pauses += "c" + std::to_string(i) + ",outside,2024-02-01,2024-02-0" +
                std::to_string(1 + i % 9) + "\n";
  }
  Judged whole = JudgeText(cases, pauses);
  ASSERT_TRUE(whole.outcome.ok()) << CaseLogProblemsText(whole.outcome, Lang::kEnglish);
  auto ev = domain::CaseEvaluator::Create(Kpi1Rule(), 12);
  Dribble cs(cases), ps(pauses);
  CaseLogLimits limits;
  limits.max_record_bytes = 128;  // every record (the header is 95 bytes) fits ...
  limits.buffer_bytes = 0;        // ... in a 256-byte buffer: records cross its end often
  std::vector<std::pair<std::string, domain::CaseVerdict>> visited;
  auto out = JudgeCaseLog(
      {"cases.csv", &cs, "pauses.csv", &ps}, *ev,
      [&](const domain::CaseRecord& c, const domain::CaseVerdict& v) {
        visited.emplace_back(std::string(c.case_id), v);
      },
      limits);
  ASSERT_TRUE(out.ok());
  ASSERT_TRUE(out->ok()) << CaseLogProblemsText(*out, Lang::kEnglish);
  EXPECT_EQ(out->tally.counted, whole.outcome.tally.counted);
  EXPECT_EQ(out->tally.on_time, whole.outcome.tally.on_time);
  ASSERT_EQ(visited.size(), 3000u);
  for (size_t i = 0; i < visited.size(); ++i) {
    EXPECT_EQ(visited[i].first, whole.visited[i].first);
    EXPECT_EQ(visited[i].second.due, whole.visited[i].second.due);
    EXPECT_EQ(visited[i].second.paused_days, whole.visited[i].second.paused_days);
    EXPECT_EQ(visited[i].second.reason, whole.visited[i].second.reason);
  }
  // Some of each: counted on time, categories excluded, backlog counted.
  EXPECT_GT(whole.outcome.tally.on_time, 0);
  EXPECT_GT(whole.outcome.tally.by_reason[static_cast<int>(CaseReason::kSpecialCategory)], 0);
}

TEST(CaseLogTest, VerdictJsonHasTheIssuesShape) {
  const std::string cases = std::string(kHeader) +
                            "A,act,5,,,,,2024-01-15,2024-04-20,\n"
                            "B,opinion,,,,,,2024-01-15,,\n";
  Judged j = JudgeText(cases, std::string(kPauseHeader) + "A,ria,2024-02-01,2024-02-10\n");
  auto ev = domain::CaseEvaluator::Create(Kpi1Rule(), 12);
  domain::CaseRecord a;
  a.case_id = "A";
  EXPECT_EQ(CaseVerdictJson(a, j.visited[0].second, *ev),
            "{\"case_id\":\"A\",\"counted\":true,\"reason\":null,\"class\":\"short\","
            "\"standard\":\"3 months\",\"due\":\"2024-04-24\",\"paused_days\":10,"
            "\"on_time\":true,\"late_days\":0}");
  domain::CaseRecord b;
  b.case_id = "B";
  EXPECT_EQ(CaseVerdictJson(b, j.visited[1].second, *ev),
            "{\"case_id\":\"B\",\"counted\":false,\"reason\":\"kind\",\"class\":null,"
            "\"standard\":null,\"due\":null,\"paused_days\":0,\"on_time\":null,\"late_days\":0}");
}

TEST(CaseRuleJsonTest, RefusesAMalformedRuleWithItsPath) {
  auto parse = [](const std::string& cases) {
    return ParseFramework(R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "p",
      "name": "k", "criteria": {"form": "levels", "targets": [1]}, "cases": )" +
                              cases + "}]}",
                          "f.json");
  };
  const std::string ok_class =
      R"({"id": "a", "standard": {"days": 53}, "windows": [{"rounds": [12], "from": "2023-08-01", "to": "2024-07-31"}]})";
  EXPECT_TRUE(parse(R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "classes": [)" +
                    ok_class + "]}")
                  .ok());
  auto bad = parse(R"({"kinds": ["opinion"], "cutoffs": {"12": "30/9/2567"}, "classes": []})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/cutoffs/12");  // ISO only here
  bad = parse(R"({"kinds": ["Opinion"], "cutoffs": {"12": "2024-09-30"}, "classes": []})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/kinds/0");
  bad = parse(R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "classes": [{"id": "a",
    "standard": {"days": 53, "months": 1}, "windows": []}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/classes/0/standard");
  bad = parse(R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "classes": [{"id": "a",
    "standard": {"days": 53}, "windows": [{"rounds": [12], "from": "2024-08-01", "to": "2024-07-31"}]}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/classes/0/windows/0/to");
  bad = parse(
      R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "pauses_not_counted": ["lunch"], "classes": []})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/pauses_not_counted/0");
  bad = parse(
      R"({"kinds": ["opinion"], "cutoffs": {"12": "2024-09-30"}, "excluded_categories": [7], "classes": []})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/kpis/0/cases/excluded_categories/0");
}

TEST(CaseLogSheetTest, AnXlsxSheetBecomesCsvWithItsRowNumbersDatesAndShortRowsPadded) {
  XlsxWorkbook book;
  XlsxSheet other{"notes", {{1, {"x"}}}};
  XlsxSheet pauses{"pauses",
                   {{1, {"case_id", "reason", "start", "end", ""}},
                    // A date cell (45306 = 15 Jan 2024), a date-time one, and an open end left out.
                    {2, {"A", "ria", "45306", "45310.75"}},
                    {4, {"B", "committee", "15/1/2567"}},
                    // Text that is not a date number stays for the input rules to refuse.
                    {5, {"C", "outside", "45306x", "60", "", ""}}}};
  book.sheets = {other, pauses};
  std::string name;
  auto csv = CaseLogSheetCsv(book, "pauses", &name);
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(name, "pauses");
  EXPECT_EQ(*csv,
            "case_id,reason,start,end\n"
            "A,ria,2024-01-15,2024-01-19\n"
            "\n"
            "B,committee,15/1/2567,\n"
            "C,outside,45306x,60\n");
  // No sheet of that name: the first one.
  auto first = CaseLogSheetCsv(book, "cases", &name);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(name, "notes");
  EXPECT_FALSE(CaseLogSheetCsv(XlsxWorkbook{}, "cases").ok());
}

}  // namespace
}  // namespace esar::formats
