// esar: the command line over the evaluation engine. Each subcommand reads the input files,
// hands them to the engine and prints; every error reaches the user in Thai (or --lang en).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <algorithm>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "admin.h"
#include "cases.h"
#include "catalog.h"
#include "domain/check.h"
#include "domain/engine.h"
#include "domain/from_agencies.h"
#include "domain/history.h"
#include "formats/framework_json.h"
#include "formats/inputs.h"
#include "formats/json_input.h"
#include "formats/past_results.h"
#include "formats/report.h"
#include "report.h"
#include "serve.h"

namespace {

using esar::Lang;
using esar::Status;

// Exit codes: 0 fine, 1 the input has errors (check), 2 the command could not run.
constexpr int kInputErrors = 1;
constexpr int kCannotRun = 2;

struct Inputs {
  std::string framework;
  std::string agencies;
  std::string data;
  std::string assignments;
  std::string past_results;  // CSV of earlier years' results, for baselines read from them
  // Other frameworks of the same fiscal year (other agency kinds): `esar check` looks for KPIs
  // computed from other agencies' results waiting for each other in a cycle across them.
  std::vector<std::string> other_frameworks;
  int round = 12;
};

struct Loaded {
  esar::domain::Framework framework;
  std::vector<esar::domain::Agency> agencies;
  std::vector<esar::domain::Observation> observations;
  std::vector<esar::domain::PastResult> past;
};

int Fail(const Status& s, Lang lang) {
  std::cerr << (lang == Lang::kThai ? "esar: ข้อผิดพลาด: " : "esar: error: ")
            << s.ToString(lang == Lang::kThai) << "\n";
  return kCannotRun;
}

// Reads every file named in `in`; the first failure is returned.
esar::Result<Loaded> Load(const Inputs& in) {
  Loaded out;
  auto fw = esar::formats::LoadFramework(in.framework);
  if (!fw) return fw.status();
  out.framework = std::move(*fw);
  if (!in.assignments.empty()) {
    auto text = esar::formats::ReadFile(in.assignments);
    if (!text) return text.status();
    auto rules = esar::formats::ParseAssignments(*text, in.assignments);
    if (!rules) return rules.status();
    out.framework.assignments = std::move(*rules);
  }
  if (!in.agencies.empty()) {
    auto agencies = esar::formats::LoadAgencies(in.agencies);
    if (!agencies) return agencies.status();
    out.agencies = std::move(*agencies);
  }
  if (!in.data.empty()) {
    auto data = esar::formats::LoadObservations(in.data);
    if (!data) return data.status();
    out.observations = std::move(*data);
  }
  if (!in.past_results.empty()) {
    auto past = esar::formats::LoadPastResults(in.past_results);
    if (!past) return past.status();
    out.past = std::move(*past);
  }
  return out;
}

void AddInputs(CLI::App* cmd, Inputs& in, bool framework_positional) {
  if (framework_positional) {
    cmd->add_option("framework", in.framework, "framework JSON file / ไฟล์กรอบการประเมิน")
        ->required();
  } else {
    cmd->add_option("--framework,-f", in.framework, "framework JSON file / ไฟล์กรอบการประเมิน")
        ->required();
  }
  cmd->add_option("--agencies,-a", in.agencies, "agencies, CSV or JSON / รายชื่อหน่วยงาน");
  cmd->add_option("--data,-d", in.data,
                  "reported and baseline values, CSV or JSON / ข้อมูลผลการดำเนินงาน");
  cmd->add_option("--assignments", in.assignments,
                  "assignments JSON, used instead of the framework's");
  cmd->add_option("--past-results", in.past_results,
                  "earlier years' results, CSV (as for esar import results): the baselines a "
                  "framework reads from them / ผลการประเมินปีก่อน");
  cmd->add_option("--round,-r", in.round, "reporting round: 6 or 12 / รอบการรายงาน")
      ->check(CLI::IsMember({6, 12}));
}

// The frameworks of `files` with the names findings give them (agency kind, else the file).
esar::Result<std::vector<esar::domain::Framework>> LoadOthers(const std::vector<std::string>& files) {
  std::vector<esar::domain::Framework> out;
  for (const std::string& f : files) {
    auto fw = esar::formats::LoadFramework(f);
    if (!fw) return fw.status();
    out.push_back(std::move(*fw));
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "esar — evaluating the performance of government agencies / ระบบประเมินผลการปฏิบัติราชการ"};
  app.require_subcommand(1);
  app.fallthrough();  // --lang may come before or after the subcommand
  std::string lang_name = "th";
  app.add_option("--lang", lang_name, "language of messages: th or en")
      ->check(CLI::IsMember({"th", "en"}));

  Inputs check_in, score_in, explain_in;
  CLI::App* check = app.add_subcommand(
      "check", "check a framework (and agencies, data) for errors / ตรวจสอบกรอบการประเมิน");
  AddInputs(check, check_in, true);
  std::string check_db;
  check->add_option("--db", check_db,
                    "also read a database: its agencies and imported values (where no file is "
                    "given), its earlier results, esar's published ones included, and the "
                    "year's frameworks of other agency kinds");
  check->add_option("--other-framework", check_in.other_frameworks,
                    "another framework of the same fiscal year (repeatable): KPIs computed from "
                    "other agencies' results must not wait for each other in a cycle across them "
                    "/ กรอบการประเมินอื่นของปีเดียวกัน");

  CLI::App* score = app.add_subcommand("score", "score every agency / คำนวณคะแนน");
  AddInputs(score, score_in, false);
  std::string format = "table";
  score->add_option("--format", format, "table, json or csv")
      ->check(CLI::IsMember({"table", "json", "csv"}));
  bool with_trace = false;
  score->add_flag("--trace", with_trace, "add each KPI's explanation to the JSON");

  CLI::App* explain =
      app.add_subcommand("explain", "explain an agency's scores / อธิบายที่มาของคะแนน");
  AddInputs(explain, explain_in, false);
  std::string agency_code, kpi_id;
  explain->add_option("--agency", agency_code, "agency code / รหัสหน่วยงาน")->required();
  explain->add_option("--kpi", kpi_id, "only this KPI / เฉพาะตัวชี้วัดนี้");
  std::string score_db;
  for (CLI::App* cmd : {score, explain}) {
    cmd->add_option("--db", score_db,
                    "read the stored results of the year's other frameworks, for KPIs computed "
                    "from other agencies' results / อ่านผลของกรอบการประเมินอื่นจากฐานข้อมูล");
  }

  esar::cli::CasesOptions cases_options;
  CLI::App* cases = app.add_subcommand(
      "cases", "compute a KPI from a case log / คำนวณผลตัวชี้วัดจากบันทึกเรื่อง");
  cases->add_option("--framework,-f", cases_options.framework, "framework JSON file / ไฟล์กรอบการประเมิน")
      ->required();
  cases->add_option("--kpi", cases_options.kpi, "the KPI computed from cases / ตัวชี้วัด")->required();
  cases->add_option("--agency", cases_options.agency, "agency code / รหัสหน่วยงาน")->required();
  cases->add_option("--round,-r", cases_options.round, "reporting round: 6 or 12 / รอบการรายงาน")
      ->check(CLI::IsMember({6, 12}))
      ->required();
  cases->add_option("--cases", cases_options.cases, "cases.csv / บันทึกเรื่อง")->required();
  cases->add_option("--pauses", cases_options.pauses, "pauses.csv / ช่วงหยุดนับเวลา");
  cases->add_option("--format", cases_options.format,
                    "json, table, csv (one row per case) or data (rows for data.csv)")
      ->check(CLI::IsMember({"json", "table", "csv", "data"}));
  cases->add_flag("--totals-only", cases_options.totals_only,
                  "json without the list of cases / เฉพาะผลรวม");

  esar::cli::CatalogOptions catalog_options;
  CLI::App* catalog_cmd = app.add_subcommand(
      "catalog", "an agency's data catalog / บัญชีข้อมูลของหน่วยงาน");
  catalog_cmd->require_subcommand(1);
  CLI::App* catalog_check = catalog_cmd->add_subcommand(
      "check",
      "check every dataset's 14 mandatory metadata items / ตรวจคำอธิบายข้อมูล 14 รายการของทุกชุดข้อมูล");
  catalog_check
      ->add_option("--catalog", catalog_options.catalog,
                   "CKAN package_search JSON or CSV / ไฟล์บัญชีข้อมูล")
      ->required();
  catalog_check
      ->add_option("--format", catalog_options.format,
                   "table, json, csv (one row per dataset) or data (rows for data.csv)")
      ->check(CLI::IsMember({"table", "json", "csv", "data"}));
  catalog_check->add_option("--framework,-f", catalog_options.framework,
                            "framework JSON file (--format data) / ไฟล์กรอบการประเมิน");
  catalog_check->add_option("--kpi", catalog_options.kpi, "the KPI (--format data) / ตัวชี้วัด");
  catalog_check->add_option("--agency", catalog_options.agency, "agency code (--format data) / รหัสหน่วยงาน");
  catalog_check->add_option("--round,-r", catalog_options.round, "6 or 12 (default 12) / รอบ")
      ->check(CLI::IsMember({6, 12}));

  std::string db_flag;
  // Where the evidence files, the audit key and the chain head are (docs/operations.md).
  esar::cli::AuditKeyFlags audit_flags;
  auto add_audit_flags = [&audit_flags](CLI::App* cmd) {
    cmd->add_option("--data-dir", audit_flags.data_dir,
                    "folder of evidence files, the audit key and the chain head (default "
                    "esar-data)")
        ->envname("ESAR_DATA_DIR");
    cmd->add_option("--audit-key-file", audit_flags.key_file,
                    "the audit key (default DATA_DIR/audit.key)")
        ->envname("ESAR_AUDIT_KEY_FILE");
  };
  CLI::App* import = app.add_subcommand("import", "import into the database / นำเข้าข้อมูลสู่ฐานข้อมูล");
  import->require_subcommand(1);
  import->fallthrough();  // --db may follow the subcommand
  import->add_option(
      "--db", db_flag,
      "database: a file path (SQLite) or postgresql://... (default $ESAR_DB or esar.db)");
  add_audit_flags(import);
  std::string import_path;
  CLI::App* import_framework = import->add_subcommand("framework", "a framework JSON file");
  import_framework->add_option("file", import_path)->required();
  CLI::App* import_agencies = import->add_subcommand("agencies", "agencies, CSV or JSON");
  import_agencies->add_option("file", import_path)->required();
  CLI::App* import_data = import->add_subcommand("data", "baseline and other values, CSV or JSON");
  import_data->add_option("file", import_path)->required();
  CLI::App* import_results = import->add_subcommand(
      "results",
      "earlier years' published results, CSV: fiscal_year,round,agency,kpi_key,result,score,total "
      "/ ผลการประเมินปีก่อน");
  import_results->add_option("file", import_path)->required();
  CLI::App* import_questions = import->add_subcommand(
      "questions",
      "a cycle's published questions and answers, esar-qa/1 JSON (docs/formats.md §5.2) / "
      "คำถาม-คำตอบที่เผยแพร่แล้ว");
  import_questions->add_option("file", import_path)->required();

  esar::cli::ExportRequest export_request;
  CLI::App* export_cmd =
      app.add_subcommand("export", "tables as CSV or XLSX / ส่งออกตารางเป็น CSV หรือ XLSX");
  export_cmd->require_subcommand(1);
  export_cmd->fallthrough();
  export_cmd->add_option("--db", db_flag,
                         "database: a file path (SQLite) or postgresql://... (default $ESAR_DB or "
                         "esar.db)");
  export_cmd->add_option("--format", export_request.format, "xlsx (default) or csv")
      ->check(CLI::IsMember({"xlsx", "csv"}));
  export_cmd->add_option("--out", export_request.out, "the file to write")->required();
  CLI::App* export_results = export_cmd->add_subcommand(
      "results", "a round's results, agency x KPI / ผลการประเมินของรอบ");
  export_results->add_option("--round", export_request.round_id, "the round's id")->required();
  export_results->add_option("--stage", export_request.stage,
                             "published (default), final or preliminary: that stage or later");
  CLI::App* export_status = export_cmd->add_subcommand(
      "status", "who submitted what in a round, what is overdue / สถานะการส่งรายงาน");
  export_status->add_option("--round", export_request.round_id, "the round's id")->required();
  CLI::App* export_audit =
      export_cmd->add_subcommand("audit", "the audit log of a period / บันทึกการตรวจสอบ");
  export_audit->add_option("--from", export_request.from, "first day, e.g. 2024-10-01 (Bangkok)")
      ->required();
  export_audit->add_option("--to", export_request.to, "last day, included")->required();

  CLI::App* admin = app.add_subcommand("admin", "administration / งานผู้ดูแลระบบ");
  admin->require_subcommand(1);
  admin->fallthrough();
  admin->add_option("--db", db_flag, "database (default $ESAR_DB or esar.db)");
  add_audit_flags(admin);
  CLI::App* create_user = admin->add_subcommand(
      "create-user", "create a user; the password comes from $ESAR_PASSWORD or stdin");
  std::string username, display_name, role_name, user_agency;
  create_user->add_option("--username", username)->required();
  create_user->add_option("--name", display_name, "display name / ชื่อที่แสดง");
  create_user->add_option("--role", role_name, "admin, evaluator, reporter or approver")
      ->required();
  create_user->add_option("--agency", user_agency, "agency code, for reporters and approvers");
  std::string user_email, user_language = "th";
  create_user->add_option("--email", user_email, "e-mail address / อีเมล");
  create_user->add_option("--language", user_language,
                          "th or en: the language of the e-mail the user gets / ภาษาของอีเมล");

  CLI::App* audit = app.add_subcommand("audit", "the audit log / บันทึกการตรวจสอบ");
  audit->require_subcommand(1);
  audit->fallthrough();
  audit->add_option("--db", db_flag, "database (default $ESAR_DB or esar.db)");
  add_audit_flags(audit);
  CLI::App* audit_verify = audit->add_subcommand(
      "verify",
      "prove the audit chain unbroken and the data what it recorded / ตรวจบันทึกการตรวจสอบ");
  std::vector<std::string> audit_heads;
  bool write_head = false;
  audit_verify->add_option("--head", audit_heads,
                           "a head recorded elsewhere, SEQ:HASH (as verify prints it); repeatable");
  audit_verify->add_flag("--write-head", write_head,
                         "do not compare the head file: set it to the last entry if all else "
                         "verifies (after a lost head file; see docs/operations.md)");

  std::string backup_path;
  CLI::App* backup =
      app.add_subcommand("backup", "write the database and evidence files to a file / สำรองข้อมูล");
  backup->add_option("file", backup_path)->required();
  backup->add_option("--db", db_flag, "database (default $ESAR_DB or esar.db)");
  add_audit_flags(backup);
  CLI::App* restore =
      app.add_subcommand("restore", "restore a backup into an empty database / กู้คืนข้อมูล");
  restore->add_option("file", backup_path)->required();
  restore->add_option("--db", db_flag, "database (default $ESAR_DB or esar.db)");
  add_audit_flags(restore);

  esar::cli::ServeOptions serve_options;
  CLI::App* serve = app.add_subcommand("serve", "run the web server / เปิดเซิร์ฟเวอร์");
  app.set_config("--config", "", "a config file (TOML or INI) with the options below");
  serve->add_option("--listen", serve_options.listen, "host:port (default 127.0.0.1:8080)")
      ->envname("ESAR_LISTEN");
  serve
      ->add_option("--db", db_flag,
                   "database: a file path (SQLite) or postgresql://... (default esar.db)")
      ->envname("ESAR_DB");
  serve
      ->add_option("--data-dir", serve_options.data_dir,
                   "folder for evidence files, the audit key and the chain head (default "
                   "esar-data)")
      ->envname("ESAR_DATA_DIR");
  serve
      ->add_option("--audit-key-file", serve_options.audit_key_file,
                   "the audit key (default DATA_DIR/audit.key, created at the first start)")
      ->envname("ESAR_AUDIT_KEY_FILE");
  serve
      ->add_option("--max-upload-mb", serve_options.max_upload_mb,
                   "largest evidence file (default 20)")
      ->envname("ESAR_MAX_UPLOAD_MB")
      ->check(CLI::Range(1, 1024));
  serve
      ->add_option("--max-case-log-cases", serve_options.max_case_log_cases,
                   "cases in one uploaded case log, each file also within --max-upload-mb "
                   "(default 200000)")
      ->envname("ESAR_MAX_CASE_LOG_CASES")
      ->check(CLI::Range(int64_t{1}, int64_t{100'000'000}));
  serve
      ->add_option("--max-submission-mb", serve_options.max_submission_mb,
                   "evidence of one submission, all files together, replaced ones too (default 50)")
      ->envname("ESAR_MAX_SUBMISSION_MB")
      ->check(CLI::Range(1, 1'000'000));
  serve
      ->add_option("--max-submission-files", serve_options.max_submission_files,
                   "evidence files of one submission, replaced ones too (default 20)")
      ->envname("ESAR_MAX_SUBMISSION_FILES")
      ->check(CLI::Range(1, 100'000));
  serve
      ->add_option("--max-unzipped-mb", serve_options.max_unzipped_mb,
                   "an office file (DOCX, XLSX: ZIP) once opened; also refused: over 100 times "
                   "its size (default 100)")
      ->envname("ESAR_MAX_UNZIPPED_MB")
      ->check(CLI::Range(1, 100'000));
  serve
      ->add_option("--metrics-token", serve_options.metrics_token,
                   "serve /metrics to 'Authorization: Bearer TOKEN' only (default: to loopback "
                   "peers only, not forwarded by a proxy); prefer $ESAR_METRICS_TOKEN or the "
                   "config file, which other users cannot read in the process list")
      ->envname("ESAR_METRICS_TOKEN");
  serve
      ->add_option("--max-connections", serve_options.max_connections,
                   "connections open at once (default: from the descriptor limit, at most 16384)")
      ->envname("ESAR_MAX_CONNECTIONS")
      ->check(CLI::Range(0, 1'000'000));
  serve
      ->add_option("--workers", serve_options.worker_threads,
                   "threads that run requests (default 16)")
      ->envname("ESAR_WORKERS")
      ->check(CLI::Range(1, 256));
  serve
      ->add_option("--header-timeout-s", serve_options.header_timeout_s,
                   "seconds a client has to send a request's header (default 10)")
      ->envname("ESAR_HEADER_TIMEOUT_S")
      ->check(CLI::Range(1, 600));
  serve->add_flag("--quiet", serve_options.quiet, "no access log");
  serve->add_flag("--secure-cookies", serve_options.secure_cookies,
                  "mark session cookies Secure (when served over TLS, e.g. behind a TLS proxy)")
      ->envname("ESAR_SECURE_COOKIES");
  serve
      ->add_option("--trusted-proxy", serve_options.trusted_proxy,
                   "the reverse proxy's address (or several, comma-separated) whose "
                   "X-Forwarded-For names the client; others' is ignored")
      ->envname("ESAR_TRUSTED_PROXY");
  serve
      ->add_option("--hash-concurrency", serve_options.hash_concurrency,
                   "password hashes run at once, 64 MiB each (default: one per core)")
      ->envname("ESAR_HASH_CONCURRENCY")
      ->check(CLI::Range(1, 256));
  serve
      ->add_option("--smtp", serve_options.smtp_url,
                   "the mail relay, smtp://host:port (STARTTLS when offered) or smtps://; "
                   "without it nothing is sent and e-mail waits in the outbox")
      ->envname("ESAR_SMTP");
  serve
      ->add_option("--smtp-ca-file", serve_options.smtp_ca_file,
                   "a PEM file of the certificate authorities to trust for the relay's TLS "
                   "(STARTTLS or smtps://); default the system's")
      ->envname("ESAR_SMTP_CA_FILE");
  serve
      ->add_option("--mail-from", serve_options.mail_from,
                   "the sender of esar's e-mail (default esar@ the public URL's host)")
      ->envname("ESAR_MAIL_FROM");
  serve
      ->add_option("--public-url", serve_options.public_url,
                   "the address people open esar at, for links in e-mail (default "
                   "http://LISTEN)")
      ->envname("ESAR_PUBLIC_URL");
  serve
      ->add_option("--mail-retry-s", serve_options.mail_retry_s,
                   "the first wait before trying an e-mail again; it doubles each time, up to "
                   "an hour (default 60)")
      ->envname("ESAR_MAIL_RETRY_S")
      ->check(CLI::Range(1, 3600));
  serve
      ->add_option("--reminder-days", serve_options.reminder_days,
                   "days before a deadline when reminders go (default 7,3,1)")
      ->envname("ESAR_REMINDER_DAYS")
      ->delimiter(',')
      ->check(CLI::Range(1, 60));
  serve
      ->add_option("--digest-hour", serve_options.digest_hour,
                   "the hour (Bangkok) from which evaluators' daily digest goes (default 8)")
      ->envname("ESAR_DIGEST_HOUR")
      ->check(CLI::Range(0, 23));

  esar::cli::AgencyReportOptions report_options;
  CLI::App* report_cmd =
      app.add_subcommand("report", "documents to hand on / เอกสารรายงานผลการประเมิน");
  report_cmd->require_subcommand(1);
  report_cmd->fallthrough();
  report_cmd->add_option("--db", db_flag, "database (default $ESAR_DB or esar.db)");
  CLI::App* report_agency = report_cmd->add_subcommand(
      "agency", "an agency's evaluation report as PDF, or every agency's as ZIP / รายงานผลการประเมินของหน่วยงาน");
  report_agency->add_option("--round", report_options.round_id, "round id / รหัสรอบการประเมิน")
      ->required();
  auto* one_agency = report_agency->add_option("--agency", report_options.agency,
                                               "agency code / รหัสหน่วยงาน");
  report_agency->add_flag("--all", report_options.all,
                          "every agency of the round's publication, as one ZIP / ทุกหน่วยงาน")
      ->excludes(one_agency);
  report_agency->add_option("--output,-o", report_options.output, "the file to write / แฟ้มผลลัพธ์")
      ->required();
  report_agency->add_option("--base-url", report_options.base_url,
                            "the site's address, printed before /verify/ (e.g. https://esar.example.go.th)");
  report_agency->add_option("--threads", report_options.threads, "PDFs drawn at once with --all (default 2)")
      ->check(CLI::Range(1, 64));

  esar::cli::NationalReportOptions national_options;
  CLI::App* report_national = report_cmd->add_subcommand(
      "national", "the national annual report, PDF or XLSX / รายงานผลการประเมินประจำปีระดับประเทศ");
  report_national->add_option("--year", national_options.fiscal_year,
                              "fiscal year, Buddhist Era (e.g. 2567) / ปีงบประมาณ")
      ->required()
      ->check(CLI::Range(2400, 2800));
  report_national->add_option("--round", national_options.round, "6 or 12 (default 12) / รอบ")
      ->check(CLI::IsMember({6, 12}));
  report_national->add_option("--format", national_options.format, "pdf (default) or xlsx")
      ->check(CLI::IsMember({"pdf", "xlsx"}));
  report_national->add_option("--output,-o", national_options.output, "the file to write / แฟ้มผลลัพธ์")
      ->required();

  CLI11_PARSE(app, argc, argv);
  const Lang lang = lang_name == "en" ? Lang::kEnglish : Lang::kThai;
  const bool thai = lang == Lang::kThai;

  const std::string db_url = esar::cli::DatabaseUrl(db_flag);
  try {
    if (*cases) return esar::cli::RunCases(cases_options, lang);
    if (*catalog_check) return esar::cli::RunCatalogCheck(catalog_options, lang);
    if (*serve) {
      serve_options.db_url = db_url;
      return esar::cli::Serve(serve_options, lang);
    }
    if (*report_national) {
      national_options.db_url = db_url;
      return esar::cli::ReportNational(national_options, lang);
    }
    if (*report_agency) {
      if (!report_options.all && report_options.agency.empty()) {
        return Fail(Status::InvalidInput("ต้องระบุ --agency หรือ --all",
                                         "--agency or --all is required"),
                    lang);
      }
      report_options.db_url = db_url;
      return esar::cli::ReportAgency(report_options, lang);
    }
    if (*backup) return esar::cli::BackupTo(db_url, audit_flags, backup_path, lang);
    if (*restore) return esar::cli::RestoreFrom(db_url, audit_flags, backup_path, lang);
    if (*export_cmd) {
      export_request.what = *export_results ? "results" : *export_status ? "status" : "audit";
      return esar::cli::Export(db_url, export_request, lang);
    }
    if (*import_framework)
      return esar::cli::ImportFramework(db_url, audit_flags, import_path, lang);
    if (*import_questions)
      return esar::cli::ImportQuestions(db_url, audit_flags, import_path, lang);
    if (*import_agencies) return esar::cli::ImportAgencies(db_url, audit_flags, import_path, lang);
    if (*import_data) return esar::cli::ImportData(db_url, audit_flags, import_path, lang);
    if (*import_results) return esar::cli::ImportResults(db_url, audit_flags, import_path, lang);
    if (*create_user) {
      return esar::cli::CreateUser(db_url, audit_flags, username, display_name, role_name,
                                   user_agency, user_email, user_language, lang);
    }
    if (*audit_verify)
      return esar::cli::VerifyAudit(db_url, audit_flags, audit_heads, write_head, lang);
    if (*check) {
      auto loaded = Load(check_in);
      if (!loaded) return Fail(loaded.status(), lang);
      const bool with_db = !check_db.empty();
      if (with_db) {
        auto stored = esar::cli::ReadStoredInputs(check_db, loaded->framework.fiscal_year, lang);
        if (!stored) return Fail(stored.status(), lang);
        if (check_in.agencies.empty()) loaded->agencies = std::move(stored->agencies);
        if (check_in.data.empty()) {
          // The database holds every framework's values: only this year's and the years its
          // references read are this framework's (others would all be "unknown KPI" warnings).
          std::set<int> years = {loaded->framework.fiscal_year};
          std::function<void(const std::vector<esar::domain::Kpi>&)> walk =
              [&](const std::vector<esar::domain::Kpi>& kpis) {
                for (const auto& k : kpis) {
                  for (const auto& r : k.references) {
                    if (r.fiscal_year != 0) years.insert(r.fiscal_year);
                  }
                  walk(k.sub_kpis);
                }
              };
          walk(loaded->framework.kpis);
          for (auto& o : stored->observations) {
            if (years.count(o.fiscal_year)) loaded->observations.push_back(std::move(o));
          }
        }
        loaded->past.insert(loaded->past.end(), stored->past.begin(), stored->past.end());
      }
      // The baselines taken from earlier results count as given; those still lacking are
      // reported (baseline-missing) for each agency.
      const bool with_past = with_db || !check_in.past_results.empty();
      if (with_past) {
        esar::domain::FillBaselines(loaded->framework, loaded->agencies, loaded->past,
                                    loaded->observations);
      }
      esar::domain::CheckInput input;
      input.framework = &loaded->framework;
      input.framework_file = check_in.framework;
      input.round = check_in.round;
      // The year's other frameworks, from files and from the database (a file given for a kind
      // stands for the stored framework of that kind), for cycles across frameworks.
      auto others = LoadOthers(check_in.other_frameworks);
      if (!others) return Fail(others.status(), lang);
      std::vector<esar::service::StoredFramework> stored_others;
      if (with_db && esar::domain::HasFromAgencies(loaded->framework)) {
        auto peers = esar::cli::ReadStoredPeers(check_db, loaded->framework, check_in.round, lang);
        if (!peers) return Fail(peers.status(), lang);
        stored_others = std::move(peers->frameworks);
      }
      for (size_t i = 0; i < others->size(); ++i) {
        const esar::domain::Framework& o = (*others)[i];
        input.other_frameworks.push_back(
            {o.agency_kind.empty() ? check_in.other_frameworks[i] : o.agency_kind, &o});
      }
      for (const esar::service::StoredFramework& o : stored_others) {
        const bool given = std::any_of(others->begin(), others->end(), [&](const auto& f) {
          return f.agency_kind == o.agency_kind;
        });
        if (!given) input.other_frameworks.push_back({o.agency_kind, &o.framework});
      }
      if (!check_in.agencies.empty() || with_db) input.agencies = &loaded->agencies;
      if (!check_in.data.empty() || with_past) input.observations = &loaded->observations;
      const auto findings = esar::domain::Check(input);
      std::cout << esar::formats::FindingsText(findings, lang);
      size_t errors = 0;
      for (const auto& f : findings) errors += f.severity == esar::domain::Severity::kError ? 1 : 0;
      const size_t warnings = findings.size() - errors;
      std::cout << (thai ? "ข้อผิดพลาด " + std::to_string(errors) + " รายการ คำเตือน " +
                               std::to_string(warnings) + " รายการ\n"
                         : std::to_string(errors) + " errors, " + std::to_string(warnings) +
                               " warnings\n");
      return errors ? kInputErrors : 0;
    }

    Inputs& in = *score ? score_in : explain_in;
    if (in.agencies.empty() || in.data.empty()) {
      return Fail(Status::InvalidInput("ต้องระบุ --agencies และ --data",
                                       "--agencies and --data are required"),
                  lang);
    }
    auto loaded = Load(in);
    if (!loaded) return Fail(loaded.status(), lang);
    esar::domain::FillBaselines(loaded->framework, loaded->agencies, loaded->past,
                                loaded->observations);
    auto engine = esar::domain::Engine::Compile(loaded->framework, in.round);
    if (!engine) {
      const Status& s = engine.status();
      return Fail(Status::InvalidInput(s.message_th(), s.message_en(),
                                       {in.framework, s.where().json_path, 0}),
                  lang);
    }
    // KPIs computed from other agencies' results: from this framework's own agencies and, with
    // --db, the stored results of the year's other frameworks, as the server computes them.
    std::vector<esar::domain::PeerResult> others;
    if (!score_db.empty() && esar::domain::HasFromAgencies(loaded->framework)) {
      auto peers = esar::cli::ReadStoredPeers(esar::cli::DatabaseUrl(score_db), loaded->framework,
                                              in.round, lang);
      if (!peers) return Fail(peers.status(), lang);
      others = std::move(peers->results);
    }
    auto from_peers = esar::domain::FillFromAgencies(*engine, in.round, loaded->agencies, others,
                                                     loaded->observations);
    if (!from_peers) {
      const Status& s = from_peers.status();
      return Fail(Status::InvalidInput(s.message_th(), s.message_en(), {in.framework, "/kpis", 0}),
                  lang);
    }
    const bool need_trace = *explain || with_trace;
    const auto scores = engine->Score(loaded->agencies, loaded->observations, need_trace);
    esar::formats::ScoreReport report{&loaded->framework, &loaded->agencies, &scores, in.round};

    if (*score) {
      if (format == "json")
        std::cout << esar::formats::ScoresJson(report, with_trace, lang).dump(2) << "\n";
      else if (format == "csv")
        std::cout << esar::formats::ScoresCsv(report, lang);
      else
        std::cout << esar::formats::ScoresTable(report, lang);
      return 0;
    }
    for (const auto& a : scores) {
      if (a.agency == agency_code) {
        std::cout << esar::formats::ExplainAgency(report, a, kpi_id, lang);
        return 0;
      }
    }
    return Fail(Status::NotFound("ไม่มีหน่วยงาน \"" + agency_code + "\" ที่มีตัวชี้วัดในกรอบการประเมินนี้",
                                 "no agency \"" + agency_code + "\" with KPIs in this framework"),
                lang);
  } catch (const std::exception& e) {
    // Anything thrown here is a bug; say so plainly rather than abort.
    return Fail(Status::Internal(e.what()), lang);
  }
}
