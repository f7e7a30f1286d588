#pragma once

// Pages as HTML: the mustache templates and the message catalog built into the binary
// (templates/), rendered with HTML escaping on by default, in Thai or English.

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "common/status.h"
#include "common/text.h"

namespace kainjow::mustache {
template <typename string_type>
class basic_data;
template <typename string_type>
class basic_mustache;
}  // namespace kainjow::mustache

namespace esar::web {

// A static file served under /static/, with its gzip form made once at start.
struct StaticAsset {
  std::string content_type;
  std::string bytes;
  std::string gzipped;  // "" when compressing would not save anything
  std::string etag;     // a short hash of the bytes, quoted
  std::string url;      // "/static/esar.css?v=<hash>": the address pages use
};

class Views {
 public:
  Views();
  ~Views();  // where the parsed templates' type is complete

  // Reads the embedded templates, messages and static files; fails when a template does not
  // parse or the catalog is malformed (a build error, found at start and by the tests).
  static Result<std::unique_ptr<const Views>> Load();

  // Renders template `name` ("agency_home") with `model`, the catalog's messages of `lang`
  // under "t", and the templates named part_* as partials ({{> part_kpi_doc}}, written into the
  // pages that use them when they are loaded). Safe from several threads at once. Values are
  // escaped unless the template uses {{{triple}}} braces; JSON null and false hide a section,
  // numbers print as the shortest decimal that reads back the same; each list <name> comes with
  // has_<name>.
  std::string Render(const std::string& name, const nlohmann::json& model, Lang lang) const;

  // A message of the catalog in `lang`; the key itself when the catalog has no such message.
  const std::string& Message(const std::string& key, Lang lang) const;

  // The static file at `name` ("esar.css"), or nullptr.
  const StaticAsset* Asset(const std::string& name) const;

 private:
  std::map<std::string, std::string> templates_;  // name -> source
  std::map<std::string, std::string> expanded_;   // name -> source with its partials written in
  // Parsed templates not being rendered now, by name (see Render).
  mutable std::mutex parsed_mutex_;
  using Parsed = kainjow::mustache::basic_mustache<std::string>;
  mutable std::map<std::string, std::vector<std::unique_ptr<Parsed>>>
      parsed_;                                                           // guarded by parsed_mutex_
  std::map<std::string, std::pair<std::string, std::string>> messages_;  // key -> (th, en)
  std::map<std::string, StaticAsset> assets_;
  nlohmann::json messages_th_, messages_en_;
  // Each language's catalog under "t" and the part_* partials, as the renderer reads them:
  // built once at start and only read afterwards, by every thread at once.
  std::shared_ptr<const kainjow::mustache::basic_data<std::string>> shared_th_, shared_en_;
};

}  // namespace esar::web
