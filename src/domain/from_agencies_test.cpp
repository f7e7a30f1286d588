// KPIs computed from other agencies' results (issue 11 §2): the sets, the measures, what is
// counted and left out, the dependency order and its cycles, the pass that fills the values
// before scoring, the explanation, the framework reader and `esar check`.
#include "domain/from_agencies.h"

#include <gtest/gtest.h>

#include <cmath>

#include "domain/check.h"
#include "formats/framework_json.h"
#include "formats/report.h"
#include "tests/support/framework_builder.h"

namespace esar::domain {
namespace {

using esar::testing::FrameworkFromJson;
using esar::testing::Obs;

PeerResult Peer(const std::string& agency, const std::string& key, KpiStatus status,
                double result, int level, const std::string& kind = "department",
                const std::string& parent = "") {
  PeerResult r;
  r.agency = agency;
  r.kind = kind;
  r.parent = parent;
  r.kpi_key = key;
  r.status = status;
  r.result = result;
  r.level = level;
  return r;
}

Agency Ag(const std::string& code, const std::string& kind, const std::string& parent = "") {
  return Agency{code, {code, code}, kind, parent, {}};
}

std::vector<std::string> Codes(const std::vector<PeerEntry>& entries) {
  std::vector<std::string> out;
  for (const PeerEntry& e : entries) out.push_back(e.agency + (e.reason.empty() ? "" : ":" + e.reason));
  return out;
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

TEST(FromAgenciesTest, ShareByLevelCountsMissingAsNotReachedAndLeavesExemptOut) {
  FromAgencies rule;
  rule.key = "e-service";
  rule.measure = PeerMeasure::kShare;
  rule.level = 2;  // the standard level
  const std::vector<PeerResult> results = {
      Peer("D1", "e-service", KpiStatus::kScored, 100, 3),
      Peer("D2", "e-service", KpiStatus::kScored, 90, 2),
      Peer("D3", "e-service", KpiStatus::kScored, 85, 1),
      Peer("D4", "e-service", KpiStatus::kExempt, kNaN, 0),
      Peer("D5", "e-service", KpiStatus::kMissing, kNaN, 0),
      Peer("D6", "pmqa", KpiStatus::kScored, 400, 3),  // another KPI: not read
  };
  const PeerComputation c = ComputeFromAgencies(rule, {}, results);
  // Hand-checked: counted D1, D2, D3, D5 (4); reached D1, D2 → 2 ÷ 4 × 100 = 50.
  EXPECT_DOUBLE_EQ(c.value, 50.0);
  EXPECT_EQ(Codes(c.counted), (std::vector<std::string>{"D1", "D2", "D3", "D5"}));
  EXPECT_TRUE(c.counted[0].reached);
  EXPECT_TRUE(c.counted[1].reached);
  EXPECT_FALSE(c.counted[2].reached);
  EXPECT_FALSE(c.counted[3].reached);
  EXPECT_EQ(Codes(c.left_out), (std::vector<std::string>{"D4:exempt"}));
}

TEST(FromAgenciesTest, CountByKindListsAgenciesOfTheSetWithoutAResult) {
  FromAgencies rule;
  rule.key = "hpp";
  rule.measure = PeerMeasure::kCount;
  rule.level = 2;
  rule.agencies.kinds = {"province"};
  const std::vector<Agency> directory = {Ag("P1", "province"), Ag("P2", "province"),
                                         Ag("P3", "province"), Ag("D1", "department")};
  const std::vector<PeerResult> results = {
      Peer("P1", "hpp", KpiStatus::kScored, 10, 3, "province"),
      Peer("P2", "hpp", KpiStatus::kScored, 2, 1, "province"),
      Peer("D1", "hpp", KpiStatus::kScored, 10, 3, "department"),  // not a province
  };
  const PeerComputation c = ComputeFromAgencies(rule, directory, results);
  EXPECT_DOUBLE_EQ(c.value, 1.0);
  EXPECT_EQ(Codes(c.counted), (std::vector<std::string>{"P1", "P2"}));
  EXPECT_EQ(Codes(c.left_out), (std::vector<std::string>{"P3:no_result"}));
}

TEST(FromAgenciesTest, AverageSumMinMaxOfANamedSetAndOfAMinistry) {
  // Seed 003, KPI 1: the average of three departments' results (100, 90, 85).
  const std::vector<PeerResult> results = {
      Peer("CGD", "reform", KpiStatus::kScored, 100, 3, "department", "MOF"),
      Peer("EXCISE", "reform", KpiStatus::kScored, 90, 2, "department", "MOF"),
      Peer("FPO", "reform", KpiStatus::kScored, 85, 1, "department", "MOF"),
      Peer("RD", "reform", KpiStatus::kMissing, kNaN, 0, "department", "MOF"),
      Peer("OTHER", "reform", KpiStatus::kScored, 10, 0, "department", "MOI"),
  };
  FromAgencies rule;
  rule.key = "reform";
  rule.agencies.codes = {"CGD", "EXCISE", "FPO"};
  rule.measure = PeerMeasure::kAverage;
  PeerComputation c = ComputeFromAgencies(rule, {}, results);
  EXPECT_NEAR(c.value, (100.0 + 90.0 + 85.0) / 3.0, 1e-12);  // 91.666...
  EXPECT_EQ(Codes(c.counted), (std::vector<std::string>{"CGD", "EXCISE", "FPO"}));
  EXPECT_TRUE(c.left_out.empty());
  rule.measure = PeerMeasure::kSum;
  EXPECT_DOUBLE_EQ(ComputeFromAgencies(rule, {}, results).value, 275.0);
  rule.measure = PeerMeasure::kMin;
  EXPECT_DOUBLE_EQ(ComputeFromAgencies(rule, {}, results).value, 85.0);
  rule.measure = PeerMeasure::kMax;
  EXPECT_DOUBLE_EQ(ComputeFromAgencies(rule, {}, results).value, 100.0);
  // By ministry: MOF's four departments; RD has no result, so it is left out of the average.
  rule.agencies.codes.clear();
  rule.agencies.parents = {"MOF"};
  rule.measure = PeerMeasure::kAverage;
  c = ComputeFromAgencies(rule, {}, results);
  EXPECT_NEAR(c.value, 275.0 / 3.0, 1e-12);
  EXPECT_EQ(Codes(c.left_out), (std::vector<std::string>{"RD:missing"}));
}

TEST(FromAgenciesTest, ShareByValueAndNoAgencyCounted) {
  FromAgencies rule;
  rule.key = "k";
  rule.measure = PeerMeasure::kShare;
  rule.at_least = 90;
  const std::vector<PeerResult> results = {Peer("A", "k", KpiStatus::kScored, 90, 0),
                                           Peer("B", "k", KpiStatus::kScored, 89.99, 3),
                                           Peer("C", "k", KpiStatus::kMonitoring, 95, 0)};
  // By value, a monitoring result counts: A and C reach 90, B does not → 2 of 3.
  EXPECT_NEAR(ComputeFromAgencies(rule, {}, results).value, 200.0 / 3.0, 1e-12);
  rule.at_least.reset();
  rule.at_most = 89.99;
  EXPECT_NEAR(ComputeFromAgencies(rule, {}, results).value, 100.0 / 3.0, 1e-12);
  // By level, a monitoring result has none: left out.
  rule.at_most.reset();
  rule.level = 1;
  const PeerComputation by_level = ComputeFromAgencies(rule, {}, results);
  EXPECT_EQ(Codes(by_level.left_out), (std::vector<std::string>{"C:monitoring"}));
  EXPECT_DOUBLE_EQ(by_level.value, 50.0);  // B reached level 1, A is below it
  // Nobody in the set: no value, not 0.
  rule.key = "nobody";
  EXPECT_TRUE(std::isnan(ComputeFromAgencies(rule, {}, results).value));
  rule.measure = PeerMeasure::kAverage;
  rule.level = 0;
  EXPECT_TRUE(std::isnan(ComputeFromAgencies(rule, {}, results).value));
}

TEST(FromAgenciesTest, SourceRoundTripsAndOtherSourcesAreNotPeers) {
  FromAgencies rule;
  rule.key = "e-service";
  rule.measure = PeerMeasure::kShare;
  rule.level = 2;
  const PeerComputation c = ComputeFromAgencies(
      rule, {},
      {Peer("D1", "e-service", KpiStatus::kScored, 96.5, 3),
       Peer("D2", "e-service", KpiStatus::kExempt, kNaN, 0)});
  FromAgencies back;
  const auto decoded = DecodePeerSource(EncodePeerSource(rule, c), &back);
  ASSERT_TRUE(decoded.has_value());
  EXPECT_DOUBLE_EQ(decoded->value, 100.0);
  EXPECT_EQ(Codes(decoded->counted), (std::vector<std::string>{"D1"}));
  EXPECT_DOUBLE_EQ(decoded->counted[0].result, 96.5);
  EXPECT_EQ(decoded->counted[0].level, 3);
  EXPECT_TRUE(decoded->counted[0].reached);
  EXPECT_EQ(Codes(decoded->left_out), (std::vector<std::string>{"D2:exempt"}));
  EXPECT_EQ(back.key, "e-service");
  EXPECT_EQ(back.level, 2);
  EXPECT_EQ(back.measure, PeerMeasure::kShare);
  EXPECT_FALSE(DecodePeerSource("published").has_value());
  EXPECT_FALSE(DecodePeerSource("").has_value());
  EXPECT_FALSE(DecodePeerSource("{\"from_agencies\": 3}").has_value());
  EXPECT_FALSE(DecodePeerSource("{\"from_agencies\": {\"counted\": [[1]], \"left_out\": []}}")
                   .has_value());
}

// The central office (OPDC) counts the departments whose e-Service KPI reached the standard
// level, and a third KPI counts the agencies whose share KPI reached its basic level: a chain
// of two, inside one framework.
const char* const kChain = R"({"fiscal_year": 2565, "kpis": [
  {"id": "1", "key": "e-service", "component": "c", "name": "e-Service",
   "variables": [{"id": "r", "type": "percent"}],
   "criteria": {"form": "levels", "targets": [80, 90, 100]}},
  {"id": "2", "key": "services-share", "component": "c", "name": "share",
   "variables": [{"id": "share", "type": "percent"}],
   "from_agencies": {"variable": "share", "key": "e-service", "measure": "share", "level": 2,
                     "agencies": {"kinds": ["department"]}},
   "criteria": {"form": "levels", "targets": [50, 60, 70]}},
  {"id": "3", "component": "c", "name": "offices",
   "variables": [{"id": "n", "type": "count"}],
   "from_agencies": {"variable": "n", "key": "services-share", "measure": "count", "level": 1},
   "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
  "assignments": [
    {"agencies": ["D1", "D2", "D3", "D4"], "kpis": [{"kpi": "1", "weight": 100}]},
    {"agencies": ["OPDC"], "kpis": [{"kpi": "2", "weight": 50}, {"kpi": "3", "weight": 50}]}]})";

TEST(FromAgenciesTest, FillsValuesInDependencyOrderAndExplainsThem) {
  const Framework fw = FrameworkFromJson(kChain);
  auto order = FromAgenciesOrder(fw);
  ASSERT_TRUE(order.ok()) << order.status().message_en();
  ASSERT_EQ(order->size(), 2u);
  EXPECT_EQ((*order)[0]->id, "2");  // 3 reads 2's results: 2 first
  EXPECT_EQ((*order)[1]->id, "3");
  auto engine = Engine::Compile(fw, 12);
  ASSERT_TRUE(engine.ok());
  const std::vector<Agency> agencies = {Ag("D1", "department"), Ag("D2", "department"),
                                        Ag("D3", "department"), Ag("D4", "department"),
                                        Ag("OPDC", "department")};
  std::vector<Observation> data = {Obs("r", 95, 2565, "1", "D1"), Obs("r", 90, 2565, "1", "D2"),
                                   Obs("r", 85, 2565, "1", "D3"),
                                   // D4 reports nothing: missing, counted as not reached.
                                   // A typed value of the computed variable is replaced.
                                   Obs("share", 1, 2565, "2", "OPDC")};
  // D5 in another framework (another kind's results) also reached: counted.
  const std::vector<PeerResult> others = {
      Peer("D5", "e-service", KpiStatus::kScored, 100, 3, "department")};
  auto added = FillFromAgencies(*engine, 12, agencies, others, data);
  ASSERT_TRUE(added.ok()) << added.status().message_en();
  EXPECT_EQ(*added, 2u);  // OPDC's share and count
  const auto scores = engine->Score(agencies, data, true);
  const AgencyScore* opdc = nullptr;
  for (const AgencyScore& a : scores) {
    if (a.agency == "OPDC") opdc = &a;
  }
  ASSERT_NE(opdc, nullptr);
  // Hand-checked: counted D1 (level 3), D2 (level 2), D3 (level 1), D4 (missing), D5 (level 3);
  // reached: D1, D2, D5 → 3 ÷ 5 × 100 = 60 → the standard target 60: 75 points.
  EXPECT_DOUBLE_EQ(opdc->kpis[0].result, 60.0);
  EXPECT_DOUBLE_EQ(opdc->kpis[0].score, 75.0);
  // KPI 3: agencies whose KPI 2 reached level 1 (50): OPDC alone → 1 → the basic target: 50.
  EXPECT_DOUBLE_EQ(opdc->kpis[1].result, 1.0);
  EXPECT_DOUBLE_EQ(opdc->kpis[1].score, 50.0);
  // The explanation names who was counted and left out.
  const auto th = formats::ExplainKpi(fw, opdc->kpis[0], Lang::kThai);
  const auto en = formats::ExplainKpi(fw, opdc->kpis[0], Lang::kEnglish);
  std::string all_th, all_en;
  for (const auto& l : th) all_th += l + "\n";
  for (const auto& l : en) all_en += l + "\n";
  EXPECT_NE(all_en.find("share = 60.00 computed from other agencies' results"), std::string::npos)
      << all_en;
  EXPECT_NE(all_en.find("3 of 5 agencies"), std::string::npos) << all_en;
  EXPECT_NE(all_en.find("D4 (no result, level 0, not reached)"), std::string::npos) << all_en;
  EXPECT_NE(all_en.find("D5 (result 100.00, level 3, reached)"), std::string::npos) << all_en;
  EXPECT_NE(all_th.find("3 จาก 5 หน่วยงาน"), std::string::npos) << all_th;
  EXPECT_NE(all_th.find("หน่วยงานที่นับ (5)"), std::string::npos) << all_th;
}

TEST(FromAgenciesTest, NothingToFillLeavesTheObservationsAlone) {
  const Framework fw = FrameworkFromJson(R"({"fiscal_year": 2565, "kpis": [
    {"id": "1", "component": "c", "name": "x", "variables": [{"id": "r", "type": "number"}],
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})");
  auto engine = Engine::Compile(fw, 12);
  ASSERT_TRUE(engine.ok());
  std::vector<Observation> data = {Obs("r", 2, 2565, "1", "A")};
  auto added = FillFromAgencies(*engine, 12, {Ag("A", "department")}, {}, data);
  ASSERT_TRUE(added.ok());
  EXPECT_EQ(*added, 0u);
  EXPECT_EQ(data.size(), 1u);
}

TEST(FromAgenciesTest, ACycleIsACheckErrorInWords) {
  const Framework fw = FrameworkFromJson(R"({"fiscal_year": 2565, "kpis": [
    {"id": "1", "key": "a", "component": "c", "name": "a",
     "variables": [{"id": "x", "type": "number"}],
     "from_agencies": {"variable": "x", "key": "b", "measure": "average"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}},
    {"id": "2", "key": "b", "component": "c", "name": "b",
     "variables": [{"id": "y", "type": "number"}],
     "from_agencies": {"variable": "y", "key": "a", "measure": "count", "at_least": 1},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 50}, {"kpi": "2", "weight": 50}]}]})");
  auto order = FromAgenciesOrder(fw);
  ASSERT_FALSE(order.ok());
  EXPECT_NE(order.status().message_en().find("1 → 2 → 1"), std::string::npos)
      << order.status().message_en();
  CheckInput input;
  input.framework = &fw;
  const auto findings = Check(input);
  bool found = false;
  for (const Finding& f : findings) {
    if (f.code == "from-agencies-cycle") {
      found = true;
      EXPECT_EQ(f.severity, Severity::kError);
      EXPECT_NE(f.message_th.find("วงวน"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
  // Computing refuses too, rather than use a value that is not there yet.
  auto engine = Engine::Compile(fw, 12);
  ASSERT_TRUE(engine.ok());
  std::vector<Observation> data;
  EXPECT_FALSE(FillFromAgencies(*engine, 12, {Ag("A", "department")}, {}, data).ok());
  // A KPI reading its own key is a cycle of one.
  const Framework self = FrameworkFromJson(R"({"fiscal_year": 2565, "kpis": [
    {"id": "1", "key": "a", "component": "c", "name": "a",
     "variables": [{"id": "x", "type": "number"}],
     "from_agencies": {"variable": "x", "key": "a", "measure": "max"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})");
  auto self_order = FromAgenciesOrder(self);
  ASSERT_FALSE(self_order.ok());
  EXPECT_NE(self_order.status().message_en().find("1 → 1"), std::string::npos);
}

// Issue 11 §2: the departments' KPI 2 counts provinces by their KPI "hpp", and the provinces'
// KPI 1 (key "hpp") averages the departments' KPI 2 (key "share"): neither can be computed
// first. Each framework alone is fine; together `esar check` names the cycle and both
// frameworks. A province KPI reading a department KPI that reads nothing back is no cycle.
TEST(FromAgenciesTest, ACycleAcrossFrameworksOfOneYearIsACheckErrorNamingThem) {
  const Framework departments = FrameworkFromJson(R"({"fiscal_year": 2565,
    "agency_kind": "department", "kpis": [
    {"id": "1", "key": "e-service", "component": "c", "name": "e",
     "variables": [{"id": "r", "type": "percent"}],
     "criteria": {"form": "levels", "targets": [1, 2, 3]}},
    {"id": "2", "key": "share", "component": "c", "name": "share",
     "variables": [{"id": "n", "type": "count"}],
     "from_agencies": {"variable": "n", "key": "hpp", "measure": "count", "level": 2},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 50}, {"kpi": "2", "weight": 50}]}]})");
  const Framework provinces = FrameworkFromJson(R"({"fiscal_year": 2565,
    "agency_kind": "province", "kpis": [
    {"id": "1", "key": "hpp", "component": "c", "name": "hpp",
     "variables": [{"id": "a", "type": "number"}],
     "from_agencies": {"variable": "a", "key": "share", "measure": "average"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})");
  ASSERT_TRUE(FromAgenciesOrder(departments).ok());
  ASSERT_TRUE(FromAgenciesOrder(provinces).ok());
  const Status across = CheckFromAgenciesAcross({{"department", &departments}, {"province", &provinces}});
  ASSERT_FALSE(across.ok());
  EXPECT_NE(across.message_en().find("2 (department) → 1 (province) → 2 (department)"),
            std::string::npos)
      << across.message_en();
  EXPECT_NE(across.message_th().find("วงวนข้ามกรอบ"), std::string::npos) << across.message_th();

  auto codes = [](const CheckInput& input) {
    std::vector<std::string> out;
    for (const Finding& f : Check(input)) {
      if (f.severity == Severity::kError) out.push_back(f.code);
    }
    return out;
  };
  CheckInput alone;
  alone.framework = &provinces;
  EXPECT_EQ(codes(alone), std::vector<std::string>{});
  CheckInput with_others = alone;
  with_others.other_frameworks = {{"department", &departments}};
  EXPECT_EQ(codes(with_others), std::vector<std::string>{"from-agencies-cycle-across"});
  for (const Finding& f : Check(with_others)) {
    EXPECT_NE(f.message_en.find("1 (province) → 2 (department) → 1 (province)"), std::string::npos)
        << f.message_en;
  }

  // Another fiscal year's framework is never read: no cycle.
  Framework next_year = departments;
  next_year.fiscal_year = 2566;
  EXPECT_TRUE(CheckFromAgenciesAcross({{"department", &next_year}, {"province", &provinces}}).ok());
  // The provinces reading the departments' plain KPI 1 (e-service) close no cycle.
  const Framework plain = FrameworkFromJson(R"({"fiscal_year": 2565,
    "agency_kind": "province", "kpis": [
    {"id": "1", "key": "hpp", "component": "c", "name": "hpp",
     "variables": [{"id": "a", "type": "number"}],
     "from_agencies": {"variable": "a", "key": "e-service", "measure": "average"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})");
  EXPECT_TRUE(CheckFromAgenciesAcross({{"department", &departments}, {"province", &plain}}).ok());
}

TEST(FromAgenciesTest, CheckWantsTheFilledVariableDeclared) {
  const Framework fw = FrameworkFromJson(R"({"fiscal_year": 2565, "kpis": [
    {"id": "1", "component": "c", "name": "a",
     "variables": [{"id": "r", "type": "number"}, {"id": "x", "type": "pass_fail"}],
     "result": "r + x",
     "from_agencies": {"variable": "x", "key": "b", "measure": "sum"},
     "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
    "assignments": [{"agencies": ["*"], "kpis": [{"kpi": "1", "weight": 100}]}]})");
  CheckInput input;
  input.framework = &fw;
  bool found = false;
  for (const Finding& f : Check(input)) {
    EXPECT_NE(f.code, "framework-invalid") << f.message_en;
    found = found || f.code == "from-agencies-variable";
  }
  EXPECT_TRUE(found);
}

TEST(FromAgenciesTest, ReaderRefusesRulesThatSayNothingOrTooMuch) {
  auto parse = [](const std::string& rule) {
    return formats::ParseFramework(
        R"({"format": "esar-framework/1", "fiscal_year": 2565, "kpis": [
        {"id": "1", "component": "c", "name": "a", "variables": [{"id": "x", "type": "number"}],
         "from_agencies": )" + rule + R"(, "criteria": {"form": "levels", "targets": [1, 2, 3]}}],
        "assignments": []})",
        "f.json");
  };
  EXPECT_TRUE(parse(R"({"variable": "x", "key": "e-service", "measure": "share", "level": 2,
                        "agencies": {"kinds": ["department"], "ministries": ["MOF"], "codes": ["A"]}})")
                  .ok());
  const auto no_reach = parse(R"({"variable": "x", "key": "e-service", "measure": "share"})");
  ASSERT_FALSE(no_reach.ok());
  EXPECT_EQ(no_reach.status().where().json_path, "/kpis/0/from_agencies");
  EXPECT_FALSE(parse(R"({"variable": "x", "key": "e", "measure": "count", "level": 1, "at_least": 3})").ok());
  EXPECT_FALSE(parse(R"({"variable": "x", "key": "e", "measure": "average", "level": 1})").ok());
  EXPECT_FALSE(parse(R"({"variable": "x", "key": "E-Service", "measure": "sum"})").ok());
  EXPECT_FALSE(parse(R"({"variable": "x", "key": "e", "measure": "median"})").ok());
  EXPECT_FALSE(parse(R"({"variable": "x", "key": "e", "measure": "sum", "agencies": {"kind": ["x"]}})").ok());
}

}  // namespace
}  // namespace esar::domain
