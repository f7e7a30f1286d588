#include "web/request_params.h"

#include <charconv>

namespace esar::web {

Result<int64_t> PathId(const HttpRequest& request, const char* name) {
  const std::string& text = request.params.at(name);
  int64_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || ptr != text.data() + text.size() || id <= 0) {
    return Status::NotFound("ไม่พบรายการ \"" + text + "\"", "no item \"" + text + "\"");
  }
  return id;
}

std::string QueryText(const HttpRequest& request, const char* name) {
  const auto it = request.query.find(name);
  return it == request.query.end() ? std::string() : it->second;
}

Result<int64_t> QueryNumber(const HttpRequest& request, const char* name, int64_t fallback,
                            int64_t min, int64_t max) {
  const auto it = request.query.find(name);
  if (it == request.query.end() || it->second.empty()) return fallback;
  int64_t v = 0;
  const std::string& text = it->second;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || v < min || v > max) {
    return Status::InvalidInput(std::string("\"") + name + "\" ต้องเป็นจำนวนเต็มตั้งแต่ " +
                                    std::to_string(min) + " ถึง " + std::to_string(max),
                                std::string("\"") + name + "\" must be a whole number from " +
                                    std::to_string(min) + " to " + std::to_string(max));
  }
  return v;
}

std::string SafeFileName(const std::string& name) {
  std::string out;
  for (char ch : name) {
    const bool plain = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                       (ch >= '0' && ch <= '9') || ch == '-' || ch == '_';
    out += plain ? ch : '_';
    if (out.size() == 64) break;
  }
  return out;
}

}  // namespace esar::web
