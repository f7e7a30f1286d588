// Times the scoring engine on one thread over generated input (bench/generate.py). Reading and
// laying out the data are excluded; only Engine::ScoreRow over every agency is timed, best of
// --repeat passes. Prints one line for bench/engine to parse.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>

#include "domain/engine.h"
#include "formats/framework_json.h"
#include "formats/inputs.h"

int main(int argc, char** argv) {
  CLI::App app{"esar_bench: scores per second of the evaluation engine"};
  std::string framework_path, agencies_path, data_path;
  int repeat = 3;
  app.add_option("--framework", framework_path)->required();
  app.add_option("--agencies", agencies_path)->required();
  app.add_option("--data", data_path)->required();
  app.add_option("--repeat", repeat)->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  auto fail = [](const esar::Status& s) {
    std::cerr << "esar_bench: " << s.ToString(false) << "\n";
    return 2;
  };
  auto framework = esar::formats::LoadFramework(framework_path);
  if (!framework) return fail(framework.status());
  auto agencies = esar::formats::LoadAgencies(agencies_path);
  if (!agencies) return fail(agencies.status());
  auto data = esar::formats::LoadObservations(data_path);
  if (!data) return fail(data.status());
  auto engine = esar::domain::Engine::Compile(*framework, 12);
  if (!engine) return fail(engine.status());

  const auto matrix = engine->Layout(*agencies, *data);
  size_t scored = 0;
  double checksum = 0;
  double best = 1e300;
  for (int pass = 0; pass < repeat; ++pass) {
    size_t count = 0;
    double sum = 0;
    const auto start = std::chrono::steady_clock::now();
    esar::domain::AgencyScore a;
    for (size_t row = 0; row < agencies->size(); ++row) {
      engine->ScoreRowInto(matrix, row, (*agencies)[row], false, a);
      for (const auto& k : a.kpis) sum += k.score;
      count += a.kpis.size();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best = std::min(best, seconds);
    scored = count;
    checksum = sum;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf(
      "esar agencies=%zu kpis_scored=%zu seconds=%.6f scores_per_s=%.0f peak_rss_mb=%.1f "
      "checksum=%.6f\n",
      agencies->size(), scored, best, static_cast<double>(scored) / best,
      static_cast<double>(usage.ru_maxrss) / 1024.0, checksum);
  return 0;
}
