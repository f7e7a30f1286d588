#include "common/status.h"

namespace esar {

std::string Location::ToString() const {
  std::string out = file;
  if (line > 0) out += ":" + std::to_string(line);
  if (!json_path.empty()) out += (out.empty() ? "" : " ") + json_path;
  return out;
}

std::string Status::ToString(bool thai) const {
  const std::string& message = thai ? message_th_ : message_en_;
  std::string where = where_.ToString();
  return where.empty() ? message : where + ": " + message;
}

}  // namespace esar
