#pragma once

// Counters, gauges and histograms in Envoy's naming and rendering conventions. Updates happen
// on worker threads on the request path, so every update is a relaxed atomic; creating or
// looking up a metric takes the store's mutex and is meant for config time only (keep the
// returned reference).

#include <array>
#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace re2 {
class RE2;
}

namespace wasmgate::stats {

// "a" + "b" -> "a.b"; an empty side is dropped (a scope with no prefix).
std::string join(std::string_view prefix, std::string_view name);

namespace detail {
// Sets a sticky "used" flag without dirtying the cache line once it is set.
inline void markUsed(std::atomic<bool>& used) {
  if (!used.load(std::memory_order_relaxed))
    used.store(true, std::memory_order_relaxed);
}
} // namespace detail

class Counter {
public:
  explicit Counter(std::string name) : name_(std::move(name)) {}
  Counter(const Counter&) = delete;
  Counter& operator=(const Counter&) = delete;

  void inc(uint64_t n = 1) {
    value_.fetch_add(n, std::memory_order_relaxed);
    detail::markUsed(used_);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  bool used() const { return used_.load(std::memory_order_relaxed); }
  const std::string& name() const { return name_; }

private:
  const std::string name_;
  std::atomic<uint64_t> value_{0};
  std::atomic<bool> used_{false};
};

// Unsigned like Envoy's gauges; subtracting below zero clamps at 0.
class Gauge {
public:
  explicit Gauge(std::string name) : name_(std::move(name)) {}
  Gauge(const Gauge&) = delete;
  Gauge& operator=(const Gauge&) = delete;

  void inc() { add(1); }
  void dec() { sub(1); }
  void add(int64_t delta);
  void sub(uint64_t n);
  void set(uint64_t v) {
    value_.store(v, std::memory_order_relaxed);
    detail::markUsed(used_);
  }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }
  bool used() const { return used_.load(std::memory_order_relaxed); }
  const std::string& name() const { return name_; }

private:
  const std::string name_;
  std::atomic<uint64_t> value_{0};
  std::atomic<bool> used_{false};
};

// Quantiles reported by Envoy's /stats (P0 .. P100), as fractions.
inline constexpr std::array<double, 10> kSupportedQuantiles = {0,    0.25, 0.5,   0.75,  0.9,
                                                                0.95, 0.99, 0.995, 0.999, 1};

// Fixed-bucket histogram. Values are in the histogram's unit (ms for latencies). Bucket i counts
// values <= bounds[i] (and above bounds[i-1]); one overflow bucket takes the rest.
class Histogram {
public:
  // Envoy's default bucket bounds.
  static const std::vector<double>& defaultBounds();

  explicit Histogram(std::string name, std::vector<double> bounds = defaultBounds());
  Histogram(const Histogram&) = delete;
  Histogram& operator=(const Histogram&) = delete;

  void recordValue(uint64_t value);

  // A point-in-time copy; counts are read individually, so a snapshot taken while workers
  // record may be off by in-flight samples, which is fine for reporting.
  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> counts; // per bucket, bounds.size() + 1 (last = overflow)
    uint64_t count = 0;           // sum of counts
    uint64_t sum = 0;
    uint64_t min = 0; // meaningful only when count > 0
    uint64_t max = 0;

    // Number of samples <= bounds[i], for Prometheus' cumulative buckets.
    std::vector<uint64_t> cumulativeCounts() const;
    // Estimate for q in [0,1] by linear interpolation inside the bucket holding the q-th
    // sample, narrowed to the observed [min, max]; NaN when empty.
    double quantile(double q) const;
  };
  Snapshot snapshot() const;

  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  uint64_t sum() const { return sum_.load(std::memory_order_relaxed); }
  bool used() const { return count() > 0; }
  const std::string& name() const { return name_; }
  const std::vector<double>& bounds() const { return bounds_; }

private:
  const std::string name_;
  const std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> counts_; // bounds_.size() + 1
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_{0};
  std::atomic<uint64_t> min_{std::numeric_limits<uint64_t>::max()};
  std::atomic<uint64_t> max_{0};
};

struct Tag {
  std::string name;  // e.g. "envoy.cluster_name"
  std::string value; // e.g. "backend"
  bool operator==(const Tag&) const = default;
};

// Envoy's tag extraction (stats_tags): each extractor is a regex applied to the full stat name.
// Capture group 1 is the text removed from the name; group 2, if present, is the tag value,
// else group 1 is. All extractors see the original name; the removals are applied together.
class TagProducer {
public:
  // Starts with Envoy's default extractors (cluster name, HCM prefix, listener address,
  // response code / class, tcp prefix, ...).
  TagProducer();

  // Adds a custom extractor; custom ones run before the defaults, and one named like a default
  // replaces that default (Envoy semantics). Errors on a bad regex or one with no group.
  Status addExtractor(std::string tag_name, std::string_view regex);

  // Returns the tag-extracted name and appends the tags found, in extractor order.
  std::string produceTags(std::string_view name, std::vector<Tag>& tags) const;

private:
  struct Extractor {
    std::string tag_name;
    std::string substr; // cheap pre-check: the name must contain this (may be empty)
    std::shared_ptr<const re2::RE2> regex;
  };
  std::vector<Extractor> custom_;
  std::vector<Extractor> defaults_;
};

class Store {
public:
  Store();
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Find-or-create; the reference stays valid for the Store's lifetime.
  Counter& counter(std::string_view name);
  Gauge& gauge(std::string_view name);
  Histogram& histogram(std::string_view name);

  // Lookup without creating; nullptr when absent.
  Counter* findCounter(std::string_view name) const;
  Gauge* findGauge(std::string_view name) const;
  Histogram* findHistogram(std::string_view name) const;

  // Snapshots for rendering, sorted by name.
  std::vector<const Counter*> counters() const;
  std::vector<const Gauge*> gauges() const;
  std::vector<const Histogram*> histograms() const;

  // stats_tags: custom tag extractor (see TagProducer::addExtractor).
  Status addTagExtractor(std::string tag_name, std::string_view regex);
  std::shared_ptr<const TagProducer> tagProducer() const;

  // Envoy's custom stat namespaces (e.g. "wasmcustom" when Wasm is enabled): in Prometheus
  // output, a stat under a registered namespace loses the namespace and gets no "envoy_"
  // prefix. None are registered by default.
  void addCustomStatNamespace(std::string ns);
  std::vector<std::string> customStatNamespaces() const;

private:
  template <class T> using Map = std::map<std::string, std::unique_ptr<T>, std::less<>>;
  template <class T> static T& findOrCreate(Map<T>& map, std::string_view name);
  template <class T> static T* find(const Map<T>& map, std::string_view name);

  mutable std::mutex mutex_;
  Map<Counter> counters_;
  Map<Gauge> gauges_;
  Map<Histogram> histograms_;
  // Copy-on-write so a render can use it while config adds extractors.
  std::shared_ptr<const TagProducer> tag_producer_;
  std::vector<std::string> custom_namespaces_;
};

// ---- rendering (admin /stats endpoints) ----------------------------------------------------
// filter_regex: RE2 partial match against the stat name ("" = all); an invalid regex is an
// error. used_only: skip metrics never updated (Envoy's usedonly).

// Envoy's /stats text: "name: value" per counter and gauge sorted by name, then histograms
// ("name: P0(nan,1) P25(nan,1.5) ..." or "name: No recorded values").
Result<std::string> renderText(const Store& store, std::string_view filter_regex = "",
                               bool used_only = false);

// Envoy's /stats?format=json: {"stats":[{"name":..,"value":..},...,{"histograms":{...}}]}.
Result<std::string> renderJson(const Store& store, std::string_view filter_regex = "",
                               bool used_only = false);

// Envoy's /stats/prometheus text exposition format with tag extraction.
std::string renderPrometheus(const Store& store);
Result<std::string> renderPrometheus(const Store& store, std::string_view filter_regex,
                                     bool used_only = false);

// Prometheus helpers, exposed for tests and other exporters.
std::string sanitizePrometheusName(std::string_view name); // invalid chars -> '_'
std::string escapePrometheusLabelValue(std::string_view value);

} // namespace wasmgate::stats
