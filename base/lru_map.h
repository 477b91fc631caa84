// LruMap: a map with a fixed capacity that forgets its least recently used
// entry when a new one would not fit — for every cache keyed by something an
// outsider can choose (revisions, tree ids, request arguments), so that
// asking for many different keys costs a bounded amount of memory.
//
// Find() and Put() make the entry the most recent. Pointers returned by
// Find() stay valid until the entry is evicted or erased. Not thread-safe:
// the owner serialises access (as it does for the values).
#ifndef GITDISC_BASE_LRU_MAP_H_
#define GITDISC_BASE_LRU_MAP_H_

#include <cstddef>
#include <list>
#include <map>
#include <utility>

namespace gitdisc {

template <typename K, typename V>
class LruMap {
 public:
  explicit LruMap(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // The value of `key` (now the most recent), or null.
  V* Find(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return nullptr;
    order_.splice(order_.begin(), order_, it->second);
    return &it->second->second;
  }
  bool Contains(const K& key) const { return index_.count(key) > 0; }

  // Inserts or replaces; evicts the least recently used entry beyond capacity.
  void Put(K key, V value) {
    if (V* old = Find(key)) {
      *old = std::move(value);
      return;
    }
    order_.emplace_front(key, std::move(value));
    index_.emplace(std::move(key), order_.begin());
    if (order_.size() > capacity_) {
      index_.erase(order_.back().first);
      order_.pop_back();
    }
  }
  bool Erase(const K& key) {
    auto it = index_.find(key);
    if (it == index_.end()) return false;
    order_.erase(it->second);
    index_.erase(it);
    return true;
  }
  void Clear() {
    index_.clear();
    order_.clear();
  }
  size_t size() const { return order_.size(); }
  size_t capacity() const { return capacity_; }

 private:
  size_t capacity_;
  std::list<std::pair<K, V>> order_;  // most recent first
  std::map<K, typename std::list<std::pair<K, V>>::iterator> index_;
};

}  // namespace gitdisc

#endif  // GITDISC_BASE_LRU_MAP_H_
