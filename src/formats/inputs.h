#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "domain/model.h"

namespace esar::formats {

// Reads agencies from CSV (header code,name_th,name_en,kind,parent,email; only code and name_th
// are required) or JSON ({"agencies": [{"code","name":{"th","en"},"kind","parent","email"}]}),
// chosen by the file name's ending (.json, otherwise CSV). Every agency remembers its line or
// JSON path; its e-mail address is left unset (nullopt) when the file has no such column or
// field, and is not checked here (service::Directory checks it).
Result<std::vector<domain::Agency>> ParseAgencies(const std::string& text, const std::string& file);
Result<std::vector<domain::Agency>> LoadAgencies(const std::string& path);

// Reads reported and baseline values in long form from CSV (header
// agency,kpi,variable,fiscal_year,round,value) or JSON ({"observations": [{"agency","kpi",
// "variable","fiscal_year","round","value"}]}). A value is a number, ผ่าน/pass/ไม่ผ่าน/fail, or
// a list of numbers (CSV: separated by ";", JSON: an array). Fails on the first malformed row
// with its line (CSV) or JSON path.
Result<std::vector<domain::Observation>> ParseObservations(const std::string& text,
                                                           const std::string& file);
Result<std::vector<domain::Observation>> LoadObservations(const std::string& path);

// The same from the first sheet of an XLSX file (`bytes`), read by ReadXlsx under its default
// limits, whose row 1 holds the CSV's headings: agencies.xlsx beside agencies.csv. A message's
// location names the file and sheet, and its line is the sheet's row ("a.xlsx [ชีต/sheet
// Agencies, แถว/row]:12"). Hostile files are refused as ReadXlsx says. Load* read a path ending
// in .xlsx this way.
Result<std::vector<domain::Agency>> ParseAgenciesXlsx(std::string_view bytes,
                                                      const std::string& file);
Result<std::vector<domain::Observation>> ParseObservationsXlsx(std::string_view bytes,
                                                               const std::string& file);

// A reported value as a number: "94.36" -> 94.36, "ผ่าน"/"pass" -> 1, "ไม่ผ่าน"/"fail" -> 0, and
// "3;4;5" -> {3, 4, 5}, a date ("2021-01-15" or "15/1/2564", as domain::ParseCaseDate reads it)
// -> its domain::Day (the day a dated milestone was reached). Fails (with a message in both languages) on anything else, on numbers
// beyond ±10^15, and on NaN or infinity.
Result<std::vector<double>> ParseValue(const std::string& text);

}  // namespace esar::formats
