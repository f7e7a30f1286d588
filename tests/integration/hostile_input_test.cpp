// Malformed and hostile files given to the esar binary: each gives a clear message in Thai (and
// in English with --lang en), a non-zero exit, and never a crash. In the sanitizer build these
// also run under ASan and UBSan.
#include <gtest/gtest.h>

#include <filesystem>

#include "tests/support/run_esar.h"

namespace esar {
namespace {

using esar::testing::RunEsar;
using esar::testing::WriteFile;

const char* kAgencies =
    "code,name_th,name_en,kind,parent\nA,หน่วยงานทดสอบ,Test agency,department,\n";
const char* kGoodFramework =
    R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
  "variables": [{"id": "r", "type": "number"}], "criteria": {"form": "levels", "targets": [80, 90, 100]}}],
  "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})";
const char* kGoodData = "agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,12,85\n";

class HostileInputTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = esar::testing::MakeTempDir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Scores with the given files (nullptr = the good one); returns the run.
  esar::testing::RunResult Score(const std::string* framework, const std::string* data,
                                 const std::string& lang = "th") {
    WriteFile(dir_ + "/f.json", framework ? *framework : kGoodFramework);
    WriteFile(dir_ + "/a.csv", kAgencies);
    WriteFile(dir_ + "/d.csv", data ? *data : kGoodData);
    return RunEsar("--lang " + lang + " score --framework '" + dir_ + "/f.json' --agencies '" +
                   dir_ + "/a.csv' --data '" + dir_ + "/d.csv'");
  }

  std::string dir_;
};

TEST_F(HostileInputTest, TheGoodFilesScore) {
  auto r = Score(nullptr, nullptr);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("62.500"), std::string::npos) << r.out;
}

TEST_F(HostileInputTest, MalformedFrameworksGiveAMessageNotACrash) {
  const std::vector<std::string> frameworks = {
      "",                                                                        // empty
      "{",                                                                       // truncated
      "\xEF\xBB\xBF\xFF\xFE not json",                                           // garbage bytes
      "{\"fiscal_year\": 2567, \"title\": \"\xE0\xB8\x80\xE0\", \"kpis\": []}",  // broken UTF-8
      "{\"fiscal_year\": \"2567\", \"kpis\": []}",                               // wrong type
      "{\"fiscal_year\": 2567, \"kpis\": {}}",                                   // wrong type
      "{\"fiscal_year\": 1e999, \"kpis\": []}",                                  // huge number
      "{\"fiscal_year\": 2567, \"kpis\": [], \"x\": NaN}",                       // NaN is not JSON
      std::string(100000, '[') + std::string(100000, ']'),                       // deep nesting
      // a derived variable that depends on itself through another
      R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
          "variables": [{"id": "a", "type": "derived", "formula": "b"}, {"id": "b", "type": "derived", "formula": "a"}],
          "result": "a", "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
          "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})",
      // a formula that tries to assign, and one that calls an unknown function
      R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
          "result": "r = 100", "criteria": {"form": "levels", "targets": [1, 2, 3]}}]})",
      R"J({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
          "criteria": {"form": "levels", "targets": ["system(1)", 2, 3]}}]})J",
      // a target number far beyond any real one
      R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
          "criteria": {"form": "levels", "targets": [1e308, 2, 3]}}]})",
      // criteria nested in groups deeper than allowed
      [] {
        std::string c = R"({"form": "levels", "targets": [1, 2, 3]})";
        for (int i = 0; i < 20; ++i)
          c = R"({"form": "groups", "by": "r", "groups": [{"id": "g", "range": {}, "criteria": )" +
              c + "}]}";
        return R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
                   "criteria": )" +
               c + "}]}";
      }(),
  };
  for (const std::string& fw : frameworks) {
    SCOPED_TRACE(fw.substr(0, 60));
    auto th = Score(&fw, nullptr);
    EXPECT_FALSE(th.crashed) << th.err;
    EXPECT_EQ(th.exit_code, 2) << th.out;
    EXPECT_NE(th.err.find("ข้อผิดพลาด"), std::string::npos) << th.err;
    EXPECT_NE(th.err.find("f.json"), std::string::npos) << th.err;
    auto en = Score(&fw, nullptr, "en");
    EXPECT_NE(en.err.find("error"), std::string::npos) << en.err;
  }
}

TEST_F(HostileInputTest, MalformedDataGivesTheLine) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,12,85\nA,1,r,2567,12,\"unclosed\n",
       "d.csv:3"},
      {"agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,12,NaN\n", "d.csv:2"},
      {"agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,12,1e999\n", "d.csv:2"},
      {"agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,12,\xE0\xB8\n", "d.csv"},
      {"agency,kpi,variable,fiscal_year,round,value\nA,1,r,2567,7,85\n", "d.csv:2"},
      {"", "d.csv"},
      {"just,a,header\n", "d.csv:1"},
  };
  for (const auto& [data, where] : cases) {
    SCOPED_TRACE(data);
    auto r = Score(nullptr, &data);
    EXPECT_FALSE(r.crashed);
    EXPECT_EQ(r.exit_code, 2);
    EXPECT_NE(r.err.find(where), std::string::npos) << r.err;
  }
}

TEST_F(HostileInputTest, MissingFilesAndBadArgumentsAreExplained) {
  auto r = RunEsar(
      "score --framework /nonexistent/f.json --agencies /nonexistent/a.csv --data "
      "/nonexistent/d.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("/nonexistent/f.json"), std::string::npos);
  auto round = RunEsar("score --framework x --agencies y --data z --round 7");
  EXPECT_NE(round.exit_code, 0);
  EXPECT_FALSE(round.crashed);
  auto none = RunEsar("");
  EXPECT_NE(none.exit_code, 0);
  EXPECT_FALSE(none.crashed);
}

}  // namespace
}  // namespace esar
