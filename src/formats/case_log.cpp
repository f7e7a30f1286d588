#include "formats/case_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "formats/csv.h"

namespace esar::formats {
namespace {

using domain::CaseRecord;
using domain::CaseVerdict;
using domain::Day;
using domain::PauseReason;
using domain::PauseSpan;

class FileSource : public ByteSource {
 public:
  FileSource(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileSource() override { ::close(fd_); }
  FileSource(const FileSource&) = delete;
  FileSource& operator=(const FileSource&) = delete;

  Result<size_t> Read(char* buf, size_t n) override {
    for (;;) {
      const ssize_t got = ::read(fd_, buf, n);
      if (got >= 0) return static_cast<size_t>(got);
      if (errno == EINTR) continue;
      return Status::IoError("อ่านไฟล์ " + path_ + " ไม่ได้: " + std::strerror(errno),
                             "cannot read " + path_ + ": " + std::strerror(errno));
    }
  }
  Status Rewind() override {
    if (::lseek(fd_, 0, SEEK_SET) != 0) {
      return Status::IoError("อ่านไฟล์ " + path_ + " ซ้ำไม่ได้", "cannot read " + path_ + " again");
    }
    return Status::Ok();
  }

 private:
  int fd_;
  std::string path_;
};

class TextSource : public ByteSource {
 public:
  explicit TextSource(std::string_view text) : text_(text) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  Status Rewind() override {
    pos_ = 0;
    return Status::Ok();
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// Collects problems: all are counted, the first `max` kept.
class Problems {
 public:
  explicit Problems(size_t max) : max_(max) {}
  void Add(const std::string& file, int64_t line, std::string column, std::string th,
           std::string en) {
    ++count_;
    if (kept_.size() < max_) {
      kept_.push_back({file, line, std::move(column), std::move(th), std::move(en)});
    }
  }
  int64_t count() const { return count_; }
  std::vector<CaseLogProblem>& kept() { return kept_; }

  // Takes `other`'s problems in (the kept ones may then exceed the limit until Trim()).
  void Absorb(Problems& other) {
    count_ += other.count_;
    for (CaseLogProblem& p : other.kept_) kept_.push_back(std::move(p));
    other.kept_.clear();
    other.count_ = 0;
  }

 private:
  size_t max_;
  int64_t count_ = 0;
  std::vector<CaseLogProblem> kept_;
};

// A streaming RFC 4180 reader over a ByteSource: records are cut from a block buffer, fields are
// views into it (or into `unquoted_` for quoted fields), valid until the next call. Written here
// rather than reusing ParseCsv, which needs the whole text in memory.
class CsvStream {
 public:
  CsvStream(ByteSource* src, std::string file, const CaseLogLimits& limits, Problems* problems)
      : src_(src),
        file_(std::move(file)),
        max_record_(limits.max_record_bytes),
        problems_(problems) {
    buf_.resize(std::max(limits.buffer_bytes, 2 * limits.max_record_bytes));
  }

  // The next non-blank record into `fields`, its first line into `line`. False at the end or
  // after a fatal problem (already recorded); an IoError when reading fails.
  Result<bool> Next(std::vector<std::string_view>& fields, int64_t& line) {
    for (;;) {
      if (fatal_) return false;
      if (begin_ == end_) {
        if (eof_) return false;
        if (Status s = Fill(); !s.ok()) return s;
        continue;
      }
      const char* p = buf_.data() + begin_;
      const char* e = buf_.data() + end_;
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<size_t>(e - p)));
      if (!nl && !eof_) {
        if (end_ - begin_ >= max_record_) return TooLong();
        if (Status s = Fill(); !s.ok()) return s;
        continue;
      }
      const char* line_end = nl ? nl : e;
      if (!std::memchr(p, '"', static_cast<size_t>(line_end - p))) {
        // The common case: no quotes, one line.
        if (static_cast<size_t>(line_end - p) > max_record_) return TooLong();
        line = line_;
        ++line_;
        begin_ = nl ? static_cast<size_t>(nl + 1 - buf_.data()) : end_;
        const char* stop = line_end;
        if (stop > p && stop[-1] == '\r') --stop;
        if (stop == p) continue;  // a blank line
        fields.clear();
        const char* f = p;
        for (;;) {
          const char* comma =
              static_cast<const char*>(std::memchr(f, ',', static_cast<size_t>(stop - f)));
          if (!comma) {
            fields.emplace_back(f, static_cast<size_t>(stop - f));
            break;
          }
          fields.emplace_back(f, static_cast<size_t>(comma - f));
          f = comma + 1;
        }
        return true;
      }
      auto quoted = Quoted(fields, line);
      if (!quoted.ok()) return quoted.status();
      if (*quoted == 1) return true;
      if (*quoted == 2) return false;
      // 0: the record continues past the buffer: read more and try again.
      if (end_ - begin_ >= max_record_) return TooLong();
      if (Status s = Fill(); !s.ok()) return s;
    }
  }

  // Skips a UTF-8 byte order mark at the very start (Excel writes one).
  Status SkipBom() {
    while (!eof_ && end_ - begin_ < 3) {
      if (Status s = Fill(); !s.ok()) return s;
    }
    if (end_ - begin_ >= 3 && std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0)
      begin_ += 3;
    return Status::Ok();
  }

  // True when reading stopped at a problem that hides the rest of the file.
  bool fatal() const { return fatal_; }

  Status Rewind() {
    begin_ = end_ = 0;
    eof_ = false;
    fatal_ = false;
    line_ = 1;
    if (Status s = src_->Rewind(); !s.ok()) return s;
    return SkipBom();
  }

 private:
  Result<bool> TooLong() {
    problems_->Add(
        file_, line_, "",
        "ระเบียนยาวเกิน " + std::to_string(max_record_) + " ไบต์ (อาจมีเครื่องหมายคำพูดที่ไม่ได้ปิด)",
        "a record longer than " + std::to_string(max_record_) +
            " bytes (perhaps a quote left open)");
    fatal_ = true;
    return false;
  }

  Status Fill() {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    while (end_ < buf_.size()) {
      auto got = src_->Read(buf_.data() + end_, buf_.size() - end_);
      if (!got.ok()) return got.status();
      if (*got == 0) {
        eof_ = true;
        break;
      }
      end_ += *got;
    }
    return Status::Ok();
  }

  // Parses a record with quotes starting at begin_. 1: a record; 0: incomplete, read more;
  // 2: a fatal syntax problem (recorded).
  Result<int> Quoted(std::vector<std::string_view>& fields, int64_t& line) {
    const char* p = buf_.data() + begin_;
    const char* e = buf_.data() + end_;
    unquoted_.clear();
    std::vector<std::pair<size_t, size_t>> spans;  // into unquoted_
    int64_t lines = 0;
    size_t start = 0;
    bool in_quotes = false, was_quoted = false, after_quote = false;
    const char* q = p;
    for (; q < e; ++q) {
      const char c = *q;
      if (in_quotes) {
        if (c == '"') {
          if (q + 1 < e && q[1] == '"') {
            unquoted_.push_back('"');
            ++q;
          } else if (q + 1 == e && !eof_) {
            return 0;  // cannot tell "" from a closing quote yet
          } else {
            in_quotes = false;
            after_quote = true;
          }
        } else {
          if (c == '\n') ++lines;
          unquoted_.push_back(c);
        }
        continue;
      }
      if (c == ',') {
        spans.emplace_back(start, unquoted_.size() - start);
        start = unquoted_.size();
        was_quoted = after_quote = false;
        continue;
      }
      if (c == '\n' || (c == '\r' && q + 1 < e && q[1] == '\n')) break;
      if (c == '\r' && q + 1 == e && !eof_) return 0;
      if (after_quote) {
        problems_->Add(file_, line_ + lines, "", "มีข้อความต่อท้ายหลังเครื่องหมายคำพูดปิด",
                       "text after a closing quote");
        fatal_ = true;
        return 2;
      }
      if (c == '"') {
        if (unquoted_.size() != start || was_quoted) {
          problems_->Add(file_, line_ + lines, "", "เครื่องหมายคำพูดอยู่กลางช่อง",
                         "a quote in the middle of a field");
          fatal_ = true;
          return 2;
        }
        in_quotes = was_quoted = true;
        continue;
      }
      unquoted_.push_back(c);
    }
    if (in_quotes) {
      if (!eof_) return 0;
      problems_->Add(file_, line_, "", "เครื่องหมายคำพูดเปิดไว้แต่ไม่ได้ปิด", "a quote left open");
      fatal_ = true;
      return 2;
    }
    if (q == e && !eof_) return 0;
    spans.emplace_back(start, unquoted_.size() - start);
    line = line_;
    line_ += lines + 1;
    if (q < e) q += (*q == '\r') ? 2 : 1;
    begin_ = static_cast<size_t>(q - buf_.data());
    fields.clear();
    for (const auto& [off, len] : spans) fields.emplace_back(unquoted_.data() + off, len);
    return 1;
  }

  ByteSource* src_;
  std::string file_;
  size_t max_record_;
  Problems* problems_;
  std::vector<char> buf_;
  std::string unquoted_;
  size_t begin_ = 0, end_ = 0;
  bool eof_ = false;
  bool fatal_ = false;
  int64_t line_ = 1;
};

// The hashes of every case id, to find repeats: 7 bytes per case, kept in 256 buckets by their
// top byte, each a list of 7 KB blocks (no vector doubling at ten million cases). At the end each
// bucket is sorted on its own, small enough for the cache, and scanned for equal neighbours.
class HashBuckets {
 public:
  void Add(uint64_t h) {
    Bucket& b = buckets_[h >> 56];
    if (b.blocks.empty() || b.fill == kBlock) {
      b.blocks.push_back(std::make_unique<uint8_t[]>(kBlock * kBytes));
      b.fill = 0;
    }
    // The top byte is the bucket's number: only the other seven are kept.
    std::memcpy(b.blocks.back().get() + b.fill * kBytes, &h, kBytes);
    ++b.fill;
  }

  // The hash values seen more than once in any of `sets` together, sorted; empties them.
  static std::vector<uint64_t> Repeated(std::vector<HashBuckets>& sets) {
    std::vector<uint64_t> out, all;
    for (size_t k = 0; k < 256; ++k) {
      all.clear();
      for (HashBuckets& set : sets) {
        Bucket& b = set.buckets_[k];
        for (size_t i = 0; i < b.blocks.size(); ++i) {
          const size_t n = i + 1 == b.blocks.size() ? b.fill : kBlock;
          for (size_t j = 0; j < n; ++j) {
            uint64_t h = 0;
            std::memcpy(&h, b.blocks[i].get() + j * kBytes, kBytes);
            all.push_back(h | uint64_t{k} << 56);
          }
        }
        b.blocks.clear();
      }
      std::sort(all.begin(), all.end());
      for (size_t i = 1; i < all.size(); ++i) {
        if (all[i] == all[i - 1] && (out.empty() || out.back() != all[i])) out.push_back(all[i]);
      }
    }
    return out;
  }

 private:
  static_assert(std::endian::native == std::endian::little, "the low seven bytes come first");
  static constexpr size_t kBlock = 1024;  // hashes per block: 7 KB
  static constexpr size_t kBytes = 7;
  struct Bucket {
    std::vector<std::unique_ptr<uint8_t[]>> blocks;
    size_t fill = 0;
  };
  Bucket buckets_[256];
};

uint64_t HashId(std::string_view s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a: short ids, no need for anything faster
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ULL;
  }
  h ^= h >> 33;  // spread the low bits, which index the pause table
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  return h;
}

// A whole number of ASCII digits, at most `max`; nullopt otherwise.
std::optional<int> Whole(std::string_view t, int max) {
  if (t.empty() || t.size() > 9) return std::nullopt;
  int v = 0;
  for (const char c : t) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v > max) return std::nullopt;
  return v;
}

bool IsKindWord(std::string_view s) {
  if (s.empty() || s.size() > 64 || s[0] < 'a' || s[0] > 'z') return false;
  for (const char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// Quoted for a message, cut to a readable length.
std::string Shown(std::string_view v) {
  std::string s(v.substr(0, 40));
  if (!IsValidUtf8(s)) s = "(ไบต์ UTF-8 ไม่ถูกต้อง / invalid UTF-8)";
  return "\"" + s + (v.size() > 40 ? "…\"" : "\"");
}

const char kDateRuleTh[] =
    "ต้องเป็นวันที่แบบ 2024-01-15 (ค.ศ. 1900–2200) หรือ 15/1/2567 (วัน/เดือน/ปี พ.ศ. 2400–2700)";
const char kDateRuleEn[] =
    "must be a date written 2024-01-15 (years 1900–2200) or 15/1/2567 (day/month/Buddhist Era "
    "year 2400–2700)";

// The header's columns found by name; missing ones reported at line 1.
struct Columns {
  std::vector<int> index;  // per wanted column, its position
  size_t width = 0;
};

Columns FindColumns(const std::vector<std::string_view>& header,
                    const std::vector<const char*>& wanted, const std::string& file,
                    Problems& problems, bool& ok) {
  Columns out;
  out.width = header.size();
  ok = true;
  for (const char* w : wanted) {
    int at = -1;
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == w) at = static_cast<int>(i);
    }
    if (at < 0) {
      problems.Add(file, 1, w, std::string("ไม่มีคอลัมน์ ") + w + " ในแถวหัวตาราง",
                   std::string("the header has no column ") + w);
      ok = false;
    }
    out.index.push_back(at);
  }
  return out;
}

// One pause as held between reading pauses.csv and the cases: 24 bytes, so two million pauses
// take 48 MB. Its line is not kept: a pause whose case is missing is found again by re-reading.
struct PauseRec {
  uint64_t hash;
  uint32_t id_offset;  // into the id arena
  Day start;
  Day end;
  uint8_t id_length;  // ids are at most 200 bytes
  PauseReason reason;
  bool matched;
};
static_assert(sizeof(PauseRec) == 24);

// The pauses grouped by case id, found by an open-addressing table on the id's hash. Most cases
// have no pause, and a table of millions of pauses does not fit in the cache: a small bit filter
// (16 bits per case with pauses, two bits each) answers "no pause" for most of them without
// touching the table.
class PauseIndex {
 public:
  void Build(std::vector<PauseRec> recs, std::string arena) {
    recs_ = std::move(recs);
    arena_ = std::move(arena);
    std::sort(recs_.begin(), recs_.end(), [this](const PauseRec& a, const PauseRec& b) {
      if (a.hash != b.hash) return a.hash < b.hash;
      const int c = Id(a).compare(Id(b));
      return c != 0 ? c < 0 : a.start < b.start;
    });
    size_t slots = 16;
    while (slots < recs_.size() * 2) slots <<= 1;
    table_.assign(slots, UINT32_MAX);
    mask_ = slots - 1;
    size_t filter_bits = 64;
    while (filter_bits < recs_.size() * 16) filter_bits <<= 1;
    filter_.assign(filter_bits / 64, 0);
    filter_mask_ = filter_bits - 1;
    for (size_t i = 0; i < recs_.size(); ++i) {
      if (i > 0 && recs_[i].hash == recs_[i - 1].hash && Id(recs_[i]) == Id(recs_[i - 1])) continue;
      const uint64_t h = recs_[i].hash;
      size_t s = h & mask_;
      while (table_[s] != UINT32_MAX) s = (s + 1) & mask_;
      table_[s] = static_cast<uint32_t>(i);
      const uint64_t b1 = (h >> 24) & filter_mask_, b2 = (h >> 40 | h << 24) & filter_mask_;
      filter_[b1 / 64] |= uint64_t{1} << (b1 % 64);
      filter_[b2 / 64] |= uint64_t{1} << (b2 % 64);
    }
  }

  // Copies the pauses of case `id` into `out` and marks them matched.
  void Find(std::string_view id, uint64_t hash, std::vector<PauseSpan>& out) {
    const auto [first, last] = Range(id, hash);
    out.clear();
    for (size_t i = first; i < last; ++i) {
      recs_[i].matched = true;
      out.push_back(PauseSpan{recs_[i].reason, recs_[i].start, recs_[i].end});
    }
  }

  // The same without marking: safe from several threads at once. The pauses are
  // [first, last) of Span(); the caller notes them in its own `matched` (MarkMatched).
  std::pair<size_t, size_t> Range(std::string_view id, uint64_t hash) const {
    if (recs_.empty()) return {0, 0};
    const uint64_t b1 = (hash >> 24) & filter_mask_, b2 = (hash >> 40 | hash << 24) & filter_mask_;
    if (!(filter_[b1 / 64] >> (b1 % 64) & 1) || !(filter_[b2 / 64] >> (b2 % 64) & 1)) return {0, 0};
    for (size_t s = hash & mask_; table_[s] != UINT32_MAX; s = (s + 1) & mask_) {
      const size_t first = table_[s];
      if (recs_[first].hash != hash || Id(recs_[first]) != id) continue;
      size_t last = first;
      while (last < recs_.size() && recs_[last].hash == hash && Id(recs_[last]) == id) ++last;
      return {first, last};
    }
    return {0, 0};
  }

  PauseSpan Span(size_t i) const {
    return PauseSpan{recs_[i].reason, recs_[i].start, recs_[i].end};
  }
  size_t size() const { return recs_.size(); }

  // Marks the pauses a worker found (`matched`, one byte per pause).
  void MarkMatched(const std::vector<uint8_t>& matched) {
    for (size_t i = 0; i < matched.size() && i < recs_.size(); ++i) {
      if (matched[i]) recs_[i].matched = true;
    }
  }

  // The ids of the pauses no case claimed, sorted.
  std::vector<std::string> Unmatched() const {
    std::vector<std::string> out;
    for (size_t i = 0; i < recs_.size(); ++i) {
      if (recs_[i].matched) continue;
      if (out.empty() || out.back() != Id(recs_[i])) out.emplace_back(Id(recs_[i]));
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
  }

 private:
  std::string_view Id(const PauseRec& r) const {
    return std::string_view(arena_).substr(r.id_offset, r.id_length);
  }
  std::vector<PauseRec> recs_;
  std::string arena_;
  std::vector<uint32_t> table_;  // index of a case's first pause in recs_; UINT32_MAX = empty
  size_t mask_ = 0;
  std::vector<uint64_t> filter_;
  size_t filter_mask_ = 0;
};

const std::vector<const char*> kCaseColumns = {
    "case_id",          "kind",     "sections",  "maps",   "maps_complex", "annex_pages",
    "special_category", "received", "completed", "backlog"};
const std::vector<const char*> kPauseColumns = {"case_id", "reason", "start", "end"};

Status ReadPauses(const CaseLogInput& in, const CaseLogLimits& limits, Problems& problems,
                  PauseIndex& index) {
  std::vector<PauseRec> recs;
  std::string arena;
  if (in.pauses) {
    CsvStream csv(in.pauses, in.pauses_name, limits, &problems);
    if (Status s = csv.Rewind(); !s.ok()) return s;
    std::vector<std::string_view> f;
    int64_t line = 0;
    auto got = csv.Next(f, line);
    if (!got.ok()) return got.status();
    if (!*got) {
      problems.Add(in.pauses_name, 1, "", "ไฟล์ว่าง ไม่มีแถวหัวตาราง",
                   "the file is empty: no header row");
    } else {
      bool header_ok = false;
      const Columns cols = FindColumns(f, kPauseColumns, in.pauses_name, problems, header_ok);
      while (header_ok) {
        got = csv.Next(f, line);
        if (!got.ok()) return got.status();
        if (!*got) break;
        const std::string& file = in.pauses_name;
        if (f.size() != cols.width) {
          problems.Add(
              file, line, "",
              "มี " + std::to_string(f.size()) + " ช่อง แต่หัวตารางมี " + std::to_string(cols.width),
              std::to_string(f.size()) + " fields where the header has " +
                  std::to_string(cols.width));
          continue;
        }
        const int64_t before = problems.count();
        const std::string_view id = f[static_cast<size_t>(cols.index[0])];
        if (id.empty() || id.size() > limits.max_case_id_bytes || !IsValidUtf8(id)) {
          problems.Add(file, line, "case_id", "ต้องระบุรหัสเรื่อง (UTF-8 ไม่เกิน 200 ไบต์)",
                       "a case id is required (UTF-8, at most 200 bytes)");
        }
        const std::string_view reason_text = f[static_cast<size_t>(cols.index[1])];
        const auto reason = domain::ParsePauseReason(reason_text);
        if (!reason) {
          problems.Add(
              file, line, "reason",
              "เหตุที่หยุดนับ " + Shown(reason_text) + " ใช้ไม่ได้ (ใช้ได้: ria, committee, outside)",
              "the reason " + Shown(reason_text) +
                  " is not allowed (choose from: ria, committee, outside)");
        }
        const std::string_view start_text = f[static_cast<size_t>(cols.index[2])];
        const auto start = domain::ParseCaseDate(start_text);
        if (!start) {
          problems.Add(file, line, "start", "วันเริ่ม " + Shown(start_text) + " " + kDateRuleTh,
                       "the start " + Shown(start_text) + " " + kDateRuleEn);
        }
        const std::string_view end_text = f[static_cast<size_t>(cols.index[3])];
        std::optional<Day> end;
        if (!end_text.empty()) {
          end = domain::ParseCaseDate(end_text);
          if (!end) {
            problems.Add(file, line, "end", "วันสิ้นสุด " + Shown(end_text) + " " + kDateRuleTh,
                         "the end " + Shown(end_text) + " " + kDateRuleEn);
          } else if (start && *end < *start) {
            problems.Add(file, line, "end", "วันสิ้นสุดการหยุดนับอยู่ก่อนวันเริ่ม",
                         "the pause ends before it starts");
          }
        }
        if (problems.count() != before) continue;
        if (arena.size() + id.size() > UINT32_MAX || recs.size() >= UINT32_MAX - 1) {
          problems.Add(file, line, "", "ไฟล์ใหญ่เกินไป", "the file is too large");
          break;
        }
        recs.push_back(PauseRec{HashId(id), static_cast<uint32_t>(arena.size()), *start,
                                end ? *end : domain::kOpenEnd, static_cast<uint8_t>(id.size()),
                                *reason, false});
        arena.append(id);
      }
    }
  }
  recs.shrink_to_fit();
  arena.shrink_to_fit();
  index.Build(std::move(recs), std::move(arena));
  return Status::Ok();
}

// Re-reads pauses.csv and names every row whose case id is in `missing` (sorted).
Status ReportUnknownCases(const CaseLogInput& in, const std::vector<std::string>& missing,
                          const CaseLogLimits& limits, Problems& problems) {
  Problems ignored(0);
  CsvStream csv(in.pauses, in.pauses_name, limits, &ignored);
  if (Status s = csv.Rewind(); !s.ok()) return s;
  std::vector<std::string_view> f;
  int64_t line = 0;
  int id_col = -1;
  for (;;) {
    auto got = csv.Next(f, line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    if (id_col < 0) {
      for (size_t i = 0; i < f.size(); ++i) {
        if (f[i] == "case_id") id_col = static_cast<int>(i);
      }
      if (id_col < 0) break;
      continue;
    }
    if (static_cast<size_t>(id_col) >= f.size()) continue;
    const std::string_view id = f[static_cast<size_t>(id_col)];
    if (!std::binary_search(missing.begin(), missing.end(), id)) continue;
    problems.Add(in.pauses_name, line, "case_id",
                 "ไม่มีเรื่องรหัส " + Shown(id) + " ใน " + in.cases_name,
                 "no case " + Shown(id) + " in " + in.cases_name);
  }
  return Status::Ok();
}

// Parses one data row of cases.csv into `c`; problems recorded; true when the row is good.
bool ParseCaseRow(const std::vector<std::string_view>& f, const Columns& cols,
                  const std::string& file, int64_t line, const CaseLogLimits& limits,
                  Problems& problems, CaseRecord& c) {
  if (f.size() != cols.width) {
    problems.Add(
        file, line, "",
        "มี " + std::to_string(f.size()) + " ช่อง แต่หัวตารางมี " + std::to_string(cols.width),
        std::to_string(f.size()) + " fields where the header has " + std::to_string(cols.width));
    return false;
  }
  const int64_t before = problems.count();
  auto col = [&](int i) { return f[static_cast<size_t>(cols.index[static_cast<size_t>(i)])]; };
  c.case_id = col(0);
  if (c.case_id.empty() || c.case_id.size() > limits.max_case_id_bytes || !IsValidUtf8(c.case_id)) {
    problems.Add(file, line, "case_id", "ต้องระบุรหัสเรื่อง (UTF-8 ไม่เกิน 200 ไบต์)",
                 "a case id is required (UTF-8, at most 200 bytes)");
  }
  c.kind = col(1);
  if (!IsKindWord(c.kind)) {
    problems.Add(
        file, line, "kind",
        "ประเภทเรื่อง " + Shown(c.kind) + " ต้องเป็นคำภาษาอังกฤษตัวพิมพ์เล็ก เช่น act, royal_decree, opinion",
        "the kind " + Shown(c.kind) +
            " must be a lower-case word such as act, royal_decree, opinion");
  }
  // Counts: empty means 0, except sections, where empty means "not stated".
  auto count = [&](int i, const char* name, int max, int empty_value, int& out) {
    const std::string_view t = col(i);
    if (t.empty()) {
      out = empty_value;
      return;
    }
    const auto v = Whole(t, max);
    if (!v) {
      problems.Add(
          file, line, name, "ค่า " + Shown(t) + " ต้องเป็นจำนวนเต็ม 0 ถึง " + std::to_string(max),
          "the value " + Shown(t) + " must be a whole number from 0 to " + std::to_string(max));
      out = empty_value;
      return;
    }
    out = *v;
  };
  count(2, "sections", 1000000, -1, c.sections);
  count(3, "maps", 1000000, 0, c.maps);
  count(4, "maps_complex", 1, 0, c.maps_complex);
  count(5, "annex_pages", 1000000, 0, c.annex_pages);
  count(6, "special_category", 6, 0, c.special_category);
  int backlog = 0;
  count(9, "backlog", 1, 0, backlog);
  c.backlog = backlog == 1;
  const std::string_view received = col(7);
  const auto r = domain::ParseCaseDate(received);
  if (!r) {
    problems.Add(file, line, "received",
                 received.empty() ? std::string("ต้องระบุวันลงรับเรื่อง")
                                  : "วันลงรับ " + Shown(received) + " " + kDateRuleTh,
                 received.empty() ? std::string("the date of registration is required")
                                  : "the date " + Shown(received) + " " + kDateRuleEn);
  } else {
    c.received = *r;
  }
  const std::string_view completed = col(8);
  c.completed = domain::kNoDay;
  if (!completed.empty()) {
    const auto d = domain::ParseCaseDate(completed);
    if (!d) {
      problems.Add(file, line, "completed", "วันแล้วเสร็จ " + Shown(completed) + " " + kDateRuleTh,
                   "the date " + Shown(completed) + " " + kDateRuleEn);
    } else if (r && *d < *r) {
      problems.Add(file, line, "completed", "วันแล้วเสร็จอยู่ก่อนวันลงรับเรื่อง",
                   "completed before it was received");
    } else {
      c.completed = *d;
    }
  }
  return problems.count() == before;
}

// Re-reads the cases and names each repeated id at its second (and later) line. Only run when
// two ids had the same hash, so its map holds just those ids.
Status ConfirmDuplicates(const CaseLogInput& in, const Columns& cols,
                         const std::vector<uint64_t>& repeated, const CaseLogLimits& limits,
                         Problems& problems) {
  Problems ignored(0);
  CsvStream csv(in.cases, in.cases_name, limits, &ignored);
  if (Status s = csv.Rewind(); !s.ok()) return s;
  std::vector<std::string_view> f;
  int64_t line = 0;
  std::unordered_map<std::string, int64_t> first_line;
  bool header = true;
  for (;;) {
    auto got = csv.Next(f, line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    if (header) {
      header = false;
      continue;
    }
    if (f.size() != cols.width) continue;
    const std::string_view id = f[static_cast<size_t>(cols.index[0])];
    if (!std::binary_search(repeated.begin(), repeated.end(), HashId(id))) continue;
    const auto [at, fresh] = first_line.emplace(std::string(id), line);
    if (!fresh) {
      problems.Add(in.cases_name, line, "case_id",
                   "รหัสเรื่อง " + Shown(id) + " ซ้ำกับบรรทัด " + std::to_string(at->second),
                   "the case id " + Shown(id) + " repeats line " + std::to_string(at->second));
    }
  }
  return Status::Ok();
}

void JsonString(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  out += '"';
}

// Records cut from the file by the reading thread, judged by a worker: the fields' bytes one
// after another, and per record its line and its fields' (offset, length).
struct RecordBatch {
  static constexpr size_t kRecords = 8192;
  std::string bytes;
  std::vector<uint32_t> spans;   // offset, length, offset, length, ...
  std::vector<uint32_t> widths;  // fields per record
  std::vector<int64_t> lines;
  void Clear() {
    bytes.clear();
    spans.clear();
    widths.clear();
    lines.clear();
  }
};

// A bounded queue of batches between the reading thread and the workers; nullptr ends a worker.
class BatchQueue {
 public:
  explicit BatchQueue(size_t capacity) : capacity_(capacity) {}
  void Push(RecordBatch* b) {
    std::unique_lock<std::mutex> lock(mu_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_; });
    items_.push_back(b);
    not_empty_.notify_one();
  }
  RecordBatch* Pop() {
    std::unique_lock<std::mutex> lock(mu_);
    not_empty_.wait(lock, [&] { return !items_.empty(); });
    RecordBatch* b = items_.front();
    items_.pop_front();
    not_full_.notify_one();
    return b;
  }

 private:
  size_t capacity_;
  std::mutex mu_;  // guards items_
  std::condition_variable not_full_, not_empty_;
  std::deque<RecordBatch*> items_;
};

// The first reading of cases.csv: this thread cuts records (CsvStream) into batches, one worker
// per core parses, checks and judges them. The counts, the problems, the id hashes and the
// pauses found are gathered per worker and merged after, so the workers share nothing writable.
// Checking and judging cost about four times what cutting does, so two cores nearly halve the
// time of a large log.
Status JudgeInParallel(CsvStream& csv, const CaseLogInput& in, const Columns& cols,
                       const domain::CaseEvaluator& evaluator, const PauseIndex& pauses,
                       const CaseLogLimits& limits, Problems& problems, domain::CaseTally& tally,
                       std::vector<HashBuckets>& hashes,
                       std::vector<std::vector<uint8_t>>& matched) {
  const unsigned cores = std::max(1u, std::min(2u, std::thread::hardware_concurrency()));
  const size_t workers = cores;
  struct Worker {
    explicit Worker(size_t max) : problems(max) {}
    Problems problems;
    domain::CaseTally tally;
  };
  std::vector<Worker> state;
  for (size_t w = 0; w < workers; ++w) state.emplace_back(limits.max_problems);
  hashes.resize(workers);
  matched.assign(workers, std::vector<uint8_t>(pauses.size(), 0));
  std::vector<std::unique_ptr<RecordBatch>> pool;
  for (size_t i = 0; i < workers * 3; ++i) pool.push_back(std::make_unique<RecordBatch>());
  BatchQueue work(workers * 2), free_batches(pool.size());
  for (auto& b : pool) free_batches.Push(b.get());

  auto run = [&](size_t w) {
    Worker& me = state[w];
    std::vector<std::string_view> f;
    std::vector<PauseSpan> scratch;
    CaseRecord c;
    for (;;) {
      RecordBatch* b = work.Pop();
      if (!b) return;
      size_t span = 0;
      for (size_t r = 0; r < b->lines.size(); ++r) {
        f.clear();
        for (uint32_t k = 0; k < b->widths[r]; ++k, span += 2) {
          f.emplace_back(b->bytes.data() + b->spans[span], b->spans[span + 1]);
        }
        const bool good = ParseCaseRow(f, cols, in.cases_name, b->lines[r], limits, me.problems, c);
        // A bad row's pauses still belong to a case that exists (its row is reported).
        const std::string_view id = good                     ? c.case_id
                                    : f.size() == cols.width ? f[static_cast<size_t>(cols.index[0])]
                                                             : std::string_view();
        const uint64_t h = HashId(id);
        const auto [first, last] =
            id.empty() ? std::pair<size_t, size_t>{0, 0} : pauses.Range(id, h);
        scratch.clear();
        for (size_t i = first; i < last; ++i) {
          matched[w][i] = 1;
          scratch.push_back(pauses.Span(i));
        }
        if (!good) continue;
        hashes[w].Add(h);
        me.tally.Add(evaluator.Evaluate(c, scratch));
      }
      b->Clear();
      free_batches.Push(b);
    }
  };
  std::vector<std::thread> threads;
  for (size_t w = 0; w < workers; ++w) threads.emplace_back(run, w);

  Status status = Status::Ok();
  RecordBatch* batch = free_batches.Pop();
  std::vector<std::string_view> f;
  int64_t line = 0;
  for (;;) {
    auto got = csv.Next(f, line);
    if (!got.ok()) {
      status = got.status();
      break;
    }
    if (!*got) break;
    batch->lines.push_back(line);
    batch->widths.push_back(static_cast<uint32_t>(f.size()));
    for (const std::string_view v : f) {
      batch->spans.push_back(static_cast<uint32_t>(batch->bytes.size()));
      batch->spans.push_back(static_cast<uint32_t>(v.size()));
      batch->bytes.append(v);
    }
    if (batch->lines.size() == RecordBatch::kRecords) {
      work.Push(batch);
      batch = free_batches.Pop();
    }
  }
  work.Push(batch);
  for (size_t w = 0; w < workers; ++w) work.Push(nullptr);
  for (std::thread& t : threads) t.join();
  for (Worker& w : state) {
    problems.Absorb(w.problems);
    tally.cases += w.tally.cases;
    tally.counted += w.tally.counted;
    tally.on_time += w.tally.on_time;
    for (size_t r = 0; r < 9; ++r) tally.by_reason[r] += w.tally.by_reason[r];
  }
  return status;
}

}  // namespace

Result<std::unique_ptr<ByteSource>> OpenFileSource(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return Status::NotFound("ไม่พบไฟล์ " + path, "no such file: " + path);
    }
    return Status::IoError("เปิดไฟล์ " + path + " ไม่ได้: " + std::strerror(errno),
                           "cannot open " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<ByteSource>(std::make_unique<FileSource>(fd, path));
}

std::unique_ptr<ByteSource> MemorySource(std::string_view text) {
  return std::make_unique<TextSource>(text);
}

std::string CaseLogProblem::ToString(Lang lang) const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  out += ": ";
  if (!column.empty()) out += (lang == Lang::kThai ? "คอลัมน์ " : "column ") + column + ": ";
  out += lang == Lang::kThai ? th : en;
  return out;
}

Result<CaseLogOutcome> JudgeCaseLog(const CaseLogInput& in, const domain::CaseEvaluator& evaluator,
                                    const CaseVisitor& visit, const CaseLogLimits& limits,
                                    const CaseCountsVisitor& counts) {
  Problems problems(limits.max_problems);
  PauseIndex pauses;
  if (Status s = ReadPauses(in, limits, problems, pauses); !s.ok()) return s;

  CaseLogOutcome out;
  CsvStream csv(in.cases, in.cases_name, limits, &problems);
  if (Status s = csv.Rewind(); !s.ok()) return s;
  std::vector<std::string_view> f;
  f.reserve(16);
  int64_t line = 0;
  auto got = csv.Next(f, line);
  if (!got.ok()) return got.status();
  Columns cols;
  bool header_ok = false;
  if (!*got) {
    problems.Add(in.cases_name, 1, "", "ไฟล์ว่าง ไม่มีแถวหัวตาราง", "the file is empty: no header row");
  } else {
    cols = FindColumns(f, kCaseColumns, in.cases_name, problems, header_ok);
  }
  std::vector<HashBuckets> hashes;
  std::vector<std::vector<uint8_t>> matched;
  if (header_ok) {
    auto judged = JudgeInParallel(csv, in, cols, evaluator, pauses, limits, problems, out.tally,
                                  hashes, matched);
    if (!judged.ok()) return judged;
    for (const auto& m : matched) pauses.MarkMatched(m);
  }
  // A file cut short by a fatal syntax problem was not read to its end: its later ids are
  // unknown, so neither repeats nor pauses without a case can be told.
  if (header_ok && !csv.fatal()) {
    const std::vector<uint64_t> repeated = HashBuckets::Repeated(hashes);
    if (!repeated.empty()) {
      if (Status s = ConfirmDuplicates(in, cols, repeated, limits, problems); !s.ok()) return s;
    }
    const std::vector<std::string> missing = pauses.Unmatched();
    if (!missing.empty()) {
      if (Status s = ReportUnknownCases(in, missing, limits, problems); !s.ok()) return s;
    }
  }
  out.problem_count = problems.count();
  out.problems = std::move(problems.kept());
  std::stable_sort(out.problems.begin(), out.problems.end(),
                   [&](const CaseLogProblem& a, const CaseLogProblem& b) {
                     const bool ap = a.file != in.cases_name, bp = b.file != in.cases_name;
                     if (ap != bp) return ap < bp;
                     return a.line < b.line;
                   });
  // The workers each kept their first problems: together, the first of the file are among them.
  if (out.problems.size() > limits.max_problems) out.problems.resize(limits.max_problems);
  if (!out.ok() || !visit) return out;
  if (counts) counts(out.tally);

  // The second reading: the log is known to be good, so each verdict can be handed on.
  Problems none(0);
  CsvStream again(in.cases, in.cases_name, limits, &none);
  if (Status s = again.Rewind(); !s.ok()) return s;
  std::vector<PauseSpan> scratch;
  CaseRecord c;
  bool header = true;
  for (;;) {
    got = again.Next(f, line);
    if (!got.ok()) return got.status();
    if (!*got) break;
    if (header) {
      header = false;
      continue;
    }
    if (!ParseCaseRow(f, cols, in.cases_name, line, limits, none, c)) {
      return Status::Internal("a case row changed between readings at line " +
                              std::to_string(line));
    }
    pauses.Find(c.case_id, HashId(c.case_id), scratch);
    visit(c, evaluator.Evaluate(c, scratch));
  }
  return out;
}

std::string CaseLogProblemsText(const CaseLogOutcome& outcome, Lang lang) {
  std::string out;
  for (const CaseLogProblem& p : outcome.problems) out += p.ToString(lang) + "\n";
  const int64_t more = outcome.problem_count - static_cast<int64_t>(outcome.problems.size());
  if (more > 0) {
    out += lang == Lang::kThai ? "… และอีก " + std::to_string(more) + " รายการ\n"
                               : "… and " + std::to_string(more) + " more\n";
  }
  return out;
}

std::string CaseVerdictJson(const CaseRecord& c, const CaseVerdict& v,
                            const domain::CaseEvaluator& ev) {
  std::string out = "{\"case_id\":";
  JsonString(out, c.case_id);
  out += v.counted ? ",\"counted\":true,\"reason\":null" : ",\"counted\":false,\"reason\":";
  if (!v.counted) JsonString(out, domain::CaseReasonCode(v.reason, ev.round()));
  out += ",\"class\":";
  if (v.class_index >= 0) {
    const domain::CaseClass& k = ev.rule().classes[static_cast<size_t>(v.class_index)];
    JsonString(out, k.id);
    out += ",\"standard\":";
    JsonString(out, k.standard.ToString(Lang::kEnglish));
    out += ",\"due\":\"" + domain::IsoDate(v.due) + "\"";
  } else {
    out += "null,\"standard\":null,\"due\":null";
  }
  out += ",\"paused_days\":" + std::to_string(v.paused_days);
  out += v.counted ? (v.on_time ? ",\"on_time\":true" : ",\"on_time\":false") : ",\"on_time\":null";
  out += ",\"late_days\":" + std::to_string(v.late_days) + "}";
  return out;
}

std::string CaseVerdictCsvHeader() {
  return "case_id,counted,reason,class,standard,due,paused_days,on_time,late_days\n";
}

std::string CaseVerdictCsv(const CaseRecord& c, const CaseVerdict& v,
                           const domain::CaseEvaluator& ev) {
  std::string out = CsvEscape(std::string(c.case_id));
  out += v.counted ? ",1," : ",0," + domain::CaseReasonCode(v.reason, ev.round());
  if (v.class_index >= 0) {
    const domain::CaseClass& k = ev.rule().classes[static_cast<size_t>(v.class_index)];
    out += "," + k.id + "," + k.standard.ToString(Lang::kEnglish) + "," + domain::IsoDate(v.due);
  } else {
    out += ",,,";
  }
  out += "," + std::to_string(v.paused_days) + ",";
  if (v.counted) out += v.on_time ? "1" : "0";
  out += "," + std::to_string(v.late_days) + "\n";
  return out;
}

namespace {

// The day a spreadsheet date number names: days since 30 Dec 1899 (Excel's 1900 date system,
// whose serial 60 is the 29 Feb 1900 that never was, so only serials from 61 = 1 Mar 1900 are
// taken). nullopt for text that is not such a number, or one past 31 Dec 2200.
std::optional<Day> SpreadsheetDay(std::string_view text) {
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  if (whole.empty() || whole.size() > 6) return std::nullopt;
  for (char c : whole)
    if (c < '0' || c > '9') return std::nullopt;
  if (dot != std::string_view::npos) {
    const std::string_view fraction = text.substr(dot + 1);
    if (fraction.empty()) return std::nullopt;
    for (char c : fraction)
      if (c < '0' || c > '9') return std::nullopt;
  }
  int serial = 0;
  for (char c : whole) serial = serial * 10 + (c - '0');
  const Day day = domain::DayFromCivil(1899, 12, 30) + serial;
  if (serial < 61 || day > domain::DayFromCivil(2200, 12, 31)) return std::nullopt;
  return day;
}

}  // namespace

Result<std::string> CaseLogSheetCsv(const XlsxWorkbook& book, std::string_view table,
                                    std::string* sheet_name) {
  const XlsxSheet* sheet = book.Find(std::string(table));
  if (!sheet && !book.sheets.empty()) sheet = &book.sheets.front();
  if (!sheet) {
    return Status::InvalidInput("ไฟล์ XLSX ไม่มีแผ่นงาน", "the XLSX file has no sheet");
  }
  if (sheet_name) *sheet_name = sheet->name;
  XlsxSheet copy = *sheet;
  if (!copy.rows.empty()) {
    const std::vector<std::string>& header = copy.rows.front().cells;
    size_t width = header.size();
    while (width > 0 && header[width - 1].empty()) --width;
    std::vector<size_t> dates;
    for (size_t i = 0; i < width; ++i) {
      const std::string& h = header[i];
      if (h == "received" || h == "completed" || h == "start" || h == "end") dates.push_back(i);
    }
    for (size_t r = 1; r < copy.rows.size(); ++r) {
      std::vector<std::string>& cells = copy.rows[r].cells;
      while (cells.size() > width && cells.back().empty()) cells.pop_back();
      if (cells.size() < width) cells.resize(width);
      for (size_t i : dates) {
        if (auto day = SpreadsheetDay(cells[i])) cells[i] = domain::IsoDate(*day);
      }
    }
    copy.rows.front().cells.resize(width);
  }
  return SheetToCsv(copy);
}

}  // namespace esar::formats
