// esar serve over HTTP on 127.0.0.1, on SQLite and on PostgreSQL: the whole evaluation cycle
// through the API, uploads checked by content, hostile requests, and a graceful stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "formats/inputs.h"
#include "tests/support/http_client.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar {
namespace {

using esar::testing::HttpClient;
using esar::testing::HttpReply;
using esar::testing::RunEsar;
using esar::testing::ServerProcess;
using nlohmann::json;
namespace fs = std::filesystem;

const std::string kExample = std::string(ESAR_SOURCE_DIR) + "/examples/ocs-2567/";
const std::string kPdf =
    "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json Json(const HttpReply& r) {
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return json();
  }
}

class ServerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    ESAR_SKIP_WITHOUT(GetParam());
    url_ = esar::testing::FreshDatabaseUrl(GetParam());
    for (const std::string& what :
         {"agencies '" + kExample + "agencies.csv'", "framework '" + kExample + "framework.json'",
          "data '" + kExample + "data.csv'"}) {
      auto r = RunEsar("import " + what + " --db '" + url_ + "'");
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    for (const auto& [name, role, agency] :
         std::vector<std::tuple<std::string, std::string, std::string>>{
             {"admin", "admin", ""},
             {"evaluator", "evaluator", ""},
             {"rep.ocs", "reporter", "OCS"},
             {"app.ocs", "approver", "OCS"},
             {"rep.boi", "reporter", "BOI"}}) {
      auto r = RunEsar("admin create-user --db '" + url_ + "' --username " + name + " --role " +
                           role + (agency.empty() ? "" : " --agency " + agency),
                       "ESAR_PASSWORD=password-of-" + name);
      ASSERT_EQ(r.exit_code, 0) << r.err;
    }
    // OCS's FY2567 values, by KPI, as the API's "values" objects.
    auto data = formats::LoadObservations(kExample + "data.csv");
    ASSERT_TRUE(data.ok());
    for (const auto& o : *data) {
      if (o.agency == "OCS" && o.fiscal_year == 2567) {
        ocs_values_[o.kpi][o.variable] = o.values.size() == 1 ? json(o.values[0]) : json(o.values);
      }
    }
  }

  // A logged-in client for `user` on `server`.
  std::unique_ptr<HttpClient> As(const ServerProcess& server, const std::string& user) {
    auto client = std::make_unique<HttpClient>(server.port());
    EXPECT_TRUE(client->Login(user, "password-of-" + user)) << user;
    return client;
  }

  int64_t OpenRound(HttpClient& admin) {
    HttpReply r =
        admin.Request("POST", "/api/v1/frameworks/1/rounds",
                      json{{"round", 12}, {"deadline", NowMs() + 30LL * 24 * 3600 * 1000}}.dump());
    EXPECT_EQ(r.status, 201) << r.body;
    return Json(r)["id"].get<int64_t>();
  }

  std::string url_;
  std::map<std::string, json> ocs_values_;
};

TEST_P(ServerTest, TheWholeCycleThroughTheApi) {
  ServerProcess server(url_);
  ASSERT_GT(server.port(), 0);
  HttpClient anonymous(server.port());
  EXPECT_EQ(anonymous.Request("GET", "/healthz").status, 200);
  auto admin = As(server, "admin");
  auto reporter = As(server, "rep.ocs");
  auto approver = As(server, "app.ocs");
  auto evaluator = As(server, "evaluator");
  const int64_t round = OpenRound(*admin);
  const std::string base = "/api/v1/rounds/" + std::to_string(round);

  std::vector<int64_t> ids;
  for (const auto& [kpi, values] : ocs_values_) {
    HttpReply draft = reporter->Request(
        "PUT", base + "/agencies/OCS/kpis/" + kpi,
        json{{"values", values}, {"explanation", "คำชี้แจง"}, {"problems", "ไม่มี"}}.dump());
    ASSERT_EQ(draft.status, 200) << draft.body;
    ids.push_back(Json(draft)["id"].get<int64_t>());
  }
  const std::string first = "/api/v1/submissions/" + std::to_string(ids[0]);
  HttpReply evidence = reporter->Upload(first + "/evidence", "รายงาน ผลการดำเนินงาน.pdf", kPdf);
  ASSERT_EQ(evidence.status, 201) << evidence.body;
  EXPECT_EQ(Json(evidence)["media_type"], "application/pdf");
  EXPECT_EQ(Json(evidence)["name"], "รายงาน ผลการดำเนินงาน.pdf");
  for (int64_t id : ids) {
    const std::string s = "/api/v1/submissions/" + std::to_string(id);
    ASSERT_EQ(approver->Request("POST", s + "/approve").status, 200);
    HttpReply submitted = approver->Request("POST", s + "/submit", "",
                                            {{"Idempotency-Key", "submit-" + std::to_string(id)}});
    ASSERT_EQ(submitted.status, 200) << submitted.body;
    // A retried request gets the first answer, and submits nothing twice.
    HttpReply again = approver->Request("POST", s + "/submit", "",
                                        {{"Idempotency-Key", "submit-" + std::to_string(id)}});
    EXPECT_EQ(again.status, 200);
    EXPECT_EQ(again.headers["idempotent-replayed"], "true");
    EXPECT_EQ(Json(again)["revision"], Json(submitted)["revision"]);
  }
  // Returned, fixed, resubmitted, accepted.
  ASSERT_EQ(
      evaluator->Request("POST", first + "/return", json{{"comment", "แนบทะเบียนเรื่องรับเข้า"}}.dump())
          .status,
      200);
  ASSERT_EQ(
      reporter
          ->Request(
              "PUT", base + "/agencies/OCS/kpis/" + ocs_values_.begin()->first,
              json{{"values", ocs_values_.begin()->second}, {"explanation", "แก้ไขแล้ว"}}.dump())
          .status,
      200);
  ASSERT_EQ(approver->Request("POST", first + "/approve").status, 200);
  ASSERT_EQ(reporter->Request("POST", first + "/submit").status, 200);
  for (int64_t id : ids) {
    HttpReply accepted = evaluator->Request(
        "POST", "/api/v1/submissions/" + std::to_string(id) + "/accept",
        json{{"comment", "ถูกต้อง"},
             {"evidence_notes",
              id == ids[0] ? json{{Json(evidence)["id"].dump(), "ตรงกับระบบ"}} : json::object()}}
            .dump());
    ASSERT_EQ(accepted.status, 200) << accepted.body;
  }
  // Results come once reporting is closed; they equal the example's hand-checked expectations.
  EXPECT_EQ(admin->Request("POST", base + "/results").status, 409);  // reporting is open
  ASSERT_EQ(admin->Request("POST", base + "/close", json{{"reason", "ครบกำหนด"}}.dump()).status,
            200);
  HttpReply computed = admin->Request("POST", base + "/results");
  ASSERT_EQ(computed.status, 201) << computed.body;
  const json expected = json::parse(std::ifstream(kExample + "expected.json"));
  std::map<std::string, double> want;
  for (const json& a : expected["agencies"]) want[a["code"]] = a["total"];
  const json computed_scores = Json(computed);
  for (const json& a : computed_scores["scores"]["agencies"]) {
    EXPECT_NEAR(a["total"].get<double>(), want.at(a["code"]), 1e-9) << a["code"];
  }
  const int64_t result = Json(computed)["id"];
  EXPECT_EQ(anonymous.Request("GET", base + "/results").status, 404);  // not published yet

  HttpReply appeal =
      reporter->Request("POST", "/api/v1/results/" + std::to_string(result) + "/appeals",
                        json{{"kpi", "1"}, {"reason", "บันทึกผิด 1 เรื่อง"}}.dump());
  ASSERT_EQ(appeal.status, 201) << appeal.body;
  EXPECT_EQ(admin->Request("POST", base + "/results/final").status, 409);  // an appeal is open
  json corrected = ocs_values_.at("1");
  for (auto& [name, value] : corrected.items()) value = 208;
  HttpReply decided = evaluator->Request(
      "POST", "/api/v1/appeals/" + Json(appeal)["id"].dump() + "/decision",
      json{{"upheld", true}, {"reason", "ถูกต้องตามหลักฐาน"}, {"corrected_values", corrected}}.dump());
  ASSERT_EQ(decided.status, 200) << decided.body;
  EXPECT_EQ(admin->Request("POST", base + "/results/final").status, 409);  // the window is open
  ASSERT_EQ(admin->Request("POST", base + "/results/close-appeals").status, 200);
  ASSERT_EQ(admin->Request("POST", base + "/results/final").status, 201);
  ASSERT_EQ(admin->Request("POST", base + "/results/publish").status, 201);
  HttpReply published = anonymous.Request("GET", base + "/results");
  ASSERT_EQ(published.status, 200) << published.body;
  const json published_scores = Json(published);
  for (const json& a : published_scores["scores"]["agencies"]) {
    if (a["code"] == "OCS")
      EXPECT_GT(a["total"].get<double>(), want.at("OCS"));
    else
      EXPECT_NEAR(a["total"].get<double>(), want.at(a["code"]), 1e-9);
  }
  const std::string metrics = anonymous.Request("GET", "/metrics").body;
  EXPECT_NE(metrics.find("esar_submissions_total 9"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("esar_http_request_duration_seconds_bucket"), std::string::npos);

  EXPECT_EQ(server.Stop(), 0);  // SIGTERM: a graceful stop
  // The server's data folder holds the audit key that sealed its entries, and the chain head.
  auto audit = RunEsar("--lang en audit verify --db '" + url_ + "' --data-dir '" +
                       server.data_dir() + "/files'");
  EXPECT_EQ(audit.exit_code, 0) << audit.out << audit.err;
}

TEST_P(ServerTest, UploadsAreCheckedByContentAndRefusalsStoreNothing) {
  ServerProcess server(url_, "--max-upload-mb 1");
  ASSERT_GT(server.port(), 0);
  auto admin = As(server, "admin");
  auto reporter = As(server, "rep.ocs");
  auto evaluator = As(server, "evaluator");
  const int64_t round = OpenRound(*admin);
  HttpReply draft = reporter->Request("PUT",
                                      "/api/v1/rounds/" + std::to_string(round) +
                                          "/agencies/OCS/kpis/" + ocs_values_.begin()->first,
                                      json{{"values", ocs_values_.begin()->second}}.dump());
  ASSERT_EQ(draft.status, 200) << draft.body;
  const std::string target = "/api/v1/submissions/" + Json(draft)["id"].dump() + "/evidence";

  EXPECT_EQ(reporter->Upload(target, "notes.pdf", "just some text, not a PDF").status, 415);
  EXPECT_EQ(reporter->Upload(target, "big.pdf", kPdf + std::string(1536 * 1024, 'x')).status, 413);
  EXPECT_EQ(evaluator->Upload(target, "x.pdf", kPdf).status, 403);
  HttpClient no_csrf(server.port());
  no_csrf.cookie = reporter->cookie;
  EXPECT_EQ(no_csrf.Upload(target, "x.pdf", kPdf).status, 403);
  HttpReply traversal = reporter->Upload(target, "../../etc/passwd.pdf", kPdf);
  ASSERT_EQ(traversal.status, 201) << traversal.body;
  EXPECT_EQ(Json(traversal)["name"], "passwd.pdf");
  HttpReply replaced = reporter->Upload(target, "v2.pdf", kPdf + "% v2\n",
                                        {{"replaces", Json(traversal)["id"].dump()}});
  ASSERT_EQ(replaced.status, 201) << replaced.body;

  HttpReply submission =
      reporter->Request("GET", "/api/v1/submissions/" + Json(draft)["id"].dump());
  const json files = Json(submission)["evidence"];
  ASSERT_EQ(files.size(), 2u);  // only the two accepted uploads
  EXPECT_EQ(files[0]["replaced_by"], Json(replaced)["id"]);
  size_t stored = 0;
  for (const auto& entry : fs::recursive_directory_iterator(server.data_dir() + "/files")) {
    // The data folder also keeps the audit key and the chain head (audit.*), which are no upload.
    if (entry.is_regular_file() && entry.path().filename().string().rfind("audit.", 0) != 0)
      ++stored;
  }
  EXPECT_EQ(stored, 2u);  // nothing left of the refused ones, not even in tmp/
}

TEST_P(ServerTest, HostileRequestsGetA4xxWithAClearMessage) {
  ServerProcess server(url_);
  ASSERT_GT(server.port(), 0);
  auto admin = As(server, "admin");
  auto reporter = As(server, "rep.ocs");
  const int64_t round = OpenRound(*admin);
  const std::string put = "/api/v1/rounds/" + std::to_string(round) + "/agencies/OCS/kpis/" +
                          ocs_values_.begin()->first;
  struct Case {
    std::string method, target, body;
    int status;
  };
  const std::vector<Case> cases = {
      {"PUT", put, "{\"values\": ", 400},
      {"PUT", put, "[1, 2, 3]", 400},
      {"PUT", put, R"({"values": "not an object"})", 400},
      {"PUT", put, R"({"values": {"no_such_variable": 1}})", 400},
      {"PUT", put, R"({"values": {}, "explanation": ")" + std::string("\xE0\xB8\x80\xE0") + "\"}",
       400},
      {"PUT", put, json{{"values", ocs_values_.begin()->second}, {"explanation", 5}}.dump(), 400},
      {"PUT", put, std::string(2 << 20, ' '), 413},
      {"PUT", "/api/v1/rounds/" + std::to_string(round) + "/agencies/BOI/kpis/1",
       json{{"values", json::object()}}.dump(), 403},
      {"GET", "/api/v1/submissions/abc", "", 404},
      {"GET", "/api/v1/submissions/99999", "", 404},
      {"GET", "/api/v1/%ZZ", "", 400},
      {"GET", "/api/v1/no/such/route", "", 404},
      {"DELETE", "/api/v1/agencies", "", 405},
      {"GET", "/api/v1/rounds/" + std::to_string(round) + "/submissions?page=0", "", 400},
  };
  for (const Case& c : cases) {
    HttpReply r = reporter->Request(c.method, c.target, c.body);
    EXPECT_EQ(r.status, c.status) << c.method << " " << c.target << " " << r.body;
    const json body = Json(r);
    ASSERT_TRUE(body.contains("error")) << r.body;
    EXPECT_FALSE(body["error"]["message_th"].get<std::string>().empty());
    EXPECT_FALSE(body["error"]["message_en"].get<std::string>().empty());
  }
  // Bytes that are not UTF-8 in the target or in a multipart part name: a 400, and the server
  // lives.
  EXPECT_EQ(reporter->Request("GET", "/%ff").status, 400);
  const std::string boundary = "b0undary";
  const std::string body =
      "--" + boundary +
      "\r\nContent-Disposition: form-data; name=\"\xff\"; filename=\"x.pdf\"\r\n\r\n" +
      "%PDF-1.4\r\n--" + boundary + "--\r\n";
  HttpReply draft =
      reporter->Request("PUT", put, json{{"values", ocs_values_.begin()->second}}.dump());
  ASSERT_EQ(draft.status, 200) << draft.body;
  HttpReply bad_name =
      reporter->Request("POST", "/api/v1/submissions/" + Json(draft)["id"].dump() + "/evidence",
                        body, {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
  EXPECT_EQ(bad_name.status, 400) << bad_name.body;
  HttpClient fresh(server.port());
  EXPECT_EQ(fresh.Request("GET", "/healthz").status, 200);

  const std::string sql = "'; DROP TABLE users; -- \" OR 1=1";
  HttpReply saved = reporter->Request(
      "PUT", put, json{{"values", ocs_values_.begin()->second}, {"explanation", sql}}.dump());
  ASSERT_EQ(saved.status, 200) << saved.body;
  EXPECT_EQ(Json(saved)["explanation"], sql);
  EXPECT_TRUE(As(server, "admin") != nullptr);  // the users table is still there
  HttpClient anonymous(server.port());
  EXPECT_EQ(anonymous.Request("GET", "/api/v1/me").status, 401);
  EXPECT_EQ(
      anonymous.Request("POST", "/api/v1/session", R"({"username": "admin", "password": "wrong"})")
          .status,
      401);
}

INSTANTIATE_TEST_SUITE_P(Backends, ServerTest, ::testing::ValuesIn(esar::testing::Backends()),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
}  // namespace esar

namespace esar {
namespace {

// /healthz says 503 when the database stops answering: on a
// PostgreSQL cluster of the test's own, stopped under the running server.
TEST(HealthTest, HealthzSays503WhileTheDatabaseIsDown) {
  const std::string script = std::string(ESAR_SOURCE_DIR) + "/tests/support/pg-cluster";
  const std::string dir = esar::testing::MakeTempDir();  // pg-cluster gives it to the postgres user
  FILE* started = ::popen(("'" + script + "' start '" + dir + "'").c_str(), "r");
  ASSERT_NE(started, nullptr);
  char line[256] = {0};
  const bool got = std::fgets(line, sizeof line, started) != nullptr;
  ::pclose(started);
  ASSERT_TRUE(got);
  std::string url(line);
  url.erase(url.find_last_not_of("\n") + 1);
  ServerProcess server(url);
  ASSERT_GT(server.port(), 0);
  HttpClient client(server.port());
  EXPECT_EQ(client.Request("GET", "/healthz").status, 200);
  ASSERT_EQ(std::system(("'" + script + "' stop '" + dir + "'").c_str()), 0);
  HttpReply down = client.Request("GET", "/healthz");
  EXPECT_EQ(down.status, 503) << down.body;
  EXPECT_EQ(Json(down)["database"], "down");
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace esar

namespace esar {
namespace {

// A client that sends a request's headers and then stalls does not keep the server from
// stopping: SIGTERM lets requests in flight finish for a grace period, then cuts the rest.
TEST(StopTest, AStalledClientDoesNotHoldTheServerOnStop) {
  const std::string url = esar::testing::FreshDatabaseUrl("sqlite");
  ServerProcess server(url);
  ASSERT_GT(server.port(), 0);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(server.port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string head = "POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n";
  ASSERT_EQ(::send(fd, head.data(), head.size(), 0), static_cast<ssize_t>(head.size()));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(server.Stop(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(30));
  ::close(fd);
}

}  // namespace
}  // namespace esar

namespace esar {
namespace {

// Many new connections at once are all answered: none is cut by the server's sweeps of idle
// and overdue connections (a new connection once looked overdue until its first read).
TEST(ConnectionsTest, ManyNewConnectionsAreAllAnswered) {
  ServerProcess server(esar::testing::FreshDatabaseUrl("sqlite"));
  ASSERT_GT(server.port(), 0);
  std::atomic<int> answered{0}, failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 250; ++i) {
        HttpClient client(server.port());  // a new connection each time
        (client.Request("GET", "/healthz").status == 200 ? answered : failed)++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_EQ(answered.load(), 2000);
  EXPECT_EQ(server.Stop(), 0);
}

}  // namespace
}  // namespace esar
