#include "web/national_report.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <set>

#include "common/thai.h"
#include "service/directory.h"
#include "service/history.h"
#include "service/results.h"

namespace esar::web {

using nlohmann::json;

namespace {

std::string Fill(std::string text, const std::vector<std::string>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    const std::string slot = "{" + std::to_string(i + 1) + "}";
    const size_t at = text.find(slot);
    if (at != std::string::npos) text.replace(at, slot.size(), values[i]);
  }
  return text;
}

std::string Signed(double value, int decimals) {
  return (value >= 0 ? "+" : "") + Number(value, decimals);
}

std::string KindLabel(const PageCall& call, const std::string& kind) {
  const std::string key = "kind." + kind;
  const std::string& name = call.T(key);
  return name == key ? kind : name;
}

// The grade a total reaches under `fw`'s bands (highest first), "" below every band.
std::string GradeOf(const PageCall& call, const domain::Framework& fw, double total) {
  for (const domain::GradeBand& g : fw.grades) {
    if (total >= g.min_total) return call.Pick(g.name);
  }
  return "";
}

// The end of a sentence saying how `change` (percentage points when `percent`, else points)
// compares with fiscal year `year`: up, down, or the same at `decimals` places.
std::string ChangeText(const PageCall& call, double change, int year, int decimals,
                       bool percent) {
  if (std::fabs(change) < 0.5 * std::pow(10.0, -decimals))
    return Fill(call.T("nat.same"), {std::to_string(year)});
  const std::string key = std::string(change > 0 ? "nat.up_" : "nat.down_") +
                          (percent ? "percent" : "points");
  return Fill(call.T(key), {std::to_string(year), Number(std::fabs(change), decimals)});
}

struct Scored {
  std::string code, kind, parent, grade;
  double total = 0;
  bool has_total = false;
};

}  // namespace

Result<std::vector<int>> PublishedYears(PageCall& call, int round) {
  auto ids = service::Results(call.db, call.clock)
                 .RoundsWithResults(service::Actor::Public(), service::ResultStage::kPublished);
  if (!ids) return ids.status();
  auto rounds = service::Cycle(call.db, call.clock).Rounds();
  if (!rounds) return rounds.status();
  std::set<int> years;
  for (const auto& r : *rounds) {
    if (r.round.round == round && std::count(ids->begin(), ids->end(), r.round.id))
      years.insert(r.fiscal_year);
  }
  return std::vector<int>(years.rbegin(), years.rend());
}

Result<render::NationalReport> BuildNationalReport(PageCall& call, int fiscal_year, int round,
                                                   const FrameworkLoader& load) {
  service::Results results(call.db, call.clock);
  auto ids = results.RoundsWithResults(service::Actor::Public(), service::ResultStage::kPublished);
  if (!ids) return ids.status();
  auto rounds = service::Cycle(call.db, call.clock).Rounds();
  if (!rounds) return rounds.status();
  // Every published result of the year and round length, with its framework. Their rows are
  // read one agency line at a time (Results::EachTotal) and the KPIs' levels counted in SQL
  // (Results::KpiLevels): the report never holds a round's KPI rows.
  std::vector<service::StoredResult> metas;
  std::vector<std::shared_ptr<const service::StoredFramework>> frameworks;
  int64_t published_at = 0;
  for (const auto& r : *rounds) {
    if (r.fiscal_year != fiscal_year || r.round.round != round) continue;
    if (!std::count(ids->begin(), ids->end(), r.round.id)) continue;
    auto meta =
        results.LatestMeta(service::Actor::Public(), r.round.id, service::ResultStage::kPublished);
    if (!meta) return meta.status();
    auto fw = load(call.db, r.round.framework_id);
    if (!fw) return fw.status();
    published_at = std::max(published_at, meta->computed_at);
    metas.push_back(*meta);
    frameworks.push_back(*fw);
  }
  if (metas.empty()) {
    return Status::NotFound("ยังไม่มีผลการประเมินที่เผยแพร่ของปีงบประมาณ " +
                                std::to_string(fiscal_year),
                            "no published results for fiscal year " + std::to_string(fiscal_year));
  }
  auto agencies = service::Directory(call.db, call.clock).Agencies();
  if (!agencies) return agencies.status();
  std::map<std::string, std::string> names;
  for (const auto& a : *agencies) names[a.code] = call.Pick(a.name);
  auto name_of = [&](const std::string& code) {
    const auto at = names.find(code);
    return at == names.end() || at->second.empty() ? code : at->second;
  };

  std::vector<Scored> now;
  std::vector<size_t> framework_of;  // now[i]'s framework
  for (size_t d = 0; d < metas.size(); ++d) {
    const domain::Framework& fw = frameworks[d]->framework;
    Status read =
        results.EachTotal(service::Actor::Public(), metas[d], [&](const service::TotalLine& line) {
          Scored s;
          s.code = line.code;
          s.kind = line.kind;
          s.parent = line.parent;
          if (line.grade >= 0 && static_cast<size_t>(line.grade) < fw.grades.size())
            s.grade = call.Pick(fw.grades[static_cast<size_t>(line.grade)].name);
          s.has_total = line.total.has_value();
          s.total = line.total.value_or(0);
          now.push_back(std::move(s));
          framework_of.push_back(d);
          return Status::Ok();
        });
    if (!read.ok()) return read;
  }
  // Earlier years: totals and KPI scores (by key) of the two years before.
  std::map<int, std::map<std::string, double>> totals_before;  // year -> agency -> total
  std::map<int, std::map<std::string, std::map<std::string, double>>> kpis_before;  // year -> key
  for (int year : {fiscal_year - 2, fiscal_year - 1}) {
    service::History::PastFilter filter;
    filter.year = year;
    filter.round = round;
    auto past = service::History(call.db, call.clock).PastResults(filter);
    if (!past) return past.status();
    for (const domain::PastResult& p : *past) {
      if (p.fiscal_year != year || p.round != round || !p.score) continue;
      if (p.kpi_key.empty()) {
        totals_before[year].emplace(p.agency, *p.score);
      } else if (p.source == domain::PastSource::kPublished ||
                 !kpis_before[year][p.kpi_key].count(p.agency)) {
        kpis_before[year][p.kpi_key][p.agency] = *p.score;
      }
    }
  }
  const int last_year = fiscal_year - 1;
  const auto& before = totals_before[last_year];
  const domain::Framework& main_fw = frameworks.front()->framework;
  const int td = main_fw.decimals.total;

  render::NationalReport report;
  report.document.title = call.T("nat.title") + " " + FiscalYearName(fiscal_year, call.lang);
  report.document.author = call.T("pdf.author");
  report.document.page_word = call.T("pdf.page");
  report.document.of_word = call.T("pdf.of");
  report.document.created_ms = published_at;
  report.document.footer = Fill(call.T("nat.footer"), {FormatDateTime(published_at, call.lang)});
  report.title = call.T("nat.title");
  report.subtitle = FiscalYearName(fiscal_year, call.lang) + " · " + RoundName(round, call.lang);
  report.highlights_heading = call.T("nat.highlights");
  report.summary_sheet = call.T("nat.sheet_summary");

  // ---- the whole: agencies, average, the change from last year
  double sum = 0, sum_before = 0;
  int n = 0, n_before = 0;
  for (const Scored& s : now) {
    if (!s.has_total) continue;
    sum += s.total;
    ++n;
    const auto at = before.find(s.code);
    if (at != before.end()) {
      sum_before += at->second;
      ++n_before;
    }
  }
  const double average = n ? sum / n : 0;
  {
    std::string sentence = Fill(call.T("nat.s_average"),
                                {std::to_string(fiscal_year), std::to_string(now.size()),
                                 Number(average, td)});
    if (n_before) {
      double avg_now_both = 0;
      for (const Scored& s : now) {
        if (s.has_total && before.count(s.code)) avg_now_both += s.total;
      }
      const double change = (avg_now_both - sum_before) / n_before;
      sentence += " " + ChangeText(call, change, last_year, td, false);
    }
    report.highlights.push_back(sentence);
  }

  // ---- grades per kind
  std::vector<std::string> grade_order;
  for (const auto& fw : frameworks) {
    for (const auto& g : fw->framework.grades) {
      const std::string name = call.Pick(g.name);
      if (std::find(grade_order.begin(), grade_order.end(), name) == grade_order.end())
        grade_order.push_back(name);
    }
  }
  bool ungraded = false;
  for (const Scored& s : now) ungraded = ungraded || s.grade.empty();
  if (ungraded) grade_order.push_back(call.T("dashboard.no_grade"));
  std::vector<std::string> kinds;
  std::map<std::string, std::map<std::string, int>> grade_counts;  // kind -> grade -> n
  for (const Scored& s : now) {
    if (std::find(kinds.begin(), kinds.end(), s.kind) == kinds.end()) kinds.push_back(s.kind);
    grade_counts[s.kind][s.grade.empty() ? call.T("dashboard.no_grade") : s.grade]++;
  }
  {
    render::NationalPart part;
    part.sheet = call.T("nat.sheet_grades");
    part.section.heading = call.T("nat.grades");
    render::Table& t = part.section.table;
    t.columns.push_back({2.2, false});
    t.header.push_back(call.T("dashboard.kind"));
    for (const std::string& g : grade_order) {
      t.columns.push_back({1, true});
      t.header.push_back(g);
    }
    t.columns.push_back({1, true});
    t.header.push_back(call.T("report.total"));
    std::map<std::string, int> all;
    for (const std::string& kind : kinds) {
      std::vector<std::string> row = {KindLabel(call, kind)};
      std::vector<double> values;
      int total = 0;
      for (const std::string& g : grade_order) {
        const int c = grade_counts[kind][g];
        row.push_back(std::to_string(c));
        values.push_back(c);
        all[g] += c;
        total += c;
      }
      row.push_back(std::to_string(total));
      t.rows.push_back(row);
      part.chart.labels.push_back(KindLabel(call, kind));
      part.chart.values.push_back(values);
      part.chart.value_texts.push_back(std::to_string(total));
    }
    std::vector<std::string> row = {call.T("report.total")};
    for (const std::string& g : grade_order) row.push_back(std::to_string(all[g]));
    row.push_back(std::to_string(now.size()));
    t.rows.push_back(row);
    t.bold_rows.assign(t.rows.size(), false);
    t.bold_rows.back() = true;
    part.chart.series = grade_order;
    report.parts.push_back(part);
    if (!grade_order.empty() && !now.empty()) {
      const std::string& best = grade_order.front();
      const double share = 100.0 * all[best] / static_cast<double>(now.size());
      std::string sentence = Fill(call.T("nat.s_grade"), {Number(share, 0), best});
      // The same share last year, from last year's totals under this year's bands.
      int best_before = 0, counted = 0;
      for (const auto& [code, total] : before) {
        ++counted;
        best_before += GradeOf(call, main_fw, total) == best ? 1 : 0;
      }
      if (counted) {
        sentence += " " + ChangeText(call, share - 100.0 * best_before / counted, last_year, 0,
                                     true);
      }
      report.highlights.push_back(sentence);
    }
  }

  // ---- averages per kind and per ministry, with the change from last year
  auto averages = [&](const char* heading_key, const char* sheet_key, const char* column_key,
                      std::function<std::string(const Scored&)> key_of,
                      std::function<std::string(const std::string&)> label_of, bool chart) {
    struct Sum {
      double total = 0, both_now = 0, both_before = 0;
      int n = 0, n_both = 0;
    };
    std::map<std::string, Sum> sums;
    for (const Scored& s : now) {
      if (!s.has_total) continue;
      Sum& x = sums[key_of(s)];
      x.total += s.total;
      ++x.n;
      const auto at = before.find(s.code);
      if (at != before.end()) {
        x.both_now += s.total;
        x.both_before += at->second;
        ++x.n_both;
      }
    }
    std::vector<std::pair<std::string, std::string>> order;  // sort key, group key
    for (const auto& [key, x] : sums) order.push_back({ThaiSortKey(label_of(key)), key});
    std::sort(order.begin(), order.end());
    render::NationalPart part;
    part.sheet = call.T(sheet_key);
    part.section.heading = call.T(heading_key);
    render::Table& t = part.section.table;
    t.columns = {{2.4, false}, {0.8, true}, {1, true}, {1, true}, {1, true}};
    t.header = {call.T(column_key), call.T("nat.agencies"), call.T("nat.average"),
                Fill(call.T("nat.average_in"), {std::to_string(last_year)}), call.T("nat.change")};
    for (const auto& [sort_key, key] : order) {
      const Sum& x = sums[key];
      const double avg = x.total / x.n;
      t.rows.push_back({label_of(key), std::to_string(x.n), Number(avg, td),
                        x.n_both ? Number(x.both_before / x.n_both, td) : "–",
                        x.n_both ? Signed((x.both_now - x.both_before) / x.n_both, td) : "–"});
      if (chart) {
        part.chart.labels.push_back(label_of(key));
        part.chart.values.push_back({avg});
        part.chart.value_texts.push_back(Number(avg, td));
      }
    }
    part.chart.max = 100;
    report.parts.push_back(part);
  };
  averages("nat.by_kind", "nat.sheet_kinds", "dashboard.kind",
           [](const Scored& s) { return s.kind; },
           [&](const std::string& kind) { return KindLabel(call, kind); }, false);
  averages("nat.by_ministry", "nat.sheet_ministries", "nat.ministry",
           [](const Scored& s) { return s.parent; },
           [&](const std::string& code) {
             return code.empty() ? call.T("dashboard.no_ministry") : name_of(code);
           },
           true);

  // ---- shared KPIs: those every agency of a framework's result is scored (or missing) on
  {
    render::NationalPart part;
    part.sheet = call.T("nat.sheet_shared");
    part.section.heading = call.T("nat.shared");
    part.section.paragraphs.push_back(call.T("nat.shared_note"));
    render::Table& t = part.section.table;
    const size_t levels = main_fw.levels.size();
    t.size_pt = 11;  // nine columns: smaller type keeps the level names whole
    t.columns.push_back({2.0, false});
    t.header.push_back(call.T("report.kpi"));
    t.columns.push_back({0.8, true});
    t.header.push_back(call.T("nat.agencies"));
    t.columns.push_back({0.8, true});
    t.header.push_back(call.T("dashboard.below_basic"));
    for (size_t l = 0; l < levels; ++l) {
      t.columns.push_back({0.8, true});
      t.header.push_back(call.Pick(main_fw.levels[l].name));
    }
    for (const char* key : {"nat.share_advanced", "nat.share_before", "nat.change"}) {
      t.columns.push_back({0.9, true});
      t.header.push_back(Fill(call.T(key), {std::to_string(last_year)}));
    }
    part.chart.series.push_back(call.T("dashboard.below_basic"));
    for (size_t l = 0; l < levels; ++l) part.chart.series.push_back(call.Pick(main_fw.levels[l].name));
    part.chart.max = 100;
    for (size_t f = 0; f < frameworks.size(); ++f) {
      const domain::Framework& fw = frameworks[f]->framework;
      const auto members =
          static_cast<int64_t>(std::count(framework_of.begin(), framework_of.end(), f));
      if (members == 0 || fw.levels.empty()) continue;
      // Each KPI's agencies by level, of the rows neither exempt nor monitoring.
      auto counted = results.KpiLevels(service::Actor::Public(), metas[f]);
      if (!counted) return counted.status();
      std::map<std::string, std::pair<int64_t, std::vector<int>>> of_kpi;  // id -> rows, by level
      for (const service::KpiLevelCount& c : *counted) {
        auto& [rows, by_level] = of_kpi[c.kpi];
        if (by_level.empty()) by_level.assign(fw.levels.size() + 1, 0);
        if (c.status == "exempt" || c.status == "monitoring") continue;
        rows += c.count;
        by_level[static_cast<size_t>(std::clamp(c.level, 0, static_cast<int>(fw.levels.size())))] +=
            static_cast<int>(c.count);
      }
      std::function<void(const std::vector<domain::Kpi>&)> walk =
          [&](const std::vector<domain::Kpi>& kpis) {
            for (const domain::Kpi& kpi : kpis) {
              const auto levels_of = of_kpi.find(kpi.id);
              // Every agency of the result has a row for it, none exempt or monitoring.
              const bool everyone = static_cast<bool>(kpi.criteria) && levels_of != of_kpi.end() &&
                                    levels_of->second.first == members;
              const std::vector<int> counts =
                  everyone ? levels_of->second.second : std::vector<int>();
              if (everyone) {
                const double total = static_cast<double>(members);
                const double share = 100.0 * counts.back() / total;
                std::vector<std::string> row = {kpi.id + " " + call.Pick(kpi.name),
                                                std::to_string(members)};
                std::vector<double> shares;
                for (size_t l = 0; l < counts.size(); ++l) {
                  row.push_back(std::to_string(counts[l]));
                  shares.push_back(100.0 * counts[l] / total);
                }
                while (row.size() < 3 + levels) row.push_back("–");
                row.push_back(Number(share, 1));
                // Last year's share at the advanced level: scores at its points or above.
                std::string before_text = "–", change_text = "–";
                const auto found = kpi.key.empty() ? kpis_before[last_year].end()
                                                   : kpis_before[last_year].find(kpi.key);
                std::string sentence = Fill(call.T("nat.s_shared"),
                                            {Number(share, 0), call.Pick(fw.levels.back().name),
                                             call.Pick(kpi.name)});
                if (found != kpis_before[last_year].end() && !found->second.empty()) {
                  int advanced = 0;
                  for (const auto& [code, score] : found->second)
                    advanced += score >= fw.levels.back().points - 1e-9 ? 1 : 0;
                  const double share_before =
                      100.0 * advanced / static_cast<double>(found->second.size());
                  before_text = Number(share_before, 1);
                  change_text = Signed(share - share_before, 1);
                  sentence += " " + ChangeText(call, share - share_before, last_year, 0,
                                               true);
                }
                row.push_back(before_text);
                row.push_back(change_text);
                t.rows.push_back(row);
                part.chart.labels.push_back(kpi.id + " " + call.Pick(kpi.name));
                part.chart.values.push_back(shares);
                part.chart.value_texts.push_back(Number(share, 0) + "%");
                report.highlights.push_back(sentence);
              }
              walk(kpi.sub_kpis);
            }
          };
      walk(fw.kpis);
    }
    if (!t.rows.empty()) report.parts.push_back(part);
  }

  // ---- the years: average total per fiscal year
  {
    render::NationalPart part;
    part.sheet = call.T("nat.sheet_years");
    part.section.heading = call.T("nat.years");
    render::Table& t = part.section.table;
    t.columns = {{2, false}, {1, true}, {1, true}};
    t.header = {call.T("history.year"), call.T("nat.agencies"), call.T("nat.average")};
    for (int year : {fiscal_year - 2, fiscal_year - 1}) {
      const auto& totals = totals_before[year];
      if (totals.empty()) continue;
      double s = 0;
      for (const auto& [code, total] : totals) s += total;
      const double avg = s / static_cast<double>(totals.size());
      t.rows.push_back({FiscalYearName(year, call.lang), std::to_string(totals.size()),
                        Number(avg, td)});
      part.chart.labels.push_back(FiscalYearName(year, call.lang));
      part.chart.values.push_back({avg});
      part.chart.value_texts.push_back(Number(avg, td));
    }
    t.rows.push_back({FiscalYearName(fiscal_year, call.lang), std::to_string(n), Number(average, td)});
    part.chart.labels.push_back(FiscalYearName(fiscal_year, call.lang));
    part.chart.values.push_back({average});
    part.chart.value_texts.push_back(Number(average, td));
    part.chart.max = 100;
    report.parts.push_back(part);
  }

  // ---- the agencies that rose and fell most since last year
  {
    struct Move {
      std::string code;
      double before = 0, now = 0;
    };
    std::vector<Move> moves;
    for (const Scored& s : now) {
      const auto at = before.find(s.code);
      if (s.has_total && at != before.end()) moves.push_back({s.code, at->second, s.total});
    }
    std::sort(moves.begin(), moves.end(), [](const Move& a, const Move& b) {
      return a.now - a.before > b.now - b.before || (a.now - a.before == b.now - b.before && a.code < b.code);
    });
    auto table = [&](const char* heading_key, const char* sheet_key, bool rising) {
      render::NationalPart part;
      part.sheet = call.T(sheet_key);
      part.section.heading = Fill(call.T(heading_key), {std::to_string(last_year)});
      render::Table& t = part.section.table;
      t.columns = {{2.6, false}, {1, true}, {1, true}, {1, true}};
      t.header = {call.T("verify.agency"), std::to_string(last_year),
                  std::to_string(fiscal_year), call.T("nat.change")};
      const size_t shown = std::min<size_t>(10, moves.size());
      for (size_t i = 0; i < shown; ++i) {
        const Move& m = rising ? moves[i] : moves[moves.size() - 1 - i];
        if (rising ? m.now < m.before : m.now > m.before) break;
        t.rows.push_back({name_of(m.code), Number(m.before, td), Number(m.now, td),
                          Signed(m.now - m.before, td)});
      }
      if (!t.rows.empty()) report.parts.push_back(part);
    };
    table("nat.risers", "nat.sheet_risers", true);
    table("nat.fallers", "nat.sheet_fallers", false);
    if (!moves.empty() && moves.front().now > moves.front().before) {
      report.highlights.push_back(Fill(call.T("nat.s_riser"),
                                       {name_of(moves.front().code),
                                        Signed(moves.front().now - moves.front().before, td),
                                        std::to_string(last_year)}));
    }
    if (!moves.empty() && moves.back().now < moves.back().before) {
      report.highlights.push_back(Fill(call.T("nat.s_faller"),
                                       {name_of(moves.back().code),
                                        Signed(moves.back().now - moves.back().before, td),
                                        std::to_string(last_year)}));
    }
  }
  return report;
}

}  // namespace esar::web
