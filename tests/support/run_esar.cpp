#include "tests/support/run_esar.h"

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tests/support/test_database.h"

namespace esar::testing {

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary);
  out << content;
}

std::string MakeTempDir() {
  char pattern[] = "/tmp/esar-test-XXXXXX";
  const char* dir = mkdtemp(pattern);
  if (!dir) throw std::runtime_error("mkdtemp failed");
  RemoveAtExit(dir);
  return dir;
}

RunResult RunEsar(const std::string& args, const std::string& env) {
  const std::string dir = MakeTempDir();
  const std::string out_path = dir + "/out", err_path = dir + "/err";
  const std::string command = env + " '" + ESAR_BINARY + "' " + args + " </dev/null >'" + out_path +
                              "' 2>'" + err_path + "'";
  const int status = std::system(command.c_str());
  RunResult r;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
    // The shell reports a child killed by a signal as 128 + the signal.
    r.crashed = r.exit_code > 128;
  } else {
    r.crashed = true;
  }
  r.out = ReadWholeFile(out_path);
  r.err = ReadWholeFile(err_path);
  std::remove(out_path.c_str());
  std::remove(err_path.c_str());
  std::remove(dir.c_str());
  return r;
}

}  // namespace esar::testing
