#include "web/multipart.h"

#include <algorithm>
#include <cstdint>
#include <utility>

#include "common/text.h"

namespace esar::web {
namespace {

constexpr size_t kMaxBoundaryLength = 70;
constexpr size_t kMaxFileNameBytes = 200;
constexpr size_t kMaxKeptExtensionBytes = 16;

bool IsOws(char c) { return c == ' ' || c == '\t'; }

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && IsOws(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsOws(s.back())) s.remove_suffix(1);
  return s;
}

// RFC 2046 bchars: DIGIT / ALPHA / "'()+_,-./:=?" and space, which may not be last.
Status ValidateBoundary(std::string_view boundary) {
  if (boundary.empty()) {
    return Status::InvalidInput("ค่า boundary ของ multipart/form-data ว่างเปล่า",
                                "the multipart/form-data boundary is empty");
  }
  if (boundary.size() > kMaxBoundaryLength) {
    return Status::InvalidInput("ค่า boundary ของ multipart/form-data ยาวเกิน 70 ตัวอักษร",
                                "the multipart/form-data boundary is longer than 70 characters");
  }
  for (char c : boundary) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && std::string_view("'()+_,-./:=? ").find(c) == std::string_view::npos) {
      return Status::InvalidInput("ค่า boundary ของ multipart/form-data มีอักขระที่ไม่อนุญาต",
                                  "the multipart/form-data boundary holds a character that is "
                                  "not allowed");
    }
  }
  if (boundary.back() == ' ') {
    return Status::InvalidInput("ค่า boundary ของ multipart/form-data ลงท้ายด้วยช่องว่าง",
                                "the multipart/form-data boundary ends with a space");
  }
  return Status::Ok();
}

struct Parameter {
  std::string name;  // lower-cased
  std::string value;
};

// Parses `; name=value; name="quoted \"value\""` after a media type or disposition type. In a
// quoted value a backslash escapes only '"' and '\'; any other backslash is kept, because
// browsers send Windows paths (filename="C:\x\y.pdf") without escaping them. A trailing ';' is
// allowed. False on anything else.
bool ParseParameters(std::string_view s, std::vector<Parameter>* out) {
  size_t i = 0;
  const size_t n = s.size();
  auto skip_ows = [&] {
    while (i < n && IsOws(s[i])) ++i;
  };
  while (true) {
    skip_ows();
    if (i == n) return true;
    if (s[i] != ';') return false;
    ++i;
    skip_ows();
    if (i == n) return true;
    Parameter p;
    while (i < n && s[i] != '=' && s[i] != ';' && s[i] != '"' && !IsOws(s[i])) {
      p.name += AsciiLower(s[i++]);
    }
    if (p.name.empty()) return false;
    skip_ows();
    if (i == n || s[i] != '=') return false;
    ++i;
    skip_ows();
    if (i < n && s[i] == '"') {
      ++i;
      bool closed = false;
      while (i < n) {
        const char c = s[i++];
        if (c == '"') {
          closed = true;
          break;
        }
        if (c == '\\' && i < n && (s[i] == '"' || s[i] == '\\')) {
          p.value += s[i++];
        } else {
          p.value += c;
        }
      }
      if (!closed) return false;
    } else {
      while (i < n && s[i] != ';' && !IsOws(s[i])) {
        if (s[i] == '"') return false;
        p.value += s[i++];
      }
    }
    out->push_back(std::move(p));
  }
}

const Parameter* FindParameter(const std::vector<Parameter>& params, std::string_view name) {
  for (const Parameter& p : params) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The value of an RFC 5987 ext-value `UTF-8'lang'%E0%B8%A3...`, or false when it is not UTF-8,
// not well-formed, or decodes to broken UTF-8.
bool DecodeExtValue(std::string_view ext, std::string* out) {
  const size_t q1 = ext.find('\'');
  if (q1 == std::string_view::npos) return false;
  const size_t q2 = ext.find('\'', q1 + 1);
  if (q2 == std::string_view::npos) return false;
  if (!EqualsIgnoreCase(ext.substr(0, q1), "utf-8")) return false;
  const std::string_view encoded = ext.substr(q2 + 1);
  std::string decoded;
  for (size_t i = 0; i < encoded.size(); ++i) {
    if (encoded[i] != '%') {
      decoded += encoded[i];
      continue;
    }
    if (i + 2 >= encoded.size()) return false;
    const int hi = HexValue(encoded[i + 1]);
    const int lo = HexValue(encoded[i + 2]);
    if (hi < 0 || lo < 0) return false;
    decoded += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  if (!IsValidUtf8(decoded)) return false;
  *out = std::move(decoded);
  return true;
}

// The length of the well-formed UTF-8 sequence starting at s[i], or 0 when there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto c = static_cast<unsigned char>(s[i]);
  size_t len = 1;
  if (c >= 0xF0) {
    len = 4;
  } else if (c >= 0xE0) {
    len = 3;
  } else if (c >= 0xC0) {
    len = 2;
  } else if (c >= 0x80) {
    return 0;
  }
  if (i + len > s.size() || !IsValidUtf8(s.substr(i, len))) return 0;
  return len;
}

// The code point of the well-formed sequence s[i, i + len).
uint32_t DecodeCodePoint(std::string_view s, size_t i, size_t len) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  uint32_t code = static_cast<unsigned char>(s[i]) & kLeadMask[len];
  for (size_t k = 1; k < len; ++k) {
    code = (code << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  }
  return code;
}

bool IsDroppedCodePoint(uint32_t c) {
  if (c < 0x20 || (c >= 0x7F && c <= 0x9F)) return true;                          // C0, DEL, C1
  if ((c >= 0x202A && c <= 0x202E) || (c >= 0x2066 && c <= 0x2069)) return true;  // bidi
  return c < 0x80 &&
         std::string_view("<>:\"|?*").find(static_cast<char>(c)) != std::string_view::npos;
}

// Marks that belong to the letter before them: Thai above/below vowels and tone marks, and
// the general combining diacritics.
bool IsCombiningMark(uint32_t c) {
  return c == 0x0E31 || (c >= 0x0E34 && c <= 0x0E3A) || (c >= 0x0E47 && c <= 0x0E4E) ||
         (c >= 0x0300 && c <= 0x036F);
}

// The largest cut <= limit in the valid UTF-8 `s` that falls on a character boundary and does
// not leave the next character, a combining mark, cut off from its letter.
size_t CutPoint(std::string_view s, size_t limit) {
  if (s.size() <= limit) return s.size();
  std::vector<size_t> starts;  // character starts at or below limit
  for (size_t i = 0; i <= limit;) {
    starts.push_back(i);
    const size_t len = Utf8SequenceLength(s, i);
    i += len == 0 ? 1 : len;
  }
  for (size_t k = starts.size(); k-- > 0;) {
    const size_t cut = starts[k];
    const size_t len = Utf8SequenceLength(s, cut);
    if (len == 0 || !IsCombiningMark(DecodeCodePoint(s, cut, len))) return cut;
  }
  return 0;
}

std::string_view StripDotsAndSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == '.' || s.front() == ' ')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == '.' || s.back() == ' ')) s.remove_suffix(1);
  return s;
}

}  // namespace

Result<std::string> BoundaryFromContentType(std::string_view content_type) {
  const size_t semicolon = content_type.find(';');
  const std::string_view type = TrimOws(content_type.substr(0, semicolon));
  if (!EqualsIgnoreCase(type, "multipart/form-data")) {
    return Status::InvalidInput("ชนิดเนื้อหา (Content-Type) ไม่ใช่ multipart/form-data",
                                "the Content-Type is not multipart/form-data");
  }
  std::vector<Parameter> params;
  if (semicolon != std::string_view::npos &&
      !ParseParameters(content_type.substr(semicolon), &params)) {
    return Status::InvalidInput("พารามิเตอร์ของ Content-Type ไม่ถูกต้อง",
                                "the Content-Type has malformed parameters");
  }
  const Parameter* boundary = FindParameter(params, "boundary");
  if (boundary == nullptr) {
    return Status::InvalidInput("Content-Type ไม่มีพารามิเตอร์ boundary",
                                "the Content-Type has no boundary parameter");
  }
  if (Status s = ValidateBoundary(boundary->value); !s.ok()) return s;
  return boundary->value;
}

MultipartParser::MultipartParser(std::string boundary, Handler& handler)
    : delimiter_("\r\n--" + boundary), handler_(handler) {
  if (Status s = ValidateBoundary(boundary); !s.ok()) {
    state_ = State::kFailed;
    error_ = std::move(s);
  }
  // The first boundary may open the body with no CRLF before it: pretend there was one.
  buffer_ = "\r\n";
}

Status MultipartParser::Fail(Status error) {
  state_ = State::kFailed;
  buffer_.clear();
  buffer_.shrink_to_fit();
  error_ = error;
  return error;
}

Status MultipartParser::Malformed(const std::string& th, const std::string& en) const {
  const std::string part = std::to_string(part_count_);
  return Status::InvalidInput("ข้อมูล multipart/form-data ส่วนที่ " + part + ": " + th,
                              "multipart/form-data part " + part + ": " + en);
}

Status MultipartParser::Feed(std::string_view chunk) {
  if (state_ == State::kFailed) return error_;
  while (true) {
    if (Status s = Drain(); !s.ok()) return Fail(std::move(s));
    if (chunk.empty() || state_ == State::kEpilogue) return Status::Ok();
    if ((state_ == State::kBody || state_ == State::kPreamble) && buffer_.empty()) {
      // Fast path: scan the caller's chunk in place; only a possible start of the delimiter
      // at its end is copied.
      size_t consumed = 0;
      bool found = false;
      if (Status s = ScanData(chunk, &consumed, &found); !s.ok()) return Fail(std::move(s));
      chunk.remove_prefix(consumed);
      if (!found) {
        buffer_.assign(chunk);
        chunk = {};
      }
      continue;
    }
    const size_t step = StepSize(chunk);
    buffer_.append(chunk.substr(0, step));
    chunk.remove_prefix(step);
  }
}

// How much of `chunk` to move into buffer_ before the next Drain, chosen so that buffer_ stays
// within O(delimiter + kMaxHeaderBytes) and every Drain can make progress.
size_t MultipartParser::StepSize(std::string_view chunk) const {
  switch (state_) {
    case State::kHeaders: {
      const size_t newline = chunk.find('\n');
      const size_t line = newline == std::string_view::npos ? chunk.size() : newline + 1;
      return std::min(line, kMaxHeaderBytes + 1);
    }
    case State::kAfterBoundary:
      return 1;
    default:
      return std::min(chunk.size(), delimiter_.size());
  }
}

// Consumes what it can of buffer_. On return buffer_ holds only what cannot be decided yet:
// in the preamble or a body a proper prefix of the delimiter; in headers part of one line
// (at most kMaxHeaderBytes); after a boundary a single '-' or '\r'.
Status MultipartParser::Drain() {
  size_t pos = 0;
  Status status;
  bool progress = true;
  while (progress && status.ok()) {
    const std::string_view rest = std::string_view(buffer_).substr(pos);
    progress = false;
    switch (state_) {
      case State::kPreamble:
      case State::kBody: {
        size_t consumed = 0;
        bool found = false;
        status = ScanData(rest, &consumed, &found);
        pos += consumed;
        progress = found;
        break;
      }
      case State::kAfterBoundary: {
        if (rest.empty()) break;
        if (rest[0] == '-' && !saw_padding_) {
          if (rest.size() < 2) break;
          if (rest[1] != '-') {
            status = Malformed("ต้องขึ้นบรรทัดใหม่ (CRLF) หลังเส้นแบ่ง (boundary)",
                               "expected CRLF after the boundary");
            break;
          }
          state_ = State::kEpilogue;
          pos += 2;
          progress = true;
          break;
        }
        if (IsOws(rest[0])) {  // transport padding
          saw_padding_ = true;
          ++pos;
          progress = true;
          break;
        }
        if (rest[0] != '\r') {
          status = Malformed("ต้องขึ้นบรรทัดใหม่ (CRLF) หลังเส้นแบ่ง (boundary)",
                             "expected CRLF after the boundary");
          break;
        }
        if (rest.size() < 2) break;
        if (rest[1] != '\n') {
          status = Malformed("ต้องขึ้นบรรทัดใหม่ (CRLF) หลังเส้นแบ่ง (boundary)",
                             "expected CRLF after the boundary");
          break;
        }
        pos += 2;
        if (++part_count_ > kMaxParts) {
          status = Status::InvalidInput("ข้อมูล multipart/form-data มีเกิน 100 ส่วน",
                                        "the multipart/form-data body has more than 100 parts");
          break;
        }
        current_ = PartHeaders();
        header_bytes_ = 0;
        state_ = State::kHeaders;
        progress = true;
        break;
      }
      case State::kHeaders: {
        const size_t newline = rest.find('\n');
        if (newline == std::string_view::npos) {
          if (header_bytes_ + rest.size() > kMaxHeaderBytes) {
            status = Malformed("ส่วนหัวยาวเกิน 16 KiB", "the part's headers exceed 16 KiB");
          }
          break;
        }
        if (newline == 0 || rest[newline - 1] != '\r') {
          status = Malformed("บรรทัดส่วนหัวต้องจบด้วย CRLF", "header lines must end with CRLF");
          break;
        }
        const std::string_view line = rest.substr(0, newline - 1);
        pos += newline + 1;
        header_bytes_ += newline + 1;
        if (header_bytes_ > kMaxHeaderBytes) {
          status = Malformed("ส่วนหัวยาวเกิน 16 KiB", "the part's headers exceed 16 KiB");
          break;
        }
        status = line.empty() ? EndOfHeaders() : HeaderLine(line);
        progress = true;
        break;
      }
      case State::kEpilogue:
        pos = buffer_.size();
        break;
      case State::kFailed:
        break;
    }
  }
  buffer_.erase(0, pos);
  return status;
}

// Looks for the delimiter in `data`. Part bytes before it (or, when there is none, all but a
// possible start of it at the end) go to the handler, preamble bytes are dropped. Sets
// `consumed` to the bytes used, including the delimiter when `found`.
Status MultipartParser::ScanData(std::string_view data, size_t* consumed, bool* found) {
  const size_t at = data.find(delimiter_);
  *found = at != std::string_view::npos;
  size_t emit = at;
  if (!*found) {
    // Keep back the shortest tail that could still grow into the delimiter.
    emit = data.size();
    const size_t first = data.size() >= delimiter_.size() ? data.size() - delimiter_.size() + 1 : 0;
    for (size_t i = first; i < data.size(); ++i) {
      if (data[i] == '\r' && std::string_view(delimiter_).starts_with(data.substr(i))) {
        emit = i;
        break;
      }
    }
  }
  if (state_ == State::kBody && emit > 0) {
    if (Status s = handler_.OnPartData(data.substr(0, emit)); !s.ok()) return s;
  }
  *consumed = emit;
  if (*found) {
    *consumed += delimiter_.size();
    if (state_ == State::kBody) {
      if (Status s = handler_.OnPartEnd(); !s.ok()) return s;
    }
    state_ = State::kAfterBoundary;
    saw_padding_ = false;
  }
  return Status::Ok();
}

Status MultipartParser::HeaderLine(std::string_view line) {
  if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos) {
    return Malformed("บรรทัดส่วนหัวมีอักขระควบคุมที่ไม่อนุญาต",
                     "a header line holds a control character that is not allowed");
  }
  const size_t colon = line.find(':');
  if (IsOws(line[0])) {
    return Malformed("ไม่รองรับบรรทัดส่วนหัวที่ต่อจากบรรทัดก่อน (ขึ้นต้นด้วยช่องว่าง)",
                     "folded header lines (starting with a space) are not supported");
  }
  if (colon == std::string_view::npos || colon == 0 ||
      line.substr(0, colon).find_first_of(" \t") != std::string_view::npos) {
    return Malformed("บรรทัดส่วนหัวไม่อยู่ในรูป \"ชื่อ: ค่า\" (อาจขาดบรรทัดว่างหลังส่วนหัว)",
                     "a header line is not \"Name: value\" (is the blank line after the "
                     "headers missing?)");
  }
  current_.header_lines.emplace_back(line);
  return Status::Ok();
}

Status MultipartParser::EndOfHeaders() {
  bool have_disposition = false;
  for (const std::string& header : current_.header_lines) {
    const std::string_view line(header);
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    const std::string_view value = TrimOws(line.substr(colon + 1));
    if (EqualsIgnoreCase(name, "Content-Type")) {
      current_.content_type = std::string(value);
      continue;
    }
    if (!EqualsIgnoreCase(name, "Content-Disposition")) continue;
    if (have_disposition) {
      return Malformed("มีส่วนหัว Content-Disposition ซ้ำ",
                       "the part has more than one Content-Disposition header");
    }
    have_disposition = true;
    size_t type_end = 0;
    while (type_end < value.size() && value[type_end] != ';' && !IsOws(value[type_end])) {
      ++type_end;
    }
    if (!EqualsIgnoreCase(value.substr(0, type_end), "form-data")) {
      return Malformed("Content-Disposition ต้องเป็น form-data",
                       "the Content-Disposition must be form-data");
    }
    std::vector<Parameter> params;
    if (!ParseParameters(value.substr(type_end), &params)) {
      return Malformed("พารามิเตอร์ของ Content-Disposition ไม่ถูกต้อง",
                       "the Content-Disposition has malformed parameters");
    }
    const Parameter* field = FindParameter(params, "name");
    if (field == nullptr) {
      return Malformed("Content-Disposition ไม่มีชื่อฟิลด์ (name)",
                       "the Content-Disposition has no field name");
    }
    current_.name = field->value;
    const Parameter* plain = FindParameter(params, "filename");
    const Parameter* extended = FindParameter(params, "filename*");
    current_.has_filename = plain != nullptr || extended != nullptr;
    if (extended == nullptr || !DecodeExtValue(extended->value, &current_.filename)) {
      if (plain != nullptr) current_.filename = plain->value;
    }
  }
  if (!have_disposition) {
    return Malformed("ไม่มีส่วนหัว Content-Disposition", "the part has no Content-Disposition header");
  }
  if (Status s = handler_.OnPartBegin(current_); !s.ok()) return s;
  current_ = PartHeaders();
  state_ = State::kBody;
  return Status::Ok();
}

Status MultipartParser::Finish() {
  switch (state_) {
    case State::kEpilogue:
      return Status::Ok();
    case State::kFailed:
      return error_;
    case State::kPreamble:
      return Fail(Status::InvalidInput("ไม่พบเส้นแบ่ง (boundary) ในข้อมูล multipart/form-data ที่อัปโหลด",
                                       "the uploaded multipart/form-data body holds no boundary"));
    default:
      return Fail(Status::InvalidInput(
          "ข้อมูล multipart/form-data ที่อัปโหลดจบก่อนถึงเส้นแบ่งปิดท้าย (--boundary--)",
          "the uploaded multipart/form-data body ended before its closing boundary "
          "(--boundary--)"));
  }
}

std::string CleanFileName(std::string_view name) {
  const size_t slash = name.find_last_of("/\\");
  if (slash != std::string_view::npos) name.remove_prefix(slash + 1);

  std::string kept;
  for (size_t i = 0; i < name.size();) {
    const size_t len = Utf8SequenceLength(name, i);
    if (len == 0) {  // a broken byte: drop it alone and resynchronise
      ++i;
      continue;
    }
    if (!IsDroppedCodePoint(DecodeCodePoint(name, i, len))) kept.append(name.substr(i, len));
    i += len;
  }

  std::string_view clean = StripDotsAndSpaces(kept);
  std::string out;
  if (clean.size() <= kMaxFileNameBytes) {
    out = std::string(clean);
  } else {
    const size_t dot = clean.rfind('.');
    std::string_view extension;
    if (dot != std::string_view::npos && clean.size() - dot <= kMaxKeptExtensionBytes &&
        clean.size() - dot >= 2 &&
        std::all_of(clean.begin() + static_cast<std::ptrdiff_t>(dot) + 1, clean.end(), [](char c) {
          return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        })) {
      extension = clean.substr(dot);
    }
    const std::string_view stem = clean.substr(0, clean.size() - extension.size());
    std::string_view cut = stem.substr(0, CutPoint(stem, kMaxFileNameBytes - extension.size()));
    while (!cut.empty() && (cut.back() == '.' || cut.back() == ' ')) cut.remove_suffix(1);
    out = std::string(cut) + std::string(extension);
    out = std::string(StripDotsAndSpaces(out));
  }
  return out.empty() ? "file" : out;
}

}  // namespace esar::web
