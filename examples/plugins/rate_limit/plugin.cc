// rate_limit: a fixed-window request limit shared by every worker (and every VM with the same
// vm_id), kept in Proxy-Wasm shared data with compare-and-swap updates.
//
// Configuration (the plugin configuration string, JSON):
//   {"max_requests": 100, "window_seconds": 1}
//   "key_header": "x-api-key"   optional: one budget per value of this request header
// A request over the budget gets 429 with `retry-after` (seconds left in the window) and never
// reaches the upstream.
//
// One shared-data key per budget, "rate_limit/<key>", holding "<window number> <count>": every
// update is a compare-and-swap on an existing key. Proxy-Wasm has no atomic "create if absent"
// (a set with CAS 0 overwrites), so the key without key_header is created in onConfigure, which
// runs first in the proxy's config-time validation, before any worker takes traffic.
// NOLINT(namespace-envoy)
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(rate_limit)

class RateLimitRootContext : public RootContext {
public:
  explicit RateLimitRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override;

  uint64_t max_requests_ = 0;
  uint64_t window_seconds_ = 1;
  std::string key_header_;
};

class RateLimitContext : public Context {
public:
  explicit RateLimitContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<RateLimitRootContext *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override;

private:
  RateLimitRootContext *root_;
};

static RegisterContextFactory register_RateLimitContext(CONTEXT_FACTORY(RateLimitContext),
                                                        ROOT_FACTORY(RateLimitRootContext));

bool RateLimitRootContext::onConfigure(size_t configuration_size) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  std::string error;
  auto config = minijson::parse(conf->view(), &error);
  if (!config || !config->isObject()) {
    LOG_ERROR("rate_limit: the configuration must be a JSON object: " +
              (error.empty() ? conf->toString() : error));
    return false;
  }
  for (const auto &[key, value] : config->members()) {
    if (key != "max_requests" && key != "window_seconds" && key != "key_header") {
      LOG_ERROR("rate_limit: unknown configuration field \"" + key + "\"");
      return false;
    }
  }
  const auto &max = config->get("max_requests");
  const auto &window = config->get("window_seconds");
  if (!max.isNumber() || max.asNumber() < 0) {
    LOG_ERROR("rate_limit: \"max_requests\" must be a number >= 0");
    return false;
  }
  if (!window.isNull() && (!window.isNumber() || window.asNumber() < 1)) {
    LOG_ERROR("rate_limit: \"window_seconds\" must be a number >= 1");
    return false;
  }
  max_requests_ = static_cast<uint64_t>(max.asNumber());
  window_seconds_ = window.isNull() ? 1 : static_cast<uint64_t>(window.asNumber());
  key_header_ = config->get("key_header").asString("");
  // The shared budget's key exists before the first request (see the top of the file). An
  // existing one (another VM with this vm_id, or a reload) is kept.
  WasmDataPtr existing;
  if (getSharedData("rate_limit/", &existing) == WasmResult::NotFound)
    setSharedData("rate_limit/", "0 0", 0);
  LOG_INFO("rate_limit: " + std::to_string(max_requests_) + " requests per " +
           std::to_string(window_seconds_) + " s" +
           (key_header_.empty() ? std::string() : " per " + key_header_));
  return true;
}

namespace {

// Decimal digits; anything else counts as 0 (plugins build without exceptions: no stoull).
uint64_t parseCount(std::string_view s) {
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9' || n > (UINT64_MAX - 9) / 10)
      return 0;
    n = n * 10 + uint64_t(c - '0');
  }
  return n;
}

} // namespace

FilterHeadersStatus RateLimitContext::onRequestHeaders(uint32_t, bool) {
  const uint64_t now_s = getCurrentTimeNanoseconds() / 1000000000ull;
  const uint64_t window = now_s / root_->window_seconds_;
  std::string key = "rate_limit/";
  if (!root_->key_header_.empty())
    key += getRequestHeader(root_->key_header_)->toString();

  // Read "<window> <count>" and its CAS token, write the next value with that token: another
  // worker that got in between makes the write fail with CasMismatch, and we retry with its
  // value. A counter of an earlier window starts over.
  for (int attempt = 0; attempt < 32; ++attempt) {
    WasmDataPtr value;
    uint32_t cas = 0;
    uint64_t count = 0;
    if (getSharedData(key, &value, &cas) == WasmResult::Ok) {
      const std::string_view v = value->view();
      const size_t space = v.find(' ');
      if (space != std::string_view::npos && parseCount(v.substr(0, space)) == window)
        count = parseCount(v.substr(space + 1));
    }
    if (count >= root_->max_requests_) {
      const uint64_t retry = (window + 1) * root_->window_seconds_ - now_s;
      sendLocalResponse(429, "rate_limited", "rate limit exceeded\n",
                        {{"retry-after", std::to_string(retry)}});
      return FilterHeadersStatus::StopIteration;
    }
    WasmResult r = setSharedData(key, std::to_string(window) + " " + std::to_string(count + 1), cas);
    if (r == WasmResult::Ok)
      return FilterHeadersStatus::Continue;
    if (r != WasmResult::CasMismatch) {
      LOG_WARN("rate_limit: cannot update the counter: " + toString(r) + "; letting it through");
      return FilterHeadersStatus::Continue;
    }
  }
  LOG_WARN("rate_limit: counter too contended; letting the request through");
  return FilterHeadersStatus::Continue;
}

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(rate_limit)
