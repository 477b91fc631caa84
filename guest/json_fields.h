// JsonFields: the strict reader of one JSON object received from the peer
// (guest/protocol.h, the ledger). Each accessor checks a field's presence,
// type and bound; the reader remembers which fields were consumed so that
// Finish() rejects any it does not know. The first problem wins, and is
// reported located ("<where>: field \"x\" ...") as kInvalid.
//
// Holds a reference to the object, which must outlive it. Not thread-safe:
// one reader per object, used by one thread.
#ifndef GITDISC_GUEST_JSON_FIELDS_H_
#define GITDISC_GUEST_JSON_FIELDS_H_

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>

#include "base/status.h"

namespace gitdisc::guest {

class JsonFields {
 public:
  JsonFields(const nlohmann::json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  bool Has(const char* key) const { return obj_.contains(key); }

  // A string of at most `max` bytes; "" when absent (a failure if required).
  std::string Str(const char* key, size_t max, bool required = true);
  // A string of at most `max` bytes, or nullopt when absent.
  std::optional<std::string> OptStr(const char* key, size_t max);
  // An integer in [lo, hi]; `dflt` when absent (a failure if required).
  int64_t Int(const char* key, int64_t lo, int64_t hi, bool required = true, int64_t dflt = 0);
  // true or false; false when absent (a failure if required).
  bool Bool(const char* key, bool required = false);
  // An array of at most `max` entries; nullptr when absent (a failure if
  // required) or bad.
  const nlohmann::json* Array(const char* key, size_t max, bool required = true);

  // Records a problem of this object (prefixed with `where`).
  void Fail(std::string msg);
  // Records a failure found by a nested reader (already located).
  void Merge(const Status& s);
  // The first problem, or an unknown field; Ok when the object was clean.
  Status Finish();

  const std::string& where() const { return where_; }

 private:
  const nlohmann::json& obj_;
  std::string where_;
  std::set<std::string> used_;
  std::string error_;
};

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_JSON_FIELDS_H_
