#include "service/audit_state.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <string_view>
#include <variant>

#include "common/text.h"
#include "security/crypto.h"

namespace esar::service {
namespace {

// Rows of one table that belong to an entity: `select` lists the columns (from `from`),
// `key` is the column that names the entity (empty: the whole table is one entity).
struct Part {
  const char* select;
  const char* key;
};

struct Kind {
  const char* name;  // "submission" for submission/<id>; "agencies" for the whole table
  bool has_id;
  std::vector<Part> parts;  // the first holds the entity's own row: no rows, no entity
  const char* list;         // SELECT of the ids of every entity of the kind (has_id only)
};

const std::vector<Kind>& Kinds() {
  static const std::vector<Kind> kKinds = {
      {"submission",
       true,
       {{"SELECT id, round_id, agency_code, kpi, status, revision, updated_at FROM submissions",
         "id"},
        {"SELECT revision, status, values_json, explanation, problems, remarks, actor, at, "
         "comment FROM submission_revisions",
         "submission_id"},
        {"SELECT id, name, media_type, size, sha256, uploaded_by, uploaded_at, replaced_by FROM "
         "evidence",
         "submission_id"},
        {"SELECT id, revision, evaluator, decision, verified_json, comment, at FROM reviews",
         "submission_id"},
        {"SELECT n.review_id, n.evidence_id, n.note FROM evidence_notes n JOIN reviews r ON r.id "
         "= n.review_id",
         "r.submission_id"}},
       "SELECT id FROM submissions"},
      // An evidence file removed from a draft (migration 22), recorded with the submission's
      // entry ("evidence.remove") as an entity of its own, so that the submissions' states
      // recorded before removals existed stay right.
      {"evidence_removal",
       true,
       {{"SELECT evidence_id, submission_id, removed_by, removed_at FROM evidence_removals",
         "evidence_id"}},
       "SELECT evidence_id AS id FROM evidence_removals"},
      {"result",
       true,
       {{"SELECT id, framework_id, round, stage, document, computed_by, computed_at, "
         "appeal_deadline, rows_from FROM results",
         "id"},
        {"SELECT agency_code, kind, parent, total, grade, scored_weight, status, inputs, "
         "explanation FROM result_totals",
         "result_id"},
        {"SELECT agency_code, kpi, parent_kpi, kpi_key, status, result, score, level, group_id, "
         "weight, weighted FROM result_kpis",
         "result_id"}},
       "SELECT id FROM results"},
      {"appeal",
       true,
       {{"SELECT id, result_id, agency_code, kpi, reason, filed_by, filed_at, status, "
         "decision_reason, decided_by, decided_at FROM appeals",
         "id"}},
       "SELECT id FROM appeals"},
      {"user",
       true,
       {{"SELECT id, username, display_name, password_hash, role, agency_code, active, created_at "
         "FROM users",
         "id"}},
       "SELECT id FROM users"},
      // A user's e-mail address, language and the mail they turned off: apart from the user's
      // row so that the digests recorded before these existed stay right; audited because an
      // address changed behind esar's back would receive that user's password-reset links.
      {"contact",
       true,
       {{"SELECT user_id, email, language, updated_at FROM user_contacts", "user_id"},
        {"SELECT topic FROM mail_optouts", "user_id"}},
       "SELECT user_id AS id FROM user_contacts"},
      {"round",
       true,
       {{"SELECT id, framework_id, round, deadline, closed_at, starts_at FROM rounds", "id"},
        {"SELECT agency_code, deadline, granted_by, granted_at FROM extensions", "round_id"},
        {"SELECT id, reopened_by, reopened_at, reason, deadline, after_result FROM "
         "round_reopenings",
         "round_id"}},
       "SELECT id FROM rounds"},
      {"framework",
       true,
       {{"SELECT id, fiscal_year, agency_kind, version, document, diff, imported_by, imported_at, "
         "frozen_at FROM frameworks",
         "id"}},
       "SELECT id FROM frameworks"},
      {"question",
       true,
       {{"SELECT id, fiscal_year, through_year, agency_kind, kpi, agency_code, asked_by, asked_at, "
         "question, answer, answered_by, answered_at, published, number FROM questions",
         "id"}},
       "SELECT id FROM questions"},
      {"announcement",
       true,
       {{"SELECT id, fiscal_year, agency_kind, title, body, posted_by, posted_at FROM "
         "announcements",
         "id"},
        {"SELECT id, name, media_type, size, sha256, uploaded_by, uploaded_at FROM "
         "announcement_files",
         "announcement_id"}},
       "SELECT id FROM announcements"},
      // An agency's data upload for a KPI (a case log, a data catalog): the upload, its files'
      // records and, for a case log, every case's verdict; for a catalog, every dataset.
      {"data_upload",
       true,
       {{"SELECT id, round_id, agency_code, kpi, kind, uploaded_by, uploaded_at, replaced_by, "
         "summary_json, submission_id, revision FROM data_uploads",
         "id"},
        {"SELECT role, name, media_type, size, sha256 FROM data_upload_files", "upload_id"},
        {"SELECT seq, case_id, kind, received, completed, verdict, class_id, standard, due, "
         "paused_days, late_days FROM case_verdicts",
         "upload_id"},
        {"SELECT seq, line, name, title, complete, faults_json FROM catalog_datasets",
         "upload_id"}},
       "SELECT id FROM data_uploads"},
      {"agencies",
       false,
       {{"SELECT code, name_th, name_en, kind, parent, email FROM agencies", ""}},
       ""},
      {"observations",
       false,
       {{"SELECT agency_code, kpi, variable, fiscal_year, round, value, source FROM observations",
         ""}},
       ""},
      {"past_results",
       false,
       {{"SELECT fiscal_year, round, agency_code, kpi_key, result, score FROM past_results", ""}},
       ""},
  };
  return kKinds;
}

// The kind of `entity` and its id (0 for whole-table kinds); null when it has no digest.
const Kind* KindOf(const std::string& entity, int64_t* id) {
  for (const Kind& kind : Kinds()) {
    const std::string name = kind.name;
    if (!kind.has_id) {
      if (entity == name) {
        *id = 0;
        return &kind;
      }
      continue;
    }
    if (entity.size() <= name.size() + 1 || entity.compare(0, name.size(), name) != 0 ||
        entity[name.size()] != '/')
      continue;
    const char* begin = entity.data() + name.size() + 1;
    const char* end = entity.data() + entity.size();
    const auto [ptr, ec] = std::from_chars(begin, end, *id);
    if (ec == std::errc() && ptr == end && *id > 0) return &kind;
  }
  return nullptr;
}

// One value as text that no other row can share: its length before it, NULL marked. The text
// is Row::Text's (numbers as ShortestDecimal prints them), written without a string per value.
void EncodeValue(const storage::Value& v, std::string& out) {
  char number[kShortestDecimalMax];
  std::string_view text;
  if (std::holds_alternative<std::monostate>(v)) {
    out += "-;";
    return;
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    text = *s;
  } else if (const auto* b = std::get_if<storage::Blob>(&v)) {
    text = b->bytes;
  } else if (const auto* n = std::get_if<int64_t>(&v)) {
    text = std::string_view(number, static_cast<size_t>(
                                        std::to_chars(number, number + sizeof number, *n).ptr -
                                        number));
  } else {
    text = std::string_view(number, ShortestDecimalTo(std::get<double>(v), number));
  }
  char length[24];
  out.append(length, static_cast<size_t>(
                         std::to_chars(length, length + sizeof length, text.size()).ptr - length));
  out += ':';
  out += text;
  out += ';';
}

}  // namespace

void EncodedRows::Add(const storage::Value* values, size_t count, size_t nulls) {
  for (size_t i = 0; i < count; ++i) EncodeValue(values[i], bytes_);
  for (size_t i = 0; i < nulls; ++i) bytes_ += "-;";
  ends_.push_back(bytes_.size());
}

void EncodedRows::Add(const storage::Row& row) {
  for (size_t i = 0; i < row.size(); ++i) EncodeValue(row[i], bytes_);
  ends_.push_back(bytes_.size());
}

std::string EncodeValues(const std::vector<storage::Value>& values) {
  std::string out;
  for (const storage::Value& v : values) EncodeValue(v, out);
  return out;
}

bool HasStateDigest(const std::string& entity) {
  int64_t id = 0;
  return KindOf(entity, &id) != nullptr;
}

Result<EntityState> StateOf(storage::Database& db, const std::string& entity) {
  auto parts = ReadParts(db, entity);
  if (!parts) return parts.status();
  return StateOfParts(entity, *parts);
}

Result<std::vector<EncodedRows>> ReadParts(storage::Database& db, const std::string& entity,
                                           const std::vector<size_t>& skip) {
  int64_t id = 0;
  const Kind* kind = KindOf(entity, &id);
  if (!kind) return Status::Internal("no state digest for " + entity);
  std::vector<EncodedRows> parts(kind->parts.size());
  for (size_t p = 0; p < kind->parts.size(); ++p) {
    if (std::find(skip.begin(), skip.end(), p) != skip.end()) continue;
    const Part& part = kind->parts[p];
    auto found = kind->has_id
                     ? db.Query(std::string(part.select) + " WHERE " + part.key + " = ?", {id})
                     : db.Query(part.select);
    if (!found) return found.status();
    for (const storage::Row& r : *found) parts[p].Add(r);
  }
  return parts;
}

namespace {

// The bytes of `row`'s first value as EncodeValue writes it ("-;" or "<length>:<text>;"); empty
// when `row` does not begin with one.
std::string_view FirstValueOf(std::string_view row) {
  if (row.substr(0, 2) == "-;") return row.substr(0, 2);
  size_t length = 0;
  const auto [end, error] = std::from_chars(row.data(), row.data() + row.size(), length);
  const size_t colon = static_cast<size_t>(end - row.data());
  if (error != std::errc() || colon >= row.size() || row[colon] != ':') return {};
  const size_t after_colon = row.size() - colon - 1;
  if (length >= after_colon || row[colon + 1 + length] != ';') return {};
  return row.substr(0, colon + 2 + length);
}

// Sorts `rows` (encoded rows of one part) byte by byte. A part's rows usually come grouped by
// their first value, the groups in order (a result's KPI rows agency by agency, in code order, as
// a computation writes them): then only each group is sorted (27 rows at a time for 216,000
// KPI rows, instead of all together). A first value encoded is never the start of another, so
// every row of a smaller first value sorts before every row of a greater one.
void SortRows(std::vector<std::string_view>& rows) {
  std::string_view previous;
  for (size_t begin = 0; begin < rows.size();) {
    const std::string_view first = FirstValueOf(rows[begin]);
    if (first.empty() || (begin > 0 && !(previous < first))) {
      std::sort(rows.begin(), rows.end());
      return;
    }
    size_t end = begin + 1;
    while (end < rows.size() && rows[end].substr(0, first.size()) == first) ++end;
    std::sort(rows.begin() + static_cast<std::ptrdiff_t>(begin),
              rows.begin() + static_cast<std::ptrdiff_t>(end));
    previous = first;
    begin = end;
  }
}

}  // namespace

EntityState StateOfParts(const std::string& entity, const std::vector<EncodedRows>& parts) {
  security::Sha256 digest;
  digest.Update("esar-state/1\n" + entity + "\n");
  EntityState out;
  out.exists = !parts.empty() && !parts[0].empty();
  std::string hashed;  // what goes into the digest next, up to a megabyte at a time
  for (size_t p = 0; p < parts.size(); ++p) {
    const EncodedRows& rows = parts[p];
    std::vector<std::string_view> encoded;
    encoded.reserve(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) encoded.push_back(rows[i]);
    // Sorted here rather than by SQL: SQLite and PostgreSQL collate text differently, and the
    // digest must not depend on the engine (a backup moves between them).
    SortRows(encoded);
    hashed += "part " + std::to_string(p) + " " + std::to_string(encoded.size()) + "\n";
    // Each row as "<length>:<row>\n", hashed a megabyte at a time rather than in three small
    // pieces a row (the same bytes, so the same digest).
    for (const std::string_view e : encoded) {
      char length[24];
      hashed.append(length, static_cast<size_t>(
                                std::to_chars(length, length + sizeof length, e.size()).ptr -
                                length));
      hashed += ':';
      hashed += e;
      hashed += '\n';
      if (hashed.size() >= (1u << 20)) {
        digest.Update(hashed);
        hashed.clear();
      }
    }
  }
  digest.Update(hashed);
  out.digest = digest.FinishHex();
  return out;
}

Result<std::vector<std::string>> LiveEntities(storage::Database& db) {
  std::vector<std::string> out;
  for (const Kind& kind : Kinds()) {
    if (!kind.has_id) {
      auto rows = db.Query(std::string("SELECT COUNT(*) FROM (") + kind.parts[0].select + ") t");
      if (!rows) return rows.status();
      if ((*rows)[0].Int(0) > 0) out.emplace_back(kind.name);
      continue;
    }
    auto rows = db.Query(std::string(kind.list) + " ORDER BY id");
    if (!rows) return rows.status();
    for (const storage::Row& r : *rows) out.push_back(std::string(kind.name) + "/" + r.Text(0));
  }
  return out;
}

}  // namespace esar::service
