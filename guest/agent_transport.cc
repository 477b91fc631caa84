#include "guest/agent_transport.h"

namespace gitdisc::guest {
namespace {

class VirtioSerialTransport final : public AgentTransport {
 public:
  explicit VirtioSerialTransport(PortOptions options) : options_(std::move(options)) {}
  Status Run(Agent& agent) override { return RunAgentLoop(agent, options_); }

 private:
  PortOptions options_;
};

}  // namespace

std::unique_ptr<AgentTransport> MakeVirtioSerialTransport(PortOptions options) {
  return std::make_unique<VirtioSerialTransport>(std::move(options));
}

}  // namespace gitdisc::guest
