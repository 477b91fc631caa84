#include "guest/protocol_json.h"

#include "guest/json_fields.h"

namespace gitdisc::guest {

using json = nlohmann::json;

json PayloadResultToJson(const PayloadResult& r, bool with_tail) {
  json j = {{"op_id", r.op_id},
            {"payload", r.payload},
            {"version", r.version},
            {"digest", r.digest},
            {"result", OutcomeName(r.result)},
            {"exit_code", r.exit_code},
            {"started_at", r.started_at},
            {"finished_at", r.finished_at}};
  if (with_tail) j["output_tail"] = r.output_tail;
  if (r.reboot) j["reboot"] = true;
  return j;
}

Status PayloadResultFromJson(const json& j, const std::string& where, PayloadResult* out) {
  if (!j.is_object()) return Status::Invalid(where + ": must be an object");
  JsonFields f(j, where);
  out->op_id = f.Str("op_id", 128);
  if (!out->op_id.empty() && !IsValidOpId(out->op_id)) f.Fail("bad op_id");
  out->payload = f.Str("payload", 63);
  if (!IsValidPayloadName(out->payload)) f.Fail("bad payload name");
  out->version = f.Str("version", kMaxTextBytes);
  out->digest = f.Str("digest", 64);
  if (!out->digest.empty() && !IsValidDigest(out->digest)) f.Fail("digest must be 64 hex digits");
  std::string res = f.Str("result", 16);
  auto o = ParseOutcome(res);
  if (!o)
    f.Fail("unknown result \"" + res + "\"");
  else
    out->result = *o;
  out->exit_code = static_cast<int>(f.Int("exit_code", -1, 255 + 128));
  out->started_at = f.Str("started_at", 64);
  out->finished_at = f.Str("finished_at", 64);
  out->output_tail = f.Str("output_tail", kMaxOutputTailBytes, /*required=*/false);
  out->reboot = f.Bool("reboot");
  return f.Finish();
}

Status PayloadResultsFromJson(JsonFields& f, const char* key, std::vector<PayloadResult>* out,
                              bool required) {
  const json* arr = f.Array(key, kMaxRecords, required);
  if (!arr) return Status::Ok();  // f carries the failure if it was required
  for (size_t i = 0; i < arr->size(); ++i) {
    PayloadResult r;
    GITDISC_RETURN_IF_ERROR(PayloadResultFromJson(
        (*arr)[i], f.where() + "." + key + "[" + std::to_string(i) + "]", &r));
    out->push_back(std::move(r));
  }
  return Status::Ok();
}

json OpStatusToJson(const OpStatus& s) {
  json results = json::array();
  for (const auto& r : s.results) results.push_back(PayloadResultToJson(r, true));
  return {{"op_id", s.op_id},
          {"state", OpStateName(s.state)},
          {"manifest_digest", s.manifest_digest},
          {"payload", s.payload},
          {"phase", s.phase},
          {"results", results},
          {"disc_released", s.disc_released},
          {"reboot", s.reboot},
          {"message", s.message}};
}

Status OpStatusFromJson(const json& j, const std::string& where, OpStatus* out) {
  if (!j.is_object()) return Status::Invalid(where + ": must be an object");
  JsonFields f(j, where);
  out->op_id = f.Str("op_id", 128);
  if (!IsValidOpId(out->op_id)) f.Fail("bad op_id");
  std::string st = f.Str("state", 16);
  auto s = ParseOpState(st);
  if (!s)
    f.Fail("unknown state \"" + st + "\"");
  else
    out->state = *s;
  out->manifest_digest = f.Str("manifest_digest", 64, false);
  if (!out->manifest_digest.empty() && !IsValidDigest(out->manifest_digest)) {
    f.Fail("manifest_digest must be 64 hex digits");
  }
  out->payload = f.Str("payload", 63, false);
  if (!out->payload.empty() && !IsValidPayloadName(out->payload)) f.Fail("bad payload name");
  out->phase = f.Str("phase", kMaxTextBytes, false);
  f.Merge(PayloadResultsFromJson(f, "results", &out->results, false));
  out->disc_released = f.Bool("disc_released");
  out->reboot = f.Bool("reboot");
  out->message = f.Str("message", kMaxTextBytes, false);
  return f.Finish();
}

}  // namespace gitdisc::guest
