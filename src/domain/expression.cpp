#include "domain/expression.h"

#include <muParser.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <set>

namespace esar::domain {
namespace {

double CountGe(const double* args, int n) {
  double count = 0;
  for (int i = 1; i < n; ++i) count += args[i] >= args[0] ? 1 : 0;
  return count;
}
double CountGt(const double* args, int n) {
  double count = 0;
  for (int i = 1; i < n; ++i) count += args[i] > args[0] ? 1 : 0;
  return count;
}
double CountLe(const double* args, int n) {
  double count = 0;
  for (int i = 1; i < n; ++i) count += args[i] <= args[0] ? 1 : 0;
  return count;
}
double CountLt(const double* args, int n) {
  double count = 0;
  for (int i = 1; i < n; ++i) count += args[i] < args[0] ? 1 : 0;
  return count;
}

const std::set<std::string>& KnownFunctions() {
  static const std::set<std::string> kFunctions = {
      "sin",  "cos",      "tan",      "asin",     "acos",    "atan",  "sinh", "cosh",
      "tanh", "asinh",    "acosh",    "atanh",    "log2",    "log10", "log",  "ln",
      "exp",  "sqrt",     "sign",     "rint",     "abs",     "min",   "max",  "sum",
      "avg",  "count_ge", "count_gt", "count_le", "count_lt"};
  return kFunctions;
}

bool IsNameStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool IsNameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

std::string SlotName(int slot) { return "_s" + std::to_string(slot); }

Status FormulaError(const std::string& text, const std::string& th, const std::string& en) {
  return Status::InvalidInput("สูตร \"" + text + "\": " + th, "formula \"" + text + "\": " + en);
}

}  // namespace

struct Expression::Impl {
  mu::Parser parser;
};

Expression::Expression() = default;
Expression::~Expression() = default;
Expression::Expression(Expression&&) noexcept = default;
Expression& Expression::operator=(Expression&&) noexcept = default;

bool IsIdentifier(const std::string& name) {
  if (name.empty() || name.size() > 64 || !IsNameStart(name[0])) return false;
  return std::all_of(name.begin(), name.end(), IsNameChar);
}

Result<Expression> Expression::Compile(const std::string& text, const Scope& scope, double* slots) {
  if (text.empty()) return FormulaError(text, "ว่างเปล่า", "is empty");
  if (text.size() > 4096)
    return FormulaError(text.substr(0, 40), "ยาวเกิน 4096 ตัวอักษร", "is longer than 4096 characters");

  // Rewrite every user name to its slot's name so muparser never sees user identifiers.
  Expression out;
  out.text_ = text;
  std::string rewritten;
  std::set<int> used;
  std::set<std::string> names;
  size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (static_cast<unsigned char>(c) >= 0x80 ||
        (std::iscntrl(static_cast<unsigned char>(c)) && c != '\t' && c != '\n' && c != '\r')) {
      return FormulaError(
          text, "มีอักขระที่ใช้ในสูตรไม่ได้ที่ตำแหน่ง " + std::to_string(i + 1),
          "has a character that formulas cannot use at position " + std::to_string(i + 1));
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < text.size() &&
         std::isdigit(static_cast<unsigned char>(text[i + 1])))) {
      // A number literal, possibly with an exponent: copy as is.
      size_t j = i;
      while (j < text.size() &&
             (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
        ++j;
      if (j < text.size() && (text[j] == 'e' || text[j] == 'E')) {
        size_t k = j + 1;
        if (k < text.size() && (text[k] == '+' || text[k] == '-')) ++k;
        if (k < text.size() && std::isdigit(static_cast<unsigned char>(text[k]))) {
          j = k;
          while (j < text.size() && std::isdigit(static_cast<unsigned char>(text[j]))) ++j;
        }
      }
      rewritten.append(text, i, j - i);
      i = j;
      continue;
    }
    if (IsNameStart(c)) {
      size_t j = i;
      while (j < text.size() && IsNameChar(text[j])) ++j;
      const std::string name = text.substr(i, j - i);
      size_t k = j;
      while (k < text.size() && std::isspace(static_cast<unsigned char>(text[k]))) ++k;
      const bool is_call = k < text.size() && text[k] == '(';
      if (is_call) {
        if (!KnownFunctions().count(name)) {
          return FormulaError(text, "ไม่รู้จักฟังก์ชัน \"" + name + "\"",
                              "unknown function \"" + name + "\"");
        }
        rewritten += name;
      } else if (auto s = scope.scalars().find(name); s != scope.scalars().end()) {
        rewritten += SlotName(s->second);
        used.insert(s->second);
        names.insert(name);
      } else if (auto l = scope.lists().find(name); l != scope.lists().end()) {
        // A list stands for all its values only as a whole argument: "sum(p * 2)" would
        // otherwise quietly double just the last value.
        size_t before = i;
        while (before > 0 && std::isspace(static_cast<unsigned char>(text[before - 1]))) --before;
        const bool opens = before > 0 && (text[before - 1] == '(' || text[before - 1] == ',');
        const bool closes = k < text.size() && (text[k] == ')' || text[k] == ',');
        if (!opens || !closes) {
          return FormulaError(
              text,
              "ชื่อรายการ \"" + name + "\" ต้องอยู่เดี่ยว ๆ เป็นอาร์กิวเมนต์ของฟังก์ชัน เช่น min(" + name + ")",
              "the list \"" + name + "\" must stand alone as a function argument, e.g. min(" +
                  name + ")");
        }
        for (size_t e = 0; e < l->second.size(); ++e) {
          if (e) rewritten += ",";
          rewritten += SlotName(l->second[e]);
          used.insert(l->second[e]);
        }
        names.insert(name);
      } else {
        return FormulaError(text, "ไม่รู้จักชื่อ \"" + name + "\"", "unknown name \"" + name + "\"");
      }
      i = j;
      continue;
    }
    if (c == '=') {
      const char before = i > 0 ? text[i - 1] : ' ';
      const char after = i + 1 < text.size() ? text[i + 1] : ' ';
      const bool comparison =
          after == '=' || before == '=' || before == '<' || before == '>' || before == '!';
      if (!comparison) {
        return FormulaError(text, "ใช้การกำหนดค่า (=) ในสูตรไม่ได้ ให้ใช้ == เพื่อเปรียบเทียบ",
                            "assignment (=) is not allowed; use == to compare");
      }
    }
    rewritten += c;
    ++i;
  }

  out.impl_ = std::make_unique<Impl>();
  try {
    mu::Parser& p = out.impl_->parser;
    p.DefineFun("count_ge", CountGe);
    p.DefineFun("count_gt", CountGt);
    p.DefineFun("count_le", CountLe);
    p.DefineFun("count_lt", CountLt);
    for (int slot : used) p.DefineVar(SlotName(slot), &slots[slot]);
    p.SetExpr(rewritten);
    p.Eval();  // parses now, so syntax errors surface at compile time
    if (p.GetNumResults() != 1) {
      return FormulaError(
          text, "ต้องให้ค่าเดียว (ชื่อรายการใช้ได้เฉพาะในฟังก์ชัน เช่น min(...))",
          "must give one value (a list name belongs inside a function such as min(...))");
    }
  } catch (const mu::Parser::exception_type& e) {
    return FormulaError(text, "เขียนไม่ถูกต้อง (" + e.GetMsg() + ")",
                        "is malformed (" + e.GetMsg() + ")");
  }
  out.slots_used_.assign(used.begin(), used.end());
  out.names_used_.assign(names.begin(), names.end());
  out.constant_ = used.empty();
  // A formula that is a single scalar name (spaces and parentheses aside) reads its slot.
  std::string bare;
  for (char c : rewritten) {
    if (c != ' ' && c != '(' && c != ')' && c != '\t') bare += c;
  }
  if (used.size() == 1 && bare == SlotName(*used.begin())) out.direct_ = &slots[*used.begin()];
  if (out.constant_) {
    const double v = out.impl_->parser.Eval();
    out.constant_value_ = std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();
  }
  return out;
}

double Expression::EvaluateParsed() const {
  try {
    const double v = impl_->parser.Eval();
    return std::isfinite(v) ? v : std::numeric_limits<double>::quiet_NaN();
  } catch (const mu::Parser::exception_type&) {
    return std::numeric_limits<double>::quiet_NaN();
  }
}

}  // namespace esar::domain
