// Questions and answers (seed 004) and announcements through the services, on SQLite and on
// PostgreSQL: who may ask, answer, publish and read; the public numbering; Thai search by whole
// ICU words; hostile text; the seed's list loaded from examples/; the audit log covering it all.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <future>
#include <set>
#include <thread>

#include "common/thai.h"
#include "formats/inputs.h"
#include "formats/qa_json.h"
#include "service/announcements.h"
#include "service/audit.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/questions.h"
#include "storage/pool.h"
#include "tests/support/test_database.h"

namespace esar::service {
namespace {

namespace fs = std::filesystem;

const fs::path kExample = fs::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
const fs::path kSeedQa = fs::path(ESAR_SOURCE_DIR) / "examples" / "qa-province-2563-2564.json";
constexpr int64_t kJan2024 = 1704067200000;  // 1 Jan 2024 00:00 UTC, inside FY2567

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<int> Numbers(const std::vector<QuestionInfo>& list) {
  std::vector<int> out;
  for (const QuestionInfo& q : list) out.push_back(q.number);
  return out;
}

class QaTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    db_ = esar::testing::FreshDatabase(GetParam(), &url_);
    ASSERT_NE(db_, nullptr);
    Directory directory(*db_, clock_);
    auto agencies = formats::LoadAgencies((kExample / "agencies.csv").string());
    ASSERT_TRUE(agencies.ok());
    ASSERT_TRUE(directory.UpsertAgencies(Actor::System(), *agencies).ok());
    admin_ = MakeUser("admin.opdc", Role::kAdmin, "");
    evaluator_ = MakeUser("evaluator.one", Role::kEvaluator, "");
    reporter_ = MakeUser("reporter.ocs", Role::kReporter, "OCS");
    approver_ = MakeUser("approver.ocs", Role::kApprover, "OCS");
    boi_reporter_ = MakeUser("reporter.boi", Role::kReporter, "BOI");
    ministry_reporter_ = MakeUser("reporter.mol", Role::kReporter, "MOL");
    auto framework = Cycle(*db_, clock_).ImportFramework(admin_, ReadText(kExample / "framework.json"));
    ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
    questions_ = std::make_unique<Questions>(*db_, clock_);
    announcements_ = std::make_unique<Announcements>(*db_, clock_);
  }

  void TearDown() override {
    Questions::SetAnswerListener(nullptr);
    Announcements::SetPostListener(nullptr);
  }

  Actor MakeUser(const std::string& name, Role role, const std::string& agency) {
    auto id = Directory(*db_, clock_, &hasher_)
                  .CreateUser(Actor::System(), {name, name, "password-" + name, role, agency});
    EXPECT_TRUE(id.ok()) << id.status().ToString(false);
    return Actor{id.ok() ? *id : 0, role, agency, name};
  }

  // Asks and answers `question` with `answer` as OCS and the office, published or not.
  QuestionInfo AskAndAnswer(const std::string& question, const std::string& answer,
                            bool publish) {
    auto asked = questions_->Ask(reporter_, 2567, "", question);
    EXPECT_TRUE(asked.ok()) << asked.status().ToString(false);
    if (!asked.ok()) return {};
    auto answered = questions_->Answer(admin_, asked->id, answer, publish);
    EXPECT_TRUE(answered.ok()) << answered.status().ToString(false);
    return answered.ok() ? *answered : QuestionInfo{};
  }

  FakeClock clock_{kJan2024};
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  std::unique_ptr<Questions> questions_;
  std::unique_ptr<Announcements> announcements_;
  Actor admin_, evaluator_, reporter_, approver_, boi_reporter_, ministry_reporter_;
};

TEST_P(QaTest, AskAnswerPublishWithdrawKeepsNumbers) {
  auto asked = questions_->Ask(reporter_, 2567, "1", "  กำหนดส่งรายงานรอบ 12 เดือนคือวันใด  ");
  ASSERT_TRUE(asked.ok()) << asked.status().ToString(false);
  EXPECT_EQ(asked->question, "กำหนดส่งรายงานรอบ 12 เดือนคือวันใด");  // trimmed
  EXPECT_EQ(asked->agency, "OCS");
  EXPECT_EQ(asked->agency_kind, "department");
  EXPECT_EQ(asked->kpi, "1");
  EXPECT_EQ(asked->asked_by, reporter_.user_id);
  EXPECT_FALSE(asked->answered);
  EXPECT_EQ(asked->number, 0);

  // Answered but not published: the asker sees it, the public page does not.
  auto answered = questions_->Answer(admin_, asked->id, "ภายใน 30 กันยายน", false);
  ASSERT_TRUE(answered.ok()) << answered.status().ToString(false);
  EXPECT_TRUE(answered->answered);
  EXPECT_FALSE(answered->published);
  EXPECT_EQ(answered->number, 0);
  EXPECT_EQ(answered->answered_by, admin_.user_id);
  auto seen = questions_->Get(approver_, asked->id);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->answer, "ภายใน 30 กันยายน");
  auto listed = questions_->Published(2567, "department");
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());

  // Published: number 1; a second published answer: number 2.
  auto first = questions_->Answer(admin_, asked->id, "ภายใน 30 กันยายน", true);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->number, 1);
  QuestionInfo second = AskAndAnswer("ต้องแนบหลักฐานอะไรบ้าง", "แนบไฟล์ PDF", true);
  EXPECT_EQ(second.number, 2);
  listed = questions_->Published(2567, "department");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Numbers(*listed), (std::vector<int>{1, 2}));

  // Withdrawn: gone from the public page, its number kept; a newer one takes 3, not 1.
  ASSERT_TRUE(questions_->Answer(admin_, asked->id, "ภายใน 30 กันยายน", false).ok());
  listed = questions_->Published(2567, "department");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Numbers(*listed), (std::vector<int>{2}));
  QuestionInfo third = AskAndAnswer("ถามครั้งที่สาม", "ตอบครั้งที่สาม", true);
  EXPECT_EQ(third.number, 3);
  auto again = questions_->Answer(admin_, asked->id, "ภายใน 30 กันยายน 2567", true);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->number, 1);
  listed = questions_->Published(2567, "department");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(Numbers(*listed), (std::vector<int>{1, 2, 3}));
  EXPECT_EQ((*listed)[0].answer, "ภายใน 30 กันยายน 2567");

  // Another cycle numbers from 1.
  auto other = questions_->Ask(ministry_reporter_, FiscalYearAt(kJan2024), "", "คำถามกระทรวง");
  ASSERT_TRUE(other.ok()) << other.status().ToString(false);
  auto other_answer = questions_->Answer(admin_, other->id, "คำตอบ", true);
  ASSERT_TRUE(other_answer.ok());
  EXPECT_EQ(other_answer->number, 1);

  auto cycles = questions_->PublishedCycles();
  ASSERT_TRUE(cycles.ok());
  ASSERT_EQ(cycles->size(), 2u);
  EXPECT_EQ((*cycles)[0].agency_kind, "department");
  EXPECT_EQ((*cycles)[0].published, 3);
  EXPECT_EQ((*cycles)[1].agency_kind, "ministry");
}

TEST_P(QaTest, WhoMaySeeAndWhoMayAnswer) {
  auto asked = questions_->Ask(approver_, 2567, "", "คำถามภายในของ สคก.");
  ASSERT_TRUE(asked.ok()) << asked.status().ToString(false);
  // Another agency, and the public, do not learn what OCS asked.
  EXPECT_EQ(questions_->Get(boi_reporter_, asked->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(questions_->Get(Actor::Public(), asked->id).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(questions_->Get(evaluator_, asked->id).ok());
  EXPECT_TRUE(questions_->Get(reporter_, asked->id).ok());
  auto boi_list = questions_->List(boi_reporter_, {});
  ASSERT_TRUE(boi_list.ok());
  EXPECT_EQ(boi_list->total, 0);
  auto ocs_list = questions_->List(reporter_, {});
  ASSERT_TRUE(ocs_list.ok());
  EXPECT_EQ(ocs_list->total, 1);
  EXPECT_EQ(questions_->List(Actor::Public(), {}).status().code(),
            StatusCode::kUnauthenticated);
  auto waiting = questions_->List(admin_, {0, "", "waiting"});
  ASSERT_TRUE(waiting.ok());
  EXPECT_EQ(waiting->total, 1);
  EXPECT_EQ(questions_->List(admin_, {0, "", "bogus"}).status().code(),
            StatusCode::kInvalidInput);

  // Only the central office answers: not the public, an agency, nor an evaluator.
  EXPECT_EQ(questions_->Answer(Actor::Public(), asked->id, "ตอบเอง", true).status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(questions_->Answer(reporter_, asked->id, "ตอบเอง", true).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(questions_->Answer(boi_reporter_, asked->id, "ตอบเอง", true).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(questions_->Answer(evaluator_, asked->id, "ตอบเอง", true).status().code(),
            StatusCode::kPermissionDenied);
  auto still = questions_->Get(admin_, asked->id);
  ASSERT_TRUE(still.ok());
  EXPECT_FALSE(still->answered);
  // Only agencies ask.
  EXPECT_EQ(questions_->Ask(admin_, 2567, "", "คำถาม").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(questions_->Ask(evaluator_, 2567, "", "คำถาม").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(questions_->Ask(Actor::Public(), 2567, "", "คำถาม").status().code(),
            StatusCode::kUnauthenticated);
  EXPECT_EQ(questions_->Answer(admin_, 999999, "คำตอบ", true).status().code(),
            StatusCode::kNotFound);

  // Once published, anyone reads it.
  ASSERT_TRUE(questions_->Answer(admin_, asked->id, "คำตอบ", true).ok());
  EXPECT_TRUE(questions_->Get(Actor::Public(), asked->id).ok());
  EXPECT_TRUE(questions_->Get(boi_reporter_, asked->id).ok());
}

TEST_P(QaTest, RefusesHostileText) {
  auto code = [&](const std::string& text) {
    return questions_->Ask(reporter_, 2567, "", text).status().code();
  };
  EXPECT_EQ(code(""), StatusCode::kInvalidInput);
  EXPECT_EQ(code(" \t\r\n \xc2\xa0 "), StatusCode::kInvalidInput);  // blank, a no-break space too
  EXPECT_EQ(code(std::string(formats::kMaxQaTextBytes + 1, 'a')), StatusCode::kInvalidInput);
  EXPECT_EQ(code("ถาม\xff\xfe"), StatusCode::kInvalidInput);            // not UTF-8
  EXPECT_EQ(code("ถาม\x1b[31mแดง"), StatusCode::kInvalidInput);          // a terminal escape
  EXPECT_EQ(code(std::string("ถาม\0ซ่อน", 13)), StatusCode::kInvalidInput);  // NUL
  // A year without a framework of the kind (and not the current one), a KPI not in it.
  EXPECT_EQ(questions_->Ask(reporter_, 2500, "", "คำถาม").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(questions_->Ask(reporter_, 2567, "99", "คำถาม").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(questions_->Ask(reporter_, 2567, "1'; DROP TABLE questions; --", "คำถาม")
                .status()
                .code(),
            StatusCode::kInvalidInput);
  auto none = questions_->List(admin_, {});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->total, 0);

  // Odd but legitimate text is kept byte for byte: right-to-left override, zero-width joiner,
  // stacked combining marks, markup and SQL meant to be shown, not run.
  const std::string odd =
      "\xe2\x80\xae" "กลับด้าน \xe2\x80\x8d ก\xe0\xb9\x87\xe0\xb9\x88\xe0\xb9\x89 <script>alert(1)"
      "</script> ' OR 1=1 -- %_\\";
  auto kept = questions_->Ask(reporter_, 2567, "", odd);
  ASSERT_TRUE(kept.ok()) << kept.status().ToString(false);
  EXPECT_EQ(kept->question, odd);
  std::string exactly(formats::kMaxQaTextBytes, 'a');
  EXPECT_TRUE(questions_->Ask(reporter_, 2567, "", exactly).ok());

  // Answers are held to the same rules.
  EXPECT_EQ(questions_->Answer(admin_, kept->id, "   ", true).status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(questions_->Answer(admin_, kept->id, std::string(20000, 'x'), true).status().code(),
            StatusCode::kInvalidInput);

  // A search too long is refused; LIKE's wildcards in a search are only characters.
  EXPECT_EQ(questions_->Published(2567, "department", std::string(201, 'a')).status().code(),
            StatusCode::kInvalidInput);
  ASSERT_TRUE(questions_->Answer(admin_, kept->id, "คำตอบ", true).ok());
  AskAndAnswer("คำถามธรรมดา", "คำตอบธรรมดา", true);
  auto wild = questions_->Published(2567, "department", "%");
  ASSERT_TRUE(wild.ok());
  EXPECT_EQ(wild->size(), 2u);  // "%" is no word: no condition, both listed
  auto underscore = questions_->Published(2567, "department", "_ _");
  ASSERT_TRUE(underscore.ok());
  EXPECT_EQ(underscore->size(), 2u);
  auto script = questions_->Published(2567, "department", "script");
  ASSERT_TRUE(script.ok());
  ASSERT_EQ(script->size(), 1u);
  EXPECT_EQ((*script)[0].id, kept->id);
}

TEST_P(QaTest, SearchesWholeThaiWords) {
  const QuestionInfo reporting = AskAndAnswer(
      "การรายงานผลรอบ 6 เดือนต้องทำอย่างไร", "ให้กรอกในระบบ e-SAR ตามเดิม", true);
  const QuestionInfo work = AskAndAnswer("งานที่ต้องส่งมีอะไรบ้าง", "ตามกรอบการประเมิน", true);
  const QuestionInfo other = AskAndAnswer("ค่าน้ำหนักของตัวชี้วัด", "ดูจากกรอบ", true);
  auto ids = [&](const std::string& query) {
    std::set<int64_t> out;
    auto found = questions_->Published(2567, "department", query);
    EXPECT_TRUE(found.ok()) << found.status().ToString(false);
    if (found.ok()) {
      for (const QuestionInfo& q : *found) out.insert(q.id);
    }
    return out;
  };
  // "รายงาน" is a word of "การรายงาน"; "งาน" is not a word of "รายงาน", but is one of
  // "งานที่".
  EXPECT_EQ(ids("รายงาน"), (std::set<int64_t>{reporting.id}));
  EXPECT_EQ(ids("งาน"), (std::set<int64_t>{work.id}));
  // Every word must be there; Latin in any case; answers are searched too.
  EXPECT_EQ(ids("รายงาน SAR"), (std::set<int64_t>{reporting.id}));
  EXPECT_EQ(ids("รายงาน น้ำหนัก"), (std::set<int64_t>{}));
  EXPECT_EQ(ids("กรอบ"), (std::set<int64_t>{work.id, other.id}));
  EXPECT_EQ(ids(""), (std::set<int64_t>{reporting.id, work.id, other.id}));
  // A changed answer is searched by its new words.
  ASSERT_TRUE(questions_->Answer(admin_, other.id, "ดูจากเอกสารชี้แจง", true).ok());
  EXPECT_EQ(ids("กรอบ"), (std::set<int64_t>{work.id}));
  EXPECT_EQ(ids("เอกสาร"), (std::set<int64_t>{other.id}));
}

TEST_P(QaTest, NumbersStayUniqueUnderParallelPublishing) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 8; ++i) {
    auto asked = questions_->Ask(reporter_, 2567, "", "คำถามที่ " + std::to_string(i));
    ASSERT_TRUE(asked.ok());
    ids.push_back(asked->id);
  }
  std::vector<std::future<Result<QuestionInfo>>> runs;
  for (int64_t id : ids) {
    runs.push_back(std::async(std::launch::async, [&, id]() -> Result<QuestionInfo> {
      auto db = storage::Open(url_);
      if (!db) return db.status();
      return Questions(**db, clock_).Answer(admin_, id, "คำตอบ", true);
    }));
  }
  std::set<int> numbers;
  for (auto& run : runs) {
    auto answered = run.get();
    ASSERT_TRUE(answered.ok()) << answered.status().ToString(false);
    numbers.insert(answered->number);
  }
  EXPECT_EQ(numbers, (std::set<int>{1, 2, 3, 4, 5, 6, 7, 8}));
}

TEST_P(QaTest, TheAnswerListenerRunsInTheAnswersTransaction) {
  auto asked = questions_->Ask(reporter_, 2567, "", "คำถาม");
  ASSERT_TRUE(asked.ok());
  std::vector<QuestionInfo> heard;
  Questions::SetAnswerListener([&](storage::Database&, const QuestionInfo& q) -> Status {
    heard.push_back(q);
    return Status::IoError("ส่งไม่ได้", "the outbox refused");
  });
  // The listener fails: the answer is not kept.
  EXPECT_EQ(questions_->Answer(admin_, asked->id, "คำตอบ", true).status().code(),
            StatusCode::kIoError);
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].answer, "คำตอบ");
  EXPECT_EQ(heard[0].asked_by, reporter_.user_id);
  auto after = questions_->Get(admin_, asked->id);
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->answered);
  EXPECT_EQ(after->number, 0);
  // It succeeds: kept, heard once; publishing the same answer again is no new answer.
  Questions::SetAnswerListener(
      [&](storage::Database&, const QuestionInfo& q) -> Status {
        heard.push_back(q);
        return Status::Ok();
      });
  ASSERT_TRUE(questions_->Answer(admin_, asked->id, "คำตอบ", false).ok());
  ASSERT_TRUE(questions_->Answer(admin_, asked->id, "คำตอบ", true).ok());
  EXPECT_EQ(heard.size(), 2u);
  ASSERT_TRUE(questions_->Answer(admin_, asked->id, "คำตอบที่แก้", true).ok());
  EXPECT_EQ(heard.size(), 3u);
}

TEST_P(QaTest, LoadsSeed004FromExamples) {
  auto file = formats::LoadQaFile(kSeedQa.string());
  ASSERT_TRUE(file.ok()) << file.status().ToString(false);
  EXPECT_EQ(file->fiscal_year, 2563);
  EXPECT_EQ(file->through_year, 2564);
  EXPECT_EQ(file->agency_kind, "province");
  EXPECT_EQ(FormatDate(file->as_of_ms, Lang::kThai), "11 ก.ย. 2563");  // ข้อมูล ณ วันที่ 11 กันยายน 2563
  auto added = questions_->Import(Actor::System(), *file);
  ASSERT_TRUE(added.ok()) << added.status().ToString(false);
  EXPECT_EQ(*added, static_cast<int64_t>(file->items.size()));
  auto listed = questions_->Published(2563, "province");
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), file->items.size());
  for (size_t i = 0; i < listed->size(); ++i) {
    EXPECT_EQ((*listed)[i].number, file->items[i].number);
    EXPECT_EQ((*listed)[i].question, file->items[i].question);
    EXPECT_EQ((*listed)[i].answer, file->items[i].answer);
    EXPECT_EQ((*listed)[i].through_year, 2564);
    EXPECT_TRUE((*listed)[i].agency.empty());
  }
  // Every item that has "รายงาน" as a word (ThaiWords) is found, and only those.
  std::vector<int> expected;
  for (const formats::QaItem& item : file->items) {
    const auto words = ThaiWords(item.question + "\n" + item.answer);
    if (std::find(words.begin(), words.end(), "รายงาน") != words.end())
      expected.push_back(item.number);
  }
  auto found = questions_->Published(2563, "province", "รายงาน");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(Numbers(*found), expected);
  // Question 2 ("การรายงานปี 2563 ...") among them.
  EXPECT_NE(std::find(expected.begin(), expected.end(), 2), expected.end());

  // Loading it again adds nothing; a file whose number 1 says something else is refused whole.
  auto again = questions_->Import(Actor::System(), *file);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, 0);
  formats::QaFile changed = *file;
  changed.items.push_back({99, "คำถามใหม่", "คำตอบใหม่", ""});
  changed.items[0].answer = "คำตอบอื่น";
  EXPECT_EQ(questions_->Import(Actor::System(), changed).status().code(), StatusCode::kConflict);
  auto count = questions_->Published(2563, "province");
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(count->size(), file->items.size());
  // Agencies may not load lists.
  EXPECT_EQ(questions_->Import(reporter_, *file).status().code(), StatusCode::kPermissionDenied);
  // An answer published in esar continues the numbering.
  auto province = questions_->PublishedCycles();
  ASSERT_TRUE(province.ok());
  ASSERT_EQ(province->size(), 1u);
  EXPECT_EQ((*province)[0].through_year, 2564);
}

TEST(QaFile, RefusesMalformedFilesNamingWhere) {
  auto where = [](const std::string& text) {
    auto parsed = formats::ParseQaFile(text, "qa.json");
    EXPECT_FALSE(parsed.ok());
    return parsed.ok() ? std::string("ok") : parsed.status().where().json_path;
  };
  const std::string head =
      R"({"format": "esar-qa/1", "fiscal_year": 2563, "agency_kind": "province", "as_of": "2020-09-11", )";
  EXPECT_EQ(where(R"({"format": "esar-qa/2"})"), "/format");
  EXPECT_EQ(where(head + R"("items": []})"), "/items");
  EXPECT_EQ(where(head + R"("items": [{"number": 0, "question": "ก", "answer": "ข"}]})"),
            "/items/0/number");
  EXPECT_EQ(where(head + R"("items": [{"number": 1, "question": "ก", "answer": "ข"},
                                       {"number": 1, "question": "ค", "answer": "ง"}]})"),
            "/items/1/number");
  EXPECT_EQ(where(head + R"("items": [{"number": 1, "question": "  ", "answer": "ข"}]})"),
            "/items/0/question");
  EXPECT_EQ(where(head + R"("items": [{"number": 1, "question": "ก", "answer": "ข", "anser": 1}]})"),
            "/items/0/anser");
  EXPECT_EQ(where(head + R"("items": [{"number": 1, "question": "ก\u001b", "answer": "ข"}]})"),
            "/items/0/question");
  EXPECT_EQ(where(R"({"format": "esar-qa/1", "fiscal_year": 2020, "agency_kind": "province", "as_of": "2020-09-11", "items": [{"number": 1, "question": "ก", "answer": "ข"}]})"),
            "/fiscal_year");
  EXPECT_EQ(where(R"({"format": "esar-qa/1", "fiscal_year": 2563, "agency_kind": "Province!", "as_of": "2020-09-11", "items": [{"number": 1, "question": "ก", "answer": "ข"}]})"),
            "/agency_kind");
  EXPECT_EQ(where(R"({"format": "esar-qa/1", "fiscal_year": 2563, "agency_kind": "province", "as_of": "2020-02-30", "items": [{"number": 1, "question": "ก", "answer": "ข"}]})"),
            "/as_of");
  EXPECT_EQ(where(head + R"("through_year": 2570, "items": [{"number": 1, "question": "ก", "answer": "ข"}]})"),
            "/through_year");
  // Deep nesting stops at the parser's limit, not the stack.
  EXPECT_FALSE(formats::ParseQaFile(std::string(100000, '[') + std::string(100000, ']'), "qa.json")
                   .ok());
}

TEST_P(QaTest, AnnouncementsReachTheirKindOnly) {
  std::vector<AnnouncementInfo> posted_heard;
  Announcements::SetPostListener([&](storage::Database&, const AnnouncementInfo& a) -> Status {
    posted_heard.push_back(a);
    return Status::Ok();
  });
  auto posted = announcements_->Post(admin_, 2567, "department", "  เลื่อนกำหนดส่งรายงาน ",
                                     "ขยายกำหนดส่งรายงานรอบ 12 เดือนถึง 15 ตุลาคม");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString(false);
  EXPECT_EQ(posted->title, "เลื่อนกำหนดส่งรายงาน");
  ASSERT_EQ(posted_heard.size(), 1u);
  EXPECT_EQ(posted_heard[0].id, posted->id);
  auto provinces = announcements_->Post(admin_, 2567, "province", "ถึงจังหวัด", "เนื้อหา");
  ASSERT_TRUE(provinces.ok());

  auto ocs = announcements_->List(reporter_);
  ASSERT_TRUE(ocs.ok());
  ASSERT_EQ(ocs->size(), 1u);
  EXPECT_EQ((*ocs)[0].id, posted->id);
  // An agency asking for another kind still gets its own kind's.
  auto sneaky = announcements_->List(approver_, 0, "province");
  ASSERT_TRUE(sneaky.ok());
  ASSERT_EQ(sneaky->size(), 1u);
  EXPECT_EQ((*sneaky)[0].id, posted->id);
  auto ministry = announcements_->List(ministry_reporter_);
  ASSERT_TRUE(ministry.ok());
  EXPECT_TRUE(ministry->empty());
  EXPECT_EQ(announcements_->Get(ministry_reporter_, posted->id).status().code(),
            StatusCode::kNotFound);
  EXPECT_EQ(announcements_->Get(reporter_, provinces->id).status().code(), StatusCode::kNotFound);
  auto all = announcements_->List(evaluator_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
  EXPECT_EQ(announcements_->List(Actor::Public()).status().code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(announcements_->Get(Actor::Public(), posted->id).status().code(),
            StatusCode::kUnauthenticated);

  // Only the central office posts and attaches; texts are checked.
  EXPECT_EQ(announcements_->Post(reporter_, 2567, "department", "t", "b").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(announcements_->Post(evaluator_, 2567, "department", "t", "b").status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(announcements_->Post(admin_, 2567, "department", "สอง\nบรรทัด", "b").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Post(admin_, 2567, "department", std::string(301, 't'), "b")
                .status()
                .code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Post(admin_, 2567, "department", "t", "\x1b]0;x\x07").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Post(admin_, 2567, "Dept; --", "t", "b").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Post(admin_, 67, "department", "t", "b").status().code(),
            StatusCode::kInvalidInput);

  // Files: recorded up to the quota, readable by those who see the announcement.
  const EvidenceQuota quota{1000, 2};
  AnnouncementFile file{0, 0, "หนังสือแจ้ง.pdf", "application/pdf", 600, std::string(64, 'a')};
  auto attached = announcements_->AddFile(admin_, posted->id, file, quota);
  ASSERT_TRUE(attached.ok()) << attached.status().ToString(false);
  EXPECT_EQ(announcements_->AddFile(admin_, posted->id, file, quota).status().code(),
            StatusCode::kConflict);  // 1,200 bytes > 1,000
  EXPECT_EQ(announcements_->AddFile(reporter_, posted->id, file, quota).status().code(),
            StatusCode::kPermissionDenied);
  EXPECT_EQ(announcements_->AddFile(admin_, 999999, file, quota).status().code(),
            StatusCode::kNotFound);
  auto read = announcements_->File(approver_, attached->id);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->name, "หนังสือแจ้ง.pdf");
  EXPECT_EQ(announcements_->File(ministry_reporter_, attached->id).status().code(),
            StatusCode::kNotFound);
  auto with_files = announcements_->Get(boi_reporter_, posted->id);
  ASSERT_TRUE(with_files.ok());
  ASSERT_EQ(with_files->files.size(), 1u);
  EXPECT_EQ(with_files->files[0].sha256, std::string(64, 'a'));
  ocs = announcements_->List(reporter_);
  ASSERT_TRUE(ocs.ok());
  ASSERT_EQ((*ocs)[0].files.size(), 1u);

  // A failing listener takes the announcement back.
  Announcements::SetPostListener(
      [](storage::Database&, const AnnouncementInfo&) { return Status::IoError("x", "x"); });
  EXPECT_FALSE(announcements_->Post(admin_, 2567, "department", "ไม่ถึง", "ไม่ถึง").ok());
  all = announcements_->List(admin_);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 2u);
}

TEST_P(QaTest, TheAuditLogCoversQuestionsAndAnnouncements) {
  QuestionInfo q = AskAndAnswer("คำถาม", "คำตอบ", true);
  auto posted = announcements_->Post(admin_, 2567, "department", "ประกาศ", "เนื้อหา");
  ASSERT_TRUE(posted.ok());
  ASSERT_TRUE(announcements_
                  ->AddFile(admin_, posted->id,
                            {0, 0, "a.pdf", "application/pdf", 10, std::string(64, 'b')})
                  .ok());
  auto whole = AuditLog(*db_).Verify();
  ASSERT_TRUE(whole.ok());
  EXPECT_TRUE(whole->whole()) << whole->problem_en;
  // Changed behind esar's back: an answer, a file's record.
  ASSERT_TRUE(db_->Execute("UPDATE questions SET answer = 'แก้เอง' WHERE id = ?", {q.id}).ok());
  ASSERT_TRUE(db_->Execute("UPDATE announcement_files SET name = 'x.pdf'").ok());
  auto broken = AuditLog(*db_).Verify();
  ASSERT_TRUE(broken.ok());
  std::set<std::string> named;
  for (const auto& p : broken->problems) {
    if (p.en.find("question/" + std::to_string(q.id)) != std::string::npos) named.insert("q");
    if (p.en.find("announcement/" + std::to_string(posted->id)) != std::string::npos)
      named.insert("a");
  }
  EXPECT_EQ(named, (std::set<std::string>{"q", "a"})) << broken->problem_en;
}

// Issue 13 §3: the office edits and deletes announcements and removes their files; agencies
// cannot; every change is audited with what was there before, so a deleted announcement's words
// stay in the log; the audit log stays whole.
TEST_P(QaTest, AnnouncementsAreEditedAndDeletedByTheOfficeOnlyAndAudited) {
  auto posted = announcements_->Post(admin_, 2567, "department", "เลื่อนกำหนดส่ง", "ถึง 15 ตุลาคม");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString(false);
  AnnouncementFile file{0, posted->id, "หนังสือ.pdf", "application/pdf", 1234,
                        std::string(64, 'a'), admin_.user_id, kJan2024};
  auto attached = announcements_->AddFile(admin_, posted->id, file);
  ASSERT_TRUE(attached.ok()) << attached.status().ToString(false);
  auto second = announcements_->AddFile(admin_, posted->id, file);
  ASSERT_TRUE(second.ok());

  // Agencies and evaluators may not change anything.
  for (const Actor& who : {reporter_, approver_, evaluator_}) {
    EXPECT_EQ(announcements_->Edit(who, posted->id, "x", "y").status().code(),
              StatusCode::kPermissionDenied);
    EXPECT_EQ(announcements_->Delete(who, posted->id).code(), StatusCode::kPermissionDenied);
    EXPECT_EQ(announcements_->RemoveFile(who, attached->id).code(), StatusCode::kPermissionDenied);
  }
  // Checked as a post is.
  EXPECT_EQ(announcements_->Edit(admin_, posted->id, "สอง\nบรรทัด", "y").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Edit(admin_, posted->id, "x", "   ").status().code(),
            StatusCode::kInvalidInput);
  EXPECT_EQ(announcements_->Edit(admin_, 999999, "x", "y").status().code(), StatusCode::kNotFound);

  auto edited = announcements_->Edit(admin_, posted->id, " เลื่อนกำหนดส่ง (แก้ไข) ", "ถึง 20 ตุลาคม");
  ASSERT_TRUE(edited.ok()) << edited.status().ToString(false);
  EXPECT_EQ(edited->title, "เลื่อนกำหนดส่ง (แก้ไข)");
  EXPECT_EQ(edited->posted_at, posted->posted_at);  // still the day it was posted
  auto seen = announcements_->Get(reporter_, posted->id);
  ASSERT_TRUE(seen.ok());
  EXPECT_EQ(seen->body, "ถึง 20 ตุลาคม");
  ASSERT_EQ(seen->files.size(), 2u);

  ASSERT_TRUE(announcements_->RemoveFile(admin_, attached->id).ok());
  EXPECT_EQ(announcements_->RemoveFile(admin_, attached->id).code(), StatusCode::kNotFound);
  seen = announcements_->Get(reporter_, posted->id);
  ASSERT_TRUE(seen.ok());
  ASSERT_EQ(seen->files.size(), 1u);
  EXPECT_EQ(seen->files[0].id, second->id);

  ASSERT_TRUE(announcements_->Delete(admin_, posted->id).ok());
  EXPECT_EQ(announcements_->Delete(admin_, posted->id).code(), StatusCode::kNotFound);  // twice
  EXPECT_EQ(announcements_->Get(admin_, posted->id).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(announcements_->File(reporter_, second->id).status().code(), StatusCode::kNotFound);
  auto listed = announcements_->List(reporter_);
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_EQ(announcements_->AddFile(admin_, posted->id, file).status().code(),
            StatusCode::kNotFound);

  // The log holds each change with what was there before.
  auto log = db_->Query("SELECT action, before_json FROM audit_log WHERE entity = ? ORDER BY seq",
                        {"announcement/" + std::to_string(posted->id)});
  ASSERT_TRUE(log.ok()) << log.status().ToString(false);
  std::vector<std::string> actions;
  for (const auto& r : *log) actions.push_back(r.Text(0));
  EXPECT_EQ(actions, (std::vector<std::string>{"announcement.post", "announcement.attach",
                                               "announcement.attach", "announcement.edit",
                                               "announcement.detach", "announcement.delete"}));
  const std::string deleted = log->back().Text(1);
  EXPECT_NE(deleted.find("ถึง 20 ตุลาคม"), std::string::npos) << deleted;
  EXPECT_NE(deleted.find(second->sha256), std::string::npos) << deleted;
  auto verified = AuditLog(*db_).Verify();
  ASSERT_TRUE(verified.ok()) << verified.status().ToString(false);
  EXPECT_TRUE(verified->whole()) << verified->problem_en;
}

INSTANTIATE_TEST_SUITE_P(Backends, QaTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar::service
