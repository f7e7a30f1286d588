#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

#include "common/status.h"

namespace esar::formats {

// Parses `text` as JSON from `file`. Refuses broken UTF-8, nesting deeper than 64 and any
// syntax error, with the line of the problem, in Thai and English.
Result<nlohmann::json> ParseJsonText(const std::string& text, const std::string& file);

// Parses an untrusted JSON text that is not a file (a request body, a form field) with the same
// limits: valid UTF-8, nesting at most 64 deep (deeper input would exhaust the stack of anything
// that walks it recursively, e.g. dump()). The one entry point for JSON from the network: every
// route and page parses request JSON through it. Errors in Thai and English; empty text is one.
Result<nlohmann::json> ParseJsonBody(const std::string& text);

// Reads the whole file at `path`; a missing or unreadable file is a clear error.
Result<std::string> ReadFile(const std::string& path);

}  // namespace esar::formats
