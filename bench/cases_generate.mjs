// Writes bench/cases' input: N cases (cases.csv) and M pauses (pauses.csv) in the case-log format
// of docs/formats.md §14.3, from a fixed seed (the same files every time). Dates are ISO or
// day/month/Buddhist year (3 in 10), as agencies' exports mix them; kinds, sizes, maps, annexes,
// categories, backlog and open cases in proportions that put cases in every class, window and
// reason of the OCS KPI 1 rule; pauses land on random cases, so some overlap.
//
//   node bench/cases_generate.mjs DIR CASES PAUSES
import fs from 'node:fs';
import path from 'node:path';

const [dir, nCasesText, nPausesText] = process.argv.slice(2);
const nCases = Number(nCasesText);
const nPauses = Number(nPausesText);

// mulberry32: small, fast, and the same sequence on every machine.
let state = 20241130 >>> 0;
function rand() {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));

const DAY = 86400000;
const dayOf = (y, m, d) => Math.floor(Date.UTC(y, m - 1, d) / DAY);
const pad = (n) => (n < 10 ? '0' + n : '' + n);
function dateText(day) {
  const d = new Date(day * DAY);
  const y = d.getUTCFullYear(), m = d.getUTCMonth() + 1, dd = d.getUTCDate();
  return rand() < 0.3 ? `${dd}/${m}/${y + 543}` : `${y}-${pad(m)}-${pad(dd)}`;
}

class Out {
  constructor(file) {
    this.fd = fs.openSync(file, 'w');
    this.parts = [];
    this.size = 0;
  }
  write(s) {
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 1 << 22) this.flush();
  }
  flush() {
    fs.writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

fs.mkdirSync(dir, {recursive: true});
const received = new Int32Array(nCases);
const completed = new Int32Array(nCases);
const from = dayOf(2022, 6, 1), to = dayOf(2024, 9, 30);
const backlogFrom = dayOf(2021, 1, 1), backlogTo = dayOf(2023, 6, 30);
const stop = dayOf(2024, 12, 31);
const cases = new Out(path.join(dir, 'cases.csv.tmp'));
cases.write(
    '\ufeffcase_id,kind,sections,maps,maps_complex,annex_pages,special_category,received,completed,backlog\n');
for (let i = 0; i < nCases; ++i) {
  const k = rand();
  const kind = k < 0.3 ? 'act' :
      k < 0.55         ? 'royal_decree' :
      k < 0.75         ? 'ministerial_regulation' :
      k < 0.97         ? 'opinion' :
                         'treaty';
  const law = kind !== 'opinion';
  const s = rand();
  const sections = !law || s < 0.13 ? '' : s < 0.15 ? '0' : String(int(1, 40));
  const maps = law && rand() < 0.1 ? String(int(1, 3)) : '';
  const complex = law && rand() < 0.03 ? '1' : '';
  const annex = law && rand() < 0.15 ? String(int(1, 20)) : '';
  const special = rand() < 0.03 ? String(int(1, 6)) : '';
  const backlog = rand() < 0.02;
  const r = backlog ? int(backlogFrom, backlogTo) : int(from, to);
  const c = rand() < 0.8 ? Math.min(r + int(0, 400), stop) : -1;
  received[i] = r;
  completed[i] = c;
  cases.write(
      `C${i},${kind},${sections},${maps},${complex},${annex},${special},${dateText(r)},` +
      `${c < 0 ? '' : dateText(c)},${
          backlog          ? '1' :
              rand() < 0.5 ? '0' :
                             ''}\n`);
}
cases.close();
fs.renameSync(path.join(dir, 'cases.csv.tmp'), path.join(dir, 'cases.csv'));

const reasons = ['ria', 'committee', 'outside'];
const pauses = new Out(path.join(dir, 'pauses.csv.tmp'));
pauses.write('case_id,reason,start,end\n');
for (let p = 0; p < nPauses; ++p) {
  const i = int(0, nCases - 1);
  const start = received[i] + int(-5, 300);
  const open = rand() < 0.1;
  pauses.write(`C${i},${reasons[int(0, 2)]},${dateText(start)},${
      open ? '' : dateText(start + int(0, 60))}\n`);
}
pauses.close();
fs.renameSync(path.join(dir, 'pauses.csv.tmp'), path.join(dir, 'pauses.csv'));
