#include "storage/migrations.h"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>

#include "common/thai.h"
#include "storage/result_rows.h"

namespace esar::storage {
namespace {

// Migration 28's data: the Thai sort key of every catalog dataset's title kept before it.
Status FillCatalogTitleKeys(Database& db) {
  auto rows =
      db.Query("SELECT upload_id, seq, title FROM catalog_datasets WHERE title_key IS NULL");
  if (!rows) return rows.status();
  for (const Row& r : *rows) {
    Status s =
        db.Execute("UPDATE catalog_datasets SET title_key = ? WHERE upload_id = ? AND seq = ?",
                   {Blob{ThaiSortKey(r.Text(2))}, r.Int(0), r.Int(1)});
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

// Migration 9's data: every agency's sort key (agencies.sort_key, the ICU Thai collation key of
// its Thai name, whose byte order is Thai dictionary order) for the rows there before it.
Status FillAgencySortKeys(Database& db) {
  auto rows = db.Query("SELECT code, name_th FROM agencies WHERE sort_key IS NULL");
  if (!rows) return rows.status();
  for (const Row& r : *rows) {
    Status s = db.Execute("UPDATE agencies SET sort_key = ? WHERE code = ?",
                          {Blob{ThaiSortKey(r.Text(1))}, r.Text(0)});
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

using nlohmann::json;

// A JSON number as a column value; NULL for anything else.
Value NumberOrNull(const json& j) {
  return j.is_number() ? Value{j.get<double>()} : Value{};
}

// The rows of `kpi` (and its sub-KPIs, under `parent`) of one agency's scores document.
void KpiRows(int64_t result_id, const std::string& agency, const json& kpi,
             const std::string& parent, const std::map<std::string, std::string>& key_of,
             std::vector<std::vector<Value>>& out) {
  if (!kpi.is_object() || !kpi["id"].is_string()) return;
  const std::string id = kpi["id"];
  const auto key = key_of.find(id);
  out.push_back({result_id, agency, id, parent,
                 key == key_of.end() ? std::string() : key->second,
                 kpi.value("status", std::string("missing")), NumberOrNull(kpi.value("result", json())),
                 NumberOrNull(kpi.value("score", json())),
                 int64_t{kpi.value("level", json()).is_number_integer() ? kpi["level"].get<int64_t>()
                                                                        : 0},
                 kpi.value("group", std::string()),
                 kpi.value("weight", json()).is_number() ? Value{kpi["weight"].get<double>()}
                                                         : Value{0.0},
                 kpi.value("weighted", json()).is_number() ? Value{kpi["weighted"].get<double>()}
                                                           : Value{0.0}});
  if (kpi.contains("sub_kpis") && kpi["sub_kpis"].is_array()) {
    for (const json& sub : kpi["sub_kpis"]) KpiRows(result_id, agency, sub, id, key_of, out);
  }
}

// Migration 8's data: every per-agency document of the results computed before (result_agencies)
// into result_totals and result_kpis. Their inputs were not kept, so their explanations stay as
// they were computed: the whole per-agency document in result_totals.explanation.
Status MigrateResultDocumentsToRows(Database& db) {
  std::map<std::string, std::pair<std::string, std::string>> directory;  // code -> kind, parent
  auto agencies = db.Query("SELECT code, kind, parent FROM agencies");
  if (!agencies) return agencies.status();
  for (const Row& a : *agencies) directory[a.Text(0)] = {a.Text(1), a.Text(2)};
  // Each framework's grade names (Thai), to find a grade's index from its name, and its KPIs'
  // keys by id.
  std::map<int64_t, std::vector<std::string>> grades;
  std::map<int64_t, std::map<std::string, std::string>> keys;
  auto frameworks = db.Query("SELECT id, document FROM frameworks");
  if (!frameworks) return frameworks.status();
  for (const Row& f : *frameworks) {
    const json doc = json::parse(f.Text(1), nullptr, false);
    std::vector<std::string>& names = grades[f.Int(0)];
    std::map<std::string, std::string>& key_of = keys[f.Int(0)];
    std::function<void(const json&)> walk = [&](const json& kpis) {
      if (!kpis.is_array()) return;
      for (const json& k : kpis) {
        if (!k.is_object()) continue;
        if (k.value("id", json()).is_string() && k.value("key", json()).is_string())
          key_of[k["id"].get<std::string>()] = k["key"].get<std::string>();
        walk(k.value("sub_kpis", json()));
      }
    };
    if (doc.is_object()) walk(doc.value("kpis", json()));
    if (!doc.is_object() || !doc.contains("grades") || !doc["grades"].is_array()) continue;
    for (const json& g : doc["grades"]) {
      const json name = g.is_object() ? g.value("name", json()) : json();
      names.push_back(name.is_string()   ? name.get<std::string>()
                      : name.is_object() ? name.value("th", std::string())
                                         : std::string());
    }
  }
  auto parts = db.Query(
      "SELECT result_id, agency_code, framework_id, document FROM result_agencies ORDER BY "
      "result_id, agency_code");
  if (!parts) return parts.status();
  std::vector<std::vector<Value>> totals, kpis;
  for (const Row& p : *parts) {
    const int64_t result_id = p.Int(0);
    const std::string code = p.Text(1);
    const json part = json::parse(p.Text(3), nullptr, false);
    if (!part.is_object() || !part.contains("agency") || !part["agency"].is_object()) {
      return Status::DataLoss(
          "ผลการประเมินรหัส " + std::to_string(result_id) + " ของหน่วยงาน " + code + " อ่านไม่ได้",
          "the result " + std::to_string(result_id) + " of agency " + code + " cannot be read");
    }
    const json& agency = part["agency"];
    Value grade;
    if (agency.value("grade", json()).is_string()) {
      const auto& names = grades[p.Int(2)];
      const auto at = std::find(names.begin(), names.end(), agency["grade"].get<std::string>());
      if (at != names.end()) grade = static_cast<int64_t>(at - names.begin());
    }
    const auto where = directory.find(code);
    const Value total = NumberOrNull(agency.value("total", json()));
    totals.push_back({result_id, code, where == directory.end() ? "" : where->second.first,
                      where == directory.end() ? "" : where->second.second, total, grade,
                      agency.value("scored_weight", json()).is_number()
                          ? Value{agency["scored_weight"].get<double>()}
                          : Value{0.0},
                      std::string(std::holds_alternative<double>(total) ? "scored" : "unscored"),
                      std::string(), p.Text(3)});
    if (agency.contains("kpis") && agency["kpis"].is_array()) {
      for (const json& k : agency["kpis"]) KpiRows(result_id, code, k, "", keys[p.Int(2)], kpis);
    }
  }
  Status s = db.BulkInsert("result_totals",
                           {"result_id", "agency_code", "kind", "parent", "total", "grade",
                            "scored_weight", "status", "inputs", "explanation"},
                           totals);
  if (!s.ok()) return s;
  return db.BulkInsert("result_kpis",
                       {"result_id", "agency_code", "kpi", "parent_kpi", "kpi_key", "status",
                        "result", "score", "level", "group_id", "weight", "weighted"},
                       kpis);
}

// Migration 19's data: on PostgreSQL, result_kpis' agency codes and KPI ids compare byte by
// byte (COLLATE "C"), as SQLite compares every text. Nothing on SQLite.
Status KpiRowsInByteOrder(Database& db) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  return db.Execute(
      "ALTER TABLE result_kpis ALTER COLUMN agency_code TYPE TEXT COLLATE \"C\", "
      "ALTER COLUMN kpi TYPE TEXT COLLATE \"C\"");
}

// Migration 31's data: on SQLite, observations and result_kpis are made again WITHOUT ROWID, with
// the rows they held; result_kpis' check on its status names each word in turn. Nothing on
// PostgreSQL.
Status SqliteRowsInKeyOrder(Database& db) {
  if (db.dialect() != Dialect::kSqlite) return Status::Ok();
  return db.ExecuteScript(R"SQL(
CREATE TABLE observations_in_key_order (
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi TEXT NOT NULL,
  variable TEXT NOT NULL,
  fiscal_year INTEGER NOT NULL,
  round INTEGER NOT NULL,
  value TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'import',
  PRIMARY KEY (agency_code, kpi, variable, fiscal_year, round)
) WITHOUT ROWID;
INSERT INTO observations_in_key_order (agency_code, kpi, variable, fiscal_year, round, value, source)
  SELECT agency_code, kpi, variable, fiscal_year, round, value, source FROM observations;
DROP TABLE observations;
ALTER TABLE observations_in_key_order RENAME TO observations;
CREATE TABLE result_kpis_in_key_order (
  result_id BIGINT NOT NULL,
  agency_code TEXT NOT NULL,
  kpi TEXT NOT NULL,
  parent_kpi TEXT NOT NULL DEFAULT '',
  kpi_key TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status = 'scored' OR status = 'exempt' OR status = 'monitoring'
                              OR status = 'missing'),
  result REAL,
  score REAL,
  level INTEGER NOT NULL,
  group_id TEXT NOT NULL DEFAULT '',
  weight REAL NOT NULL,
  weighted REAL NOT NULL,
  PRIMARY KEY (result_id, agency_code, kpi)
) WITHOUT ROWID;
INSERT INTO result_kpis_in_key_order (result_id, agency_code, kpi, parent_kpi, kpi_key, status,
                                      result, score, level, group_id, weight, weighted)
  SELECT result_id, agency_code, kpi, parent_kpi, kpi_key, status, result, score, level,
         group_id, weight, weighted FROM result_kpis;
DROP TABLE result_kpis;
ALTER TABLE result_kpis_in_key_order RENAME TO result_kpis
)SQL");
}

// Migration 30's data: on PostgreSQL result_totals and result_kpis become partitioned by result
// (result_rows.h), with the keys, indexes and foreign key they had, and the rows there before it
// move into their results' partitions. SQLite keeps its tables as they are.
Status ResultRowsPartitionedByResult(Database& db) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  // The tables before are renamed and their indexes dropped, so that the new ones take their
  // names; their rows are then copied over once.
  Status s = db.ExecuteScript(R"SQL(
ALTER TABLE result_totals RENAME TO result_totals_unpartitioned;
ALTER TABLE result_totals_unpartitioned DROP CONSTRAINT result_totals_pkey;
ALTER TABLE result_totals_unpartitioned DROP CONSTRAINT result_totals_result_id_fkey;
DROP INDEX result_totals_agency;
DROP INDEX result_totals_by_parent;
DROP INDEX result_totals_score;
CREATE TABLE result_totals (LIKE result_totals_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY LIST (result_id);
ALTER TABLE result_totals ADD CONSTRAINT result_totals_pkey PRIMARY KEY (result_id, agency_code);
ALTER TABLE result_totals ADD CONSTRAINT result_totals_result_id_fkey FOREIGN KEY (result_id)
  REFERENCES results(id);
CREATE INDEX result_totals_agency ON result_totals (agency_code, result_id);
CREATE INDEX result_totals_by_parent ON result_totals (result_id, parent, kind, agency_code);
CREATE INDEX result_totals_score ON result_totals
  (result_id, total NULLS FIRST, agency_code, parent, kind, grade);
ALTER TABLE result_kpis RENAME TO result_kpis_unpartitioned;
ALTER TABLE result_kpis_unpartitioned DROP CONSTRAINT result_kpis_pkey;
CREATE TABLE result_kpis (LIKE result_kpis_unpartitioned INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
  PARTITION BY LIST (result_id);
ALTER TABLE result_kpis ADD CONSTRAINT result_kpis_pkey PRIMARY KEY (result_id, agency_code, kpi)
)SQL");
  if (!s.ok()) return s;
  // Every result that holds rows gets its partitions, rows or none (ResultRowsSource reads
  // them), and so does every result with rows there.
  for (const char* table : {"result_totals", "result_kpis"}) {
    const std::string before = std::string(table) + "_unpartitioned";
    auto results = db.Query("SELECT result_id FROM " + before +
                            " UNION SELECT COALESCE(rows_from, id) FROM results");
    if (!results) return results.status();
    for (const Row& r : *results) {
      s = PrepareResultRows(db, table, r.Int(0));
      if (!s.ok()) return s;
    }
    s = db.ExecuteScript("INSERT INTO " + std::string(table) + " SELECT * FROM " + before +
                         "; DROP TABLE " + before);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

const std::vector<Migration>& AllMigrations() {
  // Times are milliseconds since the Unix epoch (UTC); JSON columns hold esar's own formats.
  static const std::vector<Migration> kMigrations = {
      {1, "evaluation cycle", R"SQL(
CREATE TABLE agencies (
  code TEXT PRIMARY KEY,
  name_th TEXT NOT NULL,
  name_en TEXT NOT NULL DEFAULT '',
  kind TEXT NOT NULL DEFAULT '',
  parent TEXT REFERENCES agencies(code)
);
CREATE TABLE users (
  id {ID},
  username TEXT NOT NULL UNIQUE,
  display_name TEXT NOT NULL,
  password_hash TEXT NOT NULL,
  role TEXT NOT NULL CHECK (role IN ('admin', 'evaluator', 'reporter', 'approver')),
  agency_code TEXT REFERENCES agencies(code),
  active INTEGER NOT NULL DEFAULT 1,
  created_at BIGINT NOT NULL
);
CREATE TABLE sessions (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  csrf_token TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL
);
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  revoked_at BIGINT
);
CREATE TABLE login_failures (
  subject TEXT NOT NULL,
  at BIGINT NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);
CREATE TABLE frameworks (
  id {ID},
  fiscal_year INTEGER NOT NULL,
  agency_kind TEXT NOT NULL,
  version INTEGER NOT NULL,
  document TEXT NOT NULL,
  diff TEXT NOT NULL DEFAULT '',
  imported_by BIGINT REFERENCES users(id),
  imported_at BIGINT NOT NULL,
  frozen_at BIGINT,
  UNIQUE (fiscal_year, agency_kind, version)
);
CREATE TABLE rounds (
  id {ID},
  framework_id BIGINT NOT NULL REFERENCES frameworks(id),
  round INTEGER NOT NULL CHECK (round IN (6, 12)),
  deadline BIGINT NOT NULL,
  UNIQUE (framework_id, round)
);
CREATE TABLE extensions (
  round_id BIGINT NOT NULL REFERENCES rounds(id),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  deadline BIGINT NOT NULL,
  granted_by BIGINT REFERENCES users(id),
  granted_at BIGINT NOT NULL,
  PRIMARY KEY (round_id, agency_code)
);
CREATE TABLE observations (
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi TEXT NOT NULL,
  variable TEXT NOT NULL,
  fiscal_year INTEGER NOT NULL,
  round INTEGER NOT NULL,
  value TEXT NOT NULL,
  source TEXT NOT NULL DEFAULT 'import',
  PRIMARY KEY (agency_code, kpi, variable, fiscal_year, round)
);
CREATE TABLE submissions (
  id {ID},
  round_id BIGINT NOT NULL REFERENCES rounds(id),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('draft', 'approved', 'submitted', 'returned', 'accepted')),
  revision INTEGER NOT NULL,
  updated_at BIGINT NOT NULL,
  UNIQUE (round_id, agency_code, kpi)
);
CREATE TABLE submission_revisions (
  submission_id BIGINT NOT NULL REFERENCES submissions(id),
  revision INTEGER NOT NULL,
  status TEXT NOT NULL,
  values_json TEXT NOT NULL,
  explanation TEXT NOT NULL DEFAULT '',
  problems TEXT NOT NULL DEFAULT '',
  remarks TEXT NOT NULL DEFAULT '',
  actor BIGINT REFERENCES users(id),
  at BIGINT NOT NULL,
  PRIMARY KEY (submission_id, revision)
);
CREATE TABLE evidence (
  id {ID},
  submission_id BIGINT NOT NULL REFERENCES submissions(id),
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  uploaded_by BIGINT REFERENCES users(id),
  uploaded_at BIGINT NOT NULL,
  replaced_by BIGINT REFERENCES evidence(id)
);
CREATE TABLE reviews (
  id {ID},
  submission_id BIGINT NOT NULL REFERENCES submissions(id),
  revision INTEGER NOT NULL,
  evaluator BIGINT NOT NULL REFERENCES users(id),
  decision TEXT NOT NULL CHECK (decision IN ('accepted', 'returned')),
  verified_json TEXT NOT NULL,
  comment TEXT NOT NULL DEFAULT '',
  at BIGINT NOT NULL
);
CREATE TABLE evidence_notes (
  review_id BIGINT NOT NULL REFERENCES reviews(id),
  evidence_id BIGINT NOT NULL REFERENCES evidence(id),
  note TEXT NOT NULL,
  PRIMARY KEY (review_id, evidence_id)
);
CREATE TABLE results (
  id {ID},
  framework_id BIGINT NOT NULL REFERENCES frameworks(id),
  round INTEGER NOT NULL,
  stage TEXT NOT NULL CHECK (stage IN ('preliminary', 'final', 'published')),
  document TEXT NOT NULL,
  computed_by BIGINT REFERENCES users(id),
  computed_at BIGINT NOT NULL,
  appeal_deadline BIGINT
);
CREATE TABLE appeals (
  id {ID},
  result_id BIGINT NOT NULL REFERENCES results(id),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi TEXT NOT NULL,
  reason TEXT NOT NULL,
  filed_by BIGINT NOT NULL REFERENCES users(id),
  filed_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'rejected')),
  decision_reason TEXT,
  decided_by BIGINT REFERENCES users(id),
  decided_at BIGINT
);
CREATE TABLE idempotency_keys (
  user_id BIGINT NOT NULL REFERENCES users(id),
  key TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  response TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  PRIMARY KEY (user_id, key)
);
CREATE TABLE audit_log (
  seq BIGINT PRIMARY KEY,
  at BIGINT NOT NULL,
  actor BIGINT,
  action TEXT NOT NULL,
  entity TEXT NOT NULL,
  before_json TEXT NOT NULL,
  after_json TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
)
)SQL"},
      {2, "results per agency", R"SQL(
CREATE TABLE result_agencies (
  result_id BIGINT NOT NULL REFERENCES results(id),
  agency_code TEXT NOT NULL,
  framework_id BIGINT NOT NULL,
  round INTEGER NOT NULL,
  stage TEXT NOT NULL,
  computed_at BIGINT NOT NULL,
  appeal_deadline BIGINT,
  document TEXT NOT NULL,
  PRIMARY KEY (result_id, agency_code)
);
CREATE INDEX result_agencies_lookup ON result_agencies (agency_code, framework_id, round, result_id)
)SQL"},
      {3, "result summaries", R"SQL(
CREATE TABLE result_summaries (
  result_id BIGINT PRIMARY KEY REFERENCES results(id),
  summary TEXT NOT NULL
)
)SQL"},
      // Failed logins were rows counted after the fact (check, then insert): parallel guesses
      // all passed the check. Now one counter per subject, raised atomically before the check.
      {4, "login throttle counters", R"SQL(
CREATE TABLE login_throttle (
  subject TEXT PRIMARY KEY,
  failures INTEGER NOT NULL,
  blocked_until BIGINT NOT NULL,
  last_at BIGINT NOT NULL
);
DROP TABLE login_failures
)SQL"},
      // Each entry's digests of the state it left (entity -> SHA-256, see service/audit_state.h),
      // and its seal: the id of the audit key and an HMAC of the entry's hash under that key,
      // which the database does not hold. Entries written before have neither.
      {5, "sealed audit log", R"SQL(
ALTER TABLE audit_log ADD COLUMN states TEXT;
ALTER TABLE audit_log ADD COLUMN key_id TEXT;
ALTER TABLE audit_log ADD COLUMN mac TEXT
)SQL"},
      // API tokens get an id (to list and revoke them by), a scope ('read': GET only; 'full':
      // what the user may do, but never tokens or the password), an expiry and the time of
      // their last use. Tokens made before expire 90 days after they were made.
      {6, "api token lifetimes and scopes", R"SQL(
CREATE TABLE api_tokens_new (
  id {ID},
  token_hash TEXT NOT NULL UNIQUE,
  user_id BIGINT NOT NULL REFERENCES users(id),
  name TEXT NOT NULL,
  scope TEXT NOT NULL CHECK (scope IN ('read', 'full')),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_used_at BIGINT,
  revoked_at BIGINT
);
INSERT INTO api_tokens_new (token_hash, user_id, name, scope, created_at, expires_at, revoked_at)
  SELECT token_hash, user_id, name, 'full', created_at, created_at + 7776000000, revoked_at
  FROM api_tokens ORDER BY created_at;
DROP TABLE api_tokens;
ALTER TABLE api_tokens_new RENAME TO api_tokens;
CREATE INDEX api_tokens_user ON api_tokens (user_id, id)
)SQL"},
      // The cycle's rules: reporting closed early by the central office; every reopening with
      // its reason (results computed before it, id <= after_result, belong to an earlier
      // opening); an approver's comment when sending a draft back to the reporter.
      {7, "round states", R"SQL(
ALTER TABLE rounds ADD COLUMN closed_at BIGINT;
CREATE TABLE round_reopenings (
  id {ID},
  round_id BIGINT NOT NULL REFERENCES rounds(id),
  reopened_by BIGINT REFERENCES users(id),
  reopened_at BIGINT NOT NULL,
  reason TEXT NOT NULL,
  deadline BIGINT NOT NULL,
  after_result BIGINT NOT NULL
);
CREATE INDEX round_reopenings_round ON round_reopenings (round_id, id);
ALTER TABLE submission_revisions ADD COLUMN comment TEXT NOT NULL DEFAULT ''
)SQL"},
      // Scores in rows: one row per agency scored (result_totals) and one per agency x KPI and
      // sub-KPI (result_kpis), with the values each agency was scored from (`inputs`), so that
      // its explanation is derived again on request from the frozen framework version. A
      // publication shares its final result's rows (results.rows_from). Results computed before
      // kept no inputs: their rows come from their per-agency documents, whose explanations stay
      // in result_totals.explanation; the documents and summaries are then dropped.
      // result_kpis.level: the level reached, 1-based (1 = the first level), 0 below basic.
      // result_kpis has its primary key only (a result's rows, an agency's rows) and no foreign
      // key: 25 rows per agency are written at once, and each more index or check per row costs
      // more than the computation (its rows belong to a result_totals row of the same result,
      // written in the same transaction by Results alone).
      {8, "scores in rows", R"SQL(
ALTER TABLE results ADD COLUMN rows_from BIGINT;
UPDATE results SET rows_from = id;
CREATE TABLE result_totals (
  result_id BIGINT NOT NULL REFERENCES results(id),
  agency_code TEXT NOT NULL,
  kind TEXT NOT NULL DEFAULT '',
  parent TEXT NOT NULL DEFAULT '',
  total {REAL},
  grade INTEGER,
  scored_weight {REAL} NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('scored', 'unscored')),
  inputs TEXT NOT NULL,
  explanation TEXT,
  PRIMARY KEY (result_id, agency_code)
);
CREATE INDEX result_totals_agency ON result_totals (agency_code, result_id);
CREATE INDEX result_totals_total ON result_totals (result_id, total);
CREATE INDEX result_totals_parent ON result_totals (result_id, parent, kind);
CREATE TABLE result_kpis (
  result_id BIGINT NOT NULL,
  agency_code TEXT NOT NULL,
  kpi TEXT NOT NULL,
  parent_kpi TEXT NOT NULL DEFAULT '',
  kpi_key TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL CHECK (status IN ('scored', 'exempt', 'monitoring', 'missing')),
  result {REAL},
  score {REAL},
  level INTEGER NOT NULL,
  group_id TEXT NOT NULL DEFAULT '',
  weight {REAL} NOT NULL,
  weighted {REAL} NOT NULL,
  PRIMARY KEY (result_id, agency_code, kpi)
)
)SQL",
       MigrateResultDocumentsToRows, R"SQL(
DROP TABLE result_agencies;
DROP TABLE result_summaries;
UPDATE results SET document = ''
)SQL"},
      // Lists of thousands of agencies (every local government) are sorted, filtered and paged
      // in SQL: each agency keeps the ICU Thai collation key of its Thai name (bytes whose order
      // is Thai dictionary order; written with every insert or rename, filled here for the rows
      // already there), and the queue's filters and orders are indexed.
      {9, "agency sort keys and list indexes", R"SQL(
ALTER TABLE agencies ADD COLUMN sort_key {BLOB};
CREATE INDEX agencies_sort_key ON agencies (sort_key, code);
CREATE INDEX agencies_parent ON agencies (parent, sort_key);
CREATE INDEX agencies_kind ON agencies (kind, sort_key);
CREATE INDEX submissions_round_status ON submissions (round_id, status, updated_at);
CREATE INDEX submissions_status ON submissions (status, updated_at)
)SQL",
       FillAgencySortKeys},
      // Earlier years' published results of years evaluated outside esar (`esar import
      // results`), by KPI key: trends, the change from the year before, baselines. kpi_key ''
      // holds the agency's total (in score). Values are shortest decimal texts (both backends
      // print them alike, which the audit digest needs).
      {10, "past results", R"SQL(
CREATE TABLE past_results (
  fiscal_year INTEGER NOT NULL,
  round INTEGER NOT NULL CHECK (round IN (6, 12)),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi_key TEXT NOT NULL,
  result TEXT,
  score TEXT,
  PRIMARY KEY (fiscal_year, round, agency_code, kpi_key)
);
CREATE INDEX past_results_agency ON past_results (agency_code, kpi_key, fiscal_year)
)SQL"},
      // The public list of a result's agencies (every local government: ~8,000) counts, filters
      // and pages over these covering indexes, never reading the rows with their inputs: by code
      // (the lookups of a page ordered by name), by parent and kind (filters), by total (the
      // score order, read straight from the index).
      {11, "result list indexes", R"SQL(
CREATE INDEX result_totals_list ON result_totals (result_id, agency_code, parent, kind, total, grade);
CREATE INDEX result_totals_by_parent ON result_totals (result_id, parent, kind, agency_code);
CREATE INDEX result_totals_score ON result_totals (result_id, total, agency_code, parent, kind, grade)
)SQL"},
      // A missing total counts as the lowest: worst first puts the unscored on top, best first
      // at the bottom, which is the order of an index with NULLs first read either way — on
      // PostgreSQL too, whose indexes put NULLs last unless told.
      {12, "score order with missing totals lowest", R"SQL(
DROP INDEX result_totals_score;
CREATE INDEX result_totals_score ON result_totals (result_id, total{NULLS_FIRST}, agency_code, parent, kind, grade)
)SQL"},
      // Migration 8 rewrote the results computed before it (documents into rows, a rows_from
      // column, the document emptied), so the state digests the audit log recorded for them no
      // longer match and `esar audit verify` reported each as changed behind esar's back. Those
      // results (their rows have no inputs: only migration 8 writes such rows) are listed here;
      // the first audit append after the upgrade (AuditLog::RecordRebaselines: at start, or
      // before verify) records their state as the migration left it in one "audit.rebaseline"
      // entry that names the migration, and empties the list in the same transaction. Storage
      // cannot append it itself: entries are sealed with a key only the service holds.
      {13, "audit re-baseline of results moved to rows", R"SQL(
CREATE TABLE audit_rebaselines (
  entity TEXT PRIMARY KEY,
  migration INTEGER NOT NULL
);
INSERT INTO audit_rebaselines (entity, migration)
  SELECT 'result/' || CAST(r.id AS TEXT), 8 FROM results r
  WHERE NOT EXISTS (SELECT 1 FROM result_totals t WHERE t.result_id = r.rows_from AND t.inputs <> '')
)SQL"},
      // Pages at every local government's scale: the newest audit entry of one entity (what the
      // dashboard and the public list key their kept models on: DirectoryVersion) found in the
      // index, not by reading the log; a page of submissions read whole (Reporting::LoadMany)
      // finds their evidence and reviews by submission.
      {14, "page lookups", R"SQL(
CREATE INDEX audit_log_entity ON audit_log (entity, seq);
CREATE INDEX evidence_submission ON evidence (submission_id, id);
CREATE INDEX reviews_submission ON reviews (submission_id, id)
)SQL"},
      // Issue 13 §3-4: the central office's announcements to a cycle (a fiscal year and kind of
      // agency) with attached files (kept in the evidence file store by SHA-256), and the
      // questions agencies ask about a cycle with the office's answers. An answer the office
      // publishes gets the next number of its cycle for good (kept if it is later withdrawn,
      // so a number once cited never names another answer). through_year: the last fiscal year
      // a cycle's guidance covers (seed 004 answers for 2563 - 2564). search_words is derived
      // (the ICU words of the question and answer, " w1 w2 ... ", written with every change),
      // so Thai search matches whole words in SQL; the audit digest leaves it out.
      {15, "announcements and questions", R"SQL(
CREATE TABLE announcements (
  id {ID},
  fiscal_year INTEGER NOT NULL,
  agency_kind TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  posted_by BIGINT REFERENCES users(id),
  posted_at BIGINT NOT NULL
);
CREATE INDEX announcements_cycle ON announcements (agency_kind, fiscal_year, posted_at);
CREATE TABLE announcement_files (
  id {ID},
  announcement_id BIGINT NOT NULL REFERENCES announcements(id),
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  uploaded_by BIGINT REFERENCES users(id),
  uploaded_at BIGINT NOT NULL
);
CREATE INDEX announcement_files_of ON announcement_files (announcement_id, id);
CREATE TABLE questions (
  id {ID},
  fiscal_year INTEGER NOT NULL,
  through_year INTEGER NOT NULL,
  agency_kind TEXT NOT NULL,
  kpi TEXT NOT NULL DEFAULT '',
  agency_code TEXT REFERENCES agencies(code),
  asked_by BIGINT REFERENCES users(id),
  asked_at BIGINT NOT NULL,
  question TEXT NOT NULL,
  answer TEXT,
  answered_by BIGINT REFERENCES users(id),
  answered_at BIGINT,
  published INTEGER NOT NULL DEFAULT 0,
  number INTEGER,
  search_words TEXT NOT NULL DEFAULT '',
  UNIQUE (fiscal_year, agency_kind, number)
);
CREATE INDEX questions_cycle ON questions (fiscal_year, agency_kind, published, number);
CREATE INDEX questions_agency ON questions (agency_code, id);
CREATE INDEX questions_waiting ON questions (answered_at, id)
)SQL"},
      // Telling people (issue 13). A user's e-mail address and language live beside the users
      // table rather than in it, so that the audit digest of a user (its own row) stays what it
      // was for every entry written before; the contact is an audited entity of its own.
      // `notifications` is what each user's list in the browser shows (both languages, the
      // page shows the reader's); `outbox` holds each e-mail, written in the transaction of the
      // event that causes it and sent later by the worker of `esar serve`, which claims a row
      // with a lease (lease_owner, lease_until) so that several servers never send one twice.
      // A dedup_key (reminders, digests) makes a message that several servers or runs would
      // write land once. Reset tokens are stored hashed, single use.
      {16, "e-mail, notifications and password resets", R"SQL(
CREATE TABLE user_contacts (
  user_id BIGINT PRIMARY KEY REFERENCES users(id),
  email TEXT NOT NULL DEFAULT '',
  language TEXT NOT NULL DEFAULT 'th' CHECK (language IN ('th', 'en')),
  updated_at BIGINT NOT NULL
);
CREATE INDEX user_contacts_email ON user_contacts (email);
CREATE TABLE mail_optouts (
  user_id BIGINT NOT NULL REFERENCES users(id),
  topic TEXT NOT NULL,
  PRIMARY KEY (user_id, topic)
);
CREATE TABLE notifications (
  id {ID},
  user_id BIGINT NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL,
  subject_th TEXT NOT NULL,
  subject_en TEXT NOT NULL,
  body_th TEXT NOT NULL DEFAULT '',
  body_en TEXT NOT NULL DEFAULT '',
  link TEXT NOT NULL DEFAULT '',
  dedup_key TEXT UNIQUE,
  created_at BIGINT NOT NULL,
  read_at BIGINT
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id, read_at);
CREATE TABLE outbox (
  id {ID},
  user_id BIGINT REFERENCES users(id),
  address TEXT NOT NULL,
  language TEXT NOT NULL CHECK (language IN ('th', 'en')),
  kind TEXT NOT NULL,
  subject TEXT NOT NULL,
  body TEXT NOT NULL,
  link TEXT NOT NULL DEFAULT '',
  dedup_key TEXT UNIQUE,
  created_at BIGINT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('waiting', 'sent', 'failed')),
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_until BIGINT,
  sent_at BIGINT,
  last_error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);
CREATE INDEX outbox_created ON outbox (created_at, id);
CREATE TABLE password_resets (
  token_hash TEXT PRIMARY KEY,
  user_id BIGINT NOT NULL REFERENCES users(id),
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  used_at BIGINT
);
CREATE INDEX password_resets_user ON password_resets (user_id)
)SQL"},
      // Data files an agency uploads for a KPI in a round, from which esar computes the KPI's
      // variables instead of their being typed in (issue 11: case logs, data catalogs). One row
      // per upload of a kind ('case_log', ...) with its files kept in the evidence file store by
      // SHA-256; a newer upload of the same kind for the same agency, KPI and round replaces the
      // older (replaced_by), which is kept. summary_json holds what was computed (counts, the
      // result); submission_id and revision name the draft revision the upload made, when its
      // kind fills reported variables. case_verdicts keeps each case's verdict of a case log
      // (its line order in seq; verdict is 'on_time', 'late' or the reason it is not counted).
      {17, "data files per KPI and case verdicts", R"SQL(
CREATE TABLE data_uploads (
  id {ID},
  round_id BIGINT NOT NULL REFERENCES rounds(id),
  agency_code TEXT NOT NULL REFERENCES agencies(code),
  kpi TEXT NOT NULL,
  kind TEXT NOT NULL,
  uploaded_by BIGINT REFERENCES users(id),
  uploaded_at BIGINT NOT NULL,
  replaced_by BIGINT REFERENCES data_uploads(id),
  summary_json TEXT NOT NULL DEFAULT '{}',
  submission_id BIGINT REFERENCES submissions(id),
  revision INTEGER
);
CREATE INDEX data_uploads_of ON data_uploads (round_id, agency_code, kpi, kind, id);
CREATE TABLE data_upload_files (
  upload_id BIGINT NOT NULL REFERENCES data_uploads(id),
  role TEXT NOT NULL,
  name TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size BIGINT NOT NULL,
  sha256 TEXT NOT NULL,
  PRIMARY KEY (upload_id, role)
);
CREATE TABLE case_verdicts (
  upload_id BIGINT NOT NULL REFERENCES data_uploads(id),
  seq INTEGER NOT NULL,
  case_id TEXT NOT NULL,
  kind TEXT NOT NULL,
  received TEXT NOT NULL,
  completed TEXT,
  verdict TEXT NOT NULL,
  class_id TEXT,
  standard TEXT,
  due TEXT,
  paused_days INTEGER NOT NULL,
  late_days INTEGER NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
CREATE INDEX case_verdicts_verdict ON case_verdicts (upload_id, verdict, seq)
)SQL"},
      // Password-reset e-mails no longer carry their token in the outbox: the mail worker makes
      // it as it sends (service::PasswordResets::IssueLink). Links written before are cut to
      // the page's address, so that no usable token stays at rest; an e-mail still waiting gets
      // a fresh token when it goes, and one already sent keeps working from the mailbox.
      {18, "no reset token at rest in the outbox", R"SQL(
UPDATE outbox SET link = '/password/reset' WHERE kind = 'password.reset' AND link <> '/password/reset'
)SQL"},
      // A round's KPI rows (200,000 at every local government's scale) go into result_kpis'
      // primary key (result_id, agency_code, kpi), whose text comparisons went through the
      // database's locale collation on PostgreSQL (~35 ms of a 1.05 s computation and store
      // at 8,000 agencies x 25 KPIs). Those columns are ASCII codes and ids, which no page sorts as
      // words (Thai order comes from agencies.sort_key): compared byte by byte, as SQLite compares
      // them, both backends give one order. result_totals (one row per agency, joined with agencies
      // on their codes by the pages) keeps the database's collation, so those joins still use the
      // agencies' index.
      {19, "KPI rows compared byte by byte", "SELECT 1", KpiRowsInByteOrder},
      // A round can open for reports on a later day than it is set up (NULL: reports from its
      // opening). The round's audited state gains the column, so every round recorded before is
      // re-baselined (see migration 13) rather than reported as changed behind esar's back.
      {20, "round start dates", R"SQL(
ALTER TABLE rounds ADD COLUMN starts_at BIGINT;
INSERT INTO audit_rebaselines (entity, migration)
  SELECT 'round/' || CAST(id AS TEXT), 20 FROM rounds
)SQL"},
      // Every index of result_totals is written for each of a computation's rows (8,000 at
      // every local government's scale: with seven indexes the rows took 190-240 ms to store on
      // PostgreSQL, 90 ms with the primary key alone). Three serve no query: result_totals_parent
      // (result_id, parent, kind) is a prefix of result_totals_by_parent; result_totals_total
      // (result_id, total) of result_totals_score, and no query orders by total descending with
      // NULLs first; result_totals_list (result_id, agency_code, ...) covered the SQL list's
      // lookups by code, which the primary key serves (the pages find their 50 codes in the
      // list index kept in memory, then read those rows).
      {21, "fewer result_totals indexes", R"SQL(
DROP INDEX result_totals_parent;
DROP INDEX result_totals_total;
DROP INDEX result_totals_list
)SQL"},
      // An evidence file a reporter removed from a draft (attached by mistake): its row and bytes
      // stay (the audit log names them and `esar audit verify` checks the bytes), the removal is
      // a row of its own, so the evidence rows are never changed in place and the submissions'
      // audited states recorded before stay right.
      {22, "evidence removed from drafts", R"SQL(
CREATE TABLE evidence_removals (
  evidence_id BIGINT PRIMARY KEY REFERENCES evidence(id),
  submission_id BIGINT NOT NULL REFERENCES submissions(id),
  removed_by BIGINT REFERENCES users(id),
  removed_at BIGINT NOT NULL
);
CREATE INDEX evidence_removals_submission ON evidence_removals (submission_id, evidence_id)
)SQL"},
      // A data catalog's datasets as checked (issue 11 §3): one row per dataset of a catalog
      // upload (data_uploads.kind 'catalog'), in file order (seq from 1, line where it starts),
      // complete 1 when its 14 metadata items are right, else 0 with its faults as JSON
      // [{"field", "kind", "value"}] (the labels are derived when read). The index serves the
      // complete / incomplete filter in file order. The data upload's audited state gains these
      // rows, so every upload recorded before is re-baselined (see migration 13).
      {23, "data catalog datasets", R"SQL(
CREATE TABLE catalog_datasets (
  upload_id BIGINT NOT NULL REFERENCES data_uploads(id),
  seq INTEGER NOT NULL,
  line BIGINT NOT NULL,
  name TEXT NOT NULL,
  title TEXT NOT NULL,
  complete INTEGER NOT NULL,
  faults_json TEXT NOT NULL,
  PRIMARY KEY (upload_id, seq)
);
CREATE INDEX catalog_datasets_complete ON catalog_datasets (upload_id, complete, seq);
INSERT INTO audit_rebaselines (entity, migration)
  SELECT 'data_upload/' || CAST(id AS TEXT), 23 FROM data_uploads
)SQL"},
      // An agency's contact e-mail address (issue 12 §2), '' for none. The agencies' audited
      // state gains the column, so the directory recorded before is re-baselined (migration 13).
      {24, "agency e-mail addresses", R"SQL(
ALTER TABLE agencies ADD COLUMN email TEXT NOT NULL DEFAULT '';
INSERT INTO audit_rebaselines (entity, migration)
  SELECT 'agencies', 24 WHERE EXISTS (SELECT 1 FROM agencies)
)SQL"},
      // The dataset page lists a catalog's datasets in Thai order of their titles too, paged in
      // SQL: each dataset keeps the ICU Thai collation key of its title (as agencies.sort_key;
      // derived, so not part of the upload's audited state), filled here for the rows before.
      {28, "catalog dataset title keys", R"SQL(
ALTER TABLE catalog_datasets ADD COLUMN title_key {BLOB};
CREATE INDEX catalog_datasets_title ON catalog_datasets (upload_id, title_key, seq)
)SQL",
       FillCatalogTitleKeys},
      // The review queue in its default order (last changed first or last, every status) walks
      // this index to its page instead of sorting every submission: 200,000 a round at every
      // local government's scale.
      {29, "queue order index", R"SQL(
CREATE INDEX submissions_updated ON submissions (updated_at, id)
)SQL"},
      // A result's rows are written at once and never added to: on PostgreSQL each result's
      // are a partition of result_totals and of result_kpis, loaded bare and indexed after
      // (storage/result_rows.h).
      {30, "result rows partitioned by result", "SELECT 1", ResultRowsPartitionedByResult},
      // On SQLite a computation's values are read by agency (342,000 at every local
      // government's scale) and its KPI rows written in key order (216,000): kept in their
      // primary keys' order (WITHOUT ROWID), observations and result_kpis are one B-tree each
      // instead of a table and its key beside it, with every key written twice. And a check of
      // `status IN` four words made SQLite build a lookup table of them for every INSERT run;
      // compared with each word in turn, it costs nothing to speak of. In a C program, 216,000 KPI
      // rows took 340-560 ms to insert (100 a statement) before, 186-270 ms after; reading a
      // round's values 500 agencies at a time, 248-313 ms before, 156-209 ms after. PostgreSQL
      // keeps its tables: its heap and key are what it has, and its check is an array's.
      {31, "SQLite rows kept in key order", "SELECT 1", SqliteRowsInKeyOrder},
  };
  return kMigrations;
}

namespace {
// When a migration ran, for people reading schema_migrations; nothing depends on it.
int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
}  // namespace

std::string ForDialect(const std::string& sql, Dialect dialect) {
  auto replace_all = [](std::string text, const std::string& from, const std::string& to) {
    for (size_t at = text.find(from); at != std::string::npos;
         at = text.find(from, at + to.size())) {
      text.replace(at, from.size(), to);
    }
    return text;
  };
  const bool pg = dialect == Dialect::kPostgres;
  std::string out = replace_all(
      sql, "{ID}",
      pg ? "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY" : "INTEGER PRIMARY KEY");
  out = replace_all(out, "{REAL}", pg ? "DOUBLE PRECISION" : "REAL");
  // SQLite orders NULL first in an ascending index and says nothing; PostgreSQL must be told.
  out = replace_all(out, "{NULLS_FIRST}", pg ? " NULLS FIRST" : "");
  return replace_all(out, "{BLOB}", pg ? "BYTEA" : "BLOB");
}

namespace {

constexpr const char* kCreateSchemaMigrations =
    "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT "
    "NULL, applied_at BIGINT NOT NULL)";

// Inside a transaction: one process migrates at a time (SQLite's write lock does this there).
Status LockMigrations(Database& db) {
  if (db.dialect() != Dialect::kPostgres) return Status::Ok();
  return db.Execute("SELECT pg_advisory_xact_lock(7263170)");
}

}  // namespace

Result<int> SchemaVersion(Database& db) {
  Status created = db.Execute(kCreateSchemaMigrations);
  if (!created.ok()) return created;
  auto rows = db.Query("SELECT COALESCE(MAX(version), 0) FROM schema_migrations");
  if (!rows) return rows.status();
  return static_cast<int>((*rows)[0].Int(0));
}

Status Migrate(Database& db) {
  return MigrateTo(db, AllMigrations().empty() ? 0 : AllMigrations().back().version);
}

Status MigrateTo(Database& db, int version) {
  // The table of applied migrations is made under the migrations' lock too: IF NOT EXISTS is no
  // guard against another process creating it at the same moment (PostgreSQL then fails one of
  // them on a unique index of its catalog), and several servers may start at once on a new
  // database.
  Status made = db.Transaction([&]() -> Status {
    Status locked = LockMigrations(db);
    if (!locked.ok()) return locked;
    return db.Execute(kCreateSchemaMigrations);
  });
  if (!made.ok()) return made;
  auto current = SchemaVersion(db);
  if (!current) return current.status();
  const int newest = AllMigrations().empty() ? 0 : AllMigrations().back().version;
  if (*current > newest) {
    return Status::InvalidInput(
        "ฐานข้อมูลใช้โครงสร้างรุ่น " + std::to_string(*current) + " ซึ่งใหม่กว่าที่โปรแกรมนี้รู้จัก (" +
            std::to_string(newest) + ") ให้ใช้ esar รุ่นใหม่กว่า",
        "the database has schema version " + std::to_string(*current) +
            ", newer than this esar knows (" + std::to_string(newest) + "): use a newer esar");
  }
  for (const Migration& m : AllMigrations()) {
    if (m.version > version) break;
    Status applied = db.Transaction([&]() -> Status {
      Status locked = LockMigrations(db);
      if (!locked.ok()) return locked;
      // Checked again inside the lock: another process may have applied it meanwhile.
      auto done = db.Query("SELECT 1 FROM schema_migrations WHERE version = ?",
                           {static_cast<int64_t>(m.version)});
      if (!done) return done.status();
      if (!done->empty()) return Status::Ok();
      Status run = db.ExecuteScript(ForDialect(m.sql, db.dialect()));
      if (!run.ok()) return run;
      if (m.data) {
        Status data = m.data(db);
        if (!data.ok()) return data;
      }
      if (m.after) {
        Status after = db.ExecuteScript(ForDialect(m.after, db.dialect()));
        if (!after.ok()) return after;
      }
      return db.Execute(
          "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
          {static_cast<int64_t>(m.version), std::string(m.name), NowMs()});
    });
    if (!applied.ok()) return applied;
  }
  return Status::Ok();
}

}  // namespace esar::storage
