#include "tests/support/cycle_scenario.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <tuple>
#include <vector>

#include "formats/inputs.h"
#include "security/crypto.h"
#include "storage/database.h"
#include "tests/support/http_client.h"
#include "tests/support/run_esar.h"
#include "tests/support/test_database.h"

namespace esar::testing {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

const std::string kExample = std::string(ESAR_SOURCE_DIR) + "/examples/ocs-2567/";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

json Parse(const HttpReply& r) {
  try {
    return json::parse(r.body);
  } catch (const json::exception&) {
    return json();
  }
}

}  // namespace

// What a kept cycle's scenario.json holds: the scenario but for where its copy is.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(CycleScenario, round, evidence_submission, evidence_id,
                                   evidence_sha256, evidence_name, evidence_bytes, published_result,
                                   ocs_total_text)

RunResult EsarOn(const CycleScenario& scenario, const std::string& args) {
  return RunEsar("--lang en " + args + " --db '" + scenario.db_url + "'",
                 "ESAR_DATA_DIR='" + scenario.files_dir + "'");
}

namespace {

// Runs the cycle on the empty database out->db_url, with the server's folder out->server_dir.
void RunCycleOn(CycleScenario* out) {
  // The example's framework with KPI 5 (open datasets in the agency's data catalog) taking its
  // dataset count from an uploaded catalog (issue 11 §3), so that the cycle fills the catalog's
  // tables too.
  const std::string framework_path = out->server_dir + "/framework.json";
  {
    std::ifstream in(kExample + "framework.json", std::ios::binary);
    json framework = json::parse(in);
    for (json& kpi : framework["kpis"]) {
      if (kpi["id"] == "5") kpi["catalog"] = {{"variables", {{"datasets", "datasets"}}}};
    }
    std::ofstream(framework_path, std::ios::binary) << framework.dump(1);
  }
  for (const std::string& what :
       {"agencies '" + kExample + "agencies.csv'", "framework '" + framework_path + "'",
        "data '" + kExample + "data.csv'", "results '" + kExample + "past-results.csv'"}) {
    auto r = RunEsar("import " + what + " --db '" + out->db_url + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  for (const auto& [name, role, agency] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"admin", "admin", ""},
           {"evaluator", "evaluator", ""},
           {"rep.ocs", "reporter", "OCS"},
           {"app.ocs", "approver", "OCS"}}) {
    // Every user but the admin has an address (the reporter's in English), so the cycle fills
    // the outbox and the notification lists.
    const std::string email = name == "admin" ? ""
                                              : " --email " + name + "@example.go.th" +
                                                    (name == "rep.ocs" ? " --language en" : "");
    auto r = RunEsar("admin create-user --db '" + out->db_url + "' --username " + name +
                         " --role " + role + (agency.empty() ? "" : " --agency " + agency) + email,
                     "ESAR_PASSWORD=password-of-" + name);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  std::map<std::string, json> values;  // OCS's FY2567 values by KPI, as the API takes them
  auto data = formats::LoadObservations(kExample + "data.csv");
  ASSERT_TRUE(data.ok());
  for (const auto& o : *data) {
    if (o.agency == "OCS" && o.fiscal_year == 2567)
      values[o.kpi][o.variable] = o.values.size() == 1 ? json(o.values[0]) : json(o.values);
  }
  ASSERT_FALSE(values.empty());

  ServerProcess server(out->db_url, "", out->server_dir);
  ASSERT_GT(server.port(), 0) << "esar serve did not start";
  std::map<std::string, std::unique_ptr<HttpClient>> as;
  for (const char* name : {"admin", "evaluator", "rep.ocs", "app.ocs"}) {
    as[name] = std::make_unique<HttpClient>(server.port());
    ASSERT_TRUE(as[name]->Login(name, std::string("password-of-") + name)) << name;
  }
  HttpClient& admin = *as["admin"];
  HttpClient& evaluator = *as["evaluator"];
  HttpClient& reporter = *as["rep.ocs"];
  HttpClient& approver = *as["app.ocs"];
  HttpReply opened =
      admin.Request("POST", "/api/v1/frameworks/1/rounds",
                    json{{"round", 12}, {"deadline", NowMs() + 30LL * 24 * 3600 * 1000}}.dump());
  ASSERT_EQ(opened.status, 201) << opened.body;
  out->round = Parse(opened)["id"].get<int64_t>();
  const std::string base = "/api/v1/rounds/" + std::to_string(out->round);
  ASSERT_EQ(
      admin
          .Request("POST", base + "/extensions",
                   json{{"agency", "OCS"}, {"deadline", NowMs() + 40LL * 24 * 3600 * 1000}}.dump())
          .status,
      201);
  ASSERT_EQ(admin.Request("POST", "/api/v1/tokens", json{{"name", "reports"}}.dump()).status, 201);
  // The approver turns deadline reminders off.
  ASSERT_EQ(approver
                .Request("PUT", "/api/v1/me/preferences",
                         json{{"language", "th"}, {"reminders", false}, {"digest", true}}.dump())
                .status,
            200);

  std::vector<int64_t> ids;
  for (const auto& [kpi, v] : values) {
    HttpReply draft = reporter.Request(
        "PUT", base + "/agencies/OCS/kpis/" + kpi,
        json{{"values", v}, {"explanation", "คำชี้แจง"}, {"problems", "ไม่มี"}}.dump());
    ASSERT_EQ(draft.status, 200) << draft.body;
    ids.push_back(Parse(draft)["id"].get<int64_t>());
  }
  out->evidence_submission = ids[0];
  const std::string first = "/api/v1/submissions/" + std::to_string(ids[0]);
  out->evidence_name = "หลักฐาน ผลการดำเนินงาน.pdf";
  out->evidence_bytes =
      "%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
  HttpReply evidence =
      reporter.Upload(first + "/evidence", out->evidence_name, out->evidence_bytes);
  ASSERT_EQ(evidence.status, 201) << evidence.body;
  out->evidence_id = Parse(evidence)["id"].get<int64_t>();
  out->evidence_sha256 = Parse(evidence)["sha256"].get<std::string>();
  // A second file attached by mistake and removed from the draft (issue 12 §4): its record and
  // bytes stay, the removal fills evidence_removals.
  HttpReply mistaken = reporter.Upload(first + "/evidence", "ผิดไฟล์.pdf",
                                       out->evidence_bytes + "% attached by mistake\n");
  ASSERT_EQ(mistaken.status, 201) << mistaken.body;
  HttpReply removed = reporter.Request(
      "DELETE", "/api/v1/evidence/" + std::to_string(Parse(mistaken)["id"].get<int64_t>()), "");
  ASSERT_EQ(removed.status, 200) << removed.body;
  // KPI 2 from the example's case log (issue 11 §1): its counts (the values the data gives it)
  // become a new draft revision, and the upload, its files and every verdict fill their tables.
  {
    auto read = [](const std::string& path) {
      std::ifstream in(path, std::ios::binary);
      return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string boundary = "esar-scenario-case-log";
    std::string body;
    for (const char* table : {"cases", "pauses"}) {
      body += "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + table +
              "\"; filename=\"" + table + ".csv\"\r\nContent-Type: text/csv\r\n\r\n" +
              read(kExample + "cases/" + table + ".csv") + "\r\n";
    }
    body += "--" + boundary + "--\r\n";
    HttpReply log =
        reporter.Request("POST", base + "/agencies/OCS/kpis/2/case-log", body,
                         {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    ASSERT_EQ(log.status, 201) << log.body;
    // KPI 5 from a data catalog of as many datasets as the example's data gives it (the OPDC
    // example's ten and two more), so the scores stay the example's; each dataset is kept.
    json catalog =
        json::parse(read(std::string(ESAR_SOURCE_DIR) + "/examples/opdc-2565/catalog.json"));
    json& datasets = catalog["result"]["results"];
    const int64_t wanted = values.at("5").at("datasets").get<int64_t>();
    for (int64_t i = static_cast<int64_t>(datasets.size()); i < wanted; ++i) {
      json more = datasets[0];
      more["name"] = "scenario-dataset-" + std::to_string(i);
      datasets.push_back(more);
    }
    const std::string part = "--" + boundary +
                             "\r\nContent-Disposition: form-data; name=\"catalog\"; "
                             "filename=\"catalog.json\"\r\nContent-Type: application/json\r\n\r\n" +
                             catalog.dump() + "\r\n--" + boundary + "--\r\n";
    HttpReply uploaded =
        reporter.Request("POST", base + "/agencies/OCS/kpis/5/catalog", part,
                         {{"Content-Type", "multipart/form-data; boundary=" + boundary}});
    ASSERT_EQ(uploaded.status, 201) << uploaded.body;
    ASSERT_EQ(Parse(uploaded)["summary"]["datasets"], wanted);
  }
  // The approver sends the first draft back to the reporter once, with a comment.
  ASSERT_EQ(approver.Request("POST", first + "/send-back", json{{"comment", "โปรดตรวจทาน"}}.dump())
                .status,
            200);
  for (int64_t id : ids) {
    const std::string s = "/api/v1/submissions/" + std::to_string(id);
    ASSERT_EQ(approver.Request("POST", s + "/approve").status, 200);
    HttpReply submitted = approver.Request("POST", s + "/submit", "",
                                           {{"Idempotency-Key", "submit-" + std::to_string(id)}});
    ASSERT_EQ(submitted.status, 200) << submitted.body;
  }
  ASSERT_EQ(
      evaluator.Request("POST", first + "/return", json{{"comment", "แนบทะเบียน"}}.dump()).status,
      200);
  ASSERT_EQ(
      reporter
          .Request("PUT", base + "/agencies/OCS/kpis/" + values.begin()->first,
                   json{{"values", values.begin()->second}, {"explanation", "แก้ไขแล้ว"}}.dump())
          .status,
      200);
  ASSERT_EQ(approver.Request("POST", first + "/approve").status, 200);
  ASSERT_EQ(reporter.Request("POST", first + "/submit").status, 200);
  for (int64_t id : ids) {
    HttpReply accepted = evaluator.Request(
        "POST", "/api/v1/submissions/" + std::to_string(id) + "/accept",
        json{{"comment", "ถูกต้อง"},
             {"evidence_notes", id == ids[0] ? json{{std::to_string(out->evidence_id), "ตรงกับระบบ"}}
                                             : json::object()}}
            .dump());
    ASSERT_EQ(accepted.status, 200) << accepted.body;
  }
  // Reporting closes early, before the results.
  HttpReply closed = admin.Request("POST", base + "/close", json{{"reason", "ครบกำหนด"}}.dump());
  ASSERT_EQ(closed.status, 200) << closed.body;
  HttpReply computed = admin.Request("POST", base + "/results");
  ASSERT_EQ(computed.status, 201) << computed.body;
  HttpReply appeal =
      reporter.Request("POST", "/api/v1/results/" + Parse(computed)["id"].dump() + "/appeals",
                       json{{"kpi", values.begin()->first}, {"reason", "บันทึกผิด 1 เรื่อง"}}.dump());
  ASSERT_EQ(appeal.status, 201) << appeal.body;
  json corrected = values.begin()->second;
  for (auto& [name, value] : corrected.items()) {
    if (value.is_number()) value = value.get<double>() + 1;
  }
  HttpReply decided = evaluator.Request(
      "POST", "/api/v1/appeals/" + Parse(appeal)["id"].dump() + "/decision",
      json{{"upheld", true}, {"reason", "ถูกต้องตามหลักฐาน"}, {"corrected_values", corrected}}.dump());
  ASSERT_EQ(decided.status, 200) << decided.body;
  ASSERT_EQ(admin.Request("POST", base + "/results/close-appeals").status, 200);
  ASSERT_EQ(admin.Request("POST", base + "/results/final").status, 201);
  HttpReply published = admin.Request("POST", base + "/results/publish");
  ASSERT_EQ(published.status, 201) << published.body;
  const json scores = Parse(published);
  out->published_result = scores["id"].get<int64_t>();
  for (const json& a : scores["scores"]["agencies"]) {
    if (a["code"] == "OCS") out->ocs_total_text = a.value("total_text", "");
  }
  ASSERT_FALSE(out->ocs_total_text.empty()) << published.body.substr(0, 600);
  // Reopened after publication, with a reason: the published results stay public.
  HttpReply reopened = admin.Request(
      "POST", base + "/reopen",
      json{{"reason", "แก้ข้อมูลที่ผิดพลาด"}, {"deadline", Parse(closed)["deadline"].get<int64_t>()}}
          .dump());
  ASSERT_EQ(reopened.status, 200) << reopened.body;
  // A question answered and published, an announcement with a file (issue 13 §3-4).
  HttpReply asked = reporter.Request("POST", "/api/v1/questions",
                                     json{{"fiscal_year", 2567},
                                          {"kpi", values.begin()->first},
                                          {"question", "การรายงานรอบนี้แนบอะไร"}}
                                         .dump());
  ASSERT_EQ(asked.status, 201) << asked.body;
  HttpReply answered =
      admin.Request("POST", "/api/v1/questions/" + Parse(asked)["id"].dump() + "/answer",
                    json{{"answer", "แนบไฟล์ PDF"}, {"publish", true}}.dump());
  ASSERT_EQ(answered.status, 200) << answered.body;
  HttpReply announced = admin.Request("POST", "/api/v1/announcements",
                                      json{{"fiscal_year", 2567},
                                           {"agency_kind", "department"},
                                           {"title", "ขยายเวลา"},
                                           {"body", "ขยายถึงสิ้นเดือน"}}
                                          .dump());
  ASSERT_EQ(announced.status, 201) << announced.body;
  HttpReply attached =
      admin.Upload("/api/v1/announcements/" + Parse(announced)["id"].dump() + "/files",
                   "หนังสือแจ้ง.pdf", out->evidence_bytes + "% announcement\n");
  ASSERT_EQ(attached.status, 201) << attached.body;
  ASSERT_EQ(server.Stop(), 0);
}

// What a finished cycle is made from: the esar binary, this test binary and the example files.
// A cycle kept from an earlier build of either, or from other examples, is not used.
std::string CycleKey(const std::string& backend) {
  const char* pg = std::getenv("ESAR_TEST_PG_URL");
  std::string made_from = backend + "\n" + (pg ? pg : "");
  auto stamp = [&made_from](const fs::path& path) {
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const auto time = fs::last_write_time(path, ec);
    made_from += "\n" + path.string() + " " + std::to_string(size) + " " +
                 std::to_string(time.time_since_epoch().count());
  };
  stamp(ESAR_BINARY);
  stamp(fs::read_symlink("/proc/self/exe"));
  for (const char* examples : {"/examples/ocs-2567", "/examples/opdc-2565"}) {
    std::error_code ec;
    std::vector<fs::path> files;
    for (const auto& entry :
         fs::recursive_directory_iterator(std::string(ESAR_SOURCE_DIR) + examples, ec)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    for (const fs::path& f : files) stamp(f);
  }
  return backend + "-" + security::Sha256Hex(made_from).substr(0, 16);
}

// `base` (a PostgreSQL URL) naming the database `name` instead of its own.
std::string WithDatabase(const std::string& base, const std::string& name) {
  const size_t query = base.find('?');
  const size_t slash = base.rfind('/', query);
  return base.substr(0, slash + 1) + name + (query == std::string::npos ? "" : base.substr(query));
}

// An exclusive lock on a file, held until destroyed: one test process at a time makes or copies
// the kept cycle (ctest runs two at once).
class FileLock {
 public:
  explicit FileLock(const std::string& path) : fd_(open(path.c_str(), O_CREAT | O_RDWR, 0600)) {
    if (fd_ >= 0) flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;
  bool held() const { return fd_ >= 0; }

 private:
  int fd_;
};

}  // namespace

// The cycle takes 5 s in the release build and 20-27 s under the sanitizers, and two dozen tests
// on each backend start from it: it is run once per backend and build, kept in the temporary
// folder (esar-test-cycles/<key>), and each test gets a copy of its own to break: the SQLite file
// copied, or a PostgreSQL database made with the kept one as its template, and the server's
// folder (evidence files, audit key and head) copied.
void RunWholeCycle(const std::string& backend, CycleScenario* out) {
  const bool postgres = backend == "postgres";
  const char* pg_base = std::getenv("ESAR_TEST_PG_URL");
  ASSERT_TRUE(!postgres || (pg_base && *pg_base)) << "no PostgreSQL: set ESAR_TEST_PG_URL";
  const fs::path kept_root = fs::temp_directory_path() / "esar-test-cycles";
  fs::create_directories(kept_root);
  const std::string key = CycleKey(backend);
  const fs::path kept = kept_root / key;
  FileLock lock((kept_root / (key + ".lock")).string());
  ASSERT_TRUE(lock.held()) << "cannot lock " << kept_root;

  const std::string kept_db = "cycle_" + key.substr(key.find('-') + 1);
  std::unique_ptr<storage::Database> admin;
  if (postgres) {
    auto opened = storage::Open(pg_base);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString(false);
    admin = std::move(*opened);
  }
  CycleScenario cycle;
  cycle.server_dir = (kept / "server").string();
  cycle.files_dir = cycle.server_dir + "/files";
  cycle.db_url = postgres ? WithDatabase(pg_base, kept_db) : (kept / "cycle.db").string();
  // scenario.json is written last: without it, the cycle was cut short and is made again. On
  // PostgreSQL the kept database must be there too (a new cluster may reuse a port).
  bool ready = fs::exists(kept / "scenario.json");
  if (ready && postgres) {
    auto found = admin->Query("SELECT 1 FROM pg_database WHERE datname = ?", {kept_db});
    ready = found.ok() && !found->empty();
  }
  if (!ready) {
    std::error_code ignored;  // nothing kept yet, or another process already removed it
    fs::remove_all(kept, ignored);
    // Cycles of earlier builds, a day old or more, go (their locks stay: they are empty files).
    for (const auto& entry : fs::directory_iterator(kept_root, ignored)) {
      const auto age = fs::file_time_type::clock::now() - entry.last_write_time(ignored);
      if (entry.is_directory(ignored) && age > std::chrono::hours(24))
        fs::remove_all(entry.path(), ignored);
    }
    fs::create_directories(cycle.server_dir);
    if (postgres) {
      ASSERT_TRUE(admin->Execute("DROP DATABASE IF EXISTS " + kept_db).ok());
      Status created = admin->Execute("CREATE DATABASE " + kept_db);
      ASSERT_TRUE(created.ok()) << created.ToString(false);
    }
    ASSERT_NO_FATAL_FAILURE(RunCycleOn(&cycle));
    std::ofstream(kept / "scenario.json", std::ios::binary) << json(cycle).dump();
  } else {
    json::parse(ReadWholeFile((kept / "scenario.json").string())).get_to(cycle);
  }

  *out = cycle;
  out->server_dir = MakeTempDir();
  out->files_dir = out->server_dir + "/files";
  fs::copy(cycle.server_dir, out->server_dir, fs::copy_options::recursive);
  if (postgres) {
    static int copies = 0;
    const std::string copy =
        kept_db + "_" + std::to_string(getpid()) + "_" + std::to_string(++copies);
    Status copied = admin->Execute("CREATE DATABASE " + copy + " TEMPLATE " + kept_db);
    ASSERT_TRUE(copied.ok()) << copied.ToString(false);
    out->db_url = WithDatabase(pg_base, copy);
  } else {
    out->db_url = FreshDatabaseUrl(backend);
    for (const char* suffix : {"", "-wal"}) {
      if (fs::exists(cycle.db_url + suffix))
        fs::copy_file(cycle.db_url + suffix, out->db_url + suffix);
    }
  }
}

}  // namespace esar::testing
