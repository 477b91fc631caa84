#include "serve/previews.h"

#include <algorithm>
#include <map>
#include <utility>

namespace gitdisc::serve {
namespace {

using json = nlohmann::json;

std::string StringOr(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The payload names a VM's plan entry lists under `key` (strings only).
std::vector<std::string> Names(const json& vm, const char* key) {
  std::vector<std::string> out;
  auto it = vm.find(key);
  if (it == vm.end() || !it->is_array()) return out;
  for (const json& n : *it) {
    if (n.is_string()) out.push_back(n.get<std::string>());
  }
  return out;
}

}  // namespace

std::string PreviewSummary(const json& plan) {
  // verb → payload → VMs; verbs in a fixed order.
  static const std::vector<std::string> kVerbs = {"install", "upgrade", "retry", "uninstall"};
  std::map<std::string, std::map<std::string, int>> counts;
  std::map<std::string, int> blocked;         // condition → VMs
  std::map<std::string, bool> pending_there;  // payloads the blocked VMs still lack
  int in_sync = 0, selected = 0;
  const json& vms = plan.contains("vms") && plan["vms"].is_array() ? plan["vms"] : json::array();
  for (const json& vm : vms) {
    std::string action = StringOr(vm, "action");
    if (action == "skip") continue;
    ++selected;
    if (action == "in-sync") ++in_sync;
    if (action == "install" || action == "upgrade" || action == "retry") {
      for (const std::string& p : Names(vm, "apply")) ++counts[action][p];
    }
    if (action == "blocked") {
      ++blocked[StringOr(vm, "condition")];
      for (const json& p : vm.value("payloads", json::array())) {
        if (p.is_object() && p.value("state", "") != "applied") {
          pending_there[p.value("name", "")] = true;
        }
      }
    }
    for (const std::string& p : Names(vm, "uninstall")) ++counts["uninstall"][p];
  }
  std::string out;
  for (const std::string& verb : kVerbs) {
    // Payloads with the same number of VMs share one phrase.
    std::map<int, std::string, std::greater<int>> by_count;
    for (const auto& [payload, n] : counts[verb]) {
      std::string& names = by_count[n];
      names += (names.empty() ? "" : "+") + payload;
    }
    for (const auto& [n, names] : by_count) {
      out += (out.empty() ? "would " : ", ") + verb + " " + names + " on " + std::to_string(n) +
             (out.empty() ? (n == 1 ? " VM" : " VMs") : "");
    }
  }
  int nblocked = 0;
  std::string why;
  for (const auto& [cond, n] : blocked) {
    nblocked += n;
    why += (why.empty() ? "" : ", ") + cond + (blocked.size() > 1 ? " " + std::to_string(n) : "");
  }
  if (out.empty()) {
    out = nblocked == 0 ? "no change: " + std::to_string(in_sync) +
                              (in_sync == 1 ? " VM" : " VMs") + " in sync"
                        : "nothing to do now";
  }
  if (nblocked > 0) {
    std::string pending;
    for (const auto& [name, unused] : pending_there) pending += (pending.empty() ? "" : "+") + name;
    out += "; " + std::to_string(nblocked) + (nblocked == 1 ? " VM" : " VMs") + " blocked (" +
           why + ")" + (pending.empty() ? "" : ", pending there: " + pending);
  }
  if (selected == 0) out = "no VM selected";
  return out;
}

PreviewRunner::PreviewRunner(PreviewOptions options, reconciler::ControllerApi* controller,
                             std::function<void(const CommitStatusUpdate&)> post, DaemonLog* log)
    : options_(options), controller_(controller), post_(std::move(post)), log_(log) {}

PreviewRunner::~PreviewRunner() { Stop(); }

void PreviewRunner::Start() {
  std::lock_guard<std::mutex> l(mu_);
  if (worker_.joinable() || stop_) return;
  worker_ = std::thread([this] { Run(); });
}

void PreviewRunner::Stop() {
  std::thread worker;
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
    queue_.clear();
    worker.swap(worker_);
  }
  cv_.notify_all();
  if (worker.joinable()) worker.join();
}

void PreviewRunner::RequestPreview(PreviewRequest request) {
  std::lock_guard<std::mutex> l(mu_);
  if (stop_) return;
  auto same = std::find_if(queue_.begin(), queue_.end(), [&](const PreviewRequest& r) {
    return r.provider == request.provider && r.number == request.number;
  });
  if (same != queue_.end()) {
    *same = std::move(request);
  } else {
    if (queue_.size() >= options_.max_queue) queue_.pop_front();
    queue_.push_back(std::move(request));
  }
  cv_.notify_all();
}

bool PreviewRunner::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return queue_.empty() && !busy_; });
}

void PreviewRunner::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait(l);
      continue;
    }
    PreviewRequest r = std::move(queue_.front());
    queue_.pop_front();
    busy_ = true;
    l.unlock();
    CommitStatusUpdate pending{r.sha, CommitState::kPending, kPreviewContext,
                               "planning against the live fleet"};
    post_(pending);
    CommitStatusUpdate done = Preview(r);
    post_(done);
    log_->Info("pull request preview",
               {{"provider", r.provider},
                {"number", std::to_string(r.number)},
                {"revision", r.sha},
                {"state", GithubStateName(done.state)},
                {"summary", done.description}});
    l.lock();
    busy_ = false;
    cv_.notify_all();
  }
}

CommitStatusUpdate PreviewRunner::Preview(const PreviewRequest& r) {
  CommitStatusUpdate u{r.sha, CommitState::kError, kPreviewContext, ""};
  controller_->NotifySourceChanged("pull request " + r.provider + " #" + std::to_string(r.number));
  auto deadline = std::chrono::steady_clock::now() + options_.wait_for_commit;
  for (;;) {
    auto plan = controller_->PlanAt(r.sha);
    if (plan.ok()) {
      u.state = CommitState::kSuccess;
      u.description = StatusDescription(PreviewSummary(*plan));
      return u;
    }
    const Status& st = plan.status();
    bool wait = (st.IsNotFound() || st.transient()) &&
                std::chrono::steady_clock::now() + options_.retry_every < deadline;
    {
      std::unique_lock<std::mutex> l(mu_);
      if (wait && !cv_.wait_for(l, options_.retry_every, [this] { return stop_; })) continue;
      if (stop_) wait = false;
    }
    if (st.code() == Status::Code::kInvalid) {
      // Refused as it is: invalid specs, or a signature that does not verify.
      u.state = CommitState::kFailure;
      u.description = StatusDescription("not applied as is: " + st.message());
    } else if (st.IsNotFound()) {
      u.description = StatusDescription(
          "head not fetched in time (is source.pullRequests on?): " + st.message());
    } else {
      u.description = StatusDescription("cannot plan: " + st.message());
    }
    return u;
  }
}

}  // namespace gitdisc::serve
