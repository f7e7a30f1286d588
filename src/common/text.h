#pragma once

#include <string>
#include <string_view>

namespace esar {

enum class Lang { kThai, kEnglish };

// A text given in Thai and in English. Either may be empty; Pick falls back to the other.
struct LocalizedText {
  std::string th;
  std::string en;

  const std::string& Pick(Lang lang) const;
  bool empty() const { return th.empty() && en.empty(); }
};

// True when `bytes` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
bool IsValidUtf8(std::string_view bytes);

// True when `bytes` is text a person wrote: well-formed UTF-8 with no control characters but
// tab, line feed and carriage return (no NUL, no escape sequences for a terminal or a log).
bool IsPlainText(std::string_view bytes);

// `text` without the spaces, tabs and line breaks (ASCII, and the no-break space) at its ends.
std::string TrimSpaces(std::string_view text);

// The 1-based line of byte `offset` in `text`.
int LineOfOffset(std::string_view text, size_t offset);

// `value` rounded half away from zero to `decimals` places (0..9) and printed with exactly that
// many, e.g. (96.7625, 3) -> "96.763". Rounding works on the value's first 15 significant
// decimal digits, so binary noise does not decide it: 2.675 rounds to 2.68 and a total summed
// to 94.13499999999999 rounds to 94.14, as a person doing the sum on paper expects. NaN is "-".
std::string FormatDecimal(double value, int decimals);

// The shortest decimal text that reads back as exactly `value` ("0.1", "96.763", "1e+300").
std::string ShortestDecimal(double value);

// ShortestDecimal's text written to `out` (room for kShortestDecimalMax characters); returns its
// length. For writers of many numbers, which need no string per number.
inline constexpr size_t kShortestDecimalMax = 32;
size_t ShortestDecimalTo(double value, char* out);

}  // namespace esar
