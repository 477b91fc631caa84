#include "guest/json_fields.h"

namespace gitdisc::guest {

using json = nlohmann::json;

std::string JsonFields::Str(const char* key, size_t max, bool required) {
  used_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (required) Fail(std::string("missing field \"") + key + "\"");
    return "";
  }
  if (!it->is_string()) {
    Fail(std::string("field \"") + key + "\" must be a string");
    return "";
  }
  const std::string& s = it->get_ref<const std::string&>();
  if (s.size() > max) {
    Fail(std::string("field \"") + key + "\" longer than " + std::to_string(max) + " bytes");
    return "";
  }
  return s;
}

std::optional<std::string> JsonFields::OptStr(const char* key, size_t max) {
  if (!Has(key)) {
    used_.insert(key);
    return std::nullopt;
  }
  return Str(key, max);
}

int64_t JsonFields::Int(const char* key, int64_t lo, int64_t hi, bool required, int64_t dflt) {
  used_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (required) Fail(std::string("missing field \"") + key + "\"");
    return dflt;
  }
  int64_t v = 0;
  if (it->is_number_unsigned()) {
    uint64_t u = it->get<uint64_t>();
    if (u > static_cast<uint64_t>(INT64_MAX)) {
      Fail(std::string("field \"") + key + "\" out of range");
      return dflt;
    }
    v = static_cast<int64_t>(u);
  } else if (it->is_number_integer()) {
    v = it->get<int64_t>();
  } else {
    Fail(std::string("field \"") + key + "\" must be an integer");
    return dflt;
  }
  if (v < lo || v > hi) {
    Fail(std::string("field \"") + key + "\" out of range [" + std::to_string(lo) + ", " +
         std::to_string(hi) + "]");
    return dflt;
  }
  return v;
}

bool JsonFields::Bool(const char* key, bool required) {
  used_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (required) Fail(std::string("missing field \"") + key + "\"");
    return false;
  }
  if (!it->is_boolean()) {
    Fail(std::string("field \"") + key + "\" must be true or false");
    return false;
  }
  return it->get<bool>();
}

// An array field; returns nullptr (and fails) when absent and required.
const nlohmann::json* JsonFields::Array(const char* key, size_t max, bool required) {
  used_.insert(key);
  auto it = obj_.find(key);
  if (it == obj_.end()) {
    if (required) Fail(std::string("missing field \"") + key + "\"");
    return nullptr;
  }
  if (!it->is_array()) {
    Fail(std::string("field \"") + key + "\" must be an array");
    return nullptr;
  }
  if (it->size() > max) {
    Fail(std::string("field \"") + key + "\" has more than " + std::to_string(max) + " entries");
    return nullptr;
  }
  return &*it;
}

void JsonFields::Fail(std::string msg) {
  if (error_.empty()) error_ = where_ + ": " + msg;
}
void JsonFields::Merge(const Status& s) {
  if (!s.ok() && error_.empty()) error_ = s.message();
}

Status JsonFields::Finish() {
  if (error_.empty()) {
    for (auto it = obj_.begin(); it != obj_.end(); ++it) {
      if (!used_.count(it.key())) {
        Fail("unknown field \"" + it.key().substr(0, 64) + "\"");
        break;
      }
    }
  }
  if (!error_.empty()) return Status::Invalid(error_);
  return Status::Ok();
}

}  // namespace gitdisc::guest
