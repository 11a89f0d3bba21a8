#include "stats/stats.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include <re2/re2.h>

namespace wasmgate::stats {

std::string join(std::string_view prefix, std::string_view name) {
  if (prefix.empty())
    return std::string(name);
  if (name.empty())
    return std::string(prefix);
  std::string out;
  out.reserve(prefix.size() + 1 + name.size());
  out.append(prefix);
  if (out.back() != '.')
    out.push_back('.');
  out.append(name);
  return out;
}

// ---- Gauge ----------------------------------------------------------------------------------

void Gauge::add(int64_t delta) {
  if (delta < 0) {
    // -(delta + 1) + 1 avoids overflowing on INT64_MIN.
    sub(uint64_t(-(delta + 1)) + 1);
    return;
  }
  value_.fetch_add(uint64_t(delta), std::memory_order_relaxed);
  detail::markUsed(used_);
}

void Gauge::sub(uint64_t n) {
  uint64_t cur = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(cur, cur > n ? cur - n : 0, std::memory_order_relaxed)) {
  }
  detail::markUsed(used_);
}

// ---- Histogram ------------------------------------------------------------------------------

const std::vector<double>& Histogram::defaultBounds() {
  static const std::vector<double> bounds = {0.5,   1,     5,      10,     25,      50,     100,
                                             250,   500,   1000,   2500,   5000,    10000,  30000,
                                             60000, 300000, 600000, 1800000, 3600000};
  return bounds;
}

Histogram::Histogram(std::string name, std::vector<double> bounds)
    : name_(std::move(name)), bounds_(std::move(bounds)),
      counts_(std::make_unique<std::atomic<uint64_t>[]>(bounds_.size() + 1)) {}

void Histogram::recordValue(uint64_t value) {
  // First bound >= value; past the end is the overflow bucket.
  size_t idx = size_t(std::lower_bound(bounds_.begin(), bounds_.end(), double(value)) -
                      bounds_.begin());
  uint64_t cur = min_.load(std::memory_order_relaxed);
  while (value < cur && !min_.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
  cur = max_.load(std::memory_order_relaxed);
  while (value > cur && !max_.compare_exchange_weak(cur, value, std::memory_order_relaxed)) {
  }
  counts_[idx].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot s;
  s.bounds = bounds_;
  s.counts.resize(bounds_.size() + 1);
  for (size_t i = 0; i <= bounds_.size(); ++i) {
    s.counts[i] = counts_[i].load(std::memory_order_relaxed);
    s.count += s.counts[i];
  }
  s.sum = sum_.load(std::memory_order_relaxed);
  s.min = min_.load(std::memory_order_relaxed);
  s.max = max_.load(std::memory_order_relaxed);
  if (s.count == 0)
    s.min = s.max = 0;
  return s;
}

std::vector<uint64_t> Histogram::Snapshot::cumulativeCounts() const {
  std::vector<uint64_t> out(bounds.size());
  uint64_t acc = 0;
  for (size_t i = 0; i < bounds.size(); ++i) {
    acc += counts[i];
    out[i] = acc;
  }
  return out;
}

double Histogram::Snapshot::quantile(double q) const {
  if (count == 0)
    return std::nan("");
  q = std::clamp(q, 0.0, 1.0);
  const double target = q * double(count);
  const double lo_obs = double(min);
  const double hi_obs = double(std::max(min, max));
  double before = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0)
      continue;
    const double c = double(counts[i]);
    if (before + c >= target || i + 1 == counts.size()) {
      double lo = i == 0 ? 0.0 : bounds[i - 1];
      double hi = i < bounds.size() ? bounds[i] : hi_obs;
      // Samples are known to lie in [min, max]; narrowing makes sparse data exact.
      lo = std::max(lo, lo_obs);
      hi = std::min(hi, hi_obs);
      if (hi < lo)
        hi = lo;
      const double frac = std::clamp((target - before) / c, 0.0, 1.0);
      return lo + frac * (hi - lo);
    }
    before += c;
  }
  return hi_obs;
}

// ---- tag extraction -------------------------------------------------------------------------

namespace {

std::shared_ptr<const re2::RE2> compileQuiet(std::string_view pattern) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  return std::make_shared<const re2::RE2>(re2::StringPiece(pattern.data(), pattern.size()), opts);
}

struct DefaultExtractor {
  const char* tag_name;
  const char* regex;
  const char* substr;
};

// Envoy's default tag extractors (well_known_names), in Envoy's order, rewritten for RE2: no
// lookahead, and Envoy's tokenized patterns ("cluster.$.**") as one-token regexes.
constexpr DefaultExtractor kDefaultExtractors[] = {
    {"envoy.response_code", R"(_rq(_(\d{3}))$)", "_rq_"},
    {"envoy.response_code_class", R"(_rq_((\d))xx$)", "_rq_"},
    {"envoy.http_user_agent", R"(^http\.[^.]*\.user_agent\.(([^.]*)\.))", ".user_agent."},
    {"envoy.virtual_cluster", R"(^vhost\.[^.]*\.vcluster\.(([^.]*)\.))", ".vcluster."},
    {"envoy.fault_downstream_cluster", R"(^http\.[^.]*\.fault\.(([^.]*)\.))", ".fault."},
    {"envoy.ssl_cipher", R"(^listener\..*?\.ssl\.cipher(\.(.*?))$)", ".ssl.cipher."},
    {"envoy.ssl_cipher_suite", R"(^cluster\..*?\.ssl\.ciphers(\.(.*?))$)", ".ssl.ciphers."},
    {"envoy.grpc_bridge_method", R"(^cluster\.[^.]*\.grpc\.[^.]*\.(([^.]*)\.))", ".grpc."},
    {"envoy.grpc_bridge_service", R"(^cluster\.[^.]*\.grpc\.(([^.]*)\.))", ".grpc."},
    {"envoy.tcp_prefix", R"(^tcp\.(([^.]*)\.))", "tcp."},
    {"envoy.udp_prefix", R"(^udp\.(([^.]*)\.))", "udp."},
    {"envoy.clientssl_prefix", R"(^auth\.clientssl\.(([^.]*)\.))", "auth.clientssl."},
    {"envoy.ratelimit_prefix", R"(^ratelimit\.(([^.]*)\.))", "ratelimit."},
    {"envoy.cluster_name", R"(^cluster\.(([^.]*)\.))", "cluster."},
    {"envoy.http_conn_manager_prefix", R"(^listener(?:\..*?)?\.http\.(([^.]*)\.))", ".http."},
    {"envoy.http_conn_manager_prefix", R"(^http\.(([^.]*)\.))", "http."},
    {"envoy.listener_address",
     R"(^listener\.(((?:[_.[:digit:]]*|[_\[\]aAbBcCdDeEfF[:digit:]]*))\.))", "listener."},
    {"envoy.virtual_host", R"(^vhost\.(([^.]*)\.))", "vhost."},
    {"envoy.rds_route_config", R"(^http(?:\..*?)?\.rds\.((.*?)\.)\w+?$)", ".rds."},
    {"envoy.worker_id", R"(^listener_manager\.((worker_\d+)\.))", "listener_manager.worker_"},
    {"envoy.worker_id", R"(^server\.((worker_\d+)\.))", "server.worker_"},
};

} // namespace

TagProducer::TagProducer() {
  for (const auto& d : kDefaultExtractors)
    defaults_.push_back({d.tag_name, d.substr, compileQuiet(d.regex)});
}

Status TagProducer::addExtractor(std::string tag_name, std::string_view regex) {
  if (tag_name.empty())
    return Status::error("tag extractor needs a tag name");
  auto re = compileQuiet(regex);
  if (!re->ok())
    return Status::error("invalid tag extractor regex '" + std::string(regex) +
                         "' for tag '" + tag_name + "': " + re->error());
  if (re->NumberOfCapturingGroups() < 1)
    return Status::error("tag extractor regex '" + std::string(regex) + "' for tag '" +
                         tag_name + "' has no capture group");
  std::erase_if(defaults_, [&](const Extractor& e) { return e.tag_name == tag_name; });
  custom_.push_back({std::move(tag_name), "", std::move(re)});
  return okStatus();
}

std::string TagProducer::produceTags(std::string_view name, std::vector<Tag>& tags) const {
  std::vector<std::pair<size_t, size_t>> removed;
  const re2::StringPiece text(name.data(), name.size());
  auto apply = [&](const Extractor& e) {
    if (!e.substr.empty() && name.find(e.substr) == std::string_view::npos)
      return;
    const int ngroups = std::min(e.regex->NumberOfCapturingGroups(), 2);
    re2::StringPiece groups[3];
    if (!e.regex->Match(text, 0, text.size(), re2::RE2::UNANCHORED, groups, ngroups + 1))
      return;
    const re2::StringPiece& remove = groups[1];
    if (remove.data() == nullptr)
      return;
    const re2::StringPiece& value =
        (ngroups >= 2 && groups[2].data() != nullptr) ? groups[2] : groups[1];
    tags.push_back({e.tag_name, std::string(value.data(), value.size())});
    const size_t start = size_t(remove.data() - name.data());
    removed.emplace_back(start, start + remove.size());
  };
  for (const auto& e : custom_)
    apply(e);
  for (const auto& e : defaults_)
    apply(e);
  if (removed.empty())
    return std::string(name);
  std::sort(removed.begin(), removed.end());
  std::string out;
  out.reserve(name.size());
  size_t pos = 0;
  for (const auto& [start, end] : removed) {
    if (start > pos)
      out.append(name.substr(pos, start - pos));
    pos = std::max(pos, end);
  }
  if (pos < name.size())
    out.append(name.substr(pos));
  return out;
}

// ---- Store ----------------------------------------------------------------------------------

Store::Store() : tag_producer_(std::make_shared<const TagProducer>()) {}
Store::~Store() = default;

template <class T> T& Store::findOrCreate(Map<T>& map, std::string_view name) {
  auto it = map.find(name);
  if (it == map.end())
    it = map.emplace(std::string(name), std::make_unique<T>(std::string(name))).first;
  return *it->second;
}

template <class T> T* Store::find(const Map<T>& map, std::string_view name) {
  auto it = map.find(name);
  return it == map.end() ? nullptr : it->second.get();
}

Counter& Store::counter(std::string_view name) {
  std::lock_guard lock(mutex_);
  return findOrCreate(counters_, name);
}
Gauge& Store::gauge(std::string_view name) {
  std::lock_guard lock(mutex_);
  return findOrCreate(gauges_, name);
}
Histogram& Store::histogram(std::string_view name) {
  std::lock_guard lock(mutex_);
  return findOrCreate(histograms_, name);
}

Counter* Store::findCounter(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return find(counters_, name);
}
Gauge* Store::findGauge(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return find(gauges_, name);
}
Histogram* Store::findHistogram(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return find(histograms_, name);
}

namespace {
template <class T, class M> std::vector<const T*> listOf(const M& map) {
  std::vector<const T*> out;
  out.reserve(map.size());
  for (const auto& [name, metric] : map)
    out.push_back(metric.get());
  return out;
}
} // namespace

std::vector<const Counter*> Store::counters() const {
  std::lock_guard lock(mutex_);
  return listOf<Counter>(counters_);
}
std::vector<const Gauge*> Store::gauges() const {
  std::lock_guard lock(mutex_);
  return listOf<Gauge>(gauges_);
}
std::vector<const Histogram*> Store::histograms() const {
  std::lock_guard lock(mutex_);
  return listOf<Histogram>(histograms_);
}

Status Store::addTagExtractor(std::string tag_name, std::string_view regex) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<TagProducer>(*tag_producer_);
  WG_RETURN_IF_ERROR(next->addExtractor(std::move(tag_name), regex));
  tag_producer_ = std::move(next);
  return okStatus();
}

std::shared_ptr<const TagProducer> Store::tagProducer() const {
  std::lock_guard lock(mutex_);
  return tag_producer_;
}

void Store::addCustomStatNamespace(std::string ns) {
  std::lock_guard lock(mutex_);
  if (std::find(custom_namespaces_.begin(), custom_namespaces_.end(), ns) ==
      custom_namespaces_.end())
    custom_namespaces_.push_back(std::move(ns));
}

std::vector<std::string> Store::customStatNamespaces() const {
  std::lock_guard lock(mutex_);
  return custom_namespaces_;
}

// ---- rendering ------------------------------------------------------------------------------

namespace {

class NameFilter {
public:
  static Result<NameFilter> make(std::string_view regex, bool used_only) {
    NameFilter f;
    f.used_only_ = used_only;
    if (!regex.empty()) {
      f.re_ = compileQuiet(regex);
      if (!f.re_->ok())
        return Status::error("invalid stats filter regex '" + std::string(regex) +
                             "': " + f.re_->error());
    }
    return f;
  }
  template <class M> bool accepts(const M& metric) const {
    if (used_only_ && !metric.used())
      return false;
    return !re_ || re2::RE2::PartialMatch(metric.name(), *re_);
  }

private:
  std::shared_ptr<const re2::RE2> re_;
  bool used_only_ = false;
};

void appendUint(std::string& out, uint64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

// Shortest round-trip form ("1.025", "nan"), like fmt's "{}" in Envoy's summaries.
void appendDouble(std::string& out, double v) {
  if (std::isnan(v)) {
    out.append("nan");
    return;
  }
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), v);
  out.append(buf, r.ptr);
}

void appendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
    case '"': out.append("\\\""); break;
    case '\\': out.append("\\\\"); break;
    case '\n': out.append("\\n"); break;
    case '\r': out.append("\\r"); break;
    case '\t': out.append("\\t"); break;
    default:
      if (c < 0x20) {
        out.append("\\u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
      } else {
        out.push_back(ch);
      }
    }
  }
  out.push_back('"');
}

constexpr const char* kQuantileLabels[] = {"P0",  "P25", "P50",   "P75",   "P90",
                                           "P95", "P99", "P99.5", "P99.9", "P100"};
static_assert(std::size(kQuantileLabels) == kSupportedQuantiles.size());

struct NamedValue {
  const std::string* name;
  uint64_t value;
};

// Counters and gauges interleaved by name, as Envoy's /stats lists them.
template <class F>
std::vector<NamedValue> countersAndGauges(const Store& store, const F& filter) {
  std::vector<NamedValue> out;
  for (const Counter* c : store.counters())
    if (filter.accepts(*c))
      out.push_back({&c->name(), c->value()});
  for (const Gauge* g : store.gauges())
    if (filter.accepts(*g))
      out.push_back({&g->name(), g->value()});
  std::stable_sort(out.begin(), out.end(),
                   [](const NamedValue& a, const NamedValue& b) { return *a.name < *b.name; });
  return out;
}

} // namespace

Result<std::string> renderText(const Store& store, std::string_view filter_regex,
                               bool used_only) {
  auto filter = NameFilter::make(filter_regex, used_only);
  if (!filter)
    return filter.status();
  std::string out;
  for (const NamedValue& nv : countersAndGauges(store, *filter)) {
    out.append(*nv.name).append(": ");
    appendUint(out, nv.value);
    out.push_back('\n');
  }
  for (const Histogram* h : store.histograms()) {
    if (!filter->accepts(*h))
      continue;
    out.append(h->name()).append(": ");
    const Histogram::Snapshot snap = h->snapshot();
    if (snap.count == 0) {
      out.append("No recorded values\n");
      continue;
    }
    // No flush intervals here, so the interval half is always "nan" (Envoy prints that too
    // when the last interval had no samples).
    for (size_t i = 0; i < kSupportedQuantiles.size(); ++i) {
      if (i > 0)
        out.push_back(' ');
      out.append(kQuantileLabels[i]).append("(nan,");
      appendDouble(out, snap.quantile(kSupportedQuantiles[i]));
      out.push_back(')');
    }
    out.push_back('\n');
  }
  return out;
}

Result<std::string> renderJson(const Store& store, std::string_view filter_regex,
                               bool used_only) {
  auto filter = NameFilter::make(filter_regex, used_only);
  if (!filter)
    return filter.status();
  std::string out = "{\"stats\":[";
  bool first = true;
  for (const NamedValue& nv : countersAndGauges(store, *filter)) {
    if (!first)
      out.push_back(',');
    first = false;
    out.append("{\"name\":");
    appendJsonString(out, *nv.name);
    out.append(",\"value\":");
    appendUint(out, nv.value);
    out.push_back('}');
  }
  std::vector<const Histogram*> hists;
  for (const Histogram* h : store.histograms())
    if (filter->accepts(*h))
      hists.push_back(h);
  if (!hists.empty()) {
    if (!first)
      out.push_back(',');
    out.append("{\"histograms\":{\"supported_quantiles\":[0,25,50,75,90,95,99,99.5,99.9,100],"
               "\"computed_quantiles\":[");
    for (size_t i = 0; i < hists.size(); ++i) {
      if (i > 0)
        out.push_back(',');
      out.append("{\"name\":");
      appendJsonString(out, hists[i]->name());
      out.append(",\"values\":[");
      const Histogram::Snapshot snap = hists[i]->snapshot();
      for (size_t q = 0; q < kSupportedQuantiles.size(); ++q) {
        if (q > 0)
          out.push_back(',');
        out.append("{\"interval\":null,\"cumulative\":");
        if (snap.count == 0)
          out.append("null");
        else
          appendDouble(out, snap.quantile(kSupportedQuantiles[q]));
        out.push_back('}');
      }
      out.append("]}");
    }
    out.append("]}}");
  }
  out.append("]}");
  return out;
}

std::string sanitizePrometheusName(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_';
    if (!ok)
      c = '_';
  }
  return out;
}

std::string escapePrometheusLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
    case '\\': out.append("\\\\"); break;
    case '"': out.append("\\\""); break;
    case '\n': out.append("\\n"); break;
    default: out.push_back(c);
    }
  }
  return out;
}

namespace {

struct PromSeries {
  std::string labels; // 'a="x",b="y"' (no braces)
  const std::string* name;
  const void* metric;
};
using Families = std::map<std::string, std::vector<PromSeries>>;

class PromBuilder {
public:
  explicit PromBuilder(const Store& store)
      : producer_(store.tagProducer()), namespaces_(store.customStatNamespaces()) {}

  // Adds `metric` to its family; metrics whose names cannot be made valid are skipped.
  template <class M> void add(Families& families, const M& metric) {
    tags_.clear();
    const std::string extracted = producer_->produceTags(metric.name(), tags_);
    std::string family = familyName(extracted);
    if (family.empty())
      return;
    std::string labels;
    for (const Tag& t : tags_) {
      if (!labels.empty())
        labels.push_back(',');
      std::string label = sanitizePrometheusName(t.name);
      if (!label.empty() && label[0] >= '0' && label[0] <= '9')
        label.insert(label.begin(), '_');
      labels.append(label).append("=\"").append(escapePrometheusLabelValue(t.value)).append("\"");
    }
    families[std::move(family)].push_back({std::move(labels), &metric.name(), &metric});
  }

private:
  std::string familyName(const std::string& extracted) const {
    for (const std::string& ns : namespaces_) {
      if (extracted.size() > ns.size() + 1 && extracted.compare(0, ns.size(), ns) == 0 &&
          extracted[ns.size()] == '.') {
        // Custom namespaces are exposed as-is, so the name must already be valid.
        std::string name = sanitizePrometheusName(extracted.substr(ns.size() + 1));
        if (name.empty() || (name[0] >= '0' && name[0] <= '9'))
          return "";
        return name;
      }
    }
    return "envoy_" + sanitizePrometheusName(extracted);
  }

  std::shared_ptr<const TagProducer> producer_;
  std::vector<std::string> namespaces_;
  std::vector<Tag> tags_;
};

void sortSeries(Families& families) {
  for (auto& [family, series] : families)
    std::stable_sort(series.begin(), series.end(),
                     [](const PromSeries& a, const PromSeries& b) { return *a.name < *b.name; });
}

template <class M>
void emitScalarFamilies(std::string& out, const Families& families, const char* type) {
  for (const auto& [family, series] : families) {
    out.append("# TYPE ").append(family).push_back(' ');
    out.append(type).push_back('\n');
    for (const PromSeries& s : series) {
      out.append(family).push_back('{');
      out.append(s.labels).append("} ");
      appendUint(out, static_cast<const M*>(s.metric)->value());
      out.push_back('\n');
    }
  }
}

void appendBound(std::string& out, double bound) {
  char buf[64];
  int n = std::snprintf(buf, sizeof(buf), "%.32g", bound);
  out.append(buf, size_t(std::max(n, 0)));
}

void emitHistogramFamilies(std::string& out, const Families& families) {
  for (const auto& [family, series] : families) {
    out.append("# TYPE ").append(family).append(" histogram\n");
    for (const PromSeries& s : series) {
      const Histogram::Snapshot snap = static_cast<const Histogram*>(s.metric)->snapshot();
      const std::vector<uint64_t> cumulative = snap.cumulativeCounts();
      const std::string sep = s.labels.empty() ? "" : ",";
      for (size_t i = 0; i < snap.bounds.size(); ++i) {
        out.append(family).append("_bucket{").append(s.labels).append(sep).append("le=\"");
        appendBound(out, snap.bounds[i]);
        out.append("\"} ");
        appendUint(out, cumulative[i]);
        out.push_back('\n');
      }
      out.append(family).append("_bucket{").append(s.labels).append(sep).append("le=\"+Inf\"} ");
      appendUint(out, snap.count);
      out.push_back('\n');
      out.append(family).append("_sum{").append(s.labels).append("} ");
      appendUint(out, snap.sum);
      out.push_back('\n');
      out.append(family).append("_count{").append(s.labels).append("} ");
      appendUint(out, snap.count);
      out.push_back('\n');
    }
  }
}

} // namespace

Result<std::string> renderPrometheus(const Store& store, std::string_view filter_regex,
                                     bool used_only) {
  auto filter = NameFilter::make(filter_regex, used_only);
  if (!filter)
    return filter.status();
  PromBuilder builder(store);
  Families counters, gauges, histograms;
  for (const Counter* c : store.counters())
    if (filter->accepts(*c))
      builder.add(counters, *c);
  for (const Gauge* g : store.gauges())
    if (filter->accepts(*g))
      builder.add(gauges, *g);
  for (const Histogram* h : store.histograms())
    if (filter->accepts(*h))
      builder.add(histograms, *h);
  sortSeries(counters);
  sortSeries(gauges);
  sortSeries(histograms);

  std::string out;
  emitScalarFamilies<Counter>(out, counters, "counter");
  emitScalarFamilies<Gauge>(out, gauges, "gauge");
  emitHistogramFamilies(out, histograms);
  return out;
}

std::string renderPrometheus(const Store& store) {
  // An empty filter cannot fail.
  return std::move(renderPrometheus(store, "", false).value());
}

} // namespace wasmgate::stats
