#include "guest/protocol.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "guest/json_fields.h"
#include "guest/protocol_json.h"

namespace gitdisc::guest {
namespace {

using json = nlohmann::json;

constexpr int64_t kMaxId = (int64_t{1} << 53);  // exact in every JSON implementation

bool IsHex64(std::string_view s) {
  if (s.size() != 64) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// ---- encoding helpers ----------------------------------------------------------

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

// Drops the oldest half of every output tail in j (recursively) — used until
// an encoded line fits in kMaxLineBytes. Returns false when nothing is left to trim.
bool TrimTails(json& j) {
  bool trimmed = false;
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if ((it.key() == "output_tail" || it.key() == "message") && it->is_string()) {
        std::string& s = it->get_ref<std::string&>();
        if (!s.empty()) {
          s = s.substr(s.size() / 2);
          trimmed = true;
        }
      } else if (it->is_structured()) {
        trimmed = TrimTails(*it) || trimmed;
      }
    }
  } else if (j.is_array()) {
    for (auto& e : j) trimmed = TrimTails(e) || trimmed;
  }
  return trimmed;
}

std::string DumpBounded(json j) {
  std::string line = Dump(j);
  while (line.size() > kMaxLineBytes && TrimTails(j)) line = Dump(j);
  if (line.size() > kMaxLineBytes) {
    // Still too long (a huge ledger): drop array entries from the front.
    for (auto* key : {"records", "results", "ops"}) {
      while (line.size() > kMaxLineBytes && j.contains(key) && !j[key].empty()) {
        j[key].erase(0);
        line = Dump(j);
      }
    }
  }
  return line;
}

Result<json> ParseObject(std::string_view line) {
  if (line.size() > kMaxLineBytes) return Status::Invalid("line longer than the limit");
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  json j = json::parse(line.begin(), line.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::Invalid("malformed: not JSON");
  if (!j.is_object()) return Status::Invalid("malformed: not a JSON object");
  return j;
}

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kFailed:
      return "failed";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kRefused:
      return "refused";
    case Outcome::kSkipped:
      return "skipped";
  }
  return "failed";
}

std::optional<Outcome> ParseOutcome(std::string_view s) {
  for (Outcome o :
       {Outcome::kOk, Outcome::kFailed, Outcome::kTimeout, Outcome::kRefused, Outcome::kSkipped}) {
    if (s == OutcomeName(o)) return o;
  }
  return std::nullopt;
}

const char* OpStateName(OpState s) {
  switch (s) {
    case OpState::kRunning:
      return "running";
    case OpState::kFinished:
      return "finished";
    case OpState::kUnknown:
      return "unknown";
  }
  return "unknown";
}

std::optional<OpState> ParseOpState(std::string_view s) {
  for (OpState o : {OpState::kRunning, OpState::kFinished, OpState::kUnknown}) {
    if (s == OpStateName(o)) return o;
  }
  return std::nullopt;
}

const char* ErrorCodeName(ErrorCode c) {
  switch (c) {
    case ErrorCode::kMalformed:
      return "malformed";
    case ErrorCode::kTooLong:
      return "too_long";
    case ErrorCode::kInvalid:
      return "invalid";
    case ErrorCode::kUnsupportedVersion:
      return "unsupported_version";
    case ErrorCode::kBusy:
      return "busy";
    case ErrorCode::kInternal:
      return "internal";
  }
  return "internal";
}

std::optional<ErrorCode> ParseErrorCode(std::string_view s) {
  for (ErrorCode c : {ErrorCode::kMalformed, ErrorCode::kTooLong, ErrorCode::kInvalid,
                      ErrorCode::kUnsupportedVersion, ErrorCode::kBusy, ErrorCode::kInternal}) {
    if (s == ErrorCodeName(c)) return c;
  }
  return std::nullopt;
}

bool IsValidOpId(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-';
  });
}

bool IsValidPayloadName(std::string_view s) {
  if (s.empty() || s.size() > 63) return false;
  auto alnum = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  };
  if (!alnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [&](char c) { return alnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool IsValidDigest(std::string_view s) { return IsHex64(s); }

std::string EncodeHostMessage(const HostMessage& m) {
  json j;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, HelloRequest>) {
          j = {{"type", "hello"}, {"id", v.id}, {"protocol", v.protocol}, {"client", v.client}};
        } else if constexpr (std::is_same_v<T, LedgerRequest>) {
          j = {{"type", "ledger"}, {"id", v.id}};
        } else if constexpr (std::is_same_v<T, ApplyRequest>) {
          j = {{"type", "apply"},
               {"id", v.id},
               {"op_id", v.op_id},
               {"manifest_digest", v.manifest_digest},
               {"payloads", v.payloads}};
        } else if constexpr (std::is_same_v<T, StatusRequest>) {
          j = {{"type", "status"}, {"id", v.id}};
          if (v.op_id) j["op_id"] = *v.op_id;
        }
      },
      m);
  return DumpBounded(std::move(j));
}

std::string EncodeAgentMessage(const AgentMessage& m) {
  json j;
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, HelloReply>) {
          j = {{"type", "hello"},
               {"id", v.id},
               {"protocol", v.protocol},
               {"agent_version", v.agent_version},
               {"capabilities", v.capabilities}};
        } else if constexpr (std::is_same_v<T, LedgerReply>) {
          json recs = json::array();
          for (const auto& r : v.records) recs.push_back(PayloadResultToJson(r, false));
          j = {{"type", "ledger"}, {"id", v.id}, {"records", recs}};
        } else if constexpr (std::is_same_v<T, ApplyAccepted>) {
          j = {{"type", "accepted"},
               {"id", v.id},
               {"op_id", v.op_id},
               {"state", OpStateName(v.state)}};
        } else if constexpr (std::is_same_v<T, StatusReply>) {
          json ops = json::array();
          for (const auto& o : v.ops) ops.push_back(OpStatusToJson(o));
          j = {{"type", "status"}, {"id", v.id}, {"ops", ops}};
        } else if constexpr (std::is_same_v<T, ProgressEvent>) {
          j = {{"type", "progress"},
               {"op_id", v.op_id},
               {"payload", v.payload},
               {"phase", v.phase},
               {"message", v.message}};
        } else if constexpr (std::is_same_v<T, ResultEvent>) {
          j = PayloadResultToJson(v.result, true);
          j["type"] = "result";
        } else if constexpr (std::is_same_v<T, DoneEvent>) {
          json results = json::array();
          for (const auto& r : v.results) results.push_back(PayloadResultToJson(r, true));
          j = {{"type", "done"},     {"op_id", v.op_id},
               {"results", results}, {"disc_released", v.disc_released},
               {"reboot", v.reboot}, {"message", v.message}};
        } else if constexpr (std::is_same_v<T, ErrorReply>) {
          j = {{"type", "error"}, {"code", ErrorCodeName(v.code)}, {"message", v.message}};
          if (v.id) j["id"] = *v.id;
        }
      },
      m);
  return DumpBounded(std::move(j));
}

Result<HostMessage> DecodeHostMessage(std::string_view line) {
  GITDISC_ASSIGN_OR_RETURN(json j, ParseObject(line));
  std::string type;
  {
    auto it = j.find("type");
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().size() > 32) {
      return Status::Invalid("message: missing or bad field \"type\"");
    }
    type = it->get<std::string>();
  }
  JsonFields g(j, type);
  g.Str("type", 32);
  uint64_t id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
  if (type == "hello") {
    HelloRequest m;
    m.id = id;
    m.protocol = static_cast<int>(g.Int("protocol", 1, 1 << 20));
    m.client = g.Str("client", kMaxTextBytes, false);
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return HostMessage(m);
  }
  if (type == "ledger") {
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return HostMessage(LedgerRequest{id});
  }
  if (type == "apply") {
    ApplyRequest m;
    m.id = id;
    m.op_id = g.Str("op_id", 128);
    if (!IsValidOpId(m.op_id)) g.Fail("op_id must be 1..128 of [A-Za-z0-9._:-]");
    m.manifest_digest = g.Str("manifest_digest", 64);
    if (!IsHex64(m.manifest_digest)) g.Fail("manifest_digest must be 64 lower-case hex digits");
    const json* arr = g.Array("payloads", kMaxPayloadsPerApply);
    if (arr) {
      if (arr->empty()) g.Fail("payloads must not be empty");
      std::set<std::string> seen;
      for (const auto& e : *arr) {
        if (!e.is_string() || !IsValidPayloadName(e.get_ref<const std::string&>())) {
          g.Fail("payloads must be payload names ([A-Za-z0-9][A-Za-z0-9._-]{0,62})");
          break;
        }
        const std::string& name = e.get_ref<const std::string&>();
        if (!seen.insert(name).second) {
          g.Fail("payload \"" + name + "\" named twice");
          break;
        }
        m.payloads.push_back(name);
      }
    }
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return HostMessage(m);
  }
  if (type == "status") {
    StatusRequest m;
    m.id = id;
    m.op_id = g.OptStr("op_id", 128);
    if (m.op_id && !IsValidOpId(*m.op_id)) g.Fail("op_id must be 1..128 of [A-Za-z0-9._:-]");
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return HostMessage(m);
  }
  return Status::Invalid("unknown message type \"" + type.substr(0, 32) + "\"");
}

Result<AgentMessage> DecodeAgentMessage(std::string_view line) {
  GITDISC_ASSIGN_OR_RETURN(json j, ParseObject(line));
  std::string type;
  {
    auto it = j.find("type");
    if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().size() > 32) {
      return Status::Invalid("message: missing or bad field \"type\"");
    }
    type = it->get<std::string>();
  }
  JsonFields g(j, type);
  g.Str("type", 32);
  if (type == "hello") {
    HelloReply m;
    m.id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
    m.protocol = static_cast<int>(g.Int("protocol", 1, 1 << 20));
    m.agent_version = g.Str("agent_version", kMaxTextBytes);
    if (const json* caps = g.Array("capabilities", kMaxCapabilities)) {
      for (const auto& c : *caps) {
        if (!c.is_string() || c.get_ref<const std::string&>().size() > 64) {
          g.Fail("capabilities must be short strings");
          break;
        }
        m.capabilities.push_back(c.get<std::string>());
      }
    }
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "ledger") {
    LedgerReply m;
    m.id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
    g.Merge(PayloadResultsFromJson(g, "records", &m.records));
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "accepted") {
    ApplyAccepted m;
    m.id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
    m.op_id = g.Str("op_id", 128);
    if (!IsValidOpId(m.op_id)) g.Fail("bad op_id");
    std::string st = g.Str("state", 16);
    auto s = ParseOpState(st);
    if (!s || *s == OpState::kUnknown)
      g.Fail("state must be running or finished");
    else
      m.state = *s;
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "status") {
    StatusReply m;
    m.id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
    if (const json* ops = g.Array("ops", kMaxRecords)) {
      for (size_t i = 0; i < ops->size(); ++i) {
        OpStatus o;
        Status s = OpStatusFromJson((*ops)[i], "status.ops[" + std::to_string(i) + "]", &o);
        if (!s.ok()) return s;
        m.ops.push_back(std::move(o));
      }
    }
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "progress") {
    ProgressEvent m;
    m.op_id = g.Str("op_id", 128);
    if (!IsValidOpId(m.op_id)) g.Fail("bad op_id");
    m.payload = g.Str("payload", 63);
    if (!m.payload.empty() && !IsValidPayloadName(m.payload)) g.Fail("bad payload name");
    m.phase = g.Str("phase", kMaxTextBytes);
    m.message = g.Str("message", kMaxTextBytes);
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "result") {
    json copy = j;
    copy.erase("type");
    ResultEvent m;
    GITDISC_RETURN_IF_ERROR(PayloadResultFromJson(copy, "result", &m.result));
    if (!IsValidOpId(m.result.op_id)) return Status::Invalid("result: bad op_id");
    return AgentMessage(m);
  }
  if (type == "done") {
    DoneEvent m;
    m.op_id = g.Str("op_id", 128);
    if (!IsValidOpId(m.op_id)) g.Fail("bad op_id");
    g.Merge(PayloadResultsFromJson(g, "results", &m.results));
    m.disc_released = g.Bool("disc_released", true);
    m.reboot = g.Bool("reboot");
    m.message = g.Str("message", kMaxTextBytes, false);
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  if (type == "error") {
    ErrorReply m;
    if (j.contains("id"))
      m.id = static_cast<uint64_t>(g.Int("id", 1, kMaxId));
    else
      g.Int("id", 1, kMaxId, false);
    std::string code = g.Str("code", 32);
    auto c = ParseErrorCode(code);
    if (!c)
      g.Fail("unknown error code \"" + code + "\"");
    else
      m.code = *c;
    m.message = g.Str("message", kMaxTextBytes);
    GITDISC_RETURN_IF_ERROR(g.Finish());
    return AgentMessage(m);
  }
  return Status::Invalid("unknown message type \"" + type.substr(0, 32) + "\"");
}

std::string BoundedUtf8Tail(std::string_view s, size_t max_bytes) {
  // Replace every byte that is not part of a well-formed UTF-8 sequence.
  std::string clean;
  clean.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 0;
    bool good = len > 0 && i + len <= s.size();
    for (size_t k = 1; good && k < len; ++k) {
      good = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (good && len == 2 && c < 0xC2) good = false;  // overlong
    if (good && len == 3) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 >= 0xA0))
        good = false;  // overlong, surrogate
    }
    if (good && len == 4) {
      unsigned char c1 = static_cast<unsigned char>(s[i + 1]);
      if ((c == 0xF0 && c1 < 0x90) || c > 0xF4 || (c == 0xF4 && c1 >= 0x90)) good = false;
    }
    if (good) {
      clean.append(s.substr(i, len));
      i += len;
    } else {
      clean.push_back('?');
      ++i;
    }
  }
  if (clean.size() <= max_bytes) return clean;
  size_t start = clean.size() - max_bytes;
  while (start < clean.size() && (static_cast<unsigned char>(clean[start]) & 0xC0) == 0x80) ++start;
  return clean.substr(start);
}

ErrorReply ErrorForBadLine(std::string_view line, const Status& why) {
  ErrorReply e;
  e.code = ErrorCode::kInvalid;
  e.message = why.message().substr(0, kMaxTextBytes);
  if (line.size() > kMaxLineBytes) {
    e.code = ErrorCode::kTooLong;
    return e;
  }
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  json j = json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    e.code = ErrorCode::kMalformed;
    return e;
  }
  auto it = j.find("id");
  if (it != j.end() && it->is_number_unsigned()) {
    uint64_t id = it->get<uint64_t>();
    if (id >= 1 && id <= static_cast<uint64_t>(kMaxId)) e.id = id;
  }
  return e;
}

}  // namespace gitdisc::guest
