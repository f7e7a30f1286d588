#pragma once

// The pieces of a form page that shows errors in words beside the field they concern
// (internal to src/web): the errors sorted by field, and one field's model for
// templates/part_form_field.mustache. Used by the authoring forms and the admin's user and
// agency forms.

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "common/status.h"

namespace esar::web {

// Messages by the form field (or row, or section) they concern; what no field claims is shown
// at the top of the form. Every message also goes in the summary, linked to where it is shown.
class ErrorBook {
 public:
  void Add(const std::string& key, const std::string& message);
  // Add, for a warning: shown where an error would be, but as a warning (SplitWarnings).
  void AddWarning(const std::string& key, const std::string& message);
  // The messages for `key`, shown at the element with HTML id `anchor`; taken once.
  nlohmann::json Take(const std::string& key, const std::string& anchor);
  // The summary of the errors (`warnings` false) or of the warnings (true): every such message
  // taken (linked to where it was shown), then those nobody took. Apart, because the errors'
  // box says the form was not saved, which a warning does not stop.
  nlohmann::json Summary(bool warnings = false) const;
  bool empty() const { return by_key_.empty() && summary_.empty(); }
  // Moves the warnings out of the "errors" list of every element of the page model `model`
  // that has an "id" (a field, row, group or section) to the end of its "warnings" list, so
  // that they are shown in the warning's style and mark nothing as wrong: a field keeps
  // has_error and aria-invalid for its errors alone, and is described by its warnings too. Every
  // such element gets a "warnings" list, empty when it has none.
  void SplitWarnings(nlohmann::json& model) const;

 private:
  std::map<std::string, std::vector<std::string>> by_key_;
  std::set<std::string> warnings_;  // the messages added by AddWarning
  nlohmann::json summary_ = nlohmann::json::array();
};

// A refusal `error` (shown as `message`) put beside the field it names (where().json_path);
// one that names no field is returned, for the top of the form (empty for Ok).
nlohmann::json PlaceError(ErrorBook& errors, const Status& error, const std::string& message);

// The HTML id of form field `name` ("f-" and HtmlId).
std::string FieldId(const std::string& name);

// One field of a form for templates/part_form_field.mustache, its value `fields[name]` ("" when
// absent), its errors taken from `errors` (those of "<x>" shown at "<x>.th" as well). `kind` is
// "text", "area", "select" (with `options` [{value, label}]: a value not among them stays
// selectable, so that nothing is lost) or "checkbox" (ticked when the value is not empty).
nlohmann::json Field(const std::map<std::string, std::string>& fields, ErrorBook& errors,
                     const std::string& name, const std::string& label, const std::string& kind,
                     const std::string& hint = "",
                     const nlohmann::json& options = nlohmann::json::array(), int rows = 3);

}  // namespace esar::web
