// esar_rows_bench: the time to compute and store a round's results as rows (Results::
// ComputePreliminary: read the values, score without explanations, write a total per agency with
// its inputs and a row per agency x KPI, audit), in process on SQLite or PostgreSQL, then the time
// to derive one agency's explanation and the whole round's document. compute_peak_mb is how far
// the resident size rose above its level before the computation (Linux); answer_ms what the API's
// answer adds before its status line (the round's readiness, the cursor over the scores).
//
//   bench/generate.py --agencies 8000 --kpis 25 --out DIR
//   build/bin/esar_rows_bench --dir DIR --db /tmp/x.db|postgresql://...
//
// Repeated computations on PostgreSQL without loading each time (the load is one statement per
// value): --load-only into a database T, then for each run CREATE DATABASE Rn TEMPLATE T and
// --loaded --compute-only on Rn.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <malloc.h>
#include <string>

#include "formats/inputs.h"
#include "service/cycle.h"
#include "service/directory.h"
#include "service/results.h"
#include "storage/migrations.h"

namespace {

using esar::service::Actor;

double Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// The process's resident size now ("VmRSS") or its peak ("VmHWM") in MB, from /proc/self/status;
// -1 where it cannot be read.
long long ResidentMb(const char* field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field, 0) == 0) return std::atoll(line.c_str() + std::strlen(field) + 1) / 1024;
  }
  return -1;
}

// Starts the peak resident size (VmHWM) afresh from the size now, so that the next reading is the
// peak of what follows (Linux: clear_refs 5). Returns false where that is not possible.
bool ResetPeak() {
  std::ofstream clear("/proc/self/clear_refs");
  clear << "5";
  clear.flush();
  return static_cast<bool>(clear);
}

int Fail(const esar::Status& s) {
  std::fprintf(stderr, "esar_rows_bench: %s\n", s.ToString(false).c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esar_rows_bench: compute and store a round's results as rows"};
  std::string dir, url;
  app.add_option("--dir", dir, "bench/generate.py's output")->required();
  app.add_option("--db", url, "a new SQLite file or an empty PostgreSQL database")->required();
  bool compute_only = false;
  app.add_flag("--compute-only", compute_only,
               "stop after computing and storing (for a profile of that step alone)");
  bool load_only = false, loaded = false;
  app.add_flag("--load-only", load_only,
               "stop after loading (a database to copy, e.g. CREATE DATABASE ... TEMPLATE, for "
               "repeated computations)");
  app.add_flag("--loaded", loaded,
               "the database holds what --load-only loaded: compute its newest open round");
  CLI11_PARSE(app, argc, argv);
  namespace fs = std::filesystem;
  auto db = esar::storage::Open(url);
  if (!db) return Fail(db.status());
  if (auto s = esar::storage::Migrate(**db); !s.ok()) return Fail(s);
  constexpr int64_t kStart = 1704067200000;  // 1 Jan 2024, inside FY2567
  esar::FakeClock clock(kStart);
  esar::service::Directory directory(**db, clock);
  esar::service::Cycle cycle(**db, clock);
  esar::service::Results results(**db, clock);
  const Actor admin{0, esar::service::Role::kAdmin, "", "bench"};
  auto agencies = esar::formats::LoadAgencies((fs::path(dir) / "agencies.csv").string());
  if (!agencies) return Fail(agencies.status());
  int64_t round_id = 0;
  if (loaded) {
    auto newest = (*db)->Query("SELECT MAX(id) FROM rounds");
    if (!newest) return Fail(newest.status());
    round_id = (*newest)[0].Int(0);
  } else {
    if (auto s = directory.UpsertAgencies(Actor::System(), *agencies); !s.ok()) return Fail(s);
    std::ifstream in(fs::path(dir) / "framework.json");
    const std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    auto framework = cycle.ImportFramework(admin, text);
    if (!framework) return Fail(framework.status());
    auto round = cycle.OpenRound(admin, framework->id, 12, kStart + 1000);
    if (!round) return Fail(round.status());
    round_id = round->id;
    auto data = esar::formats::LoadObservations((fs::path(dir) / "data.csv").string());
    if (!data) return Fail(data.status());
    if (auto s = cycle.ImportObservations(admin, *data); !s.ok()) return Fail(s);
    if (load_only) return 0;
  }
  clock.Advance(2000);

  // What earlier steps freed goes back to the system first, so that the peak measured is what the
  // computation itself holds, not less because it reused memory freed by the import.
  ::malloc_trim(0);
  const long long rss_before_mb = ResidentMb("VmRSS");
  const bool peak_reset = ResetPeak();
  auto t = std::chrono::steady_clock::now();
  auto computed = results.ComputePreliminary(admin, round_id, 0);
  const double compute_s = Since(t);
  // What computing and storing held at its peak, above what the process held before it.
  const long long compute_peak_mb = peak_reset ? ResidentMb("VmHWM") - rss_before_mb : -1;
  if (!computed) return Fail(computed.status());
  if (compute_only) {
    std::printf("compute_store_s=%.3f compute_peak_mb=%lld\n", compute_s, compute_peak_mb);
    return 0;
  }
  // What the API's answer to the computation does before its status line: the round's
  // readiness, and the cursor over the scores (an engine compiled for the explanations).
  t = std::chrono::steady_clock::now();
  auto readiness = results.ReadinessOf(admin, round_id);
  if (!readiness) return Fail(readiness.status());
  auto cursor = results.OpenScores(admin, *computed);
  if (!cursor) return Fail(cursor.status());
  const double answer_ms = Since(t) * 1000;
  auto rows = (*db)->Query("SELECT (SELECT COUNT(*) FROM result_totals), (SELECT COUNT(*) FROM "
                           "result_kpis)");
  if (!rows) return Fail(rows.status());
  t = std::chrono::steady_clock::now();
  auto one = results.LatestForAgency(admin, round_id, esar::service::ResultStage::kPreliminary,
                                     (*agencies)[agencies->size() / 2].code);
  const double one_ms = Since(t) * 1000;
  if (!one) return Fail(one.status());
  t = std::chrono::steady_clock::now();
  size_t bytes = 0;
  auto status = results.WriteScores(admin, *computed,
                                    [&](std::string_view piece) { bytes += piece.size(); });
  const double export_s = Since(t);
  if (!status.ok()) return Fail(status);
  std::printf(
      "agencies=%lld kpi_rows=%lld compute_store_s=%.3f compute_peak_mb=%lld answer_ms=%.1f "
      "one_explanation_ms=%.2f export_s=%.2f export_mb=%.1f\n",
      static_cast<long long>((*rows)[0].Int(0)), static_cast<long long>((*rows)[0].Int(1)),
      compute_s, compute_peak_mb, answer_ms, one_ms, export_s, static_cast<double>(bytes) / 1e6);
  return 0;
}
