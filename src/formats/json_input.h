#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"

namespace esar::formats {

// Parses `text` as JSON from `file`. Refuses broken UTF-8, nesting deeper than 64 and any
// syntax error, with the line of the problem, in Thai and English.
Result<nlohmann::json> ParseJsonText(const std::string& text, const std::string& file);

// Reads the whole file at `path`; a missing or unreadable file is a clear error.
Result<std::string> ReadFile(const std::string& path);

}  // namespace esar::formats
