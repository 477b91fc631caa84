#include "serve/metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <cassert>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

namespace gitdisc::serve {

enum MetricType { kCounter = 0, kGauge = 1, kHistogram = 2 };

struct MetricFamily {
  int type = kCounter;
  std::vector<std::string> label_names;
  prometheus::Histogram::BucketBoundaries buckets;
  // Exactly one is set (none when registration failed: updates are dropped).
  prometheus::Family<prometheus::Counter>* counters = nullptr;
  prometheus::Family<prometheus::Gauge>* gauges = nullptr;
  prometheus::Family<prometheus::Histogram>* histograms = nullptr;
  // The gauge series set so far, so that Gauge::Clear can remove them
  // (prometheus-cpp cannot list a family's series). Guarded by mu.
  std::mutex mu;
  std::set<LabelValues> gauge_series;
};

struct MetricsRegistry::Impl {
  prometheus::Registry registry;
  std::mutex mu;  // guards families (registration only; updates go to prometheus-cpp)
  std::map<std::string, std::unique_ptr<MetricFamily>> families;
};

namespace {

// prometheus-cpp's labels from our positional values; nullopt (a programming
// error) when the count does not match the family's label names.
std::optional<prometheus::Labels> ToLabels(const MetricFamily* f, const LabelValues& values) {
  if (f == nullptr || values.size() != f->label_names.size()) {
    assert(false && "label count does not match the metric family");
    return std::nullopt;
  }
  prometheus::Labels labels;
  for (size_t i = 0; i < values.size(); ++i) labels.emplace(f->label_names[i], values[i]);
  return labels;
}

}  // namespace

MetricsRegistry::MetricsRegistry() : impl_(std::make_unique<Impl>()) {}
MetricsRegistry::~MetricsRegistry() = default;

MetricFamily* MetricsRegistry::Add(const std::string& name, const std::string& help, int type,
                                   std::vector<std::string> label_names,
                                   std::vector<double> buckets) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  auto& slot = impl_->families[name];
  if (slot) {
    assert(slot->type == type);
    return slot.get();
  }
  slot = std::make_unique<MetricFamily>();
  MetricFamily* f = slot.get();
  f->type = type;
  f->label_names = std::move(label_names);
  f->buckets = std::move(buckets);
  try {
    switch (type) {
      case kCounter:
        f->counters = &prometheus::BuildCounter().Name(name).Help(help).Register(impl_->registry);
        break;
      case kGauge:
        f->gauges = &prometheus::BuildGauge().Name(name).Help(help).Register(impl_->registry);
        break;
      default:
        f->histograms =
            &prometheus::BuildHistogram().Name(name).Help(help).Register(impl_->registry);
        break;
    }
    // An unlabelled series exists from the start, so that a dashboard sees 0
    // rather than "no data".
    if (f->label_names.empty()) {
      if (f->counters) f->counters->Add({});
      if (f->gauges) f->gauges->Add({});
      if (f->histograms) f->histograms->Add({}, f->buckets);
    }
  } catch (const std::invalid_argument&) {
    // A bad metric or label name: a programming error, caught by the tests.
    assert(false && "invalid metric or label name");
    f->counters = nullptr;
    f->gauges = nullptr;
    f->histograms = nullptr;
  }
  return f;
}

Counter MetricsRegistry::AddCounter(const std::string& name, const std::string& help,
                                    std::vector<std::string> label_names) {
  return Counter(this, Add(name, help, kCounter, std::move(label_names), {}));
}

Gauge MetricsRegistry::AddGauge(const std::string& name, const std::string& help,
                                std::vector<std::string> label_names) {
  return Gauge(this, Add(name, help, kGauge, std::move(label_names), {}));
}

Histogram MetricsRegistry::AddHistogram(const std::string& name, const std::string& help,
                                        std::vector<double> buckets,
                                        std::vector<std::string> label_names) {
  return Histogram(this, Add(name, help, kHistogram, std::move(label_names), std::move(buckets)));
}

std::string MetricsRegistry::Render() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

void Counter::Inc(const LabelValues& labels, double by) const {
  if (!(by >= 0)) return;  // counters only go up
  auto l = ToLabels(family_, labels);
  if (l && family_->counters) family_->counters->Add(*l).Increment(by);
}

void Counter::SetTotal(const LabelValues& labels, double total) const {
  auto l = ToLabels(family_, labels);
  if (!l || !family_->counters) return;
  prometheus::Counter& c = family_->counters->Add(*l);
  // A counter never goes down; a smaller total (a source that restarted) is
  // caught up with once it has passed the published value again.
  if (total > c.Value()) c.Increment(total - c.Value());
}

double Counter::Value(const LabelValues& labels) const {
  auto l = ToLabels(family_, labels);
  if (!l || !family_->counters || !family_->counters->Has(*l)) return 0;
  return family_->counters->Add(*l).Value();
}

void Gauge::Set(const LabelValues& labels, double value) const {
  auto l = ToLabels(family_, labels);
  if (!l || !family_->gauges) return;
  std::lock_guard<std::mutex> lock(family_->mu);
  family_->gauges->Add(*l).Set(value);
  family_->gauge_series.insert(labels);
}

void Gauge::Clear() const {
  if (!family_ || !family_->gauges) return;
  std::lock_guard<std::mutex> lock(family_->mu);
  for (const LabelValues& values : family_->gauge_series) {
    if (auto l = ToLabels(family_, values); l && family_->gauges->Has(*l)) {
      family_->gauges->Remove(&family_->gauges->Add(*l));
    }
  }
  family_->gauge_series.clear();
}

double Gauge::Value(const LabelValues& labels) const {
  auto l = ToLabels(family_, labels);
  if (!l || !family_->gauges || !family_->gauges->Has(*l)) return 0;
  return family_->gauges->Add(*l).Value();
}

void Histogram::Observe(const LabelValues& labels, double value) const {
  if (std::isnan(value)) return;
  auto l = ToLabels(family_, labels);
  if (l && family_->histograms) family_->histograms->Add(*l, family_->buckets).Observe(value);
}

uint64_t Histogram::Count(const LabelValues& labels) const {
  auto l = ToLabels(family_, labels);
  if (!l || !family_->histograms || !family_->histograms->Has(*l)) return 0;
  return family_->histograms->Add(*l, family_->buckets).Collect().histogram.sample_count;
}

GitdiscMetrics::GitdiscMetrics(MetricsRegistry* r)
    : reconcile_duration(r->AddHistogram(
          "gitdisc_reconcile_duration_seconds", "Time spent in one reconcile of one VM.",
          {0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600})),
      vms(r->AddGauge("gitdisc_vms", "VMs per condition, as of the last pass.", {"condition"})),
      payload_applies(r->AddCounter("gitdisc_payload_applies_total",
                                    "Payload applies reported by agents, by result.", {"result"})),
      iso_cache_bytes(
          r->AddGauge("gitdisc_iso_cache_bytes", "Bytes held by the bundle ISO cache.")),
      cache_bytes(r->AddGauge("gitdisc_cache_bytes",
                              "Bytes of bundle images: the local image cache (cache=images) "
                              "and the gitdisc pools of remote hosts (cache=pool).",
                              {"cache"})),
      cache_evictions(r->AddCounter("gitdisc_cache_evictions_total",
                                    "Bundle images removed: evicted from the local cache over "
                                    "its bound (cache=images), deleted from remote pools after "
                                    "their grace period (cache=pool).",
                                    {"cache"})),
      webhook_requests(r->AddCounter("gitdisc_webhook_requests_total",
                                     "Webhook requests received, by provider and result.",
                                     {"provider", "result"})),
      source_revision_info(r->AddGauge("gitdisc_source_revision_info",
                                       "The Git revision the controller acts on (value 1).",
                                       {"revision"})),
      reconciles(r->AddCounter("gitdisc_reconciles_total", "Reconcile passes finished.")),
      reconcile_errors(r->AddCounter("gitdisc_reconcile_errors_total",
                                     "Reconcile passes that ended in an error.")),
      http_requests(r->AddCounter("gitdisc_http_requests_total",
                                  "HTTP requests served, by status code.", {"code"})),
      http_refused(r->AddCounter(
          "gitdisc_http_refused_total",
          "Connections the HTTP listener answered or closed by itself, by reason "
          "(per_client, evicted, head_timeout, body_timeout, head_too_large, bad_request, "
          "length_required, body_too_large, shed).",
          {"reason"})),
      http_connections(r->AddGauge("gitdisc_http_connections",
                                   "Open HTTP client connections.")),
      notify_requests(r->AddCounter(
          "gitdisc_notify_requests_total",
          "Commit statuses and alerts sent, by target and result (ok, retry, failed, dropped).",
          {"target", "result"})) {}

void GitdiscMetrics::SetSourceRevision(const std::string& revision) const {
  // Clear + Set is not atomic for a concurrent scrape; a scrape in between
  // sees no revision for an instant, which Prometheus treats as a gap.
  source_revision_info.Clear();
  if (!revision.empty()) source_revision_info.Set({revision}, 1);
}

}  // namespace gitdisc::serve
