#pragma once

// One whole evaluation cycle run through the real esar binary, for the tests that then break
// something (the audit log, a backup, an evidence file) and check that esar notices: every table
// that matters holds rows afterwards.

#include <cstdint>
#include <string>

#include "tests/support/run_esar.h"

namespace esar::testing {

struct CycleScenario {
  std::string db_url;
  std::string server_dir;  // ServerProcess's folder: the evidence files are in server_dir/files
  std::string files_dir;   // server_dir/files: esar's --data-dir (and its audit key and head)
  int64_t round = 0;
  int64_t evidence_submission = 0;  // the submission with the evidence file
  int64_t evidence_id = 0;
  std::string evidence_sha256;
  std::string evidence_name;
  std::string evidence_bytes;
  int64_t published_result = 0;
  std::string ocs_total_text;  // OCS's published total as the public page prints it, "89.603"
};

// A copy of its own (database and server folder) of one whole cycle run on `backend`: the cycle
// is run once per backend and build, then kept and copied for each test. The cycle imports the OCS
// FY2567 example with the command line, creates admin, evaluator, rep.ocs and app.ocs (passwords
// "password-of-<name>"), then through a server: opens the 12-month round, grants an extension,
// makes an API token, saves every OCS KPI, uploads a PDF to the first, approves and submits (with
// an idempotency key), returns one and has it fixed, accepts all (with a note on the evidence),
// computes preliminary results, files and upholds an appeal with corrected values, finalizes and
// publishes. No server runs when it returns. Fails the current test (fatally) on any unexpected
// answer: call it inside ASSERT_NO_FATAL_FAILURE.
void RunWholeCycle(const std::string& backend, CycleScenario* out);

// `esar --lang en ARGS --db URL` with the scenario's data folder in ESAR_DATA_DIR (the way an
// operator's environment names it).
RunResult EsarOn(const CycleScenario& scenario, const std::string& args);

}  // namespace esar::testing
