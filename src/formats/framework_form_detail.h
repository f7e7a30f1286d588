#pragma once

// The helpers the authoring forms of this library share (framework_form.cpp and
// framework_form_sources.cpp): reading a form's fields and rows, and writing values back into
// the JSON document so that what the form did not change stays exactly as it was. Internal to
// src/formats.

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "formats/framework_form.h"

namespace esar::formats::form_detail {

// `text` without leading and trailing blanks (spaces, tabs, line breaks).
std::string Trim(const std::string& text);

// The value of field `name` as sent ("" when absent), its line breaks made LF.
std::string Get(const FormFields& fields, const std::string& name);

// kInvalidInput in Thai and English naming form field `field` (in where().json_path).
Status FieldError(const std::string& field, const std::string& th, const std::string& en);

// A localized text's two languages as the form shows them (a plain string is Thai).
std::pair<std::string, std::string> ReadText(const nlohmann::json& value);

// The JSON of a localized text typed as `th` and `en`: a plain string when there is no English,
// nullopt when both are empty.
std::optional<nlohmann::json> MakeText(const std::string& th, const std::string& en);

// A number or a formula as the form shows it ("" for anything else).
std::string ValueText(const nlohmann::json& value);

// The number typed (finite, at most 1e15 in size), or nullopt.
std::optional<double> ParseNumber(const std::string& typed);

// A number as JSON: whole numbers as integers (70, not 70.0).
nlohmann::json NumberJson(double value);

// kInvalidInput at `field`: "<label>: must be a number such as 80 or 12.5".
Status NotANumber(const std::string& field, const std::string& label_th,
                  const std::string& label_en);

// One row of a row group: its index as sent and its columns' values.
struct Row {
  int index = 0;
  std::map<std::string, std::string> values;
  bool operator==(const Row&) const = default;
};

// The number N of every field "`prefix`.N…" sent, in order. kInvalidInput for an N that is not
// a number below kMaxFormRows.
Result<std::set<int>> Indices(const FormFields& fields, const std::string& prefix);

// The rows `prefix`.N in the order of N, without the blank ones (every column of `key_columns`
// empty). kInvalidInput as Indices.
Result<std::vector<Row>> Rows(const FormFields& fields, const std::string& prefix,
                              const std::vector<std::string>& columns,
                              const std::vector<std::string>& key_columns);

// Element `index` of JSON array `old` when it is an object, else an empty object (a new row).
nlohmann::json OldRow(const nlohmann::json& old, int index);

// The value of column `column` of the row sent as `index` in `before`, or "".
std::string Before(const std::vector<Row>& before, int index, const std::string& column);

// Sets `object[key]` to the text typed as th/en, or removes it when both are empty.
void PutText(nlohmann::json& object, const char* key, const std::string& th, const std::string& en);

// Fields `name`.th and `name`.en of the localized text `value`.
void AddText(FormFields& out, const std::string& name, const nlohmann::json& value);

// `object[key]`, or a null JSON when `object` is not an object or has no such member.
const nlohmann::json& Member(const nlohmann::json& object, const char* key);

// An ISO date as the forms show it: day/month/Buddhist Era year ("31/12/2563"); any other
// string as it is; "" for a non-string.
std::string DueText(const nlohmann::json& due);

// The segments of a JSON path's remainder "a/b/c" ({"a", "b", "c"}; "" gives {""}).
std::vector<std::string> PathParts(const std::string& rest);

}  // namespace esar::formats::form_detail
