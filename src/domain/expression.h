#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace esar::domain {

// The names a formula may use and where their values live: each scalar name is one slot of a
// shared buffer of doubles, each list name a run of slots.
class Scope {
 public:
  void AddScalar(const std::string& name, int slot) { scalars_[name] = slot; }
  void AddList(const std::string& name, std::vector<int> slots) { lists_[name] = std::move(slots); }
  const std::map<std::string, int>& scalars() const { return scalars_; }
  const std::map<std::string, std::vector<int>>& lists() const { return lists_; }
  bool Has(const std::string& name) const { return scalars_.count(name) || lists_.count(name); }

 private:
  std::map<std::string, int> scalars_;
  std::map<std::string, std::vector<int>> lists_;
};

// A formula compiled once (muparser bytecode) and evaluated many times against the current
// contents of a slot buffer. Besides muparser's operators and functions (min, max, sum, avg,
// abs, rint, ?:, &&, ||, comparisons) it offers count_ge(t, list...), count_gt, count_le,
// count_lt: how many of the values are >= (>, <=, <) t. A list name stands for all its values,
// so `min(pillars)` and `count_ge(3, pillars)` work. Assignment operators are refused.
//
// Not thread-safe: evaluation reads the shared buffer. Movable, not copyable.
class Expression {
 public:
  Expression();
  ~Expression();
  Expression(Expression&&) noexcept;
  Expression& operator=(Expression&&) noexcept;

  // Compiles `text` over `scope`, whose slots index into `slots` (which must outlive this and
  // must not move). Fails with a Thai/English message naming the unknown name, the bad
  // character or muparser's complaint.
  static Result<Expression> Compile(const std::string& text, const Scope& scope, double* slots);

  // The value, or NaN when it cannot be computed (an input is missing, 0/0, ...). A formula that
  // is one name or a constant is read directly, without muparser: that is most of them.
  double Evaluate() const {
    if (direct_) return *direct_;
    if (constant_) return constant_value_;
    return EvaluateParsed();
  }

  const std::string& text() const { return text_; }
  // True when the formula uses no name (its value never changes).
  bool constant() const { return constant_; }
  // Every slot the formula reads.
  const std::vector<int>& slots_used() const { return slots_used_; }
  // The user's names that the formula reads.
  const std::vector<std::string>& names_used() const { return names_used_; }

 private:
  double EvaluateParsed() const;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  const double* direct_ = nullptr;  // the slot, when the formula is just one scalar name
  std::string text_;
  bool constant_ = true;
  double constant_value_ = 0;
  std::vector<int> slots_used_;
  std::vector<std::string> names_used_;
};

// True for a valid formula name: [A-Za-z_][A-Za-z0-9_]*, at most 64 characters.
bool IsIdentifier(const std::string& name);

}  // namespace esar::domain
