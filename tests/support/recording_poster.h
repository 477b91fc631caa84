// RecordingPoster: an HttpPoster (serve/notifier.h) that records every
// request it is asked to send and answers from a script of HTTP statuses
// (then a default), for the daemon's notification tests. Thread-safe.
#ifndef GITDISC_TESTS_SUPPORT_RECORDING_POSTER_H_
#define GITDISC_TESTS_SUPPORT_RECORDING_POSTER_H_

#include <deque>
#include <mutex>
#include <vector>

#include "serve/notifier.h"

namespace gitdisc::testing {

class RecordingPoster final : public serve::HttpPoster {
 public:
  serve::PostResult Post(const serve::OutgoingRequest& request,
                         std::chrono::milliseconds timeout) override {
    std::lock_guard<std::mutex> l(mu_);
    requests_.push_back(request);
    timeouts_.push_back(timeout);
    int status = default_status_;
    if (!script_.empty()) {
      status = script_.front();
      script_.pop_front();
    }
    return serve::PostResult{status, status == 0 ? "connection refused" : ""};
  }
  // The next answers, in order (0: no answer); afterwards `then`.
  void Script(std::vector<int> statuses, int then = 201) {
    std::lock_guard<std::mutex> l(mu_);
    script_.assign(statuses.begin(), statuses.end());
    default_status_ = then;
  }
  std::vector<serve::OutgoingRequest> requests() const {
    std::lock_guard<std::mutex> l(mu_);
    return requests_;
  }
  std::vector<std::chrono::milliseconds> timeouts() const {
    std::lock_guard<std::mutex> l(mu_);
    return timeouts_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<int> script_;
  int default_status_ = 201;
  std::vector<serve::OutgoingRequest> requests_;
  std::vector<std::chrono::milliseconds> timeouts_;
};

}  // namespace gitdisc::testing

#endif  // GITDISC_TESTS_SUPPORT_RECORDING_POSTER_H_
