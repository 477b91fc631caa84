#include "serve/delivery_dedup.h"

namespace gitdisc::serve {

bool DeliveryDedup::FirstSeen(std::string_view id) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string key(id);
  auto it = index_.find(key);
  if (it != index_.end()) {
    order_.splice(order_.begin(), order_, it->second);
    return false;
  }
  order_.push_front(key);
  index_.emplace(std::move(key), order_.begin());
  if (order_.size() > capacity_) {
    index_.erase(order_.back());
    order_.pop_back();
  }
  return true;
}

size_t DeliveryDedup::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return order_.size();
}

}  // namespace gitdisc::serve
