#include "storage/database.h"

#include <cctype>
#include <charconv>

#include "common/text.h"
#include "storage/backends.h"
#include "storage/vacuum.h"

namespace esar::storage {

int64_t Row::Int(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* n = std::get_if<int64_t>(&v)) return *n;
  if (const auto* d = std::get_if<double>(&v)) return static_cast<int64_t>(*d);
  if (const auto* s = std::get_if<std::string>(&v)) {
    int64_t out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

double Row::Real(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* d = std::get_if<double>(&v)) return *d;
  if (const auto* n = std::get_if<int64_t>(&v)) return static_cast<double>(*n);
  if (const auto* s = std::get_if<std::string>(&v)) {
    double out = 0;
    std::from_chars(s->data(), s->data() + s->size(), out);
    return out;
  }
  return 0;
}

std::string Row::Text(size_t i) const {
  const Value& v = values_.at(i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* b = std::get_if<Blob>(&v)) return b->bytes;
  if (const auto* n = std::get_if<int64_t>(&v)) return std::to_string(*n);
  if (const auto* d = std::get_if<double>(&v)) return ShortestDecimal(*d);
  return "";
}

int64_t TextRow::Int(size_t i) const {
  const std::string_view text = Text(i);
  int64_t out = 0;
  std::from_chars(text.data(), text.data() + text.size(), out);
  return out;
}

Status Database::ScanText(std::string_view sql, const std::vector<Value>& params,
                          const std::function<Status(const TextRow&)>& each) {
  TextRow text;
  std::vector<std::string> held;
  return ScanEach(sql, params, [&](Row& r) {
    held.resize(r.size());
    text.fields().clear();
    for (size_t c = 0; c < r.size(); ++c) {
      held[c] = r.Text(c);
      text.fields().push_back(r.IsNull(c) ? std::string_view() : std::string_view(held[c]));
    }
    return each(text);
  });
}

Status Database::Execute(std::string_view sql, const std::vector<Value>& params) {
  auto rows = Query(sql, params);
  return rows.ok() ? Status::Ok() : rows.status();
}

Status Database::QueryEach(std::string_view sql, const std::vector<Value>& params,
                           const std::function<Status(Row&)>& each) {
  auto rows = Query(sql, params);
  if (!rows) return rows.status();
  for (Row& r : *rows) {
    Status s = each(r);
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

Status Database::BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                            const std::function<bool(std::vector<Value>& row)>& next) {
  if (columns.empty()) return Status::Internal("BulkInsert without columns");
  if (in_transaction_) return BulkInsertRows(table, columns, next);
  return Transaction([&] { return BulkInsertRows(table, columns, next); });
}

Status Database::BulkInsert(std::string_view table, const std::vector<std::string>& columns,
                            const std::vector<std::vector<Value>>& rows) {
  size_t at = 0;
  return BulkInsert(table, columns, [&](std::vector<Value>& row) {
    if (at == rows.size()) return false;
    row = rows[at++];
    return true;
  });
}

std::string InsertStatement(std::string_view table, const std::vector<std::string>& columns,
                            size_t rows) {
  std::string sql = "INSERT INTO " + std::string(table) + " (";
  std::string marks = "(";
  for (size_t i = 0; i < columns.size(); ++i) {
    sql += (i ? ", " : "") + columns[i];
    marks += i ? ", ?" : "?";
  }
  marks += ')';
  sql += ") VALUES ";
  sql.reserve(sql.size() + rows * (marks.size() + 2));
  for (size_t r = 0; r < rows; ++r) {
    if (r) sql += ", ";
    sql += marks;
  }
  return sql;
}

bool Database::Ping() { return Query("SELECT 1").ok(); }

void Database::VacuumAfterBulkLoad(std::string_view table, size_t rows) {
  // Fewer rows than autovacuum's own threshold for a small table (50 + 10%) change no plan.
  constexpr size_t kBulkLoadRows = 1000;
  if (dialect() != Dialect::kPostgres || rows < kBulkLoadRows) return;
  AfterCommit([this, name = std::string(table)] {
    if (vacuum_later_) {
      vacuum_later_(name);
    } else {
      static_cast<void>(Execute(VacuumStatement(name)));  // else left to autovacuum
    }
  });
}

void Database::AfterCommit(std::function<void()> done) {
  if (in_transaction_) {
    after_commit_.push_back(std::move(done));
  } else {
    done();
  }
}

Status Database::ReadSnapshot(const std::function<Status()>& work) {
  if (in_transaction_) return work();
  // Not Begin(): SQLite's takes the write lock, which a reader must not hold.
  Status begun =
      Execute(dialect() == Dialect::kPostgres ? "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
                                              : "BEGIN DEFERRED");
  if (!begun.ok()) return begun;
  in_transaction_ = true;
  after_commit_.clear();
  auto end = [this] {
    in_transaction_ = false;
    after_commit_.clear();  // nothing was written, so nothing follows a commit
    (void)Execute("ROLLBACK");
  };
  Status result;
  try {
    result = work();
  } catch (...) {
    end();
    throw;
  }
  end();
  return result;
}

Status Database::Transaction(const std::function<Status()>& work) {
  Status begun = Begin();
  if (!begun.ok()) return begun;
  in_transaction_ = true;
  after_commit_.clear();
  auto end = [this](bool committed) {
    in_transaction_ = false;
    std::vector<std::function<void()>> done;
    done.swap(after_commit_);
    if (committed) {
      for (auto& f : done) f();
    }
  };
  Status result;
  try {
    result = work();
  } catch (...) {
    (void)Rollback();
    end(false);
    throw;
  }
  if (!result.ok()) {
    (void)Rollback();
    end(false);
    return result;
  }
  Status committed = Commit();
  if (!committed.ok()) (void)Rollback();
  end(committed.ok());
  return committed;
}

std::string Placeholders(size_t n) {
  std::string out;
  out.reserve(n * 3);
  for (size_t i = 0; i < n; ++i) out += i ? ", ?" : "?";
  return out;
}

std::string ReplacePlaceholders(std::string_view sql,
                                const std::function<void(size_t n, std::string& out)>& put) {
  std::string out;
  out.reserve(sql.size() + 16);
  size_t n = 0;
  char quote = 0;
  for (char c : sql) {
    if (quote) {
      if (c == quote) quote = 0;
      out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      out += c;
    } else if (c == '?') {
      put(n++, out);
    } else {
      out += c;
    }
  }
  return out;
}

std::string NumberPlaceholders(std::string_view sql) {
  return ReplacePlaceholders(sql, [](size_t n, std::string& out) {
    out += '$';
    out += std::to_string(n + 1);
  });
}

std::string ContainsPattern(std::string_view needle) {
  std::string pattern = "%";
  for (char c : needle) {
    if (c == '%' || c == '_' || c == '\\') pattern += '\\';
    pattern += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  pattern += '%';
  return pattern;
}

}  // namespace esar::storage

namespace esar::storage {

Result<std::unique_ptr<Database>> Open(const std::string& url) {
  if (url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0)
    return OpenPostgres(url);
  if (url.rfind("sqlite:", 0) == 0) return OpenSqlite(url.substr(7));
  if (url.empty()) {
    return Status::InvalidInput("ต้องระบุฐานข้อมูล", "no database given");
  }
  return OpenSqlite(url);
}

}  // namespace esar::storage
