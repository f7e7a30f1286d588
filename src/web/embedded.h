#pragma once

// The files built into the binary (cmake/embed.cmake): templates, messages, the stylesheet and
// the scripts from npm. Read-only, alive for the whole run.

#include <span>
#include <string_view>

namespace esar::web {

struct EmbeddedFile {
  std::string_view name;  // "templates/layout.mustache", "static/esar.css"
  std::string_view bytes;
};

std::span<const EmbeddedFile> EmbeddedFiles();

}  // namespace esar::web
