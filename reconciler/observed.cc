#include "reconciler/observed.h"

namespace gitdisc::reconciler {

ObservedVm ObservedFromInfo(const VmInfo& info, const std::vector<std::string>& our_roots,
                            const DeliveryOptions& delivery) {
  ObservedVm o;
  o.key = info.key;
  o.name = info.name;
  o.host = info.host;
  o.power = PowerStateName(info.state);
  o.running = info.state == VmInfo::kRunning;
  o.labels = info.labels;
  o.has_agent_channel = info.has_agent_channel;
  for (const DriveInfo& d : info.cdroms) {
    if (!IsEjectableBus(d.bus)) continue;  // no tray: never takes a disc
    o.drives.push_back({d.target, d.source, OurBundleFromSource(d.source, our_roots)});
  }
  for (Delivery m : AssessVm(info, delivery).usable) {
    if (m != Delivery::kCdrom) o.other_delivery.push_back(DeliveryName(m));
  }
  return o;
}

std::vector<LedgerRecord> LedgerFromAgent(const std::vector<guest::PayloadResult>& records) {
  std::vector<LedgerRecord> out;
  for (const guest::PayloadResult& r : records) {
    out.push_back({r.op_id, r.payload, r.digest, guest::OutcomeName(r.result), r.output_tail});
  }
  return out;
}

namespace {

// What a failed agent call leaves in the observation.
void AgentFailed(Observation& out, const guest::AgentClient& client, const Status& st) {
  out.vm.agent_error = st.message();
  if (client.misbehaviour()) {
    out.misbehaviour = client.misbehaviour();
    out.vm.agent_misbehaving = client.misbehaviour()->bound;
  }
}

}  // namespace

Observation Observe(Provider& provider, const VmInfo& info, const ObserveOptions& options,
                    std::unique_ptr<guest::AgentClient> agent) {
  Observation out;
  out.info = info;
  out.vm = ObservedFromInfo(info, options.our_roots, options.delivery);
  if (!out.vm.running) return out;
  if (!info.has_agent_channel) {
    out.vm.agent_error = "the domain has no org.gitdisc.agent.0 channel";
    return out;
  }
  if (std::chrono::steady_clock::now() >= options.deadline) {
    out.vm.agent_error = "no time left to ask the agent";
    return out;
  }
  std::unique_ptr<guest::AgentClient> client = std::move(agent);
  if (!client) {
    auto stream = provider.OpenAgentChannel(info.key);
    if (!stream.ok()) {
      out.vm.agent_error = stream.status().message();
      return out;
    }
    client = std::make_unique<guest::AgentClient>(std::move(stream).value(), options.agent);
    client->SetDeadline(options.deadline);
    auto hello = client->Hello();
    if (!hello.ok()) {
      AgentFailed(out, *client, hello.status());
      return out;
    }
  }
  client->SetDeadline(options.deadline);
  auto ledger = client->Ledger();
  if (!ledger.ok()) {
    AgentFailed(out, *client, ledger.status());
    return out;
  }
  out.vm.ledger = LedgerFromAgent(*ledger);
  auto status = client->Status();
  if (!status.ok()) {
    AgentFailed(out, *client, status.status());
    return out;
  }
  client->SetDeadline(std::chrono::steady_clock::time_point::max());
  for (const guest::OpStatus& op : status->ops) {
    if (op.state != guest::OpState::kRunning) continue;
    ObservedOp o;
    o.op_id = op.op_id;
    o.running = true;
    o.manifest_digest = op.manifest_digest;
    o.message = op.message;
    out.vm.op = o;
  }
  // Our disc in a drive and nothing running: the agent unmounts and unlocks
  // before it reports an operation finished, so nothing reads the disc now.
  if (!out.vm.op) {
    for (const ObservedDrive& d : out.vm.drives) {
      if (d.our_bundle.empty()) continue;
      ObservedOp o;
      o.running = false;
      o.disc_released = true;
      o.manifest_digest = d.our_bundle;
      out.vm.op = o;
      break;
    }
  }
  out.vm.agent_reachable = true;
  out.agent = std::move(client);
  return out;
}

}  // namespace gitdisc::reconciler
