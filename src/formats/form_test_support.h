#pragma once

// The examples' framework documents as the form tests read them (internal to src/formats'
// tests): every example's KPIs, sub-KPIs included, are what the forms must round-trip.

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace esar::formats::test_support {

// examples/<name>/framework.json, parsed.
inline nlohmann::json Example(const std::string& name) {
  std::ifstream in(std::filesystem::path(ESAR_SOURCE_DIR) / "examples" / name / "framework.json");
  return nlohmann::json::parse(in);
}

// Every KPI and sub-KPI of `kpis`, depth first.
inline void EachKpi(const nlohmann::json& kpis, std::vector<nlohmann::json>& out) {
  for (const nlohmann::json& k : kpis) {
    out.push_back(k);
    if (k.contains("sub_kpis")) EachKpi(k["sub_kpis"], out);
  }
}

// Top-level KPI `id` of example `name` (null when there is none).
inline nlohmann::json ExampleKpi(const std::string& name, const std::string& id) {
  const nlohmann::json doc = Example(name);
  for (const nlohmann::json& k : doc["kpis"]) {
    if (k["id"] == id) return k;
  }
  return nlohmann::json();
}

}  // namespace esar::formats::test_support
