#include "reconciler/plan_json.h"

namespace gitdisc::reconciler {

nlohmann::json PlanToJson(const Plan& plan, const DesiredBuild& desired,
                          const std::function<bool(const std::string&)>& cached) {
  using nlohmann::json;
  json vms = json::array();
  for (const VmPlan& v : plan.vms) {
    json payloads = json::array();
    for (const PayloadStatus& p : v.payloads) {
      payloads.push_back({{"name", p.name},
                          {"version", p.version},
                          {"digest", p.digest},
                          {"state", PayloadStateName(p.state)}});
    }
    vms.push_back({{"key", v.key},
                   {"name", v.name},
                   {"host", v.host},
                   {"action", PlanKindName(v.kind)},
                   {"condition", VmConditionName(v.condition)},
                   {"reason", v.reason},
                   {"message", v.message},
                   {"sets", v.sets},
                   {"payloads", payloads},
                   {"apply", v.apply},
                   {"bundleDigest", v.bundle_digest},
                   {"eject", v.eject_drives},
                   {"insertDrive", v.insert_drive},
                   {"operationId", v.op_id}});
  }
  json bundles = json::array();
  for (const auto& [digest, names] : desired.bundle_vms) {
    int to_act = 0;
    for (const VmPlan& v : plan.vms) {
      if (v.bundle_digest == digest && !v.insert_drive.empty()) ++to_act;
    }
    bundles.push_back({{"digest", digest},
                       {"vms", names},
                       {"sharedBy", names.size()},
                       {"inserts", to_act},
                       {"cached", cached ? cached(digest) : false}});
  }
  json sets = json::array();
  for (const SetStatus& s : plan.sets) sets.push_back(ToJson(s));
  return json{{"schemaVersion", 1},
              {"revision", plan.revision},
              {"inSync", plan.InSync()},
              {"pending", plan.Pending()},
              {"vms", vms},
              {"bundles", bundles},
              {"sets", sets}};
}

}  // namespace gitdisc::reconciler
