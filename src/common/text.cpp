#include "common/text.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace esar {

const std::string& LocalizedText::Pick(Lang lang) const {
  if (lang == Lang::kThai) return th.empty() ? en : th;
  return en.empty() ? th : en;
}

bool IsValidUtf8(std::string_view bytes) {
  size_t i = 0;
  const size_t n = bytes.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    int extra = 0;
    uint32_t code = 0;
    if ((c & 0xE0) == 0xC0) {
      extra = 1;
      code = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2;
      code = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3;
      code = c & 0x07;
    } else {
      return false;
    }
    if (i + static_cast<size_t>(extra) >= n) return false;
    for (int k = 1; k <= extra; ++k) {
      const auto cc = static_cast<unsigned char>(bytes[i + static_cast<size_t>(k)]);
      if ((cc & 0xC0) != 0x80) return false;
      code = (code << 6) | (cc & 0x3F);
    }
    static constexpr uint32_t kMinForLength[] = {0, 0x80, 0x800, 0x10000};
    if (code < kMinForLength[extra] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF)) {
      return false;
    }
    i += static_cast<size_t>(extra) + 1;
  }
  return true;
}

int LineOfOffset(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  return 1 +
         static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

std::string ShortestDecimal(double value) { return fmt::format("{}", value); }

size_t ShortestDecimalTo(double value, char* out) {
  // The same format as ShortestDecimal; at most 24 characters ("-2.2250738585072014e-308").
  // A whole number below 10^15 (a weight, a score of 100, a year) is its integer's digits, as
  // fmt writes it: written as an integer, it costs a fraction of fmt's general path, which a
  // round's 216,000 KPI rows take four times each for their audit digest (issue 9). Not -0,
  // which fmt writes "-0".
  if (std::fabs(value) < 1e15 && std::trunc(value) == value && !(value == 0 && std::signbit(value)))
    return static_cast<size_t>(
        std::to_chars(out, out + kShortestDecimalMax, static_cast<int64_t>(value)).ptr - out);
  // The format compiled: fmt's own digits and layout, without parsing "{}" on every call (most
  // of the time this took for a round's KPI rows). Straight into `out`, which has room for the
  // longest (24 characters): format_to_n writes through an iterator that counts each character.
  return static_cast<size_t>(fmt::format_to(out, FMT_COMPILE("{}"), value) - out);
}

std::string FormatDecimal(double value, int decimals) {
  if (std::isnan(value)) return "-";
  if (std::isinf(value)) return value > 0 ? "∞" : "-∞";
  decimals = std::clamp(decimals, 0, 9);
  // Fixed notation of the shortest round-trip digits, then decimal rounding on that text.
  // First to 15 significant digits, which a double always holds exactly: a sum such as
  // 94.13499999999999 (binary noise of the decimal 94.135) then rounds as the decimal would.
  const double magnitude = std::fabs(value);
  const int integer_digits =
      magnitude < 1 ? 1 : static_cast<int>(std::floor(std::log10(magnitude))) + 1;
  const int precision = std::clamp(15 - integer_digits, 0, 15);
  char buffer[400];
  const auto printed =
      std::to_chars(buffer, buffer + sizeof buffer, magnitude, std::chars_format::fixed, precision);
  std::string digits(buffer, printed.ptr);
  size_t dot = digits.find('.');
  std::string int_part = dot == std::string::npos ? digits : digits.substr(0, dot);
  std::string frac_part = dot == std::string::npos ? "" : digits.substr(dot + 1);
  const auto keep = static_cast<size_t>(decimals);
  bool round_up = frac_part.size() > keep && frac_part[keep] >= '5';
  frac_part.resize(keep, '0');
  std::string all = int_part + frac_part;
  if (round_up) {
    int i = static_cast<int>(all.size()) - 1;
    for (; i >= 0; --i) {
      if (all[static_cast<size_t>(i)] == '9') {
        all[static_cast<size_t>(i)] = '0';
      } else {
        ++all[static_cast<size_t>(i)];
        break;
      }
    }
    if (i < 0) all.insert(all.begin(), '1');
  }
  std::string out = all.substr(0, all.size() - keep);
  if (keep > 0) out += "." + all.substr(all.size() - keep);
  const bool is_zero = std::all_of(all.begin(), all.end(), [](char ch) { return ch == '0'; });
  if (std::signbit(value) && !is_zero) out.insert(out.begin(), '-');
  return out;
}

bool IsPlainText(std::string_view bytes) {
  if (!IsValidUtf8(bytes)) return false;
  for (const char c : bytes) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t' && c != '\n' && c != '\r') || u == 0x7f) return false;
  }
  return true;
}

std::string TrimSpaces(std::string_view text) {
  constexpr std::string_view kNbsp = "\xc2\xa0";  // U+00A0 in UTF-8
  auto space_at_start = [&](std::string_view t) -> size_t {
    if (t.empty()) return 0;
    if (t[0] == ' ' || t[0] == '\t' || t[0] == '\n' || t[0] == '\r') return 1;
    return t.substr(0, 2) == kNbsp ? 2 : 0;
  };
  auto space_at_end = [&](std::string_view t) -> size_t {
    if (t.empty()) return 0;
    const char c = t.back();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return 1;
    return t.size() >= 2 && t.substr(t.size() - 2) == kNbsp ? 2 : 0;
  };
  for (size_t n = space_at_start(text); n; n = space_at_start(text)) text.remove_prefix(n);
  for (size_t n = space_at_end(text); n; n = space_at_end(text)) text.remove_suffix(n);
  return std::string(text);
}

}  // namespace esar
