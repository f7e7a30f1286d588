#include <gtest/gtest.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "formats/csv.h"
#include "formats/framework_json.h"
#include "formats/inputs.h"
#include "formats/sheet_writer.h"

namespace esar::formats {
namespace {

TEST(CsvTest, ReadsQuotesCrlfAndAByteOrderMark) {
  auto rows = ParseCsv(
      "\xEF\xBB\xBF"
      "a,b\r\n\"x, \"\"y\"\"\",2\r\n\r\n\"multi\nline\",3\n",
      "t.csv");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString(false);
  ASSERT_EQ(rows->size(), 3u);
  EXPECT_EQ((*rows)[1].fields[0], "x, \"y\"");
  EXPECT_EQ((*rows)[1].line, 2);
  EXPECT_EQ((*rows)[2].fields[0], "multi\nline");
  EXPECT_EQ((*rows)[2].line, 4);
}

TEST(CsvTest, RefusesAnUnclosedQuoteNamingItsLine) {
  auto rows = ParseCsv("a,b\n1,\"open\n2,3\n", "t.csv");
  ASSERT_FALSE(rows.ok());
  EXPECT_EQ(rows.status().where().line, 2);
  EXPECT_FALSE(ParseCsv("a\n\"x\"y\n", "t.csv").ok());
  EXPECT_FALSE(ParseCsv("a\n\xE0\xB8\n", "t.csv").ok());
}

TEST(CsvTest, EscapesWhatNeedsIt) {
  EXPECT_EQ(CsvEscape("plain"), "plain");
  EXPECT_EQ(CsvEscape("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvEscape("say \"hi\""), "\"say \"\"hi\"\"\"");
}

TEST(ValueTest, ReadsNumbersPassFailAndLists) {
  EXPECT_EQ(*ParseValue("94.36"), std::vector<double>{94.36});
  EXPECT_EQ(*ParseValue(" ผ่าน "), std::vector<double>{1});
  EXPECT_EQ(*ParseValue("ไม่ผ่าน"), std::vector<double>{0});
  EXPECT_EQ(*ParseValue("fail"), std::vector<double>{0});
  EXPECT_EQ(*ParseValue("3;4;5"), (std::vector<double>{3, 4, 5}));
  EXPECT_EQ(*ParseValue("-1.5e2"), std::vector<double>{-150});
  for (const char* bad :
       {"", "abc", "94.36%", "1,234", "nan", "inf", "1e400", "1e16", "3;;4", "0x10"}) {
    auto v = ParseValue(bad);
    EXPECT_FALSE(v.ok()) << bad;
    if (!v.ok()) {
      EXPECT_FALSE(v.status().message_th().empty());
    }
  }
}

TEST(ValueTest, ReadsDatesAsTheirDayNumbers) {
  // The day a dated milestone was reached, as ISO or as Thai users write it (Buddhist Era).
  EXPECT_EQ(*ParseValue("2021-01-15"),
            std::vector<double>{static_cast<double>(domain::DayFromCivil(2021, 1, 15))});
  EXPECT_EQ(*ParseValue("15/1/2564"),
            std::vector<double>{static_cast<double>(domain::DayFromCivil(2021, 1, 15))});
  for (const char* bad : {"31/2/2564", "15/1/64", "15/1/2021", "2021-02-30", "2021-1-15"})
    EXPECT_FALSE(ParseValue(bad).ok()) << bad;
}

// A dated milestone: "due" is an ISO date, "reached" names its date variable; both or neither.
TEST(FrameworkJsonTest, ReadsADatedMilestoneAndRefusesABadOne) {
  auto text = [](const std::string& milestone) {
    return R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
      "variables": [{"id": "plan", "type": "pass_fail"}, {"id": "plan_on", "type": "date"}],
      "criteria": {"form": "milestones", "levels": [[)" +
           milestone + R"(], [], []]}}]})";
  };
  auto ok = ParseFramework(
      text(R"({"variable": "plan", "due": "2023-12-31", "reached": "plan_on"})"), "fw.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString(false);
  const domain::Milestone& m = ok->kpis[0].criteria->milestones.levels[0][0];
  ASSERT_TRUE(m.due.has_value());
  EXPECT_EQ(*m.due, domain::DayFromCivil(2023, 12, 31));
  EXPECT_EQ(m.reached, "plan_on");
  EXPECT_EQ(ok->kpis[0].variables[1].type, domain::VariableType::kDate);

  auto be = ParseFramework(
      text(R"({"variable": "plan", "due": "31/12/2566", "reached": "plan_on"})"), "fw.json");
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().where().json_path, "/kpis/0/criteria/levels/0/0/due");
  EXPECT_NE(be.status().message_en().find("write 2024-03-31"), std::string::npos);
  EXPECT_NE(be.status().message_th().find("ใช้ไม่ได้"), std::string::npos);

  auto no_date = ParseFramework(
      text(R"({"variable": "plan", "due": "2023-13-01", "reached": "plan_on"})"), "fw.json");
  EXPECT_FALSE(no_date.ok());

  auto half = ParseFramework(text(R"({"variable": "plan", "due": "2023-12-31"})"), "fw.json");
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.status().where().json_path, "/kpis/0/criteria/levels/0/0");
  EXPECT_NE(half.status().message_en().find("needs both"), std::string::npos);
}

TEST(FrameworkJsonTest, ErrorsNameTheJsonPath) {
  auto unknown = ParseFramework(
      R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x", "wieght": 5,
      "criteria": {"form": "levels", "targets": [1, 2, 3]}}]})",
      "fw.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.status().where().json_path, "/kpis/0/wieght");
  EXPECT_NE(unknown.status().message_en().find("unknown field"), std::string::npos);
  EXPECT_NE(unknown.status().message_th().find("ไม่รู้จักช่อง"), std::string::npos);

  auto type = ParseFramework(R"({"fiscal_year": "2567", "kpis": []})", "fw.json");
  ASSERT_FALSE(type.ok());
  EXPECT_EQ(type.status().where().json_path, "/fiscal_year");

  auto form =
      ParseFramework(R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
      "criteria": {"form": "magic"}}]})",
                     "fw.json");
  ASSERT_FALSE(form.ok());
  EXPECT_EQ(form.status().where().json_path, "/kpis/0/criteria/form");

  auto missing = ParseFramework(R"({"fiscal_year": 2567})", "fw.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().where().json_path, "/kpis");
}

TEST(FrameworkJsonTest, RefusesHostileInputWithAMessage) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  for (const std::string& text :
       {std::string(""), std::string("   \n"), std::string("{"), std::string("\xFF\xFE{}"),
        std::string("{\"fiscal_year\": 2567, \"title\": \"\xE0\xB8\", \"kpis\": []}"),
        std::string("{\"fiscal_year\": 1e999, \"kpis\": []}"),
        std::string("{\"fiscal_year\": NaN, \"kpis\": []}"), deep, std::string("[1, 2, 3]"),
        std::string("null")}) {
    auto fw = ParseFramework(text, "fw.json");
    EXPECT_FALSE(fw.ok()) << text.substr(0, 40);
    if (!fw.ok()) {
      EXPECT_FALSE(fw.status().message_th().empty());
      EXPECT_FALSE(fw.status().message_en().empty());
      EXPECT_EQ(fw.status().where().file, "fw.json");
    }
  }
}

TEST(FrameworkJsonTest, RefusesNumbersBeyondRangeAndWrongLevels) {
  EXPECT_FALSE(ParseFramework(R"({"fiscal_year": 2567, "levels": [], "kpis": []})", "f").ok());
  EXPECT_FALSE(ParseFramework(R"({"fiscal_year": 99999, "kpis": []})", "f").ok());
  EXPECT_FALSE(
      ParseFramework(R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
      "criteria": {"form": "levels", "targets": [1e300, 2, 3]}}]})",
                     "f")
          .ok());
  EXPECT_FALSE(
      ParseFramework(R"({"fiscal_year": 2567, "kpis": [{"id": "1", "component": "c", "name": "x",
      "variables": [{"id": "l", "type": "number_list", "length": 100000}],
      "criteria": {"form": "levels", "targets": [1, 2, 3]}}]})",
                     "f")
          .ok());
}

TEST(FrameworkJsonTest, KpiIdsAreKeptToTheDocumentedSafeSet) {
  auto with_id = [](const std::string& id, bool sub) {
    const std::string escaped = nlohmann::json(id).dump();
    const std::string kpi =
        sub ? R"({"id": "1", "component": "c", "name": "x", "sub_kpis": [{"id": )" + escaped +
                  R"(, "name": "y", "weight": 100, "criteria": {"form": "levels", "targets": [1, 2, 3]}}]})"
            : R"({"id": )" + escaped +
                  R"(, "component": "c", "name": "x", "criteria": {"form": "levels", "targets": [1, 2, 3]}})";
    return ParseFramework(R"({"fiscal_year": 2567, "kpis": [)" + kpi + "]}", "fw.json");
  };
  for (const std::string& id :
       std::vector<std::string>{"1", "4.1", "pmqa_2", "A-1", "x", std::string(32, '9')}) {
    EXPECT_TRUE(IsSafeKpiId(id)) << id;
    EXPECT_TRUE(with_id(id, false).ok()) << id;
    EXPECT_TRUE(with_id(id, true).ok()) << id;
  }
  for (const std::string& id :
       {std::string(""), std::string("1\r\nSet-Cookie: x=1"), std::string("1\n"),
        std::string("a b"), std::string("1/2"), std::string("1?x"), std::string("1#2"),
        std::string("%0D"), std::string(".1"), std::string("-1"), std::string("_1"),
        std::string("ตัวชี้วัด1"), std::string("1\0", 2), std::string(33, '9'), std::string("<b>")}) {
    EXPECT_FALSE(IsSafeKpiId(id)) << id;
    for (const bool sub : {false, true}) {
      auto fw = with_id(id, sub);
      ASSERT_FALSE(fw.ok()) << id;
      EXPECT_EQ(fw.status().where().json_path, sub ? "/kpis/0/sub_kpis/0/id" : "/kpis/0/id");
      EXPECT_NE(fw.status().message_en().find("A–Z a–z 0–9"), std::string::npos);
      EXPECT_NE(fw.status().message_th().find("รหัสตัวชี้วัด"), std::string::npos);
    }
  }
}

TEST(ObservationsTest, CsvErrorsNameTheLine) {
  const std::string header = "agency,kpi,variable,fiscal_year,round,value\n";
  auto ok = ParseObservations(header + "A,1,r,2567,12,94.36\nA,1,r,2566,,ผ่าน\n", "d.csv");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString(false);
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[1].round, 12);
  EXPECT_EQ((*ok)[1].where.line, 3);
  auto bad_value = ParseObservations(header + "A,1,r,2567,12,94.36\nA,1,r,2567,12,lots\n", "d.csv");
  ASSERT_FALSE(bad_value.ok());
  EXPECT_EQ(bad_value.status().where().line, 3);
  auto bad_year = ParseObservations(header + "A,1,r,2024,12,1\n", "d.csv");
  ASSERT_FALSE(bad_year.ok());
  EXPECT_NE(bad_year.status().message_en().find("Buddhist Era"), std::string::npos);
  EXPECT_FALSE(ParseObservations(header + "A,1,r,2567,9,1\n", "d.csv").ok());
  EXPECT_FALSE(ParseObservations("agency,kpi,value\nA,1,2\n", "d.csv").ok());
  EXPECT_FALSE(ParseObservations("", "d.csv").ok());
  EXPECT_FALSE(ParseObservations(header + "A,1,r,2567,12,1,extra,fields\n", "d.csv").ok());
}

TEST(ObservationsTest, ReadsJsonWithListsAndRefusesWrongTypes) {
  auto ok = ParseObservations(R"({"observations": [
      {"agency": "A", "kpi": "6", "variable": "pillars", "fiscal_year": 2566, "value": [3, 3, 4, 2, 1, 3, 3]},
      {"agency": "A", "kpi": "1", "variable": "done", "fiscal_year": 2567, "round": 6, "value": "ผ่าน"}]})",
                              "d.json");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString(false);
  EXPECT_EQ((*ok)[0].values.size(), 7u);
  EXPECT_EQ((*ok)[1].round, 6);
  auto bad = ParseObservations(
      R"([{"agency": "A", "kpi": "1", "variable": "r", "fiscal_year": 2567, "value": {"x": 1}}])",
      "d.json");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().where().json_path, "/observations/0/value");
  EXPECT_FALSE(
      ParseObservations(
          R"([{"agency": 5, "kpi": "1", "variable": "r", "fiscal_year": 2567, "value": 1}])",
          "d.json")
          .ok());
  EXPECT_FALSE(
      ParseObservations(
          R"([{"agency": "A", "kpi": "1", "variable": "r", "fiscal_year": 2567, "value": 1e300}])",
          "d.json")
          .ok());
}

TEST(AgenciesTest, ReadsCsvAndJson) {
  auto csv = ParseAgencies(
      "code,name_th,name_en,kind,parent\nOCS,สำนักงานคณะกรรมการกฤษฎีกา,Office of the Council of "
      "State,department,PMO\n",
      "a.csv");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ((*csv)[0].parent, "PMO");
  EXPECT_EQ((*csv)[0].where.line, 2);
  auto json = ParseAgencies(
      R"({"agencies": [{"code": "OCS", "name": {"th": "สคก.", "en": "OCS"}, "kind": "department"}]})",
      "a.json");
  ASSERT_TRUE(json.ok()) << json.status().ToString(false);
  EXPECT_EQ((*json)[0].name.en, "OCS");
  EXPECT_FALSE(ParseAgencies("code,name_th\n\x01\x02,x\n", "a.csv").ok());
  EXPECT_FALSE(ParseAgencies("name_th\nx\n", "a.csv").ok());
  EXPECT_FALSE(ParseAgencies(R"({"agencies": [{"code": 7}]})", "a.json").ok());
}

}  // namespace

TEST(AgenciesCsvTest, CellsEsarsExportNeutralisedComeBackAsTheyWere) {
  for (const char* text : {"-X", "=SUM(A1)", "+66", "@home", "'quoted", "plain", "", "'"}) {
    EXPECT_EQ(RestoreNeutralized(NeutralizeFormula(text)), text) << text;
  }
  auto agencies = ParseAgencies(
      "code,name_th,name_en,kind,parent,email\n'-X,'=ชื่อ,'@en,department,,\n", "agencies.csv");
  ASSERT_TRUE(agencies.ok()) << agencies.status().ToString(false);
  ASSERT_EQ(agencies->size(), 1u);
  EXPECT_EQ((*agencies)[0].code, "-X");
  EXPECT_EQ((*agencies)[0].name.th, "=ชื่อ");
  EXPECT_EQ((*agencies)[0].name.en, "@en");
}

}  // namespace esar::formats
