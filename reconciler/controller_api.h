// ControllerApi: the narrow face of the reconcile controller that the daemon
// (`gitdisc serve`: HTTP API, webhooks, metrics, status page) talks to.
//
// The daemon never reaches into the controller's parts: webhooks and the poll
// timer call NotifySourceChanged / EnqueueAll (which only enqueue work and
// return at once, STYLE.md "Webhook handlers authenticate and enqueue a key,
// nothing more"); readers call Status / PlanAt.
//
// Implementations (reconciler/controller.h) are safe for concurrent use from
// any thread; every call returns promptly except PlanAt, which reads Git and
// observes the fleet (seconds, not minutes).
#ifndef GITDISC_RECONCILER_CONTROLLER_API_H_
#define GITDISC_RECONCILER_CONTROLLER_API_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "base/status.h"
#include "reconciler/fleet_status.h"

namespace gitdisc::reconciler {

class ControllerApi {
 public:
  virtual ~ControllerApi() = default;

  // A copy of the latest fleet status (cheap; no I/O).
  virtual FleetStatus Status() const = 0;

  // Queue every known VM for a reconcile pass (POST /api/v1/reconcile).
  // `reason` shows up in events ("api", "timer", ...).
  virtual void EnqueueAll(std::string_view reason) = 0;

  // The source may have a new revision (webhook push, poll tick): fetch it
  // soon, then enqueue every VM. Returns at once.
  virtual void NotifySourceChanged(std::string_view reason) = 0;

  // The dry-run plan at `revision` ("" = the revision the controller acts on),
  // the same JSON `gitdisc diff -o json` prints (schemaVersion 1).
  // kNotFound for an unknown revision, kInvalid when its specs are invalid
  // (message lists the diagnostics) or, with signature verification on, when
  // it is not verified (message says "signature" and why).
  virtual Result<nlohmann::json> PlanAt(const std::string& revision) = 0;

  // Whether the controller has finished its first full pass (for /readyz).
  virtual bool Ready() const = 0;
};

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_CONTROLLER_API_H_
