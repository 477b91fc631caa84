// PlanToJson: a plan as the JSON `gitdisc diff -o json` prints and
// GET /api/v1/plan serves (schemaVersion 1; fields in docs/reconcile.md).
// Pure; thread-safe.
#ifndef GITDISC_RECONCILER_PLAN_JSON_H_
#define GITDISC_RECONCILER_PLAN_JSON_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "reconciler/desired.h"
#include "reconciler/planner.h"

namespace gitdisc::reconciler {

// `cached` says whether a bundle's image is in the cache (null: never).
nlohmann::json PlanToJson(const Plan& plan, const DesiredBuild& desired,
                          const std::function<bool(const std::string&)>& cached);

}  // namespace gitdisc::reconciler

#endif  // GITDISC_RECONCILER_PLAN_JSON_H_
