// bench/cases' peer: seed 002 KPI 1 (the OCS example's "cases" rule, written out in SQL) computed
// by DuckDB from the same cases.csv and pauses.csv esar reads. Prints one JSON line:
// {"counted":N,"on_time":M,"seconds":S}, S from opening the database to the answer (reading
// the CSV files included, as for esar).
//
//   node bench/cases_duckdb.mjs DIR 6|12
//
// The rule as examples/ocs-2567/framework.json states it: kinds act, royal_decree,
// ministerial_regulation; categories 1–6 excluded; every pause reason excluded; standard = the
// longest of sections 1–10 → 3 months, 11–20 → 6, 21+ → 12, one map → 4, more → 6, complex → 8,
// annex 1 page → 4, 2–10 → 6, 11+ → 8; each standard's window (the same for classes of the same
// length); cut-offs 31 Mar and 30 Sep 2024; backlog of those kinds and opinions in round 12.
// No input checking: the files are known to be good (esar checks them, DuckDB is not asked to).
import { DuckDBInstance } from '@duckdb/node-api';
import path from 'node:path';

const [dir, roundText] = process.argv.slice(2);
const round = Number(roundText);
const cutoff = round === 6 ? "DATE '2024-03-31'" : "DATE '2024-09-30'";
const q = (s) => "'" + s.replaceAll("'", "''") + "'";
const casesFile = q(path.join(dir, 'cases.csv'));
const pausesFile = q(path.join(dir, 'pauses.csv'));

const sql = `
CREATE MACRO d(s) AS CASE WHEN s IS NULL OR s = '' THEN NULL
  WHEN strpos(s, '/') > 0 THEN make_date(CAST(split_part(s, '/', 3) AS INTEGER) - 543,
    CAST(split_part(s, '/', 2) AS INTEGER), CAST(split_part(s, '/', 1) AS INTEGER))
  ELSE CAST(s AS DATE) END;
-- Civil and Commercial Code s. 193/5: DuckDB's month addition keeps the day when the month has
-- it (the period then ends the day before) and clamps to the month's last day otherwise.
CREATE MACRO ccc(r, n) AS CASE WHEN day(r + to_months(n)) = day(r)
  THEN CAST(r + to_months(n) AS DATE) - 1 ELSE CAST(r + to_months(n) AS DATE) END;
WITH c AS (
  SELECT case_id, kind,
    TRY_CAST(sections AS INTEGER) AS sections,
    coalesce(TRY_CAST(maps AS INTEGER), 0) AS maps,
    coalesce(TRY_CAST(maps_complex AS INTEGER), 0) AS mc,
    coalesce(TRY_CAST(annex_pages AS INTEGER), 0) AS annex,
    coalesce(TRY_CAST(special_category AS INTEGER), 0) AS cat,
    d(received) AS rcv, d(completed) AS cmp, coalesce(backlog, '0') = '1' AS backlog
  FROM read_csv(${casesFile}, header = true, auto_detect = false, delim = ',', quote = '"',
    escape = '"', columns = {'case_id': 'VARCHAR', 'kind': 'VARCHAR', 'sections': 'VARCHAR',
    'maps': 'VARCHAR', 'maps_complex': 'VARCHAR', 'annex_pages': 'VARCHAR',
    'special_category': 'VARCHAR', 'received': 'VARCHAR', 'completed': 'VARCHAR',
    'backlog': 'VARCHAR'})),
k AS (
  SELECT *, greatest(
    CASE WHEN sections BETWEEN 1 AND 10 THEN 3 WHEN sections BETWEEN 11 AND 20 THEN 6
         WHEN sections >= 21 THEN 12 ELSE 0 END,
    CASE WHEN mc >= 1 THEN 8 WHEN maps >= 2 THEN 6 WHEN maps = 1 THEN 4 ELSE 0 END,
    CASE WHEN annex >= 11 THEN 8 WHEN annex >= 2 THEN 6 WHEN annex = 1 THEN 4 ELSE 0 END) AS n
  FROM c),
p AS (
  SELECT p.case_id, greatest(d(p.start), k.rcv) AS s,
    least(coalesce(d(p."end"), DATE '2999-12-31'), coalesce(k.cmp, ${cutoff}), ${cutoff}) AS e
  FROM read_csv(${pausesFile}, header = true, auto_detect = false, delim = ',', quote = '"',
    escape = '"', columns = {'case_id': 'VARCHAR', 'reason': 'VARCHAR', 'start': 'VARCHAR',
    'end': 'VARCHAR'}) p
  JOIN k USING (case_id)
  WHERE p.reason IN ('ria', 'committee', 'outside') AND NOT k.backlog AND k.n > 0),
ordered AS (
  SELECT case_id, s, e, max(e) OVER (PARTITION BY case_id ORDER BY s, e
    ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev
  FROM p WHERE e >= s),
islands AS (
  SELECT case_id, s, e, sum(CASE WHEN prev IS NULL OR s > prev THEN 1 ELSE 0 END)
    OVER (PARTITION BY case_id ORDER BY s, e ROWS UNBOUNDED PRECEDING) AS island
  FROM ordered),
paused AS (
  SELECT case_id, CAST(sum(days) AS INTEGER) AS days
  FROM (SELECT case_id, max(e) - min(s) + 1 AS days FROM islands GROUP BY case_id, island)
  GROUP BY case_id),
v AS (
  SELECT k.*, CASE WHEN n > 0 THEN ccc(rcv, n) + coalesce(paused.days, 0) END AS due,
    coalesce(cmp <= ${cutoff}, false) AS done,
    CASE n WHEN 3 THEN DATE '2023-07-01' WHEN 4 THEN DATE '2023-06-01' WHEN 6 THEN DATE '2023-04-01'
           WHEN 8 THEN DATE '2023-02-01' WHEN 12 THEN DATE '2022-10-01' END AS w_from,
    CASE n WHEN 3 THEN DATE '2024-06-30' WHEN 4 THEN DATE '2024-05-31' WHEN 6 THEN DATE '2024-03-31'
           WHEN 8 THEN DATE '2024-01-31' WHEN 12 THEN DATE '2023-09-30' END AS w_to
  FROM k LEFT JOIN paused USING (case_id)),
verdict AS (
  SELECT
    CASE WHEN backlog THEN kind IN ('act', 'royal_decree', 'ministerial_regulation', 'opinion')
                           AND cat = 0 AND ${round} = 12
         ELSE kind IN ('act', 'royal_decree', 'ministerial_regulation') AND cat = 0 AND n > 0
              AND rcv BETWEEN w_from AND w_to AND rcv <= ${cutoff} AND (done OR due <= ${cutoff})
    END AS counted,
    CASE WHEN backlog THEN done ELSE done AND cmp <= due END AS on_time
  FROM v)
SELECT count(*) FILTER (WHERE counted) AS counted,
       count(*) FILTER (WHERE counted AND on_time) AS on_time
FROM verdict;`;

const t0 = process.hrtime.bigint();
const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
const statements = sql.split(';').map((s) => s.trim()).filter((s) => s.length > 0);
let rows = [];
for (const s of statements) {
  const reader = await connection.runAndReadAll(s);
  rows = reader.getRowObjects();
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
console.log(JSON.stringify({ counted: Number(rows[0].counted), on_time: Number(rows[0].on_time), seconds }));
