// kill -9 of the server during 200 concurrent submissions with evidence, on SQLite and on
// PostgreSQL: after a restart every submission that had been answered 2xx is there with its
// values, every evidence file answered 2xx is there whole (its SHA-256), and nothing is
// half-written (every submission has its revision, every evidence row its file, the audit chain
// is whole).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "security/crypto.h"
#include "storage/database.h"
#include "tests/support/http_client.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar {
namespace {

using esar::testing::HttpClient;
using esar::testing::HttpReply;
using esar::testing::ServerProcess;
using nlohmann::json;

constexpr int kAgencies = 25;
constexpr int kKpis = 8;  // 25 × 8 = 200 submissions
const std::string kPdf =
    "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

std::string Agency(int a) { return "A" + std::to_string(100 + a); }

std::string Framework() {
  json kpis = json::array(), assigned = json::array();
  for (int k = 1; k <= kKpis; ++k) {
    kpis.push_back({{"id", "k" + std::to_string(k)},
                    {"component", "c"},
                    {"name", "ตัวชี้วัด " + std::to_string(k)},
                    {"variables", {{{"id", "r"}, {"type", "number"}}}},
                    {"criteria", {{"form", "levels"}, {"targets", {80, 90, 100}}}}});
    assigned.push_back({{"kpi", "k" + std::to_string(k)}, {"weight", 100.0 / kKpis}});
  }
  return json{{"fiscal_year", 2567},
              {"agency_kind", "department"},
              {"kpis", kpis},
              {"assignments", {{{"agencies", {"*"}}, {"kpis", assigned}}}}}
      .dump();
}

class CrashTest : public ::testing::TestWithParam<std::string> {};

TEST_P(CrashTest, EverySubmissionAnswered2xxSurvivesAKill9) {
  ESAR_SKIP_WITHOUT(GetParam());
  const std::string url = esar::testing::FreshDatabaseUrl(GetParam());
  auto admin_user =
      esar::testing::RunEsar("admin create-user --db '" + url + "' --username admin --role admin",
                             "ESAR_PASSWORD=password-of-admin");
  ASSERT_EQ(admin_user.exit_code, 0) << admin_user.err;
  const std::string data_dir = esar::testing::MakeTempDir();
  int64_t round = 0;
  {
    ServerProcess server(url, "", data_dir);
    ASSERT_GT(server.port(), 0);
    HttpClient admin(server.port());
    ASSERT_TRUE(admin.Login("admin", "password-of-admin"));
    json agencies = json::array();
    for (int a = 0; a < kAgencies; ++a)
      agencies.push_back({{"code", Agency(a)}, {"name", {{"th", "หน่วยงาน " + Agency(a)}}}});
    ASSERT_EQ(admin.Request("PUT", "/api/v1/agencies", json{{"agencies", agencies}}.dump()).status,
              200);
    ASSERT_EQ(admin.Request("POST", "/api/v1/frameworks", Framework()).status, 201);
    HttpReply opened =
        admin.Request("POST", "/api/v1/frameworks/1/rounds",
                      json{{"round", 12}, {"deadline", int64_t{4102444800000}}}.dump());
    ASSERT_EQ(opened.status, 201) << opened.body;
    round = json::parse(opened.body)["id"];
    for (int a = 0; a < kAgencies; ++a) {
      HttpReply user = admin.Request("POST", "/api/v1/users",
                                     json{{"username", "rep." + Agency(a)},
                                          {"password", "password-of-" + Agency(a)},
                                          {"role", "reporter"},
                                          {"agency", Agency(a)}}
                                         .dump());
      ASSERT_EQ(user.status, 201) << user.body;
    }
  }

  // 200 submissions, each a draft and its evidence, from 32 connections at once; the server is
  // killed while they run.
  struct Answered {
    int64_t submission = 0;
    double value = 0;
    std::string sha256;  // empty when the upload was not answered 2xx
  };
  std::mutex mutex;
  std::map<std::pair<int, int>, Answered> answered;
  std::atomic<int> successes{0};
  {
    ServerProcess server(url, "", data_dir);
    ASSERT_GT(server.port(), 0);
    std::atomic<int> next{0};
    std::vector<std::thread> clients;
    for (int t = 0; t < 32; ++t) {
      clients.emplace_back([&] {
        std::map<int, std::unique_ptr<HttpClient>> logged_in;
        while (true) {
          const int job = next++;
          if (job >= kAgencies * kKpis) return;
          const int a = job % kAgencies, k = job / kAgencies + 1;
          auto& client = logged_in[a];
          if (!client) {
            client = std::make_unique<HttpClient>(server.port());
            if (!client->Login("rep." + Agency(a), "password-of-" + Agency(a)))
              return;  // the server is gone
          }
          const double value = 80 + job % 20;
          HttpReply draft = client->Request(
              "PUT",
              "/api/v1/rounds/" + std::to_string(round) + "/agencies/" + Agency(a) + "/kpis/k" +
                  std::to_string(k),
              json{{"values", {{"r", value}}}, {"explanation", "งานที่ " + std::to_string(job)}}
                  .dump());
          if (draft.status != 200) continue;
          Answered record{json::parse(draft.body)["id"].get<int64_t>(), value, ""};
          successes++;
          const std::string bytes = kPdf + "% submission " + std::to_string(job) + "\n";
          HttpReply upload = client->Upload(
              "/api/v1/submissions/" + std::to_string(record.submission) + "/evidence",
              "หลักฐาน-" + std::to_string(job) + ".pdf", bytes);
          if (upload.status == 201) {
            record.sha256 = json::parse(upload.body)["sha256"];
            EXPECT_EQ(record.sha256, security::Sha256Hex(bytes));
            successes++;
          }
          std::lock_guard<std::mutex> lock(mutex);
          answered[{a, k}] = record;
        }
      });
    }
    // Kill it once about a third of the work has been answered.
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (successes < 130 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server.Kill();
    for (auto& c : clients) c.join();
  }
  ASSERT_GE(successes.load(), 130);
  ASSERT_FALSE(answered.empty());

  // After a restart, everything answered 2xx is there and whole.
  ServerProcess server(url, "", data_dir);
  ASSERT_GT(server.port(), 0);
  int with_evidence = 0;
  for (const auto& [key, record] : answered) {
    HttpClient client(server.port());
    ASSERT_TRUE(client.Login("rep." + Agency(key.first), "password-of-" + Agency(key.first)));
    HttpReply got =
        client.Request("GET", "/api/v1/submissions/" + std::to_string(record.submission));
    ASSERT_EQ(got.status, 200) << got.body;
    const json s = json::parse(got.body);
    EXPECT_EQ(s["values"]["r"].get<double>(), record.value);
    if (record.sha256.empty()) continue;
    ++with_evidence;
    bool found = false;
    for (const json& e : s["evidence"]) found = found || e["sha256"] == record.sha256;
    EXPECT_TRUE(found) << "evidence of submission " << record.submission;
    const std::string path =
        data_dir + "/files/" + record.sha256.substr(0, 2) + "/" + record.sha256;
    std::ifstream in(path, std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    EXPECT_EQ(security::Sha256Hex(bytes.str()), record.sha256) << path;
  }
  EXPECT_GT(with_evidence, 0);
  server.Stop();

  // No half-written record: every submission has its current revision, every evidence row its
  // file, and the audit chain is whole.
  auto db = storage::Open(url);
  ASSERT_TRUE(db.ok());
  auto orphans = (*db)->Query(
      "SELECT COUNT(*) FROM submissions s LEFT JOIN submission_revisions r ON r.submission_id = "
      "s.id AND r.revision = s.revision "
      "WHERE r.submission_id IS NULL");
  ASSERT_TRUE(orphans.ok());
  EXPECT_EQ((*orphans)[0].Int(0), 0);
  auto files = (*db)->Query("SELECT sha256 FROM evidence");
  ASSERT_TRUE(files.ok());
  for (const auto& row : *files) {
    const std::string sha = row.Text(0);
    EXPECT_TRUE(std::filesystem::exists(data_dir + "/files/" + sha.substr(0, 2) + "/" + sha))
        << sha;
  }
  // With the server's key and head: a kill between a commit and the head's move leaves the head
  // behind, never ahead, and every entry written is sealed.
  auto audit = esar::testing::RunEsar("--lang en audit verify --db '" + url + "' --data-dir '" +
                                      data_dir + "/files'");
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

INSTANTIATE_TEST_SUITE_P(Backends, CrashTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar
