// Metrics: counters, gauges and histograms with labels on prometheus-cpp
// (Debian's prometheus-cpp-dev: the registry and its text serializer render
// the Prometheus text exposition format 0.0.4 for GET /metrics), and
// GitdiscMetrics, the named set DESIGN.md §8 promises.
//
// The handles (Counter, Gauge, Histogram) are small values that point into
// their MetricsRegistry and stay valid for its life; label values are given
// in the order of the family's label names. Registration and updates are
// safe for concurrent use from any thread. A bad name or a label count that
// does not match the family is a programming error: the update is dropped
// (and asserts in debug builds). prometheus-cpp is kept out of this header
// so that users of the metrics need not see it.
#ifndef GITDISC_SERVE_METRICS_H_
#define GITDISC_SERVE_METRICS_H_

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gitdisc::serve {

class MetricsRegistry;
struct MetricFamily;  // one registered family (metrics.cc)

using LabelValues = std::vector<std::string>;

class Counter {
 public:
  void Inc(const LabelValues& labels = {}, double by = 1) const;
  // Mirrors a monotonic total kept elsewhere (e.g. the controller's counters).
  void SetTotal(const LabelValues& labels, double total) const;
  double Value(const LabelValues& labels = {}) const;

 private:
  friend class MetricsRegistry;
  Counter(MetricsRegistry* r, MetricFamily* f) : registry_(r), family_(f) {}
  MetricsRegistry* registry_;
  MetricFamily* family_;
};

class Gauge {
 public:
  void Set(const LabelValues& labels, double value) const;
  void Set(double value) const { Set({}, value); }
  // Drops every series (e.g. before re-publishing the one current revision).
  void Clear() const;
  double Value(const LabelValues& labels = {}) const;

 private:
  friend class MetricsRegistry;
  Gauge(MetricsRegistry* r, MetricFamily* f) : registry_(r), family_(f) {}
  MetricsRegistry* registry_;
  MetricFamily* family_;
};

class Histogram {
 public:
  void Observe(const LabelValues& labels, double value) const;
  void Observe(double value) const { Observe({}, value); }
  uint64_t Count(const LabelValues& labels = {}) const;

 private:
  friend class MetricsRegistry;
  Histogram(MetricsRegistry* r, MetricFamily* f) : registry_(r), family_(f) {}
  MetricsRegistry* registry_;
  MetricFamily* family_;
};

class MetricsRegistry {
 public:
  MetricsRegistry();
  ~MetricsRegistry();
  MetricsRegistry(const MetricsRegistry&) = delete;
  MetricsRegistry& operator=(const MetricsRegistry&) = delete;

  // Registering a name twice returns the first family (types must agree).
  Counter AddCounter(const std::string& name, const std::string& help,
                     std::vector<std::string> label_names = {});
  Gauge AddGauge(const std::string& name, const std::string& help,
                 std::vector<std::string> label_names = {});
  // buckets: upper bounds, strictly increasing; +Inf is implied.
  Histogram AddHistogram(const std::string& name, const std::string& help,
                         std::vector<double> buckets, std::vector<std::string> label_names = {});

  // Every family: # HELP, # TYPE, then its series (prometheus-cpp's
  // TextSerializer). Content-Type: kPrometheusContentType.
  std::string Render() const;

 private:
  friend class Counter;
  friend class Gauge;
  friend class Histogram;
  struct Impl;
  MetricFamily* Add(const std::string& name, const std::string& help, int type,
                    std::vector<std::string> label_names, std::vector<double> buckets);
  std::unique_ptr<Impl> impl_;
};

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// The metrics DESIGN.md §8 names. The daemon refreshes the fleet gauges from
// the controller's FleetStatus on every scrape; the controller may also update
// any of them directly (e.g. observe each reconcile's duration).
struct GitdiscMetrics {
  explicit GitdiscMetrics(MetricsRegistry* registry);

  Histogram reconcile_duration;  // gitdisc_reconcile_duration_seconds
  Gauge vms;                     // gitdisc_vms{condition}
  Counter payload_applies;       // gitdisc_payload_applies_total{result}
  Gauge iso_cache_bytes;         // gitdisc_iso_cache_bytes
  Gauge cache_bytes;             // gitdisc_cache_bytes{cache="images"|"pool"}
  Counter cache_evictions;       // gitdisc_cache_evictions_total{cache="images"|"pool"}
  Counter webhook_requests;      // gitdisc_webhook_requests_total{provider,result}
  Gauge source_revision_info;    // gitdisc_source_revision_info{revision} = 1
  Counter reconciles;            // gitdisc_reconciles_total
  Counter reconcile_errors;      // gitdisc_reconcile_errors_total
  Counter http_requests;         // gitdisc_http_requests_total{code}
  Counter http_refused;          // gitdisc_http_refused_total{reason}
  Gauge http_connections;        // gitdisc_http_connections
  Counter notify_requests;       // gitdisc_notify_requests_total{target,result}

  // Publishes exactly one revision series (replacing the previous one).
  void SetSourceRevision(const std::string& revision) const;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_SERVE_METRICS_H_
