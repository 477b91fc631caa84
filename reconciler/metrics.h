// Metrics: a small registry of counters, gauges and histograms with labels,
// rendered in the Prometheus text exposition format 0.0.4 (GET /metrics), and
// GitdiscMetrics, the named set DESIGN.md §8 promises.
//
// A MetricsRegistry owns its families; the handles it returns (Counter, Gauge,
// Histogram) are small values that point into it and stay valid for the
// registry's life. Registration and updates are safe for concurrent use from
// any thread (one mutex per registry: updates are a map lookup, scrapes are
// rare). Names must match [a-zA-Z_:][a-zA-Z0-9_:]*, label names
// [a-zA-Z_][a-zA-Z0-9_]*; a bad name or a label count that does not match the
// family is a programming error (assert in debug, ignored in release).
#ifndef GITDISC_RECONCILER_METRICS_H_
#define GITDISC_RECONCILER_METRICS_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace gitdisc::serve {

class MetricsRegistry;
struct MetricFamily;

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

  // Every family, sorted by name: # HELP, # TYPE, then its series sorted by
  // label values. Content-Type: text/plain; version=0.0.4; charset=utf-8.
  std::string Render() const;

 private:
  friend class Counter;
  friend class Gauge;
  friend class Histogram;
  MetricFamily* Add(const std::string& name, const std::string& help, int type,
                    std::vector<std::string> label_names, std::vector<double> buckets);
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<MetricFamily>> families_;
};

inline constexpr char kPrometheusContentType[] = "text/plain; version=0.0.4; charset=utf-8";

// Escapes a label value for the text format (backslash, double quote, newline).
std::string EscapeLabelValue(std::string_view v);
// A sample value as Prometheus parses it: integers without a fraction,
// "+Inf", "-Inf", "NaN", otherwise the shortest round-tripping decimal.
std::string FormatSampleValue(double v);

// The metrics DESIGN.md §8 names. The daemon refreshes the fleet gauges from
// the controller's FleetStatus on every scrape; the controller may also update
// any of them directly (e.g. observe each reconcile's duration).
struct GitdiscMetrics {
  explicit GitdiscMetrics(MetricsRegistry* registry);

  Histogram reconcile_duration;  // gitdisc_reconcile_duration_seconds
  Gauge vms;                     // gitdisc_vms{condition}
  Counter payload_applies;       // gitdisc_payload_applies_total{result}
  Gauge iso_cache_bytes;         // gitdisc_iso_cache_bytes
  Counter webhook_requests;      // gitdisc_webhook_requests_total{provider,result}
  Gauge source_revision_info;    // gitdisc_source_revision_info{revision} = 1
  Counter reconciles;            // gitdisc_reconciles_total
  Counter reconcile_errors;      // gitdisc_reconcile_errors_total
  Counter http_requests;         // gitdisc_http_requests_total{code}

  // Publishes exactly one revision series (replacing the previous one).
  void SetSourceRevision(const std::string& revision) const;
};

}  // namespace gitdisc::serve

#endif  // GITDISC_RECONCILER_METRICS_H_
