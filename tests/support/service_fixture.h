#pragma once

// The ground most service tests stand on, on each backend (the test's parameter): a fresh
// database with the OCS example's agencies, the services over it on a test clock, and five
// users: the central office's admin, an evaluator, OCS's reporter and approver, and BOI's
// reporter. A suite derives from ServiceFixture, calls ServiceFixture::SetUp() first in its own
// SetUp, and adds what only it needs (a framework and round, a pool, listeners).

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "common/clock.h"
#include "security/password_hasher.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/reporting.h"
#include "service/results.h"
#include "storage/database.h"

namespace esar::testing {

inline constexpr int64_t kJan2024 = 1704067200000;  // 1 Jan 2024 00:00 UTC, inside FY2567
inline constexpr int64_t kHour = 3600LL * 1000;
inline constexpr int64_t kDay = 24 * kHour;

// examples/ocs-2567 in the source tree.
std::filesystem::path OcsExample();

// The whole file at `path` ("" when it cannot be read: the test's own checks then fail).
std::string ReadText(const std::filesystem::path& path);

class ServiceFixture : public ::testing::TestWithParam<std::string> {
 protected:
  // `with_addresses`: the users get e-mail addresses, in Thai (admin, OCS reporter) and English
  // (evaluator, OCS approver); BOI's reporter never has one. Without, nobody has one.
  explicit ServiceFixture(bool with_addresses = false) : with_addresses_(with_addresses) {}

  // Skips without the backend; a derived SetUp returns at once when IsSkipped() or
  // HasFatalFailure() after calling this.
  void SetUp() override;

  // A user made by the system with password "password-<name>"; `email` "" for none.
  service::Actor MakeUser(const std::string& name, service::Role role, const std::string& agency,
                          const std::string& email = "", Lang lang = Lang::kThai);

  // Imports the example's framework, opens its 12-month round with `deadline`, and imports
  // every value of data.csv but OCS's FY2567 ones, which land in ocs_values_ (by KPI, the
  // variables as a JSON object) for the test to report through the workflow. Fails the test on
  // any refusal.
  void OpenOcsRound(int64_t deadline);

  FakeClock clock_{kJan2024};
  std::string url_;
  std::unique_ptr<storage::Database> db_;
  // Cheap hashes; enough turns and patience that no test but one about it meets a refusal.
  security::PasswordHasher hasher_{security::HashStrength::kMinimum, {4, 64, 60'000}};
  std::unique_ptr<service::Directory> directory_;
  std::unique_ptr<service::Cycle> cycle_;
  std::unique_ptr<service::Reporting> reporting_;
  std::unique_ptr<service::Results> results_;
  service::Actor admin_, evaluator_, reporter_, approver_, boi_reporter_;
  // Set by OpenOcsRound.
  service::StoredFramework framework_;
  service::RoundInfo round_;
  std::map<std::string, nlohmann::json> ocs_values_;

 private:
  const bool with_addresses_;
};

}  // namespace esar::testing
