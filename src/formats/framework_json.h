#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/model.h"

namespace esar::formats {

// Reads a framework from its JSON text (format "esar-framework/1", docs/formats.md). Fails on
// the first problem with the file and the JSON path of the field at fault, in Thai and English:
// malformed JSON, broken UTF-8, a missing or unknown field, a wrong type, an out-of-range number.
// The meaning of the formulas is checked later, by domain::Engine::Compile and domain::Check.
Result<domain::Framework> ParseFramework(const std::string& text, const std::string& file);

// A KPI (or sub-KPI) id: 1–32 ASCII letters, digits, '.', '-' and '_', starting with a letter or
// a digit ("1", "4.1", "pmqa_2"). Ids go into URLs, HTML anchors, CSV files and file names, so
// they are kept to characters that need no escaping anywhere: no spaces, no control characters
// (a CR LF in an id once reached a redirect header), no Thai (the KPI's name carries the text).
bool IsSafeKpiId(std::string_view id);

// ParseFramework on the file at `path`.
Result<domain::Framework> LoadFramework(const std::string& path);

// Reads a separate assignments file: {"assignments": [...]} or the bare array, shaped like the
// framework's "assignments" field. Its rules are used instead of the framework's.
Result<std::vector<domain::AssignmentRule>> ParseAssignments(const std::string& text,
                                                             const std::string& file);

}  // namespace esar::formats
