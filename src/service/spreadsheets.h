#pragma once

// Spreadsheets out and in (issue 10 §3-4): a round's results, its submission status, the
// evaluator's queue and the audit log as tables (formats::TableWriter: CSV or XLSX), read a page
// of rows at a time so that a round of 8,000 agencies x 25 KPIs is never whole in memory; and the
// agency's reporting template, filled offline in Excel and uploaded back as drafts.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/status.h"
#include "formats/sheet_writer.h"
#include "service/actor.h"
#include "service/reporting.h"
#include "service/results.h"
#include "storage/database.h"

namespace esar::service {

// One bad cell of an uploaded template: where (sheet, 1-based row, column letter) and why.
struct CellError {
  std::string sheet;
  int64_t row = 0;
  std::string column;  // "H"
  std::string message_th, message_en;
};

// What uploading a filled template did: either `errors` (and nothing was saved) or the drafts
// saved, one per KPI that had values.
struct TemplateUpload {
  std::vector<CellError> errors;
  std::vector<SubmissionView> drafts;
};

// The sheet names of the template; an upload finds its values by them.
inline constexpr const char* kTemplateValuesSheet = "ค่าที่รายงาน (Values)";
inline constexpr const char* kTemplateNotesSheet = "คำชี้แจง (Notes)";

class Spreadsheets {
 public:
  Spreadsheets(storage::Database& db, const Clock& clock) : db_(db), clock_(clock) {}

  // The newest result of the round at `stage` or later that `actor` may see (Results::LatestMeta
  // rules: the public only published ones; an agency's users only their own agency before
  // publication) as one sheet: a row per agency in code order with its names, kind, parent,
  // total, grade and scored weight, then each KPI's (and sub-KPI's) result and score in the
  // framework's order. Numbers at full precision (XLSX shows the framework's decimals). Read
  // 500 agencies at a time. Errors are Latest's (kNotFound without such a result) or the
  // database's or the writer's.
  Status ResultsTable(const Actor& actor, int64_t round_id, ResultStage stage,
                      formats::TableWriter& out);

  // Who submitted what in a round: a row per agency x reportable KPI (agencies of the
  // framework's kind in code order; an agency's users: their own agency only), with the status
  // ("none" when nothing was saved), revision, last change, the agency's deadline and whether
  // it is overdue (past the deadline and neither submitted nor accepted). Admins, evaluators and
  // the agency's users; kPermissionDenied for others.
  Status StatusTable(const Actor& actor, int64_t round_id, formats::TableWriter& out);

  // The submissions Reporting::Queue gives for `filter` (its limit and offset ignored: every
  // match, 1,000 at a time), with the KPI's name, status, deadline and whether overdue.
  Status QueueTable(const Actor& actor, QueueFilter filter, formats::TableWriter& out);

  // The audit log entries with from_ms <= at < to_ms, oldest first: sequence, time, who,
  // action, entity, before and after, hash. Admins only (kPermissionDenied otherwise).
  Status AuditTable(const Actor& actor, int64_t from_ms, int64_t to_ms, formats::TableWriter& out);

  // Every agency in order of its code, with the columns of the agencies import (docs/formats.md
  // §4: code, name_th, name_en, kind, parent, email) as headings, so that the file edited and
  // imported again changes what was edited and nothing else. Admins only (the contact
  // addresses are the central office's; kPermissionDenied otherwise).
  Status AgenciesTable(const Actor& actor, formats::TableWriter& out);

  // Writes `agency`'s reporting template for the round as XLSX to `path`: a sheet of every
  // variable of its reportable KPIs (KPI, name, variable, unit, allowed range, the criteria in
  // short, and the value to fill, checked by Excel's data validation, prefilled with the values
  // of the KPI pages), a sheet for each KPI's explanation, problems and remarks, and a sheet of
  // instructions. The agency's own users (kPermissionDenied for others); kNotFound for an
  // unknown round or agency.
  Status WriteTemplate(const Actor& actor, int64_t round_id, const std::string& agency,
                       const std::string& path);

  // Reads a filled template (`bytes`, XLSX; hostile files refused as formats::ReadXlsx says)
  // and saves one draft per KPI that has values, through Reporting::SaveDrafts (the path of the
  // KPI form's drafts, all in one transaction): never submitted. Every bad cell is named in the
  // answer's `errors` (Thai and English) and then nothing is saved. A file that cannot be read
  // or lacks the values sheet is an InvalidInput Status; the refusals of SaveDrafts (not the
  // agency's reporter, reporting closed, a KPI submitted already) are its Status.
  Result<TemplateUpload> UploadTemplate(const Actor& actor, int64_t round_id,
                                        const std::string& agency, std::string_view bytes);

 private:
  storage::Database& db_;
  const Clock& clock_;
};

// A download's file name: "<what>-<fiscal year>-<round>.<ext>" for a round's tables.
std::string DownloadName(const std::string& what, int fiscal_year, int round,
                         formats::SheetFormat format);

}  // namespace esar::service
