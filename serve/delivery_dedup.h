// DeliveryDedup: remembers the most recent webhook delivery ids so a delivery
// that a provider retries (or an attacker replays with a valid signature) is
// recognised and not enqueued twice. Bounded: the least recently seen id falls
// out first, so memory stays fixed however many deliveries arrive.
//
// Thread-safe (internal mutex).
#ifndef GITDISC_SERVE_DELIVERY_DEDUP_H_
#define GITDISC_SERVE_DELIVERY_DEDUP_H_

#include <cstddef>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace gitdisc::serve {

class DeliveryDedup {
 public:
  explicit DeliveryDedup(size_t capacity = 4096) : capacity_(capacity == 0 ? 1 : capacity) {}

  // Records id and returns true when it was new; false when it was seen
  // before (it then becomes the most recent again). Ids are namespaced by the
  // caller (e.g. "github:<uuid>").
  bool FirstSeen(std::string_view id);
  size_t size() const;

 private:
  mutable std::mutex mu_;
  size_t capacity_;
  std::list<std::string> order_;  // most recent first
  std::unordered_map<std::string, std::list<std::string>::iterator> index_;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_DELIVERY_DEDUP_H_
