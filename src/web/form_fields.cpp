#include "web/form_fields.h"

#include <algorithm>

#include "web/page_support.h"

namespace esar::web {

using nlohmann::json;

void ErrorBook::Add(const std::string& key, const std::string& message) {
  auto& list = by_key_[key];
  if (std::find(list.begin(), list.end(), message) == list.end()) list.push_back(message);
}

namespace {
// Sets a field's marks (Field) from its hint, errors and warnings: has_error (and with it
// aria-invalid), has_warning, and the ids of what describes it.
void MarkField(json& field) {
  const std::string id = field["id"].get<std::string>();
  const bool errors = !field["errors"].empty(), warnings = !field["warnings"].empty();
  field["has_error"] = errors;
  field["has_warning"] = warnings;
  std::string described = field["hint"].is_string() ? id + "-hint" : "";
  auto described_by = [&](const char* suffix) {
    described += (described.empty() ? "" : " ") + id + suffix;
  };
  if (errors) described_by("-err");
  if (warnings) described_by("-warn");
  field["describedby"] = described.empty() ? json(false) : json(described);
}
}  // namespace

void ErrorBook::AddWarning(const std::string& key, const std::string& message) {
  Add(key, message);
  warnings_.insert(message);
}

void ErrorBook::SplitWarnings(json& model) const {
  if (model.is_array()) {
    for (json& item : model) SplitWarnings(item);
    return;
  }
  if (!model.is_object()) return;
  for (auto& [key, value] : model.items()) {
    if (key != "errors") SplitWarnings(value);
  }
  const auto errors = model.find("errors");
  if (!model.contains("id") || errors == model.end() || !errors->is_array()) return;
  // Set even when empty: a template looking up "warnings" in an element without them would find
  // those of the section around it.
  json kept = json::array();
  json& warnings = model["warnings"];
  if (!warnings.is_array()) warnings = json::array();
  for (json& message : *errors) {
    if (message.is_string() && warnings_.count(message.get<std::string>()))
      warnings.push_back(std::move(message));
    else
      kept.push_back(std::move(message));
  }
  *errors = std::move(kept);
  // A field (Field): its error marks and what describes it follow the split. A row, group or
  // section has none: the templates derive has_errors from the list itself.
  if (model.contains("has_error")) MarkField(model);
}

json ErrorBook::Take(const std::string& key, const std::string& anchor) {
  json out = json::array();
  auto it = by_key_.find(key);
  if (it == by_key_.end()) return out;
  for (const std::string& m : it->second) {
    out.push_back(m);
    summary_.push_back({{"message", m}, {"href", "#" + anchor}});
  }
  by_key_.erase(it);
  return out;
}

json ErrorBook::Summary(bool warnings) const {
  auto wanted = [&](const std::string& message) {
    return (warnings_.count(message) > 0) == warnings;
  };
  json out = json::array();
  for (const json& item : summary_) {
    if (wanted(item["message"].get<std::string>())) out.push_back(item);
  }
  for (const auto& [key, list] : by_key_) {
    for (const std::string& m : list) {
      if (wanted(m)) out.push_back({{"message", m}});
    }
  }
  return out;
}

json PlaceError(ErrorBook& errors, const Status& error, const std::string& message) {
  json general = json::array();
  if (error.ok()) return general;
  if (error.where().json_path.empty()) {
    general.push_back(message);
  } else {
    errors.Add(error.where().json_path, message);
  }
  return general;
}

std::string FieldId(const std::string& name) { return "f-" + HtmlId(name); }

json Field(const std::map<std::string, std::string>& fields, ErrorBook& errors,
           const std::string& name, const std::string& label, const std::string& kind,
           const std::string& hint, const json& options, int rows) {
  const std::string id = FieldId(name);
  const auto at = fields.find(name);
  const std::string value = at == fields.end() ? std::string() : at->second;
  json errs = errors.Take(name, id);
  // A text in two languages: what concerns the text as a whole is shown at its Thai field.
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".th") == 0) {
    for (const json& e : errors.Take(name.substr(0, name.size() - 3), id)) errs.push_back(e);
  }
  // Every key the template reads is set, so that none is looked up in an enclosing section
  // (a section's hint, the page's "text").
  json f = {{"id", id},         {"name", name},          {"label", label}, {"value", value},
            {"rows", rows},     {"errors", errs},        {"warnings", json::array()},
            {"text", false},    {"area", false},         {"select", false},
            {"checkbox", false}, {"checked", false},     {"hint", false},
            {"options", json::array()}};
  if (!hint.empty()) f["hint"] = hint;
  MarkField(f);
  if (kind == "select") {
    json opts = json::array();
    bool found = false;
    for (const json& o : options) {
      const bool selected = o["value"].get<std::string>() == value;
      found = found || selected;
      opts.push_back({{"value", o["value"]}, {"label", o["label"]}, {"selected", selected}});
    }
    // A value the list does not have (typed in the JSON) stays selectable, so it is not lost.
    if (!found && !value.empty()) opts.push_back({{"value", value}, {"label", value}, {"selected", true}});
    f["options"] = opts;
  }
  if (kind == "checkbox") f["checked"] = !value.empty();
  f[kind] = true;
  return f;
}

}  // namespace esar::web
