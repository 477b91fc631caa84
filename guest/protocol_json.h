// JSON forms of the protocol's composite values (a payload's result, an
// operation's status), shared by the message encoders and decoders in
// guest/protocol.cc and by code inside guest/ that stores them (the ledger) in
// the same shape as they travel. Same strictness as the decoders in
// guest/protocol.h: unknown fields, wrong types and over-long values are
// kInvalid, located by `where`. Pure functions, thread-safe.
#ifndef GITDISC_GUEST_PROTOCOL_JSON_H_
#define GITDISC_GUEST_PROTOCOL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "base/status.h"
#include "guest/json_fields.h"
#include "guest/protocol.h"

namespace gitdisc::guest {

nlohmann::json PayloadResultToJson(const PayloadResult& r, bool with_tail);
Status PayloadResultFromJson(const nlohmann::json& j, const std::string& where, PayloadResult* out);

// Appends the results in array field `key` of the object `f` reads (at most
// kMaxRecords). An absent field fails `f` when required; a bad entry is
// returned.
Status PayloadResultsFromJson(JsonFields& f, const char* key, std::vector<PayloadResult>* out,
                              bool required = true);

nlohmann::json OpStatusToJson(const OpStatus& s);
Status OpStatusFromJson(const nlohmann::json& j, const std::string& where, OpStatus* out);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PROTOCOL_JSON_H_
