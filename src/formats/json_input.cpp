#include "formats/json_input.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/text.h"

namespace esar::formats {
namespace {
constexpr int kMaxDepth = 64;
constexpr size_t kMaxFileBytes = 512u * 1024u * 1024u;

struct TooDeep {};
}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::NotFound("เปิดไฟล์ \"" + path + "\" ไม่ได้ (ไม่มีไฟล์หรือไม่มีสิทธิ์อ่าน)",
                            "cannot open \"" + path + "\" (no such file, or no permission)");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) {
    return Status::IoError("อ่านไฟล์ \"" + path + "\" ไม่สำเร็จ", "reading \"" + path + "\" failed");
  }
  std::string text = buffer.str();
  if (text.size() > kMaxFileBytes) {
    return Status::InvalidInput("ไฟล์ \"" + path + "\" ใหญ่เกิน 512 MB",
                                "\"" + path + "\" is larger than 512 MB");
  }
  return text;
}

namespace {

// Parses with the depth limit; errors carry `where` (the line filled in for syntax errors).
Result<nlohmann::json> ParseLimited(const std::string& text, const Location& where,
                                    const char* empty_th, const char* empty_en) {
  if (text.find_first_not_of(" \t\r\n") == std::string::npos)
    return Status::InvalidInput(empty_th, empty_en, where);
  if (!IsValidUtf8(text)) {
    return Status::InvalidInput("ข้อมูลไม่ได้เข้ารหัสเป็น UTF-8 ที่ถูกต้อง", "the text is not valid UTF-8",
                                where);
  }
  try {
    auto limit_depth = [](int depth, nlohmann::json::parse_event_t, nlohmann::json&) {
      if (depth > kMaxDepth) throw TooDeep{};
      return true;
    };
    return nlohmann::json::parse(text, limit_depth);
  } catch (const TooDeep&) {
    return Status::InvalidInput("JSON ซ้อนกันลึกเกิน 64 ชั้น", "the JSON is nested deeper than 64 levels",
                                where);
  } catch (const nlohmann::json::parse_error& e) {
    Location at = where;
    if (!at.file.empty()) at.line = LineOfOffset(text, e.byte > 0 ? e.byte - 1 : 0);
    return Status::InvalidInput(std::string("JSON ไม่ถูกต้อง: ") + e.what(),
                                std::string("malformed JSON: ") + e.what(), at);
  } catch (const nlohmann::json::exception& e) {
    return Status::InvalidInput(std::string("JSON ไม่ถูกต้อง: ") + e.what(),
                                std::string("malformed JSON: ") + e.what(), where);
  }
}

}  // namespace

Result<nlohmann::json> ParseJsonText(const std::string& text, const std::string& file) {
  return ParseLimited(text, Location{file, "", 0}, "ไฟล์ว่างเปล่า", "the file is empty");
}

Result<nlohmann::json> ParseJsonBody(const std::string& text) {
  return ParseLimited(text, Location{}, "ไม่มีข้อมูล JSON", "the JSON text is empty");
}

}  // namespace esar::formats
