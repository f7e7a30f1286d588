#include "service/results.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <future>
#include <iterator>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>

#include "common/text.h"
#include "common/thai.h"
#include "domain/engine.h"
#include "domain/from_agencies.h"
#include "formats/report.h"
#include "service/audit.h"
#include "service/audit_state.h"
#include "service/directory.h"
#include "service/history.h"
#include "service/mail_texts.h"
#include "service/notify.h"
#include "service/peer_results.h"
#include "storage/result_rows.h"

namespace esar::service {
namespace {

using nlohmann::json;

Result<ResultStage> ParseStage(const std::string& s) {
  if (s == "preliminary") return ResultStage::kPreliminary;
  if (s == "final") return ResultStage::kFinal;
  if (s == "published") return ResultStage::kPublished;
  return Status::Internal("unknown result stage " + s);
}

// The stages `actor` may read, from `stage` on, as an SQL list of constants: the public sees only
// what is published, whatever it asks for.
std::string VisibleStages(const Actor& actor, ResultStage stage) {
  const bool public_only = actor.Is(Role::kPublic);
  std::string stages = "'published'";
  if (!public_only && stage != ResultStage::kPublished) stages += ", 'final'";
  if (!public_only && stage == ResultStage::kPreliminary) stages += ", 'preliminary'";
  return stages;
}

}  // namespace

const char* ResultStageName(ResultStage stage) {
  switch (stage) {
    case ResultStage::kPreliminary:
      return "preliminary";
    case ResultStage::kFinal:
      return "final";
    case ResultStage::kPublished:
      return "published";
  }
  return "preliminary";
}

namespace {

// Framework versions parsed once per process, by id and the hash of their text (ids alone repeat
// across databases, as in tests). A result's framework version is frozen (opening a round
// freezes it) and never changes, so only its text is read again, not parsed.
Result<std::shared_ptr<const StoredFramework>> FrozenFramework(storage::Database& db, Cycle& cycle,
                                                               int64_t id) {
  static std::mutex mutex;
  static std::map<std::pair<int64_t, size_t>, std::shared_ptr<const StoredFramework>>
      cache;  // guarded by mutex
  auto text = db.Query("SELECT document FROM frameworks WHERE id = ?", {id});
  if (!text) return text.status();
  if (text->empty()) return Status::NotFound("ไม่มีเกณฑ์การประเมินนี้", "no such framework");
  const std::pair<int64_t, size_t> key = {id, std::hash<std::string>()((*text)[0].Text(0))};
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto found = cache.find(key);
    if (found != cache.end()) return found->second;
  }
  auto loaded = cycle.Framework(id);
  if (!loaded) return loaded.status();
  auto shared = std::make_shared<const StoredFramework>(std::move(*loaded));
  if (shared->frozen) {
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= 256) cache.clear();  // a few dozen versions a year
    cache.emplace(key, shared);
  }
  return shared;
}

double RealOrNaN(const storage::Row& r, size_t i) {
  return r.IsNull(i) ? std::numeric_limits<double>::quiet_NaN() : r.Real(i);
}

storage::Value RealOrNull(double v) { return std::isnan(v) ? storage::Value{} : storage::Value{v}; }

// `text` as a JSON string, appended to `out`. The runs between characters to escape are
// appended whole: InputsJson writes ~700,000 KPI ids and variable names for one computation,
// and appending a character at a time took about a third of its time in a profile.
void AppendJsonString(const std::string& text, std::string& out) {
  out += '"';
  size_t run = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(text, run, i - run);
    run = i + 1;
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += fmt::format("\\u{:04x}", static_cast<int>(c));
    }
  }
  out.append(text, run, std::string::npos);
  out += '"';
}

// The values an agency was scored from, as result_totals.inputs keeps them: its names and every
// observation of it the framework's KPIs read, numbers at full precision (shortest round trip),
// a baseline esar filled in with where it came from. Written directly: 8,000 of these are made
// in the time of one computation.
std::string InputsJson(const domain::Agency& agency,
                       const std::vector<const domain::Observation*>& observations) {
  std::string out = "{\"name\":{\"th\":";
  AppendJsonString(agency.name.th, out);
  out += ",\"en\":";
  AppendJsonString(agency.name.en, out);
  out += "},\"values\":[";
  bool first = true;
  for (const domain::Observation* o : observations) {
    out += first ? "[" : ",[";
    first = false;
    AppendJsonString(o->kpi, out);
    out += ',';
    AppendJsonString(o->variable, out);
    // std::to_chars, not fmt: parsing a format string for each value took almost half of
    // InputsJson's time in a profile.
    char number[kShortestDecimalMax];
    for (const int n : {o->fiscal_year, o->round}) {
      out += ',';
      out.append(number, static_cast<size_t>(std::to_chars(number, number + sizeof number, n).ptr -
                                             number));
    }
    out += ",[";
    for (size_t i = 0; i < o->values.size(); ++i) {
      if (i) out += ',';
      const double v = o->values[i];
      if (std::isfinite(v)) {
        out.append(number, ShortestDecimalTo(v, number));
      } else {
        out += "null";
      }
    }
    out += ']';
    if (!o->source.empty()) {
      out += ',';
      AppendJsonString(o->source, out);
    }
    out += ']';
  }
  out += "]}";
  return out;
}

// InputsJson read back: the agency (code, kind and parent from its row) and its observations.
Status ParseInputs(const std::string& text, domain::Agency& agency,
                   std::vector<domain::Observation>& observations) {
  const json inputs = json::parse(text, nullptr, false);
  if (!inputs.is_object() || !inputs["values"].is_array() || !inputs["name"].is_object())
    return Status::DataLoss("ข้อมูลที่ใช้คำนวณผลของหน่วยงาน " + agency.code + " อ่านไม่ได้",
                            "the values agency " + agency.code + " was scored from cannot be read");
  agency.name.th = inputs["name"].value("th", "");
  agency.name.en = inputs["name"].value("en", "");
  for (const json& v : inputs["values"]) {
    if (!v.is_array() || v.size() < 5 || v.size() > 6 || !v[4].is_array())
      return Status::DataLoss(
          "ข้อมูลที่ใช้คำนวณผลของหน่วยงาน " + agency.code + " อ่านไม่ได้",
          "the values agency " + agency.code + " was scored from cannot be read");
    domain::Observation o;
    o.agency = agency.code;
    o.kpi = v[0].get<std::string>();
    o.variable = v[1].get<std::string>();
    o.fiscal_year = v[2].get<int>();
    o.round = v[3].get<int>();
    for (const json& n : v[4])
      o.values.push_back(n.is_number() ? n.get<double>()
                                       : std::numeric_limits<double>::quiet_NaN());
    if (v.size() == 6) o.source = v[5].get<std::string>();
    observations.push_back(std::move(o));
  }
  return Status::Ok();
}

// The KPI scores of one agency, each with its parent's id ("" at the top): `k`, then its sub-KPIs
// under it. Pointers into the scores, which outlive them.
void AppendKpiOrder(const domain::KpiScore& k, const std::string* parent,
                    std::vector<std::pair<const domain::KpiScore*, const std::string*>>& out) {
  out.emplace_back(&k, parent);
  for (const domain::KpiScore& sub : k.sub_kpis) AppendKpiOrder(sub, &k.kpi, out);
}

}  // namespace

// The engine of `stored` for `round`: compiled once for a frozen framework (which never
// changes), afresh for one still being edited. Compiling a framework that names thousands of
// agencies costs more than scoring one of them. Keyed by the parsed framework FrozenFramework
// gives (ids alone repeat across databases, as in tests); each entry holds that framework, so
// its address is not reused while the entry lives.
Result<std::shared_ptr<SharedEngine>> EngineFor(
    const std::shared_ptr<const StoredFramework>& stored, int round) {
  struct Entry {
    std::shared_ptr<const StoredFramework> framework;
    std::shared_ptr<SharedEngine> engine;
  };
  static std::mutex mutex;
  static std::map<std::pair<const StoredFramework*, int>, Entry> cache;  // guarded by mutex
  const auto key = std::make_pair(stored.get(), round);
  if (stored->frozen) {
    std::lock_guard<std::mutex> lock(mutex);
    const auto found = cache.find(key);
    if (found != cache.end()) return found->second.engine;
  }
  auto engine = domain::Engine::Compile(stored->framework, round);
  if (!engine) return engine.status();
  auto shared = std::make_shared<SharedEngine>(std::move(*engine));
  if (stored->frozen) {
    std::lock_guard<std::mutex> lock(mutex);
    if (cache.size() >= 64) cache.clear();  // a few dozen framework versions and rounds a year
    cache.emplace(key, Entry{stored, shared});
  }
  return shared;
}

namespace {
// Agencies scored together in ScoreAndStore: their values and scores take a few MB, which a
// later slice uses again. The round's all at once took over 100 MB at 8,000 agencies x 25 KPIs,
// and much of the computation's time went to page faults on memory touched for the first time
// (issue 9). Within History's limit for reading a page's agencies apart.
constexpr size_t kAgenciesPerSlice = 500;

// One slice of a round's agencies as ScoreAndStore scores and stores them.
struct ScoredSlice {
  std::vector<domain::Agency> agencies;
  std::vector<domain::PastResult> past;           // the earlier results their baselines come from
  std::vector<domain::Observation> observations;  // every value they were scored from
  std::vector<domain::AgencyScore> scores;
  std::vector<std::vector<storage::Value>> totals;  // their rows of result_totals
};

// True when `reader` reads the database `db` writes, so that it may read a slice's values for
// it. A SQLite connection reads another's file only: an in-memory or temporary database is a
// connection's own. PostgreSQL's connections come from one pool, of one database.
bool ReadsTheSameDatabase(storage::Database& db, storage::Database& reader) {
  if (db.dialect() != reader.dialect()) return false;
  if (db.dialect() != storage::Dialect::kSqlite) return true;
  const std::string files = "SELECT file FROM pragma_database_list WHERE name = 'main'";
  auto written = db.Query(files);
  auto read = reader.Query(files);
  return written.ok() && read.ok() && written->size() == 1 && read->size() == 1 &&
         !(*written)[0].Text(0).empty() && (*written)[0].Text(0) == (*read)[0].Text(0);
}
}  // namespace

Result<json> Results::ScoreAndStore(const RoundInfo& round, int64_t id, const std::string& entity,
                                    std::vector<EncodedRows> parts, json* baselines,
                                    EntityState* state) {
  auto framework = FrozenFramework(db_, cycle_, round.framework_id);
  if (!framework) return framework.status();
  const domain::Framework& fw = (*framework)->framework;
  std::set<std::string> kpi_ids;
  std::unordered_map<std::string, std::string> key_of;  // the stable key across years
  std::function<void(const std::vector<domain::Kpi>&)> collect =
      [&](const std::vector<domain::Kpi>& kpis) {
        for (const domain::Kpi& k : kpis) {
          kpi_ids.insert(k.id);
          if (!k.key.empty()) key_of.emplace(k.id, k.key);
          collect(k.sub_kpis);
        }
      };
  collect(fw.kpis);
  // The values are read a slice at a time, by several statements: on PostgreSQL (read committed)
  // each sees what had committed before it began, so an import landing midway would have some
  // agencies scored from the values before it and some from those after. Imports wait for this
  // transaction instead. SQLite lets one writer in at a time, this transaction.
  if (db_.dialect() == storage::Dialect::kPostgres) {
    Status locked = db_.Execute("LOCK TABLE observations, past_results IN SHARE MODE");
    if (!locked.ok()) return locked;
  }
  auto agencies = Directory(db_, clock_).Agencies();
  if (!agencies) return agencies.status();
  // The KPI rows are stored in the order of result_kpis' primary key, agency codes and KPI ids
  // byte by byte (see insert_slice): PostgreSQL builds that key after the rows are in
  // (storage/result_rows.h), and its sort of rows already in order is one pass. In psql the key
  // of a round's 216,000 rows took 70 ms in that order, 156-188 ms in the framework's KPI order.
  std::sort(agencies->begin(), agencies->end(),
            [](const domain::Agency& a, const domain::Agency& b) { return a.code < b.code; });
  // The verified values of accepted submissions, kept per agency until its slice's values are made:
  // they follow its imported values, which they replace.
  std::unordered_map<std::string, std::vector<domain::Observation>> accepted_of;
  {
    auto accepted = reporting_.AcceptedValues(round.id);
    if (!accepted) return accepted.status();
    for (domain::Observation& o : *accepted) accepted_of[o.agency].push_back(std::move(o));
  }
  // The engine compiled once per frozen framework and round (EngineFor), which the answer's
  // cursor over the explanations and the agency reports then use as well. Should another thread be
  // scoring with it now (an agency's report), this computation compiles one of its own rather
  // than wait.
  auto shared = EngineFor(*framework, round.round);
  if (!shared) return shared.status();
  std::unique_lock<std::mutex> lock((*shared)->mutex, std::try_to_lock);
  std::optional<domain::Engine> own;
  if (!lock.owns_lock()) {
    auto compiled = domain::Engine::Compile(fw, round.round);
    if (!compiled) return compiled.status();
    own.emplace(std::move(*compiled));
  }
  domain::Engine& engine = own ? *own : (*shared)->engine;
  // KPIs computed from other agencies' results (domain/from_agencies.h) read this framework's
  // own results of every agency: such a framework is scored in one slice, its values read a
  // slice's worth at a time.
  const bool from_agencies = domain::HasFromAgencies(fw);
  std::vector<domain::PeerResult> peers;
  if (from_agencies) {
    auto read = PeerResultsFor(db_, fw, (*framework)->agency_kind, round.round);
    if (!read) return read.status();
    peers = std::move(*read);
  }
  const size_t per_slice =
      from_agencies ? std::max<size_t>(1, agencies->size()) : kAgenciesPerSlice;
  size_t from_results = 0;       // baselines filled from an earlier year's result
  size_t imported_in_place = 0;  // imported values kept in their place

  // Reads what agencies [begin, end) are scored from into `slice`, through `from` (this
  // transaction's connection or the reader): their imported values and the earlier results their
  // baselines come from. Only the database's part: the helper completes the values
  // (values_of_slice).
  auto read_slice = [&](storage::Database& from, size_t begin, size_t end,
                        ScoredSlice& slice) -> Status {
    slice.agencies.assign(agencies->begin() + static_cast<std::ptrdiff_t>(begin),
                          agencies->begin() + static_cast<std::ptrdiff_t>(end));
    slice.observations.clear();
    std::vector<std::string> codes;
    for (size_t at = begin; at < end; at += kAgenciesPerSlice) {
      codes.clear();
      for (size_t i = at; i < std::min(end, at + kAgenciesPerSlice); ++i)
        codes.push_back((*agencies)[i].code);
      Status read = Cycle(from, clock_).AppendObservationsOf(codes, slice.observations);
      if (!read.ok()) return read;
    }
    auto past = History(from, clock_).BaselineSources(fw, slice.agencies);
    if (!past) return past.status();
    slice.past = std::move(*past);
    return Status::Ok();
  };
  // The values `slice` is scored from (the helper's, after read_slice): its imported values,
  // those of its agencies' accepted submissions after them, and the baselines taken from earlier
  // results where no value was imported; those are kept with the inputs (and where they came
  // from, which the explanation says).
  auto values_of_slice = [&](ScoredSlice& slice) {
    for (const domain::Agency& a : slice.agencies) {
      auto found = accepted_of.find(a.code);
      if (found == accepted_of.end()) continue;
      slice.observations.insert(slice.observations.end(),
                                std::make_move_iterator(found->second.begin()),
                                std::make_move_iterator(found->second.end()));
      accepted_of.erase(found);
    }
    size_t kept = 0;
    from_results +=
        domain::FillBaselines(fw, slice.agencies, slice.past, slice.observations, &kept);
    imported_in_place += kept;
  };

  // Each row of result_totals and result_kpis is filled by fill_total or fill_kpi, for the insert
  // and for the digest alike: both see the same values.
  auto fill_total = [&](const domain::Agency& agency, const domain::AgencyScore& a,
                        std::string inputs, std::vector<storage::Value>& row) {
    row.emplace_back(id);
    row.emplace_back(a.agency);
    row.emplace_back(agency.kind);
    row.emplace_back(agency.parent);
    row.push_back(RealOrNull(a.total));
    row.push_back(a.grade >= 0 ? storage::Value{int64_t{a.grade}} : storage::Value{});
    row.emplace_back(a.scored_weight);
    row.emplace_back(std::string(std::isnan(a.total) ? "unscored" : "scored"));
    row.emplace_back(std::move(inputs));
  };
  auto fill_kpi = [&](const domain::AgencyScore& a, const domain::KpiScore& k,
                      const std::string& parent, std::vector<storage::Value>& row) {
    const auto key = key_of.find(k.kpi);
    row.emplace_back(id);
    row.emplace_back(a.agency);
    row.emplace_back(k.kpi);
    row.emplace_back(parent);
    row.emplace_back(key == key_of.end() ? std::string() : key->second);
    row.emplace_back(std::string(domain::KpiStatusName(k.status)));
    row.push_back(RealOrNull(k.result));
    row.push_back(RealOrNull(k.score));
    row.emplace_back(int64_t{k.level + 1});
    row.emplace_back(k.group);
    row.emplace_back(k.weight);
    row.emplace_back(k.weighted);
  };
  const std::string top;  // the parent of a top-level KPI
  using KpiOrder = std::vector<std::pair<const domain::KpiScore*, const std::string*>>;

  // The helper's share of a slice, on another thread while this one inserts the rows of the
  // slice before and reads the next: making its values (values_of_slice), scoring it (without
  // explanations: they are derived on request from the inputs kept), each agency's inputs (the
  // values it was scored from), its total's row, and its rows encoded for the state digest of
  // the result (audit_state.h). Only the helper touches the engine, `accepted_of`, the baseline
  // counts, `parts` and `totals`, one slice at a time (each joined before the next starts);
  // nothing changes the slice until it is joined.
  EncodedRows& totals_encoded = parts.at(1);
  EncodedRows& kpis_encoded = parts.at(2);
  json totals = json::object();
  auto score_slice = [&](ScoredSlice& slice) -> Status {
    slice.totals.clear();
    values_of_slice(slice);
    if (from_agencies) {
      auto from_peers =
          domain::FillFromAgencies(engine, round.round, slice.agencies, peers, slice.observations);
      if (!from_peers) return from_peers.status();
    }
    slice.scores = engine.Score(slice.agencies, slice.observations, false);
    static const std::vector<const domain::Observation*> kNone;
    std::unordered_map<std::string_view, std::vector<const domain::Observation*>> by_agency;
    // An agency's values come together, most of a KPI's too: the last agency's list and the
    // last KPI's answer are used again rather than looked up for each of ~20,000 values.
    std::vector<const domain::Observation*>* values_of = nullptr;  // values_agency's
    std::string_view values_agency;
    const std::string* kpi = nullptr;  // the last value's, a framework KPI when framework_kpi
    bool framework_kpi = false;
    for (const domain::Observation& o : slice.observations) {
      if (!kpi || o.kpi != *kpi) framework_kpi = kpi_ids.count(o.kpi) > 0;
      kpi = &o.kpi;
      if (!framework_kpi) continue;
      if (!values_of || o.agency != values_agency) {
        values_of = &by_agency[o.agency];
        values_agency = o.agency;
      }
      values_of->push_back(&o);
    }
    // Score skips agencies without KPIs: scores and agencies do not line up by position.
    std::unordered_map<std::string_view, const domain::Agency*> agency_of;
    for (const domain::Agency& a : slice.agencies) agency_of.emplace(a.code, &a);
    KpiOrder order;
    if (kpis_encoded.size() == 0 && !slice.scores.empty()) {
      // About as many rows for every agency as for the first, of ~80 bytes each.
      for (const domain::KpiScore& k : slice.scores.front().kpis) AppendKpiOrder(k, &top, order);
      kpis_encoded.Reserve(order.size() * agencies->size(), order.size() * agencies->size() * 88);
    }
    std::vector<storage::Value> row;
    for (const domain::AgencyScore& a : slice.scores) {
      const domain::Agency& agency = *agency_of.at(a.agency);
      const auto values = by_agency.find(a.agency);
      row.clear();
      fill_total(agency, a, InputsJson(agency, values == by_agency.end() ? kNone : values->second),
                 row);
      totals_encoded.Add(row.data() + 1, row.size() - 1, 1);  // not result_id; explanation: none
      slice.totals.push_back(std::move(row));
      totals[a.agency] = std::isnan(a.total) ? json(nullptr) : json(a.total);
      order.clear();
      for (const domain::KpiScore& k : a.kpis) AppendKpiOrder(k, &top, order);
      for (const auto& [k, parent] : order) {
        row.clear();
        fill_kpi(a, *k, *parent, row);
        kpis_encoded.Add(row.data() + 1, row.size() - 1);  // not result_id
      }
    }
    return Status::Ok();
  };
  auto kpi_rows = storage::ResultRowsLoad::Begin(db_, "result_kpis", id);
  if (!kpi_rows) return kpi_rows.status();
  auto total_rows = storage::ResultRowsLoad::Begin(db_, "result_totals", id);
  if (!total_rows) return total_rows.status();
  // A slice's rows: its KPI rows, then its totals (moved out of the slice).
  auto insert_slice = [&](ScoredSlice& slice) {
    size_t agency_at = 0;
    KpiOrder pending;
    size_t pending_at = 0;
    const domain::AgencyScore* agency = nullptr;
    Status s = kpi_rows->Insert(
        {"result_id", "agency_code", "kpi", "parent_kpi", "kpi_key", "status", "result", "score",
         "level", "group_id", "weight", "weighted"},
        [&](std::vector<storage::Value>& row) {
          while (pending_at == pending.size()) {
            if (agency_at == slice.scores.size()) return false;
            pending.clear();
            pending_at = 0;
            agency = &slice.scores[agency_at++];
            for (const domain::KpiScore& k : agency->kpis) AppendKpiOrder(k, &top, pending);
            // In the key's order, as the agencies (see above).
            std::sort(pending.begin(), pending.end(),
                      [](const auto& a, const auto& b) { return a.first->kpi < b.first->kpi; });
          }
          const auto [k, parent] = pending[pending_at++];
          fill_kpi(*agency, *k, *parent, row);
          return true;
        });
    if (!s.ok()) return s;
    size_t total_at = 0;
    return total_rows->Insert({"result_id", "agency_code", "kind", "parent", "total", "grade",
                               "scored_weight", "status", "inputs"},
                              [&](std::vector<storage::Value>& row) {
                                if (total_at == slice.totals.size()) return false;
                                row = std::move(slice.totals[total_at++]);
                                return true;
                              });
  };

  // The slices in a pipeline of three: slice n+1 is read while the helper scores slice n and this
  // thread inserts the rows of slice n-1. With a reader connection (ReadValuesThrough), a thread
  // of its own reads through it, beside this connection, which stores (on PostgreSQL, two server
  // backends at work). It reads what this transaction's connection would: on PostgreSQL the lock
  // taken above holds every value still, as each read sees it (its snapshot is taken after the
  // lock was granted); on SQLite this transaction holds the database's one writer's lock, and
  // reads nothing it wrote. Else this thread reads slice n+1 after its insert, while the helper
  // scores. Declared before the futures, whose destructors (on every way out) wait for them.
  std::array<ScoredSlice, 3> slices;
  storage::Database* const reader =
      reader_ && reader_ != &db_ && !from_agencies && ReadsTheSameDatabase(db_, *reader_) ? reader_
                                                                                          : nullptr;
  const size_t slice_count = (agencies->size() + per_slice - 1) / per_slice;
  auto read_nth = [&](storage::Database& from, size_t n) {
    const size_t begin = n * per_slice;
    return read_slice(from, begin, std::min(agencies->size(), begin + per_slice), slices[n % 3]);
  };
  std::future<Status> reading;  // the reader's read of the next slice
  std::future<Status> helper;
  if (slice_count > 0) {
    Status s = read_nth(db_, 0);
    if (!s.ok()) return s;
  }
  for (size_t n = 0; n < slice_count; ++n) {
    Status s;
    if (n > 0 && reader) {
      s = reading.get();
      if (!s.ok()) return s;
    }
    if (n + 1 < slice_count && reader) {
      reading = std::async(std::launch::async,
                           [&read_nth, reader, n] { return read_nth(*reader, n + 1); });
    }
    if (n > 0) {
      s = helper.get();
      if (!s.ok()) return s;
    }
    ScoredSlice& slice = slices[n % 3];
    helper = std::async(std::launch::async, [&score_slice, &slice] { return score_slice(slice); });
    if (n > 0) {
      s = insert_slice(slices[(n - 1) % 3]);
      if (!s.ok()) return s;
    }
    if (n + 1 < slice_count && !reader) {
      s = read_nth(db_, n + 1);
      if (!s.ok()) return s;
    }
  }
  if (slice_count > 0) {
    Status s = helper.get();
    if (!s.ok()) return s;
  }
  if (lock.owns_lock()) lock.unlock();
  // Every row is encoded: the digest is made beside the last inserts.
  std::future<EntityState> digest =
      std::async(std::launch::async, [&entity, &parts] { return StateOfParts(entity, parts); });
  if (slice_count > 0) {
    Status s = insert_slice(slices[(slice_count - 1) % 3]);
    if (!s.ok()) return s;
  }
  // Each Finish vacuums its rows after the commit: a fresh database's first result otherwise
  // leaves the planner without statistics of them until autovacuum comes (the lists' pages took
  // 8 ms instead of 2), and autovacuum then makes its pass while the pages are read.
  Status s = kpi_rows->Finish(kpis_encoded.size());
  if (!s.ok()) return s;
  s = total_rows->Finish(totals_encoded.size());
  if (!s.ok()) return s;
  // The audit entry says how many came from earlier results and how many imported values took
  // their place: an override is on the record with the result it changed.
  if (from_results || imported_in_place) {
    *baselines = {{"from_earlier_results", from_results}, {"imported_in_place", imported_in_place}};
  }
  *state = digest.get();
  return totals;
}

Result<std::vector<int64_t>> Results::RoundsWithResults(const Actor& actor, ResultStage stage) {
  auto rows = db_.Query(
      "SELECT DISTINCT rd.id FROM rounds rd JOIN results r ON r.framework_id = rd.framework_id "
      "AND r.round = rd.round WHERE r.stage IN (" +
      VisibleStages(actor, stage) + ") ORDER BY rd.id DESC");
  if (!rows) return rows.status();
  std::vector<int64_t> out;
  for (const storage::Row& r : *rows) out.push_back(r.Int(0));
  return out;
}

bool Results::OwnOnly(const Actor& actor, const StoredResult& result) const {
  return (actor.Is(Role::kReporter) || actor.Is(Role::kApprover)) &&
         result.stage != ResultStage::kPublished;
}

Result<StoredResult> Results::Newest(const Actor& actor, int64_t round_id, ResultStage stage) {
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  auto rows =
      db_.Query("SELECT id FROM results WHERE framework_id = ? AND round = ? AND stage IN (" +
                    VisibleStages(actor, stage) + ") ORDER BY id DESC LIMIT 1",
                {round->framework_id, int64_t{round->round}});
  if (!rows) return rows.status();
  if (rows->empty())
    return Status::NotFound("ยังไม่มีผลการประเมินของรอบนี้", "no results for this round yet");
  return Load((*rows)[0].Int(0));
}

Result<StoredResult> Results::LatestMeta(const Actor& actor, int64_t round_id, ResultStage stage) {
  return Newest(actor, round_id, stage);
}

Result<std::vector<AgencyTotal>> Results::Totals(const Actor& actor, const StoredResult& result,
                                                 int64_t limit, int64_t offset,
                                                 const std::string& order_by) {
  auto framework = FrozenFramework(db_, cycle_, result.framework_id);
  if (!framework) return framework.status();
  const domain::Framework& fw = (*framework)->framework;
  const bool own = OwnOnly(actor, result);
  std::vector<storage::Value> params = {result.rows_from};
  if (own) params.emplace_back(actor.agency);
  params.emplace_back(limit);
  params.emplace_back(offset);
  auto rows = db_.Query(
      "SELECT t.agency_code, COALESCE(a.name_th, ''), COALESCE(a.name_en, ''), t.kind, t.parent, "
      "t.total, t.grade, t.scored_weight FROM " +
          storage::ResultRowsSource(db_, "result_totals", result.rows_from) +
          " t LEFT JOIN agencies a ON a.code = t.agency_code WHERE t.result_id = ?" +
          std::string(own ? " AND t.agency_code = ?" : "") + " ORDER BY " +
          (order_by == "total DESC" ? "t.total DESC, t.agency_code" : "t.agency_code") +
          " LIMIT ? OFFSET ?",
      params);
  if (!rows) return rows.status();
  std::vector<AgencyTotal> out;
  out.reserve(rows->size());
  for (const storage::Row& r : *rows) {
    AgencyTotal t;
    t.code = r.Text(0);
    t.name_th = r.Text(1);
    t.name_en = r.Text(2);
    t.kind = r.Text(3);
    t.parent = r.Text(4);
    t.total = RealOrNaN(r, 5);
    t.total_text = FormatDecimal(t.total, fw.decimals.total);
    t.grade = r.IsNull(6) ? -1 : static_cast<int>(r.Int(6));
    if (t.grade >= 0 && static_cast<size_t>(t.grade) < fw.grades.size()) {
      t.grade_th = fw.grades[static_cast<size_t>(t.grade)].name.Pick(Lang::kThai);
      t.grade_en = fw.grades[static_cast<size_t>(t.grade)].name.Pick(Lang::kEnglish);
    } else {
      t.grade = -1;
    }
    t.scored_weight = r.Real(7);
    out.push_back(std::move(t));
  }
  return out;
}

Result<StoredResult> Results::Summary(const Actor& actor, int64_t round_id, ResultStage stage) {
  auto result = Newest(actor, round_id, stage);
  if (!result) return result.status();
  auto totals = Totals(actor, *result, std::numeric_limits<int32_t>::max(), 0);
  if (!totals) return totals.status();
  auto framework = FrozenFramework(db_, cycle_, result->framework_id);
  if (!framework) return framework.status();
  const bool own = OwnOnly(actor, *result);
  std::vector<storage::Value> params = {result->rows_from};
  if (own) params.emplace_back(actor.agency);
  auto kpis = db_.Query("SELECT agency_code, kpi, level, score, status FROM " +
                            storage::ResultRowsSource(db_, "result_kpis", result->rows_from) +
                            " WHERE result_id = ? AND parent_kpi = ''" +
                            std::string(own ? " AND agency_code = ?" : ""),
                        params);
  if (!kpis) return kpis.status();
  std::unordered_map<std::string, json> kpis_of;
  for (const storage::Row& k : *kpis) {
    json& of = kpis_of[k.Text(0)];
    if (of.is_null()) of = json::object();
    of[k.Text(1)] = {{"level", k.Int(2) > 0 ? json(k.Int(2)) : json(-1)},
                     {"score", k.IsNull(3) ? json(nullptr) : json(k.Real(3))},
                     {"status", k.Text(4)}};
  }
  json agencies = json::array();
  for (AgencyTotal& t : *totals) {
    auto found = kpis_of.find(t.code);
    agencies.push_back(
        {{"code", t.code},
         {"name_th", t.name_th},
         {"name_en", t.name_en},
         {"kind", t.kind},
         {"parent", t.parent},
         {"total", std::isnan(t.total) ? json(nullptr) : json(t.total)},
         {"total_text", t.total_text},
         {"grade", t.grade >= 0 ? json(t.grade_th) : json(nullptr)},
         {"grade_en", t.grade >= 0 ? json(t.grade_en) : json(nullptr)},
         {"scored_weight", t.scored_weight},
         {"kpis", found == kpis_of.end() ? json::object() : std::move(found->second)}});
  }
  result->document = json{{"fiscal_year", (*framework)->framework.fiscal_year},
                          {"round", result->round},
                          {"agencies", std::move(agencies)}}
                         .dump();
  return result;
}

Status Results::EachTotal(const Actor& actor, const StoredResult& result,
                          const std::function<Status(const TotalLine&)>& each) {
  if (OwnOnly(actor, result))
    return Denied(actor, "อ่านผลของทุกหน่วยงาน", "read every agency's result");
  TotalLine line;
  // In code order, as Summary listed them: averages add the totals up in the same order.
  return db_.QueryEach("SELECT agency_code, kind, parent, grade, total FROM " +
                           storage::ResultRowsSource(db_, "result_totals", result.rows_from) +
                           " WHERE result_id = ? ORDER BY agency_code",
                       {result.rows_from}, [&](const storage::Row& r) {
                         line.code = r.Text(0);
                         line.kind = r.Text(1);
                         line.parent = r.Text(2);
                         line.grade = r.IsNull(3) ? -1 : static_cast<int>(r.Int(3));
                         line.total = r.IsNull(4) ? std::nullopt : std::optional<double>(r.Real(4));
                         return each(line);
                       });
}

Result<std::vector<KpiLevelCount>> Results::KpiLevels(const Actor& actor,
                                                      const StoredResult& result) {
  if (OwnOnly(actor, result))
    return Denied(actor, "อ่านผลของทุกหน่วยงาน", "read every agency's result");
  auto rows = db_.Query(
      "SELECT kpi, status, level, COUNT(*), COUNT(score), COALESCE(SUM(score), 0) FROM "
      "result_kpis WHERE result_id = ? AND parent_kpi = '' GROUP BY kpi, status, level",
      {result.rows_from});
  if (!rows) return rows.status();
  std::vector<KpiLevelCount> out;
  out.reserve(rows->size());
  for (const storage::Row& r : *rows) {
    out.push_back(
        {r.Text(0), r.Text(1), static_cast<int>(r.Int(2)), r.Int(3), r.Int(4), r.Real(5)});
  }
  return out;
}

Status Results::EachKpiScore(
    const Actor& actor, const StoredResult& result, const std::string& kpi,
    const std::function<Status(const std::string& agency, double score)>& each) {
  if (OwnOnly(actor, result))
    return Denied(actor, "อ่านผลของทุกหน่วยงาน", "read every agency's result");
  return db_.QueryEach(
      "SELECT agency_code, score FROM " +
          storage::ResultRowsSource(db_, "result_kpis", result.rows_from) +
          " WHERE result_id = ? AND kpi = ? AND parent_kpi = '' AND status = 'scored' AND score "
          "IS NOT NULL ORDER BY agency_code",
      {result.rows_from, kpi}, [&](const storage::Row& r) { return each(r.Text(0), r.Real(1)); });
}

Result<int64_t> Results::OpenAppeals(const RoundInfo& round) {
  auto open = db_.Query(
      "SELECT COUNT(*) FROM appeals a JOIN results r ON r.id = a.result_id WHERE "
      "r.framework_id = ? AND r.round = ? AND a.status = 'open'",
      {round.framework_id, int64_t{round.round}});
  if (!open) return open.status();
  return (*open)[0].Int(0);
}

Result<StoredResult> Results::Advance(const Actor& actor, int64_t round_id, ResultStage stage,
                                      int64_t appeal_window_ms,
                                      const std::function<Status(const RoundStatus&)>& allowed,
                                      bool publish) {
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    // Held to the end: no report, review or other change of state slips in between the check,
    // the scoring and the store.
    auto status = cycle_.LockForChange(round_id);
    if (!status) return status.status();
    Status ok = allowed(*status);
    if (!ok.ok()) return ok;
    const RoundInfo& round = status->round;
    const int64_t appeal_deadline = stage == ResultStage::kPreliminary ? now + appeal_window_ms : 0;
    int64_t rows_from = 0;
    if (publish) {
      // A publication shows the final result's rows: nothing is copied.
      auto final_result = Load(status->result_id);
      if (!final_result) return final_result.status();
      rows_from = final_result->rows_from;
    }
    auto rows = db_.Query(
        "INSERT INTO results (framework_id, round, stage, document, computed_by, computed_at, "
        "appeal_deadline, rows_from) VALUES (?, ?, ?, '', ?, ?, ?, ?) RETURNING id",
        {round.framework_id, int64_t{round.round}, std::string(ResultStageName(stage)),
         UserRef(actor), now, appeal_deadline ? storage::Value{appeal_deadline} : storage::Value{},
         rows_from ? storage::Value{rows_from} : storage::Value{}});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    json after = {{"round", round_id}};
    const std::string entity = "result/" + std::to_string(id);
    std::map<std::string, std::string> known;
    AuditLog audit(db_);
    if (publish) {
      after["rows_from"] = rows_from;
    } else {
      Status set = db_.Execute("UPDATE results SET rows_from = id WHERE id = ?", {id});
      if (!set.ok()) return set;
      // The result's own row as it stands (part 0 of its state), read now: this transaction
      // inserted it, and holds the round's lock, so nothing else can change it before the
      // commit. Its rows (parts 1 and 2) are digested from memory as they are written.
      auto parts = ReadParts(db_, entity, {1, 2});
      if (!parts) return parts.status();
      json baselines;
      EntityState state;
      auto totals = ScoreAndStore(round, id, entity, std::move(*parts), &baselines, &state);
      if (!totals) return totals.status();
      after["totals"] = std::move(*totals);
      if (!baselines.is_null()) after["baselines"] = std::move(baselines);
      Status locked = audit.LockForAppend();
      if (!locked.ok()) return locked;
      known[entity] = state.digest;
    }
    Status audited = audit.Append(actor, now, std::string("results.") + ResultStageName(stage),
                                  entity, "{}", after.dump(), {}, known);
    if (!audited.ok()) return audited;
    // Preliminary results (with their appeal window) and publication are news for every agency
    // of the result: its reporters and approvers are told in this transaction. Finalizing is
    // the central office's own step: nobody outside it acts on it.
    if (stage == ResultStage::kFinal) return Status::Ok();
    auto title = RoundTitleOf(round.framework_id, round.round);
    if (!title) return title.status();
    auto users = db_.Query(
        "SELECT u.id, u.agency_code FROM users u JOIN " +
            storage::ResultRowsSource(db_, "result_totals", publish ? rows_from : id) +
            " t ON t.agency_code = u.agency_code WHERE t.result_id = ? AND u.active = 1 AND "
            "u.role IN ('reporter', 'approver') ORDER BY u.id",
        {publish ? rows_from : id});
    if (!users) return users.status();
    // Written together (Notifier::NotifyEach): one user at a time cost two statements each,
    // ~90 ms on PostgreSQL for bench/scale's 200 users.
    std::vector<std::pair<int64_t, Message>> recipients;
    recipients.reserve(users->size());
    const Message preliminary =
        publish ? Message{} : PreliminaryResultsMessage(*title, appeal_deadline, round_id);
    for (const storage::Row& u : *users) {
      recipients.emplace_back(
          u.Int(0), publish ? ResultsPublishedMessage(*title, round_id, u.Text(1)) : preliminary);
    }
    auto told = Notifier(db_, clock_).NotifyEach(recipients);
    return told.ok() ? Status::Ok() : told.status();
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<LocalizedText> Results::RoundTitleOf(int64_t framework_id, int round) {
  auto rows = db_.Query("SELECT fiscal_year FROM frameworks WHERE id = ?", {framework_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่พบกรอบการประเมิน", "no such framework");
  return RoundTitle(static_cast<int>((*rows)[0].Int(0)), round);
}

Result<int64_t> Results::RoundIdOf(int64_t framework_id, int round) {
  auto rows = db_.Query("SELECT id FROM rounds WHERE framework_id = ? AND round = ?",
                        {framework_id, int64_t{round}});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่พบรอบการประเมิน", "no such round");
  return (*rows)[0].Int(0);
}

Result<StoredResult> Results::Load(int64_t result_id) {
  auto rows = db_.Query(
      "SELECT id, framework_id, round, stage, computed_at, appeal_deadline, "
      "COALESCE(rows_from, id) FROM results WHERE id = ?",
      {result_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีผลการประเมินนี้", "no such result");
  const storage::Row& r = (*rows)[0];
  auto stage = ParseStage(r.Text(3));
  if (!stage) return stage.status();
  return StoredResult{r.Int(0), r.Int(1), static_cast<int>(r.Int(2)), *stage, "", r.Int(4),
                      r.Int(5), r.Int(6)};
}

namespace {

// The refusal to go on from results that are already final or published.
Status AlreadyDone(RoundState state) {
  if (state == RoundState::kPublished) {
    return Status::Conflict(
        "ผลการประเมินของรอบนี้เผยแพร่แล้ว ทำรายการนี้ได้เมื่อเปิดรอบอีกครั้งพร้อมเหตุผล",
        "this round's results are published: reopen the round (with a reason) to do this");
  }
  return Status::Conflict(
      "ผลการประเมินของรอบนี้เป็นผลขั้นสุดท้ายแล้ว ทำรายการนี้ได้เมื่อเปิดรอบอีกครั้งพร้อมเหตุผล",
      "this round's results are final: reopen the round (with a reason) to do this");
}

Status StillOpen(const RoundStatus& status) {
  return Status::Conflict("รอบนี้ยังเปิดรับรายงานถึง " + FormatDateTime(status.closes_at, Lang::kThai) +
                              " ให้ปิดรับรายงานก่อนหรือรอให้พ้นกำหนด",
                          "reporting is open until " +
                              FormatDateTime(status.closes_at, Lang::kEnglish) +
                              ": close it first, or wait for the deadline");
}

Status OpenAppealsLeft(int64_t open) {
  return Status::Conflict("ยังมีอุทธรณ์ที่ยังไม่ได้วินิจฉัย " + std::to_string(open) + " เรื่อง",
                          std::to_string(open) + " appeals are still open");
}

}  // namespace

Result<StoredResult> Results::ComputePreliminary(const Actor& actor, int64_t round_id,
                                                 int64_t appeal_window_ms) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "คำนวณผลการประเมิน", "compute results");
  auto allowed = [&](const RoundStatus& status) -> Status {
    switch (status.state) {
      case RoundState::kScheduled:
      case RoundState::kOpen:
        return StillOpen(status);
      case RoundState::kClosed:
        return Status::Ok();
      case RoundState::kPreliminary: {
        // Computing again would leave the open appeals on results nobody looks at.
        auto open = OpenAppeals(status.round);
        if (!open) return open.status();
        if (*open > 0) {
          return Status::Conflict(
              "ยังมีอุทธรณ์รอพิจารณา " + std::to_string(*open) + " เรื่อง ต้องวินิจฉัยก่อนคำนวณผลใหม่",
              std::to_string(*open) + " appeals are open: decide them before computing again");
        }
        return Status::Ok();
      }
      default:
        return AlreadyDone(status.state);
    }
  };
  return Advance(actor, round_id, ResultStage::kPreliminary, appeal_window_ms, allowed, false);
}

Result<StoredResult> Results::CloseAppeals(const Actor& actor, int64_t round_id,
                                           const std::string& reason) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "ปิดรับอุทธรณ์", "close the appeal window");
  if (reason.size() > 64 * 1024 || !IsValidUtf8(reason)) {
    return Status::InvalidInput("เหตุผลต้องเป็นข้อความ UTF-8 ไม่เกิน 64 KB",
                                "the reason must be UTF-8 text of at most 64 KB");
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  Status done = db_.Transaction([&]() -> Status {
    auto status = cycle_.LockForChange(round_id);
    if (!status) return status.status();
    if (status->state != RoundState::kPreliminary || now >= status->appeal_deadline) {
      return Status::Conflict("รอบนี้ไม่มีระยะอุทธรณ์ที่เปิดอยู่", "this round has no open appeal window");
    }
    id = status->result_id;
    Status s = db_.Execute("UPDATE results SET appeal_deadline = ? WHERE id = ?", {now, id});
    if (!s.ok()) return s;
    return AuditLog(db_).Append(actor, now, "results.close_appeals", "result/" + std::to_string(id),
                                json{{"appeal_deadline", status->appeal_deadline}}.dump(),
                                json{{"appeal_deadline", now}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return Load(id);
}

Result<Readiness> Results::ReadinessOf(const Actor& actor, int64_t round_id) {
  if (!(actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator)))
    return Denied(actor, "ดูความพร้อมของรอบการรายงาน", "see a round's readiness");
  Readiness out;
  auto status = cycle_.StatusOf(round_id);
  if (!status) return status.status();
  out.status = *status;
  // The round's framework is frozen: parsed once per process, not on every readiness.
  auto framework = FrozenFramework(db_, cycle_, status->round.framework_id);
  if (!framework) return framework.status();
  // The codes and kinds are all the counts need (not the names of 8,000 agencies).
  auto agencies = db_.Query("SELECT code, kind FROM agencies");
  if (!agencies) return agencies.status();
  // One query for every submission of the round, grouped by agency; the duties come from the
  // framework.
  auto rows =
      db_.Query("SELECT agency_code, kpi, status FROM submissions WHERE round_id = ?", {round_id});
  if (!rows) return rows.status();
  std::unordered_map<std::string, std::vector<std::pair<std::string, std::string>>> state;
  for (const storage::Row& r : *rows) state[r.Text(0)].emplace_back(r.Text(1), r.Text(2));
  const domain::Framework& fw = (*framework)->framework;
  const KpiDutyResolver duties(fw, status->round.round);
  // The KPIs an agency reports this round depend only on the assignment rules that name it: a
  // cycle of thousands of agencies has a few sets of rules, each worked out once.
  std::map<std::vector<size_t>, std::vector<std::string>> reportable_by_rules;
  for (const storage::Row& a : *agencies) {
    if (!fw.agency_kind.empty() && a.Text(1) != fw.agency_kind) continue;
    const std::string code = a.Text(0);
    auto [due_kpis, added] = reportable_by_rules.try_emplace(duties.Rules(code));
    if (added) {
      for (const KpiDuty& d : duties.For(code)) {
        if (d.Reportable()) due_kpis->second.push_back(d.kpi);
      }
    }
    const std::vector<std::string>& due = due_kpis->second;
    if (due.empty()) continue;
    int64_t missing = 0;
    const auto submitted = state.find(code);
    if (submitted == state.end()) {
      missing = static_cast<int64_t>(due.size());  // nothing reported at all
    } else {
      for (const std::string& kpi : due) {
        const auto found = std::find_if(
            submitted->second.begin(), submitted->second.end(),
            [&](const std::pair<std::string, std::string>& k) { return k.first == kpi; });
        static const std::string kNone;
        const std::string& s = found == submitted->second.end() ? kNone : found->second;
        if (s == "submitted") {
          ++out.awaiting_review;
        } else if (s == "accepted") {
          ++out.accepted;
        } else {
          ++missing;
        }
      }
    }
    ++out.agencies;
    out.kpis_due += static_cast<int64_t>(due.size());
    out.kpis_missing += missing;
    out.agencies_missing += missing > 0;
  }
  auto open = OpenAppeals(status->round);
  if (!open) return open.status();
  out.open_appeals = *open;
  if (status->result_id) {
    auto decided =
        db_.Query("SELECT COUNT(*) FROM appeals WHERE result_id = ? AND status <> 'open'",
                  {status->result_id});
    if (!decided) return decided.status();
    out.decided_appeals = (*decided)[0].Int(0);
    auto scored = db_.Query(
        "SELECT COUNT(*), COUNT(*) - COUNT(t.total) FROM result_totals t JOIN results r ON "
        "t.result_id = COALESCE(r.rows_from, r.id) WHERE r.id = ?",
        {status->result_id});
    if (!scored) return scored.status();
    out.agencies_scored = (*scored)[0].Int(0);
    out.agencies_without_total = (*scored)[0].Int(1);
  }
  return out;
}

Result<AppealInfo> Results::FileAppeal(const Actor& actor, int64_t result_id,
                                       const std::string& kpi, const std::string& reason) {
  auto result = Load(result_id);
  if (!result) return result.status();
  if (!(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ยื่นอุทธรณ์", "file appeals");
  if (result->stage != ResultStage::kPreliminary) {
    return Status::Conflict("อุทธรณ์ได้เฉพาะผลการประเมินเบื้องต้น",
                            "only preliminary results can be appealed");
  }
  if (clock_.NowMs() >= result->appeal_deadline) {
    return Status::Conflict("พ้นกำหนดยื่นอุทธรณ์แล้ว", "the appeal window has closed");
  }
  if (reason.empty() || reason.size() > 64 * 1024 || !IsValidUtf8(reason)) {
    return Status::InvalidInput("ต้องระบุเหตุผลการอุทธรณ์ (ไม่เกิน 64 KB)",
                                "an appeal needs a reason (at most 64 KB)");
  }
  auto scored = db_.Query(
      "SELECT 1 FROM " + storage::ResultRowsSource(db_, "result_kpis", result->rows_from) +
          " WHERE result_id = ? AND agency_code = ? AND kpi = ? AND parent_kpi = ''",
      {result->rows_from, actor.agency, kpi});
  if (!scored) return scored.status();
  if (scored->empty()) {
    return Status::InvalidInput("หน่วยงานนี้ไม่มีผลตัวชี้วัด " + kpi + " ในผลการประเมินนี้",
                                "this agency has no score for KPI " + kpi + " in these results");
  }
  const int64_t now = clock_.NowMs();
  int64_t id = 0;
  auto round = db_.Query("SELECT id FROM rounds WHERE framework_id = ? AND round = ?",
                         {result->framework_id, int64_t{result->round}});
  if (!round) return round.status();
  if (round->empty()) return Status::Internal("results without their round");
  const int64_t round_id = (*round)[0].Int(0);
  Status done = db_.Transaction([&]() -> Status {
    Status locked = cycle_.LockRound(round_id, false);
    if (!locked.ok()) return locked;
    // Only the round's current results can be appealed: not once they are final, nor results
    // that a newer computation or a reopening replaced.
    auto status = cycle_.StatusOf(round_id);
    if (!status) return status.status();
    if (status->state == RoundState::kFinal || status->state == RoundState::kPublished) {
      return Status::Conflict("ผลการประเมินของรอบนี้เป็นผลขั้นสุดท้ายแล้ว อุทธรณ์ไม่ได้",
                              "the results of this round are final: no more appeals");
    }
    if (status->result_id != result_id) {
      return Status::Conflict("ผลการประเมินนี้ถูกแทนด้วยผลที่คำนวณใหม่แล้ว ให้อุทธรณ์ผลล่าสุด",
                              "these results were replaced by newer ones: appeal the newest");
    }
    if (now >= status->appeal_deadline) {
      return Status::Conflict("พ้นกำหนดยื่นอุทธรณ์แล้ว", "the appeal window has closed");
    }
    auto rows = db_.Query(
        "INSERT INTO appeals (result_id, agency_code, kpi, reason, filed_by, filed_at, status) "
        "VALUES (?, ?, ?, ?, ?, ?, 'open') "
        "RETURNING id",
        {result_id, actor.agency, kpi, reason, UserRef(actor), now});
    if (!rows) return rows.status();
    id = (*rows)[0].Int(0);
    return AuditLog(db_).Append(
        actor, now, "appeal.file", "appeal/" + std::to_string(id), "{}",
        json{{"result", result_id}, {"kpi", kpi}, {"reason", reason}}.dump());
  });
  if (!done.ok()) return done;
  return Appeal(actor, result_id, id);
}

Result<AppealInfo> Results::DecideAppeal(const Actor& actor, int64_t appeal_id, bool upheld,
                                         const std::string& reason,
                                         const std::string& corrected_values_json) {
  if (!(actor.Is(Role::kEvaluator) || actor.Is(Role::kAdmin)))
    return Denied(actor, "วินิจฉัยอุทธรณ์", "decide appeals");
  if (reason.empty())
    return Status::InvalidInput("ต้องระบุเหตุผลของคำวินิจฉัย", "a decision needs a reason");
  auto rows = db_.Query("SELECT result_id, agency_code, kpi, status FROM appeals WHERE id = ?",
                        {appeal_id});
  if (!rows) return rows.status();
  if (rows->empty()) return Status::NotFound("ไม่มีอุทธรณ์นี้", "no such appeal");
  const int64_t result_id = (*rows)[0].Int(0);
  const std::string agency = (*rows)[0].Text(1), kpi = (*rows)[0].Text(2);
  if ((*rows)[0].Text(3) != "open")
    return Status::Conflict("อุทธรณ์นี้วินิจฉัยแล้ว", "this appeal has been decided");
  auto result = Load(result_id);
  if (!result) return result.status();
  const int64_t now = clock_.NowMs();
  Status done = db_.Transaction([&]() -> Status {
    auto decided = db_.Query(
        "UPDATE appeals SET status = ?, decision_reason = ?, decided_by = ?, decided_at = ? WHERE "
        "id = ? AND status = 'open' RETURNING id",
        {std::string(upheld ? "upheld" : "rejected"), reason, UserRef(actor), now, appeal_id});
    if (!decided) return decided.status();
    // Another evaluator decided it meanwhile: this decision changes nothing.
    if (decided->empty()) return Status::Conflict("อุทธรณ์นี้วินิจฉัยแล้ว", "this appeal has been decided");
    Status s;
    std::vector<std::string> also;  // the submission a correction changes
    if (upheld && !corrected_values_json.empty()) {
      auto sub = db_.Query(
          "SELECT s.id, s.revision FROM submissions s JOIN rounds r ON r.id = s.round_id "
          "WHERE r.framework_id = ? AND r.round = ? AND s.agency_code = ? AND s.kpi = ? AND "
          "s.status = 'accepted'",
          {result->framework_id, int64_t{result->round}, agency, kpi});
      if (!sub) return sub.status();
      if (sub->empty()) {
        return Status::Conflict("ไม่มีรายงานที่ยอมรับแล้วของตัวชี้วัดนี้ให้แก้ค่า",
                                "no accepted submission of this KPI to correct");
      }
      auto framework = cycle_.Framework(result->framework_id);
      if (!framework) return framework.status();
      Status valid = CheckReport(framework->framework, agency,
                                 {kpi, corrected_values_json, "", "", ""}, result->round);
      if (!valid.ok()) return valid;
      s = db_.Execute(
          "INSERT INTO reviews (submission_id, revision, evaluator, decision, verified_json, "
          "comment, at) "
          "VALUES (?, ?, ?, 'accepted', ?, ?, ?)",
          {(*sub)[0].Int(0), (*sub)[0].Int(1), UserRef(actor), corrected_values_json,
           "อุทธรณ์: " + reason, now});
      if (!s.ok()) return s;
      also.push_back("submission/" + std::to_string((*sub)[0].Int(0)));
    }
    Status audited = AuditLog(db_).Append(
        actor, now, upheld ? "appeal.uphold" : "appeal.reject",
        "appeal/" + std::to_string(appeal_id), json{{"status", "open"}}.dump(),
        json{{"status", upheld ? "upheld" : "rejected"},
             {"reason", reason},
             {"corrected",
              corrected_values_json.empty() ? json(nullptr) : json::parse(corrected_values_json)}}
            .dump(),
        also);
    if (!audited.ok()) return audited;
    // The agency learns the decision with it (its users' lists and e-mail, same transaction).
    auto title = RoundTitleOf(result->framework_id, result->round);
    if (!title) return title.status();
    auto round_id = RoundIdOf(result->framework_id, result->round);
    if (!round_id) return round_id.status();
    return Notifier(db_, clock_)
        .NotifyAgency(agency, {Role::kReporter, Role::kApprover},
                      AppealDecidedMessage(*title, kpi, upheld, reason, *round_id))
        .status();
  });
  if (!done.ok()) return done;
  return Appeal(actor, result_id, appeal_id);
}

Result<StoredResult> Results::Finalize(const Actor& actor, int64_t round_id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "สรุปผลการประเมิน", "finalize results");
  const int64_t now = clock_.NowMs();
  auto allowed = [&](const RoundStatus& status) -> Status {
    switch (status.state) {
      case RoundState::kScheduled:
      case RoundState::kOpen:
      case RoundState::kClosed:
        return Status::Conflict("ต้องคำนวณผลเบื้องต้นก่อน", "compute preliminary results first");
      case RoundState::kPreliminary:
        break;
      default:
        return AlreadyDone(status.state);
    }
    if (now < status.appeal_deadline) {
      return Status::Conflict("ระยะอุทธรณ์ยังเปิดถึง " +
                                  FormatDateTime(status.appeal_deadline, Lang::kThai) +
                                  " รอให้ครบกำหนดหรือปิดรับอุทธรณ์ก่อนกำหนด",
                              "the appeal window is open until " +
                                  FormatDateTime(status.appeal_deadline, Lang::kEnglish) +
                                  ": wait for it to end, or close it early");
    }
    auto open = OpenAppeals(status.round);
    if (!open) return open.status();
    if (*open > 0) return OpenAppealsLeft(*open);
    return Status::Ok();
  };
  return Advance(actor, round_id, ResultStage::kFinal, 0, allowed, false);
}

Result<StoredResult> Results::Publish(const Actor& actor, int64_t round_id) {
  if (!actor.Is(Role::kAdmin)) return Denied(actor, "เผยแพร่ผลการประเมิน", "publish results");
  auto allowed = [&](const RoundStatus& status) -> Status {
    if (status.state == RoundState::kPublished) {
      return Status::Conflict("เผยแพร่ผลการประเมินของรอบนี้แล้ว",
                              "the results of this round are already published");
    }
    if (status.state != RoundState::kFinal) {
      return Status::Conflict("ต้องสรุปผลการประเมินขั้นสุดท้ายก่อนเผยแพร่",
                              "finalize the results before publishing");
    }
    return Status::Ok();
  };
  return Advance(actor, round_id, ResultStage::kPublished, 0, allowed, true);
}

namespace {

// One agency scored again with explanations from the values it was scored from, as
// LatestForAgency's document: {"fiscal_year", "round", "agency" (Thai), "agency_en"}; with
// `only`, the other language's part null.
json DeriveAgency(const domain::Framework& fw, domain::Engine& engine, int round,
                  const domain::Agency& agency,
                  const std::vector<domain::Observation>& observations, std::optional<Lang> only) {
  const std::vector<domain::Agency> one = {agency};
  const std::vector<domain::AgencyScore> scores = engine.Score(one, observations, true);
  const formats::ScoreReport report{&fw, &one, &scores, round};
  auto part = [&](Lang lang) {
    if (only && *only != lang) return json(nullptr);
    json scored = formats::ScoresJson(report, true, lang);
    return scored["agencies"].empty() ? json(nullptr) : std::move(scored["agencies"][0]);
  };
  return {{"fiscal_year", fw.fiscal_year},
          {"round", round},
          {"agency", part(Lang::kThai)},
          {"agency_en", part(Lang::kEnglish)}};
}

}  // namespace

Result<json> Results::AgencyDocument(const StoredResult& result, const std::string& code,
                                     std::optional<Lang> only,
                                     const std::shared_ptr<const StoredFramework>& framework) {
  auto rows = db_.Query("SELECT kind, parent, inputs, explanation FROM " +
                            storage::ResultRowsSource(db_, "result_totals", result.rows_from) +
                            " WHERE result_id = ? AND agency_code = ?",
                        {result.rows_from, code});
  if (!rows) return rows.status();
  if (rows->empty()) {
    return Status::NotFound("ยังไม่มีผลการประเมินของหน่วยงาน " + code + " ในรอบนี้",
                            "no results for agency " + code + " in this round yet");
  }
  const storage::Row& r = (*rows)[0];
  // Computed before schema 8: the explanation kept then (no inputs were).
  if (!r.IsNull(3)) return json::parse(r.Text(3));
  std::shared_ptr<const StoredFramework> version = framework;
  if (!version || version->id != result.framework_id || !version->frozen) {
    auto read = FrozenFramework(db_, cycle_, result.framework_id);
    if (!read) return read.status();
    version = std::move(*read);
  }
  auto engine = EngineFor(version, result.round);
  if (!engine) return engine.status();
  domain::Agency agency;
  agency.code = code;
  agency.kind = r.Text(0);
  agency.parent = r.Text(1);
  std::vector<domain::Observation> observations;
  Status parsed = ParseInputs(r.Text(2), agency, observations);
  if (!parsed.ok()) return parsed;
  std::lock_guard<std::mutex> lock((*engine)->mutex);
  return DeriveAgency(version->framework, (*engine)->engine, result.round, agency, observations,
                      only);
}

Result<ScoresCursor> Results::OpenScores(const Actor& actor, const StoredResult& result) {
  ScoresCursor cursor;
  auto framework = FrozenFramework(db_, cycle_, result.framework_id);
  if (!framework) return framework.status();
  // The engine the computation used (or an agency report), not compiled again: compiling a
  // framework that names thousands of agencies takes tens of milliseconds, before the answer's
  // status line.
  auto engine = EngineFor(*framework, result.round);
  if (!engine) return engine.status();
  cursor.result_ = result;
  cursor.result_.document.clear();
  cursor.own_only_ = OwnOnly(actor, result);
  cursor.only_ = actor.agency;
  cursor.framework_ = *framework;
  cursor.engine_ = std::move(*engine);
  return cursor;
}

Result<bool> ScoresCursor::Next(storage::Database& db, std::string& out) {
  const domain::Framework& fw = framework_->framework;
  if (phase_ == 0) {
    out += "{\"fiscal_year\":" + std::to_string(fw.fiscal_year) +
           ",\"round\":" + std::to_string(result_.round) + ",\"agencies\":[";
    phase_ = 1;
    return false;
  }
  if (phase_ == 3) return true;
  // A batch of agencies in the directory's order (by code): the Thai explanations in phase 1,
  // then the English ones in phase 2. Each agency's part is derived, written and dropped.
  constexpr int64_t kBatch = 200;
  const Lang lang = phase_ == 1 ? Lang::kThai : Lang::kEnglish;
  std::vector<storage::Value> params = {result_.rows_from, after_};
  if (own_only_) params.emplace_back(only_);
  params.emplace_back(kBatch);
  auto rows = db.Query("SELECT agency_code, kind, parent, inputs, explanation FROM " +
                           storage::ResultRowsSource(db, "result_totals", result_.rows_from) +
                           " WHERE result_id = ? AND agency_code > ?" +
                           std::string(own_only_ ? " AND agency_code = ?" : "") +
                           " ORDER BY agency_code LIMIT ?",
                       params);
  if (!rows) return rows.status();
  for (const storage::Row& r : *rows) {
    json shown;
    if (!r.IsNull(4)) {
      // Computed before schema 8: the explanation kept then.
      shown = json::parse(r.Text(4))[lang == Lang::kThai ? "agency" : "agency_en"];
    } else {
      domain::Agency agency;
      agency.code = r.Text(0);
      agency.kind = r.Text(1);
      agency.parent = r.Text(2);
      std::vector<domain::Observation> observations;
      Status parsed = ParseInputs(r.Text(3), agency, observations);
      if (!parsed.ok()) return parsed;
      const std::vector<domain::Agency> one = {agency};
      std::vector<domain::AgencyScore> scores;
      {
        std::lock_guard<std::mutex> lock(engine_->mutex);
        scores = engine_->engine.Score(one, observations, true);
      }
      const formats::ScoreReport report{&fw, &one, &scores, result_.round};
      json scored = formats::ScoresJson(report, true, lang);
      if (!scored["agencies"].empty()) shown = std::move(scored["agencies"][0]);
    }
    if (shown.is_null()) continue;
    if (!first_) out += ',';
    out += shown.dump();
    first_ = false;
  }
  if (!rows->empty()) after_ = rows->back().Text(0);
  if (static_cast<int64_t>(rows->size()) == kBatch) return false;
  // This language is done.
  after_.clear();
  first_ = true;
  if (phase_ == 1) {
    out += "],\"explanation_en\":[";
    phase_ = 2;
    return false;
  }
  out += "]}";
  phase_ = 3;
  return true;
}

Status Results::WriteScores(const Actor& actor, const StoredResult& result,
                            const std::function<void(std::string_view)>& emit) {
  auto cursor = OpenScores(actor, result);
  if (!cursor) return cursor.status();
  std::string piece;
  while (true) {
    piece.clear();
    auto done = cursor->Next(db_, piece);
    if (!done) return done.status();
    emit(piece);
    if (*done) return Status::Ok();
  }
}

Result<StoredResult> Results::Latest(const Actor& actor, int64_t round_id, ResultStage stage) {
  auto result = Newest(actor, round_id, stage);
  if (!result) return result.status();
  std::string document;
  Status written =
      WriteScores(actor, *result, [&](std::string_view piece) { document.append(piece); });
  if (!written.ok()) return written;
  result->document = std::move(document);
  return result;
}

Result<StoredResult> Results::NewestForAgency(const Actor& actor, int64_t round_id,
                                              ResultStage stage, const std::string& agency) {
  auto result = Newest(actor, round_id, stage);
  if (!result) return result.status();
  // Before publication an agency's users see only their own agency.
  if (OwnOnly(actor, *result) && actor.agency != agency) {
    return Status::NotFound("ยังไม่มีผลการประเมินของหน่วยงาน " + agency + " ในรอบนี้",
                            "no results for agency " + agency + " in this round yet");
  }
  return result;
}

Result<StoredResult> Results::LatestForAgency(const Actor& actor, int64_t round_id,
                                              ResultStage stage, const std::string& agency) {
  auto result = NewestForAgency(actor, round_id, stage, agency);
  if (!result) return result.status();
  auto document = AgencyDocument(*result, agency);
  if (!document) return document.status();
  result->document = document->dump();
  return result;
}

Result<Results::AgencyPart> Results::LatestAgencyPart(
    const Actor& actor, int64_t round_id, ResultStage stage, const std::string& agency, Lang lang,
    const std::shared_ptr<const StoredFramework>& framework) {
  auto result = NewestForAgency(actor, round_id, stage, agency);
  if (!result) return result.status();
  auto document = AgencyDocument(*result, agency, lang, framework);
  if (!document) return document.status();
  json& english = (*document)["agency_en"];
  // A document kept from before schema 8 may have no English part: the Thai one then.
  json part = lang == Lang::kEnglish && english.is_object() ? std::move(english)
                                                            : std::move((*document)["agency"]);
  return AgencyPart{std::move(*result), std::move(part)};
}

Result<AppealInfo> Results::Appeal(const Actor& actor, int64_t result_id, int64_t appeal_id) {
  auto all = Appeals(actor, result_id);
  if (!all) return all.status();
  for (const AppealInfo& a : *all) {
    if (a.id == appeal_id) return a;
  }
  return Status::NotFound("ไม่มีอุทธรณ์นี้", "no such appeal");
}

Result<std::vector<AppealInfo>> Results::AppealsOfRound(const Actor& actor, int64_t round_id) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูอุทธรณ์", "see appeals");
  auto round = cycle_.Round(round_id);
  if (!round) return round.status();
  const std::string sql =
      "SELECT a.id, a.result_id, a.agency_code, a.kpi, a.reason, a.status, a.decision_reason "
      "FROM appeals a JOIN results r ON r.id = a.result_id WHERE r.framework_id = ? AND "
      "r.round = ?" +
      std::string(all ? "" : " AND a.agency_code = ?") + " ORDER BY a.id";
  std::vector<storage::Value> params = {round->framework_id, int64_t{round->round}};
  if (!all) params.emplace_back(actor.agency);
  auto rows = db_.Query(sql, params);
  if (!rows) return rows.status();
  std::vector<AppealInfo> out;
  for (const storage::Row& r : *rows) {
    out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)});
  }
  return out;
}

Result<std::vector<AppealInfo>> Results::Appeals(const Actor& actor, int64_t result_id) {
  const bool all = actor.Is(Role::kAdmin) || actor.Is(Role::kEvaluator);
  if (!all && !(actor.Is(Role::kReporter) || actor.Is(Role::kApprover)))
    return Denied(actor, "ดูอุทธรณ์", "see appeals");
  auto rows = all ? db_.Query(
                        "SELECT id, result_id, agency_code, kpi, reason, status, decision_reason "
                        "FROM appeals "
                        "WHERE result_id = ? ORDER BY id",
                        {result_id})
                  : db_.Query(
                        "SELECT id, result_id, agency_code, kpi, reason, status, decision_reason "
                        "FROM appeals "
                        "WHERE result_id = ? AND agency_code = ? ORDER BY id",
                        {result_id, actor.agency});
  if (!rows) return rows.status();
  std::vector<AppealInfo> out;
  for (const storage::Row& r : *rows) {
    out.push_back({r.Int(0), r.Int(1), r.Text(2), r.Text(3), r.Text(4), r.Text(5), r.Text(6)});
  }
  return out;
}

}  // namespace esar::service
