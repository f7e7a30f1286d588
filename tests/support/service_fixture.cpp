#include "tests/support/service_fixture.h"

#include <fstream>
#include <iterator>

#include "formats/inputs.h"
#include "tests/support/test_database.h"

namespace esar::testing {

std::filesystem::path OcsExample() {
  return std::filesystem::path(ESAR_SOURCE_DIR) / "examples" / "ocs-2567";
}

std::string ReadText(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void ServiceFixture::SetUp() {
  ESAR_SKIP_WITHOUT(GetParam());
  db_ = FreshDatabase(GetParam(), &url_);
  ASSERT_NE(db_, nullptr);
  directory_ = std::make_unique<service::Directory>(*db_, clock_, &hasher_);
  cycle_ = std::make_unique<service::Cycle>(*db_, clock_);
  reporting_ = std::make_unique<service::Reporting>(*db_, clock_);
  results_ = std::make_unique<service::Results>(*db_, clock_);
  auto agencies = formats::LoadAgencies((OcsExample() / "agencies.csv").string());
  ASSERT_TRUE(agencies.ok());
  ASSERT_TRUE(directory_->UpsertAgencies(service::Actor::System(), *agencies).ok());
  const bool a = with_addresses_;
  using service::Role;
  admin_ = MakeUser("admin.opdc", Role::kAdmin, "", a ? "admin@opdc.go.th" : "", Lang::kThai);
  evaluator_ =
      MakeUser("evaluator.one", Role::kEvaluator, "", a ? "eval@opdc.go.th" : "", Lang::kEnglish);
  reporter_ =
      MakeUser("reporter.ocs", Role::kReporter, "OCS", a ? "reporter@ocs.go.th" : "", Lang::kThai);
  approver_ = MakeUser("approver.ocs", Role::kApprover, "OCS", a ? "approver@ocs.go.th" : "",
                       Lang::kEnglish);
  boi_reporter_ = MakeUser("reporter.boi", Role::kReporter, "BOI");
}

service::Actor ServiceFixture::MakeUser(const std::string& name, service::Role role,
                                        const std::string& agency, const std::string& email,
                                        Lang lang) {
  service::NewUser user{name, name, "password-" + name, role, agency, email, lang};
  auto id = directory_->CreateUser(service::Actor::System(), user);
  EXPECT_TRUE(id.ok()) << id.status().ToString(false);
  return service::Actor{id.ok() ? *id : 0, role, agency, name};
}

void ServiceFixture::OpenOcsRound(int64_t deadline) {
  auto framework = cycle_->ImportFramework(admin_, ReadText(OcsExample() / "framework.json"));
  ASSERT_TRUE(framework.ok()) << framework.status().ToString(false);
  framework_ = *framework;
  auto round = cycle_->OpenRound(admin_, framework_.id, 12, deadline);
  ASSERT_TRUE(round.ok()) << round.status().ToString(false);
  round_ = *round;
  auto data = formats::LoadObservations((OcsExample() / "data.csv").string());
  ASSERT_TRUE(data.ok());
  std::vector<domain::Observation> imported;
  for (const domain::Observation& o : *data) {
    if (o.agency == "OCS" && o.fiscal_year == 2567) {
      nlohmann::json& values = ocs_values_[o.kpi];
      values[o.variable] =
          o.values.size() == 1 ? nlohmann::json(o.values[0]) : nlohmann::json(o.values);
    } else {
      imported.push_back(o);
    }
  }
  ASSERT_TRUE(cycle_->ImportObservations(admin_, imported).ok());
}

}  // namespace esar::testing
