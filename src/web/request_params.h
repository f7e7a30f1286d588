#pragma once

// The parts of a request the API's handlers read the same way everywhere: a path's {id}, a
// query parameter as text or as a bounded whole number, and a value made safe for a download's
// file name. One copy, so that every route refuses the same malformed input with the same
// Thai and English message (the case-log routes had their own copies of these).

#include <cstdint>
#include <string>

#include "common/status.h"
#include "web/http.h"

namespace esar::web {

// The path parameter `name` as a positive id; kNotFound ("no item \"x\"") for anything else,
// since a malformed id names nothing.
Result<int64_t> PathId(const HttpRequest& request, const char* name);

// The query parameter `name`, or "" when absent.
std::string QueryText(const HttpRequest& request, const char* name);

// The query parameter `name` as a whole number from `min` to `max`, `fallback` when absent or
// empty; InvalidInput naming the parameter and the range otherwise.
Result<int64_t> QueryNumber(const HttpRequest& request, const char* name, int64_t fallback,
                            int64_t min, int64_t max);

// `name` with anything but ASCII letters, digits, '-' and '_' replaced by '_', cut to 64
// characters: a part of a download's file name that cannot break the header it goes in.
std::string SafeFileName(const std::string& name);

}  // namespace esar::web
