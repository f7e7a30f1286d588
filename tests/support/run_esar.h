#pragma once

// Runs the esar binary built alongside the tests (ESAR_BINARY) and captures what it prints.

#include <string>

namespace esar::testing {

struct RunResult {
  int exit_code = -1;    // the process's exit status; -1 when it did not exit normally
  bool crashed = false;  // ended by a signal (a crash, an abort, a sanitizer report)
  std::string out;
  std::string err;
};

// Runs `esar` with `args` (already shell-quoted), standard input from /dev/null, with the
// variable assignments in `env` ("NAME=value ...") in its environment.
RunResult RunEsar(const std::string& args, const std::string& env = "");

// A fresh temporary directory for one test's files, removed when the process exits.
std::string MakeTempDir();

// Writes `content` to `path` (bytes as given).
void WriteFile(const std::string& path, const std::string& content);

std::string ReadWholeFile(const std::string& path);

}  // namespace esar::testing
