// JSON forms of protocol values, for code inside guest/ that stores them (the
// ledger) in the same shape as they travel. Same strictness as the decoders
// in guest/protocol.h. Pure functions, thread-safe.
#ifndef GITDISC_GUEST_PROTOCOL_JSON_H_
#define GITDISC_GUEST_PROTOCOL_JSON_H_

#include <nlohmann/json.hpp>
#include <string>

#include "base/status.h"
#include "guest/protocol.h"

namespace gitdisc::guest {

nlohmann::json PayloadResultToJson(const PayloadResult& r, bool with_tail);
Status PayloadResultFromJson(const nlohmann::json& j, const std::string& where, PayloadResult* out);

}  // namespace gitdisc::guest

#endif  // GITDISC_GUEST_PROTOCOL_JSON_H_
