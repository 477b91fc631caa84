#include "reconciler/metrics.h"

#include <cassert>
#include <charconv>
#include <cmath>
#include <limits>

namespace gitdisc::serve {

enum MetricType { kCounter = 0, kGauge = 1, kHistogram = 2 };

struct Series {
  double value = 0;                     // counter / gauge
  std::vector<uint64_t> bucket_counts;  // histogram: per bucket (not cumulative)
  uint64_t count = 0;
  double sum = 0;
};

struct MetricFamily {
  std::string name;
  std::string help;
  int type = kCounter;
  std::vector<std::string> label_names;
  std::vector<double> buckets;
  std::map<LabelValues, Series> series;
};

namespace {

[[maybe_unused]] bool ValidName(std::string_view n, bool allow_colon) {
  if (n.empty()) return false;
  for (size_t i = 0; i < n.size(); ++i) {
    char c = n[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (allow_colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string LabelSet(const std::vector<std::string>& names, const LabelValues& values,
                     const std::string& extra_name = "", const std::string& extra_value = "") {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    out += out.empty() ? "{" : ",";
    out += names[i] + "=\"" + EscapeLabelValue(values[i]) + "\"";
  }
  if (!extra_name.empty()) {
    out += out.empty() ? "{" : ",";
    out += extra_name + "=\"" + extra_value + "\"";
  }
  if (!out.empty()) out += "}";
  return out;
}

Series* Find(MetricFamily* f, const LabelValues& labels) {
  if (labels.size() != f->label_names.size()) {
    assert(false && "label count does not match the metric family");
    return nullptr;
  }
  auto [it, inserted] = f->series.try_emplace(labels);
  if (inserted && f->type == kHistogram) it->second.bucket_counts.assign(f->buckets.size(), 0);
  return &it->second;
}

}  // namespace

std::string EscapeLabelValue(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string FormatSampleValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    return std::to_string(static_cast<long long>(v));
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

MetricsRegistry::MetricsRegistry() = default;
MetricsRegistry::~MetricsRegistry() = default;

MetricFamily* MetricsRegistry::Add(const std::string& name, const std::string& help, int type,
                                   std::vector<std::string> label_names,
                                   std::vector<double> buckets) {
  assert(ValidName(name, true));
  for ([[maybe_unused]] const auto& l : label_names) assert(ValidName(l, false) && l != "le");
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = families_[name];
  if (slot) {
    assert(slot->type == type);
    return slot.get();
  }
  slot = std::make_unique<MetricFamily>();
  slot->name = name;
  slot->help = help;
  slot->type = type;
  slot->label_names = std::move(label_names);
  slot->buckets = std::move(buckets);
  return slot.get();
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

void Counter::Inc(const LabelValues& labels, double by) const {
  if (!(by >= 0)) return;  // counters only go up
  std::lock_guard<std::mutex> lock(registry_->mu_);
  if (Series* s = Find(family_, labels)) s->value += by;
}

void Counter::SetTotal(const LabelValues& labels, double total) const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  if (Series* s = Find(family_, labels)) s->value = total;
}

double Counter::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  auto it = family_->series.find(labels);
  return it == family_->series.end() ? 0 : it->second.value;
}

void Gauge::Set(const LabelValues& labels, double value) const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  if (Series* s = Find(family_, labels)) s->value = value;
}

void Gauge::Clear() const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  family_->series.clear();
}

double Gauge::Value(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  auto it = family_->series.find(labels);
  return it == family_->series.end() ? 0 : it->second.value;
}

void Histogram::Observe(const LabelValues& labels, double value) const {
  if (std::isnan(value)) return;
  std::lock_guard<std::mutex> lock(registry_->mu_);
  Series* s = Find(family_, labels);
  if (!s) return;
  for (size_t i = 0; i < family_->buckets.size(); ++i) {
    if (value <= family_->buckets[i]) {
      ++s->bucket_counts[i];
      break;
    }
  }
  ++s->count;
  s->sum += value;
}

uint64_t Histogram::Count(const LabelValues& labels) const {
  std::lock_guard<std::mutex> lock(registry_->mu_);
  auto it = family_->series.find(labels);
  return it == family_->series.end() ? 0 : it->second.count;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out;
  for (const auto& [name, f] : families_) {
    static const char* kTypeNames[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + EscapeHelp(f->help) + "\n";
    out += "# TYPE " + name + " " + kTypeNames[f->type] + "\n";
    // An unlabelled counter or gauge always has its one sample, even at zero,
    // so a dashboard sees 0 rather than "no data".
    if (f->series.empty() && f->label_names.empty()) {
      if (f->type == kHistogram) {
        out += name + "_bucket{le=\"+Inf\"} 0\n" + name + "_sum 0\n" + name + "_count 0\n";
      } else {
        out += name + " 0\n";
      }
      continue;
    }
    for (const auto& [labels, s] : f->series) {
      if (f->type != kHistogram) {
        out += name + LabelSet(f->label_names, labels) + " " + FormatSampleValue(s.value) + "\n";
        continue;
      }
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f->buckets.size(); ++i) {
        cumulative += s.bucket_counts[i];
        out += name + "_bucket" +
               LabelSet(f->label_names, labels, "le", FormatSampleValue(f->buckets[i])) + " " +
               std::to_string(cumulative) + "\n";
      }
      out += name + "_bucket" + LabelSet(f->label_names, labels, "le", "+Inf") + " " +
             std::to_string(s.count) + "\n";
      out +=
          name + "_sum" + LabelSet(f->label_names, labels) + " " + FormatSampleValue(s.sum) + "\n";
      out +=
          name + "_count" + LabelSet(f->label_names, labels) + " " + std::to_string(s.count) + "\n";
    }
  }
  return out;
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
                                  "HTTP requests served, by status code.", {"code"})) {}

void GitdiscMetrics::SetSourceRevision(const std::string& revision) const {
  // Clear + Set is not atomic for a concurrent scrape; a scrape in between
  // sees no revision for an instant, which Prometheus treats as a gap.
  source_revision_info.Clear();
  if (!revision.empty()) source_revision_info.Set({revision}, 1);
}

}  // namespace gitdisc::serve
