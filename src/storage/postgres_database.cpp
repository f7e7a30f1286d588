// The PostgreSQL backend, on libpq: the engine for scale.
#include <libpq-fe.h>

#include <algorithm>
#include <bit>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/text.h"
#include "storage/backends.h"

namespace esar::storage {
namespace {

// Type oids from PostgreSQL's pg_type.h, for decoding text-format results and writing binary COPY.
constexpr Oid kBoolOid = 16, kByteaOid = 17, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23,
              kTextOid = 25, kFloat4Oid = 700, kFloat8Oid = 701, kVarcharOid = 1043,
              kNumericOid = 1700;

Status PgError(const std::string& what, const std::string& message) {
  return Status::IoError("ฐานข้อมูล PostgreSQL: " + what + ": " + message,
                         "PostgreSQL: " + what + ": " + message);
}

std::string DecodeBytea(const char* text, size_t length) {
  // Hex format: "\x" followed by two hex digits a byte.
  std::string out;
  if (length < 2 || text[0] != '\\' || text[1] != 'x') return std::string(text, length);
  out.reserve((length - 2) / 2);
  auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
  for (size_t i = 2; i + 1 < length; i += 2)
    out += static_cast<char>(nibble(text[i]) * 16 + nibble(text[i + 1]));
  return out;
}

// `bytes` in bytea's hex form (\x and two hex digits a byte), appended to `out`.
void AppendByteaHex(const std::string& bytes, std::string& out) {
  static const char* kDigits = "0123456789abcdef";
  out += "\\x";
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
}

// `v` as COPY's text format writes it: NULL as \N; a backslash, tab, newline and carriage return
// escaped; bytes as bytea's hex form (its backslash escaped too).
void AppendCopyText(const Value& v, std::string& out) {
  if (std::holds_alternative<std::monostate>(v)) {
    out += "\\N";
  } else if (const auto* n = std::get_if<int64_t>(&v)) {
    char digits[24];
    out.append(digits,
               static_cast<size_t>(std::to_chars(digits, digits + sizeof digits, *n).ptr - digits));
  } else if (const auto* d = std::get_if<double>(&v)) {
    char digits[kShortestDecimalMax];
    out.append(digits, ShortestDecimalTo(*d, digits));
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    // Most texts need no escape: appended whole.
    if (s->find_first_of(std::string_view("\\\t\n\r", 4)) == std::string::npos) {
      out += *s;
      return;
    }
    for (char c : *s) {
      switch (c) {
        case '\\':
          out += "\\\\";
          break;
        case '\t':
          out += "\\t";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        default:
          out += c;
      }
    }
  } else if (const auto* b = std::get_if<Blob>(&v)) {
    out += '\\';  // COPY's escape of the backslash that begins bytea's hex form
    AppendByteaHex(b->bytes, out);
  }
}

// True for the column types whose binary COPY format AppendCopyBinary writes: every type esar's
// schema uses.
bool CopiesInBinary(Oid type) {
  switch (type) {
    case kByteaOid:
    case kInt8Oid:
    case kInt2Oid:
    case kInt4Oid:
    case kTextOid:
    case kFloat4Oid:
    case kFloat8Oid:
    case kVarcharOid:
      return true;
    default:
      return false;
  }
}

// `bits` appended to `out` in network byte order, as COPY's binary format has every number.
template <typename Unsigned>
void AppendBigEndian(Unsigned bits, std::string& out) {
  char bytes[sizeof(Unsigned)];  // appended at once: a character at a time cost more than COPY
  for (size_t i = 0; i < sizeof(Unsigned); ++i)
    bytes[i] = static_cast<char>((bits >> (8 * (sizeof(Unsigned) - 1 - i))) & 0xff);
  out.append(bytes, sizeof bytes);
}

// A field of COPY's binary format: its length, then its bytes.
void AppendBinaryField(std::string_view bytes, std::string& out) {
  AppendBigEndian(static_cast<uint32_t>(bytes.size()), out);
  out += bytes;
}

// `v` as a number, as the text format would have read it into a numeric column: an integer or a
// real as it is, a text parsed whole. False for bytes or a text that is no number.
bool NumberOf(const Value& v, double* real, int64_t* integer, bool* is_integer) {
  if (const auto* n = std::get_if<int64_t>(&v)) {
    *integer = *n;
    *is_integer = true;
    return true;
  }
  if (const auto* d = std::get_if<double>(&v)) {
    *real = *d;
    *is_integer = false;
    return true;
  }
  const auto* s = std::get_if<std::string>(&v);
  if (!s) return false;
  const char* end = s->data() + s->size();
  if (std::from_chars(s->data(), end, *integer).ptr == end) {
    *is_integer = true;
    return !s->empty();
  }
  *is_integer = false;
  return !s->empty() && std::from_chars(s->data(), end, *real).ptr == end;
}

// `v` as one field of COPY's binary format for a column of `type` (CopiesInBinary), appended to
// `out`: NULL as length -1; integers of the column's width, reals as IEEE 754 doubles or floats,
// texts and bytes as they are. A value the text format would have turned into the column's type
// is turned the same way (an integer into a real column, a number into a text column, a numeric
// text into a number). False, with nothing appended, for one it would have refused: a real with
// a fraction or an integer out of range for an integer column, bytes for any column but bytea.
bool AppendCopyBinary(Oid type, const Value& v, std::string& out) {
  if (std::holds_alternative<std::monostate>(v)) {
    AppendBigEndian(static_cast<uint32_t>(-1), out);
    return true;
  }
  if (type == kByteaOid) {
    const auto* b = std::get_if<Blob>(&v);
    if (!b) return false;
    AppendBinaryField(b->bytes, out);
    return true;
  }
  if (type == kTextOid || type == kVarcharOid) {
    if (const auto* s = std::get_if<std::string>(&v)) {
      AppendBinaryField(*s, out);
      return true;
    }
    if (std::holds_alternative<Blob>(v)) return false;
    std::string text;
    AppendCopyText(v, text);  // a number: no escapes
    AppendBinaryField(text, out);
    return true;
  }
  double real = 0;
  int64_t integer = 0;
  bool is_integer = false;
  if (!NumberOf(v, &real, &integer, &is_integer)) return false;
  if (type == kFloat8Oid || type == kFloat4Oid) {
    if (is_integer) real = static_cast<double>(integer);
    if (type == kFloat8Oid) {
      AppendBigEndian(uint32_t{8}, out);
      AppendBigEndian(std::bit_cast<uint64_t>(real), out);
    } else {
      AppendBigEndian(uint32_t{4}, out);
      AppendBigEndian(std::bit_cast<uint32_t>(static_cast<float>(real)), out);
    }
    return true;
  }
  if (!is_integer) {
    // 2^63 as a double: the first real past int64's range.
    if (!(std::trunc(real) == real && std::fabs(real) < 9223372036854775808.0)) return false;
    integer = static_cast<int64_t>(real);
  }
  if (type == kInt8Oid) {
    AppendBigEndian(uint32_t{8}, out);
    AppendBigEndian(static_cast<uint64_t>(integer), out);
  } else if (type == kInt4Oid) {
    if (integer < INT32_MIN || integer > INT32_MAX) return false;
    AppendBigEndian(uint32_t{4}, out);
    AppendBigEndian(static_cast<uint32_t>(integer), out);
  } else {
    if (integer < INT16_MIN || integer > INT16_MAX) return false;
    AppendBigEndian(uint32_t{2}, out);
    AppendBigEndian(static_cast<uint16_t>(integer), out);
  }
  return true;
}

// The text of a value other than NULL that a literal in SQL holds for it: numbers as Query sends
// them, texts as they are, bytes in bytea's hex form.
std::string LiteralText(const Value& v) {
  std::string out;
  if (const auto* s = std::get_if<std::string>(&v))
    out = *s;
  else if (const auto* b = std::get_if<Blob>(&v))
    AppendByteaHex(b->bytes, out);
  else
    AppendCopyText(v, out);
  return out;
}

// One cell of text-format output (`cell`, `length` bytes, NUL-terminated) of column type `type`
// as the Value Query gives for it, appended to `row`.
void AppendCell(Oid type, const char* cell, size_t length, std::vector<Value>& row) {
  switch (type) {
    case kInt2Oid:
    case kInt4Oid:
    case kInt8Oid: {
      int64_t v = 0;
      std::from_chars(cell, cell + length, v);
      row.emplace_back(v);
      break;
    }
    case kFloat4Oid:
    case kFloat8Oid:
    case kNumericOid:
      row.emplace_back(std::strtod(cell, nullptr));
      break;
    case kBoolOid:
      row.emplace_back(static_cast<int64_t>(cell[0] == 't'));
      break;
    case kByteaOid:
      row.emplace_back(Blob{DecodeBytea(cell, length)});
      break;
    default:
      row.emplace_back(std::string(cell, length));
  }
}

// One field of a line of COPY's text format, [at, end), unescaped over itself (the reverse of
// AppendCopyText: \\, \t, \n, \r, \b, \f, \v; any other escaped character stands for itself;
// never longer than the escaped text). Returns the end of its text, or nullptr for the NULL
// marker \N.
char* UnescapeCopyField(char* at, char* end) {
  if (end - at == 2 && at[0] == '\\' && at[1] == 'N') return nullptr;
  char* to = std::find(at, end, '\\');
  for (const char* from = to; from < end; ++from) {
    if (*from != '\\' || from + 1 == end) {
      *to++ = *from;
      continue;
    }
    ++from;
    switch (*from) {
      case 't':
        *to++ = '\t';
        break;
      case 'n':
        *to++ = '\n';
        break;
      case 'r':
        *to++ = '\r';
        break;
      case 'b':
        *to++ = '\b';
        break;
      case 'f':
        *to++ = '\f';
        break;
      case 'v':
        *to++ = '\v';
        break;
      default:
        *to++ = *from;
    }
  }
  return to;
}

// The `columns` fields of a line of COPY's text format, [line, line + length), into `fields`:
// each unescaped where it lies (the line is libpq's, the caller's to change, and ends with a NUL)
// and ended with a NUL there, over the tab or line end after it; a default view for NULL.
void SplitCopyLine(char* line, size_t length, size_t columns,
                   std::vector<std::string_view>& fields) {
  char* at = line;
  char* const end = line + length;
  fields.clear();
  for (size_t c = 0; c < columns; ++c) {
    char* const stop = std::find(at, end, '\t');
    char* const next = stop == end ? end : stop + 1;
    char* const text_end = UnescapeCopyField(at, stop);
    if (text_end) {
      *text_end = '\0';  // strtod may read up to it
      fields.emplace_back(at, static_cast<size_t>(text_end - at));
    } else {
      fields.emplace_back();
    }
    at = next;
  }
}

// Whether a statement is worth keeping prepared on its connection: a query or a change of rows,
// which pages and reports send again and again with other values. Not a transaction's BEGIN or
// COMMIT (nothing to plan), nor a cursor's DECLARE, FETCH or CLOSE, whose texts name a cursor
// made afresh each time.
bool WorthPreparing(std::string_view sql) {
  const size_t start = sql.find_first_not_of(" \t\n\r(");
  if (start == std::string_view::npos) return false;
  std::string word;
  for (size_t i = start; i < sql.size() && std::isalpha(static_cast<unsigned char>(sql[i])); ++i)
    word += static_cast<char>(std::toupper(static_cast<unsigned char>(sql[i])));
  return word == "SELECT" || word == "WITH" || word == "INSERT" || word == "UPDATE" ||
         word == "DELETE";
}

// Hashes texts as std::string_view, so that a statement's text is looked up without a copy.
struct TextHash {
  using is_transparent = void;
  size_t operator()(std::string_view text) const { return std::hash<std::string_view>{}(text); }
};

class PostgresDatabase final : public Database {
 public:
  // `prepare`: whether statements are kept prepared (named) on this connection; off behind a
  // pooler that gives each transaction whichever server connection is free (pgbouncer's
  // transaction pooling), where a statement prepared on one is unknown to the next.
  PostgresDatabase(PGconn* conn, bool prepare) : conn_(conn), prepare_(prepare) {}
  ~PostgresDatabase() override { PQfinish(conn_); }

  Result<Rows> Query(std::string_view sql, const std::vector<Value>& params) override {
    std::vector<std::string> storage(params.size());
    std::vector<const char*> values(params.size(), nullptr);
    std::vector<int> lengths(params.size(), 0);
    std::vector<int> formats(params.size(), 0);
    for (size_t i = 0; i < params.size(); ++i) {
      const Value& v = params[i];
      if (std::holds_alternative<std::monostate>(v)) continue;
      if (const auto* n = std::get_if<int64_t>(&v))
        storage[i] = std::to_string(*n);
      else if (const auto* d = std::get_if<double>(&v))
        storage[i] = ShortestDecimal(*d);
      else if (const auto* s = std::get_if<std::string>(&v))
        storage[i] = *s;
      else if (const auto* b = std::get_if<Blob>(&v)) {
        storage[i] = b->bytes;
        formats[i] = 1;  // binary: the bytes as they are
      }
      values[i] = storage[i].data();
      lengths[i] = static_cast<int>(storage[i].size());
    }
    // Prepared by an earlier call: only such a statement can have gone stale (below).
    bool prepared_before = false;
    auto name = PreparedName(sql, params.size(), &prepared_before);
    if (!name) return name.status();
    const std::string text = *name ? std::string() : NumberPlaceholders(sql);
    PGresult* result =
        *name ? PQexecPrepared(conn_, (*name)->c_str(), static_cast<int>(params.size()),
                               values.data(), lengths.data(), formats.data(), 0)
              : PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                             values.data(), lengths.data(), formats.data(), 0);
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
      // A statement kept prepared that the server can no longer run as it was prepared ("cached
      // plan must not change result type", after a migration changed a table it reads) is
      // prepared afresh, under a new name: now, when it ran on its own (its failure changed
      // nothing), else next time (this transaction is lost).
      const char* state = PQresultErrorField(result, PG_DIAG_SQLSTATE);
      if (prepared_before && state && std::string_view(state) == "0A000") {
        prepared_.erase(prepared_.find(sql));
        if (!InTransaction()) return Query(sql, params);
      }
      // A broken connection (the server restarted) is reopened for whoever borrows it next; this
      // statement still fails, as its transaction, if any, is gone.
      return Failed("query", result);
    }
    Rows rows;
    const int n = PQntuples(result), columns = PQnfields(result);
    rows.reserve(static_cast<size_t>(n));
    for (int r = 0; r < n; ++r) {
      std::vector<Value> row;
      row.reserve(static_cast<size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result, r, c)) {
          row.emplace_back(std::monostate{});
          continue;
        }
        const char* cell = PQgetvalue(result, r, c);
        const auto length = static_cast<size_t>(PQgetlength(result, r, c));
        AppendCell(PQftype(result, c), cell, length, row);
      }
      rows.emplace_back(std::move(row));
    }
    return rows;
  }

  Status QueryEach(std::string_view sql, const std::vector<Value>& params,
                   const std::function<Status(Row&)>& each) override {
    // A cursor lives in a transaction: the caller's, or a snapshot of this read's own.
    if (!InTransaction()) return ReadSnapshot([&] { return QueryEach(sql, params, each); });
    // Named afresh each time: `each` may read through another cursor meanwhile.
    const std::string cursor = "esar_each_" + std::to_string(++cursors_);
    Status declared =
        Execute("DECLARE " + cursor + " NO SCROLL CURSOR FOR " + std::string(sql), params);
    if (!declared.ok()) return declared;
    const std::string fetch = "FETCH " + std::to_string(kFetchRows) + " FROM " + cursor;
    Status out;
    while (out.ok()) {
      auto rows = Query(fetch, {});
      if (!rows) return rows.status();  // the transaction is aborted: the cursor goes with it
      for (Row& r : *rows) {
        out = each(r);
        if (!out.ok()) break;
      }
      if (rows->size() < kFetchRows) break;
    }
    Status closed = Execute("CLOSE " + cursor);
    return out.ok() ? closed : out;
  }

  Status ScanEach(std::string_view sql, const std::vector<Value>& params,
                  const std::function<Status(Row&)>& each) override {
    // The column types (for the Values Query would give) from the statement prepared unnamed and
    // described, not run; then its rows as COPY's text, streamed: no cursor, no round trip per
    // batch, one line per row. All in one transaction (the caller's or a snapshot of this read's
    // own), so they see the same data and, under pgbouncer's transaction pooling, one server
    // connection, which keeps the unnamed statement until the next is prepared.
    if (!InTransaction()) return ReadSnapshot([&] { return ScanEach(sql, params, each); });
    std::vector<Oid> types;
    Status started = BeginCopyOut(sql, params, types);
    if (!started.ok()) return started;
    TextRow text;
    std::vector<Value> values;
    return ReadCopyOut([&](char* line, size_t length) {
      SplitCopyLine(line, length, types.size(), text.fields());
      values.reserve(types.size());
      for (size_t c = 0; c < types.size(); ++c) {
        if (text.IsNull(c))
          values.emplace_back(std::monostate{});
        else
          AppendCell(types[c], text.Text(c).data(), text.Text(c).size(), values);
      }
      Row row(std::move(values));
      values = {};
      return each(row);
    });
  }

  Status ScanText(std::string_view sql, const std::vector<Value>& params,
                  const std::function<Status(const TextRow&)>& each) override {
    // ScanEach's COPY, without the Values.
    if (!InTransaction()) return ReadSnapshot([&] { return ScanText(sql, params, each); });
    std::vector<Oid> types;
    Status started = BeginCopyOut(sql, params, types);
    if (!started.ok()) return started;
    TextRow row;
    return ReadCopyOut([&](char* line, size_t length) {
      SplitCopyLine(line, length, types.size(), row.fields());
      return each(row);
    });
  }

  // Starts `sql` (with `params` as quoted literals) as COPY (...) TO STDOUT in the transaction in
  // progress; `types` are its columns' types, from the statement prepared unnamed and described.
  Status BeginCopyOut(std::string_view sql, const std::vector<Value>& params,
                      std::vector<Oid>& types) {
    {
      const std::string text = NumberPlaceholders(sql);
      std::unique_ptr<PGresult, void (*)(PGresult*)> prepared(
          PQprepare(conn_, "", text.c_str(), static_cast<int>(params.size()), nullptr), PQclear);
      if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK)
        return Failed("query", prepared.get());
      std::unique_ptr<PGresult, void (*)(PGresult*)> described(PQdescribePrepared(conn_, ""),
                                                               PQclear);
      if (PQresultStatus(described.get()) != PGRES_COMMAND_OK)
        return Failed("query", described.get());
      for (int c = 0; c < PQnfields(described.get()); ++c)
        types.push_back(PQftype(described.get(), c));
    }
    {
      // Each value as a quoted literal: untyped, as the parameters Query sends are, so the
      // server gives it the type its place asks for. A NULL is NULL; bytes are bytea's hex text.
      Status unquotable;
      const std::string with_values = ReplacePlaceholders(sql, [&](size_t n, std::string& out) {
        if (n >= params.size()) {  // described above as $n: Query would fail to bind
          if (unquotable.ok())
            unquotable = PgError(
                "query", "a ? without a value (" + std::to_string(params.size()) + " given)");
          return;
        }
        const Value& v = params[n];
        if (std::holds_alternative<std::monostate>(v)) {
          out += "NULL";
          return;
        }
        const std::string text = LiteralText(v);
        char* quoted = PQescapeLiteral(conn_, text.data(), text.size());
        if (!quoted) {
          if (unquotable.ok()) unquotable = PgError("query", PQerrorMessage(conn_));
          return;
        }
        out += quoted;
        PQfreemem(quoted);
      });
      if (!unquotable.ok()) return unquotable;
      const std::string copy = "COPY (" + with_values + ") TO STDOUT";
      std::unique_ptr<PGresult, void (*)(PGresult*)> started(PQexec(conn_, copy.c_str()), PQclear);
      if (PQresultStatus(started.get()) != PGRES_COPY_OUT) return Failed("copy", started.get());
    }
    return Status::Ok();
  }

  // Reads the rows of the COPY BeginCopyOut started to its end, giving each line without its
  // line end to `line` (which may change its bytes, and the NUL after them). After a failure of
  // `line`, the rest is read and dropped: COPY cannot be stopped midway on a connection that is
  // to be used again, and the transaction ends with that failure anyway.
  Status ReadCopyOut(const std::function<Status(char* line, size_t length)>& line) {
    Status out;
    while (true) {
      char* text = nullptr;
      const int length = PQgetCopyData(conn_, &text, 0);
      if (length < 0) break;  // -1: every row read; -2: failed (the result below says why)
      std::unique_ptr<char, void (*)(void*)> held(text, PQfreemem);
      if (!out.ok()) continue;
      const auto size = static_cast<size_t>(length);
      out = line(text, size > 0 && text[size - 1] == '\n' ? size - 1 : size);
    }
    while (PGresult* result = PQgetResult(conn_)) {
      std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
      if (PQresultStatus(result) != PGRES_COMMAND_OK && out.ok())
        out = PgError("copy", PQresultErrorMessage(result));
    }
    ResetIfBroken();
    return out;
  }

  Status BulkInsertRows(std::string_view table, const std::vector<std::string>& columns,
                        const std::function<bool(std::vector<Value>& row)>& next) override {
    // Binary when every column's type allows (every table of esar's schema): the server then
    // parses no text, and no real is written out as decimal digits. Parsing the text format was
    // a sixth of the server's time storing a round's 216,000 KPI rows (issue 9).
    auto types = ColumnTypes(table, columns);
    if (!types) return types.status();
    const bool binary = std::all_of(types->begin(), types->end(), CopiesInBinary);
    std::string sql = "COPY " + std::string(table) + " (";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + columns[i];
    sql += binary ? ") FROM STDIN (FORMAT binary)" : ") FROM STDIN";
    {
      PGresult* started = PQexec(conn_, sql.c_str());
      std::unique_ptr<PGresult, void (*)(PGresult*)> guard(started, PQclear);
      if (PQresultStatus(started) != PGRES_COPY_IN)
        return PgError("copy", PQresultErrorMessage(started));
    }
    // The binary format's signature, flags (none) and header extension (none).
    std::string buffer = binary ? std::string("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 19) : "";
    std::vector<Value> row;
    row.reserve(columns.size());
    Status failed;
    auto flush = [&]() {
      if (buffer.empty()) return true;
      if (PQputCopyData(conn_, buffer.data(), static_cast<int>(buffer.size())) != 1) return false;
      buffer.clear();
      return true;
    };
    while (failed.ok()) {
      row.clear();
      if (!next(row)) break;
      if (row.size() != columns.size()) {
        failed = Status::Internal("BulkInsert: a row of " + std::to_string(row.size()) +
                                  " values for " + std::to_string(columns.size()) + " columns");
        break;
      }
      if (binary) {
        AppendBigEndian(static_cast<uint16_t>(row.size()), buffer);
        for (size_t i = 0; i < row.size() && failed.ok(); ++i) {
          if (!AppendCopyBinary((*types)[i], row[i], buffer)) {
            failed = PgError("copy into " + std::string(table),
                             "column " + columns[i] + " cannot hold the value given (type oid " +
                                 std::to_string((*types)[i]) + ")");
          }
        }
      } else {
        for (size_t i = 0; i < row.size(); ++i) {
          if (i) buffer += '\t';
          AppendCopyText(row[i], buffer);
        }
        buffer += '\n';
      }
      // Sent 64 KB at a time, so the server stores rows while the next are encoded: at 1 MB, a
      // 500-agency slice of KPI rows (1.3 MB) was encoded almost whole before the server began.
      if (buffer.size() >= (1u << 16) && failed.ok() && !flush())
        failed = PgError("copy", PQerrorMessage(conn_));
    }
    if (binary && failed.ok()) AppendBigEndian(static_cast<uint16_t>(-1), buffer);  // the trailer
    if (failed.ok() && !flush()) failed = PgError("copy", PQerrorMessage(conn_));
    // Ended with an error message when the rows stopped halfway: the server drops what it got.
    if (PQputCopyEnd(conn_, failed.ok() ? nullptr : "esar: bulk insert abandoned") != 1 &&
        failed.ok()) {
      failed = PgError("copy", PQerrorMessage(conn_));
    }
    while (PGresult* result = PQgetResult(conn_)) {
      std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
      if (PQresultStatus(result) != PGRES_COMMAND_OK && failed.ok())
        failed = PgError("copy into " + std::string(table), PQresultErrorMessage(result));
    }
    ResetIfBroken();
    return failed;
  }

  Status ExecuteScript(std::string_view sql) override {
    const std::string text(sql);
    PGresult* result = PQexec(conn_, text.c_str());
    std::unique_ptr<PGresult, void (*)(PGresult*)> guard(result, PQclear);
    const ExecStatusType status = PQresultStatus(result);
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
      return PgError("script", PQresultErrorMessage(result));
    return Status::Ok();
  }

  Dialect dialect() const override { return Dialect::kPostgres; }

 protected:
  Status Begin() override { return Execute("BEGIN"); }

 private:
  // The failure `result` reports, as a Status about `what`; a broken connection is reopened for
  // whoever borrows it next (this statement and its transaction are gone).
  Status Failed(const std::string& what, const PGresult* result) {
    Status error = PgError(what, PQresultErrorMessage(result));
    ResetIfBroken();
    return error;
  }

  // The type of each of `columns` of `table`, in their order; 0 for one the table does not
  // have (COPY then names it in its error). Asked each time rather than remembered: a table can
  // be dropped and made again with other types on the same connection (migrations, tests), and
  // the question costs one round trip against a bulk insert's thousands of rows.
  Result<std::vector<Oid>> ColumnTypes(std::string_view table,
                                       const std::vector<std::string>& columns) {
    auto rows = Query(
        "SELECT CAST(attname AS TEXT), CAST(atttypid AS BIGINT) FROM pg_attribute WHERE attrelid "
        "= CAST(? AS regclass) AND attnum > 0 AND NOT attisdropped",
        {std::string(table)});
    if (!rows) return rows.status();
    std::vector<Oid> types(columns.size(), 0);
    for (const Row& r : *rows) {
      const auto at = std::find(columns.begin(), columns.end(), r.Text(0));
      if (at != columns.end())
        types[static_cast<size_t>(at - columns.begin())] = static_cast<Oid>(r.Int(1));
    }
    return types;
  }

  // Reopens a broken connection (the server restarted) for whoever borrows it next: a new
  // session, which holds none of the statements the old one had prepared.
  void ResetIfBroken() {
    if (PQstatus(conn_) != CONNECTION_BAD) return;
    PQreset(conn_);
    prepared_.clear();
  }

  // The name `sql` (of `params` parameters) is prepared under on this connection, prepared now
  // if it has not been; nullptr for a statement sent unnamed (not worth preparing, preparing is
  // off, or this is the first time this connection sends it). Parsing and planning took half of
  // PostgreSQL's time for a review-queue page of 18 statements (issue 9); a statement prepared
  // once is parsed once, and planned once its plan no longer depends on the values
  // (PostgreSQL's plan cache decides, after five runs). Preparing costs a round trip of its own,
  // which a statement sent once would not repay: a statement is prepared the second time it is
  // sent. When the connection keeps kMaxPrepared already, the one used longest ago is
  // deallocated. `*prepared_before` tells whether an earlier call had prepared it.
  Result<const std::string*> PreparedName(std::string_view sql, size_t params,
                                          bool* prepared_before) {
    *prepared_before = false;
    if (!prepare_ || !WorthPreparing(sql)) return nullptr;
    const auto found = prepared_.find(sql);
    if (found != prepared_.end()) {
      *prepared_before = true;
      found->second.used = ++uses_;
      return &found->second.name;
    }
    // Texts are remembered by their hash: one that collides with another's is prepared early.
    const size_t hash = TextHash{}(sql);
    if (sent_once_.insert(hash).second) {
      if (sent_once_.size() > kMaxSentOnce) sent_once_ = {hash};
      return nullptr;
    }
    if (prepared_.size() >= kMaxPrepared) {
      auto oldest = prepared_.begin();
      for (auto at = prepared_.begin(); at != prepared_.end(); ++at)
        if (at->second.used < oldest->second.used) oldest = at;
      std::unique_ptr<PGresult, void (*)(PGresult*)> dropped(
          PQexec(conn_, ("DEALLOCATE " + oldest->second.name).c_str()), PQclear);
      // Refused in a transaction that has failed: this statement then goes unnamed (and fails
      // as the transaction has).
      if (PQresultStatus(dropped.get()) != PGRES_COMMAND_OK) return nullptr;
      prepared_.erase(oldest);
    }
    std::string name = "esar_" + std::to_string(++statements_);
    std::unique_ptr<PGresult, void (*)(PGresult*)> prepared(
        PQprepare(conn_, name.c_str(), NumberPlaceholders(sql).c_str(), static_cast<int>(params),
                  nullptr),
        PQclear);
    // Not kept when it failed (a mistake in it, or its transaction failed before): a statement
    // that fails to parse is not prepared, and the name is never used again.
    if (PQresultStatus(prepared.get()) != PGRES_COMMAND_OK) return Failed("query", prepared.get());
    auto& kept =
        prepared_.emplace(std::string(sql), Prepared{std::move(name), ++uses_}).first->second;
    return &kept.name;
  }

  // Rows a QueryEach fetches at a time: a few hundred kilobytes, few round trips.
  static constexpr size_t kFetchRows = 4096;
  // Statements a connection keeps prepared at most: the few dozen texts the pages and reports
  // send, with room for the lists of codes of each length and the pages of a queue (whose
  // LIMIT and OFFSET are written in its text). The server keeps each one's parse tree and plans
  // (a few kilobytes) for as long as the connection lives.
  static constexpr size_t kMaxPrepared = 256;
  // Texts remembered as sent once (sent_once_) at most, before they are forgotten together.
  static constexpr size_t kMaxSentOnce = 4096;
  // A statement kept prepared: its name, and when it was last used (uses_ then).
  struct Prepared {
    std::string name;
    uint64_t used;
  };
  PGconn* conn_;
  const bool prepare_;
  uint64_t cursors_ = 0;     // QueryEach's cursors so far, for their names
  uint64_t statements_ = 0;  // statements prepared so far on this connection, for their names
  uint64_t uses_ = 0;        // uses of prepared statements so far, for the least recently used
  // The statements prepared on this connection, by their texts as given.
  std::unordered_map<std::string, Prepared, TextHash, std::equal_to<>> prepared_;
  // The hashes of the texts this connection has sent unnamed (PreparedName).
  std::unordered_set<size_t> sent_once_;
};

// The server's notices below a warning ("relation already exists, skipping" from migrations)
// are dropped; warnings and worse go to standard error, as libpq would print them.
void OnNotice(void*, const PGresult* notice) {
  const char* severity = PQresultErrorField(notice, PG_DIAG_SEVERITY_NONLOCALIZED);
  const std::string level = severity ? severity : "";
  if (level == "NOTICE" || level == "INFO" || level == "LOG" || level == "DEBUG") return;
  std::fprintf(stderr, "esar: PostgreSQL: %s", PQresultErrorMessage(notice));
}

}  // namespace

Result<std::unique_ptr<Database>> OpenPostgres(const std::string& url) {
  // esar's own parameter is taken out of the URL: libpq refuses parameters it does not know.
  std::string libpq_url = url;
  bool prepare = true;
  const size_t query = libpq_url.find('?');
  if (query != std::string::npos) {
    std::string kept;
    size_t at = query + 1;
    while (at <= libpq_url.size()) {
      size_t end = libpq_url.find('&', at);
      if (end == std::string::npos) end = libpq_url.size();
      const std::string_view parameter(libpq_url.data() + at, end - at);
      if (parameter.rfind(kPreparedStatementsParameter, 0) == 0 &&
          parameter.substr(kPreparedStatementsParameter.size()).rfind('=', 0) == 0) {
        const std::string_view setting = parameter.substr(kPreparedStatementsParameter.size() + 1);
        if (setting != "on" && setting != "off") {
          return Status::InvalidInput(
              "ค่า " + std::string(kPreparedStatementsParameter) +
                  " ใน URL ของฐานข้อมูลต้องเป็น on หรือ off",
              std::string(kPreparedStatementsParameter) + " in the database URL must be on or off");
        }
        prepare = setting == "on";
      } else if (!parameter.empty()) {
        kept += (kept.empty() ? "" : "&") + std::string(parameter);
      }
      at = end + 1;
    }
    libpq_url.resize(query);
    if (!kept.empty()) libpq_url += "?" + kept;
  }
  // The encoding travels in the startup message, and nothing is SET on the session: behind
  // pgbouncer in transaction pooling a SET outside a transaction stays with whichever server
  // connection ran it (for other clients to inherit) and is missing from those this
  // connection's later transactions run on. (`url` is expanded; its own parameters come first.)
  const char* keys[] = {"dbname", "client_encoding", nullptr};
  const char* values[] = {libpq_url.c_str(), "UTF8", nullptr};
  PGconn* conn = PQconnectdbParams(keys, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) {
    Status s = PgError("connect", conn ? PQerrorMessage(conn) : "out of memory");
    PQfinish(conn);
    return s;
  }
  PQsetNoticeReceiver(conn, OnNotice, nullptr);
  return std::unique_ptr<Database>(std::make_unique<PostgresDatabase>(conn, prepare));
}

}  // namespace esar::storage
