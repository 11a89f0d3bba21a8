// http_auth: external authorization by HTTP callout. Every request is held while the plugin
// asks an authorization service (a cluster of the proxy) with the request's Authorization
// header; a 2xx answer lets the request through, 401/403 becomes a 403 for the client, and
// anything else (5xx, a timeout, a reset) a 503: the plugin fails closed.
//
// Configuration (the plugin configuration string, JSON):
//   {"cluster": "auth", "path": "/auth/check", "authority": "auth.local", "timeout_ms": 500}
// "path" and "authority" default to "/" and the cluster name; "timeout_ms" to 1000.
// NOLINT(namespace-envoy)
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(http_auth)

class AuthRootContext : public RootContext {
public:
  explicit AuthRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override;

  std::string cluster_;
  std::string path_ = "/";
  std::string authority_;
  uint32_t timeout_ms_ = 1000;
};

class AuthContext : public Context {
public:
  explicit AuthContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<AuthRootContext *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override;

private:
  AuthRootContext *root_;
};

static RegisterContextFactory register_AuthContext(CONTEXT_FACTORY(AuthContext),
                                                   ROOT_FACTORY(AuthRootContext));

bool AuthRootContext::onConfigure(size_t configuration_size) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  std::string error;
  auto config = minijson::parse(conf->view(), &error);
  if (!config || !config->isObject()) {
    LOG_ERROR("http_auth: the configuration must be a JSON object: " +
              (error.empty() ? conf->toString() : error));
    return false;
  }
  for (const auto &[key, value] : config->members()) {
    if (key != "cluster" && key != "path" && key != "authority" && key != "timeout_ms") {
      LOG_ERROR("http_auth: unknown configuration field \"" + key + "\"");
      return false;
    }
  }
  cluster_ = config->get("cluster").asString("");
  if (cluster_.empty()) {
    LOG_ERROR("http_auth: \"cluster\" is required");
    return false;
  }
  path_ = config->get("path").asString("/");
  authority_ = config->get("authority").asString(cluster_);
  const auto &timeout = config->get("timeout_ms");
  if (!timeout.isNull() && (!timeout.isNumber() || timeout.asNumber() < 1)) {
    LOG_ERROR("http_auth: \"timeout_ms\" must be a number >= 1");
    return false;
  }
  if (!timeout.isNull())
    timeout_ms_ = static_cast<uint32_t>(timeout.asNumber());
  return true;
}

FilterHeadersStatus AuthContext::onRequestHeaders(uint32_t, bool) {
  HeaderStringPairs check = {{":method", "GET"},
                             {":path", root_->path_},
                             {":authority", root_->authority_}};
  auto authorization = getRequestHeader("authorization");
  if (authorization->data() != nullptr)
    check.emplace_back("authorization", authorization->toString());
  auto request_id = getRequestHeader("x-request-id");
  if (request_id->data() != nullptr)
    check.emplace_back("x-request-id", request_id->toString());

  // The SDK makes this stream the effective context again before the callback runs, so the
  // stream-level calls below act on it.
  auto result = root_->httpCall(
      root_->cluster_, check, "", {}, root_->timeout_ms_,
      [](uint32_t, size_t, uint32_t) {
        auto status = getHeaderMapValue(WasmHeaderMapType::HttpCallResponseHeaders, ":status");
        const std::string code = status->toString();
        if (!code.empty() && code[0] == '2') {
          continueRequest();
        } else if (code == "401" || code == "403") {
          sendLocalResponse(403, "denied_by_auth_service", "forbidden\n", {});
        } else {
          LOG_WARN("http_auth: authorization service answered \"" +
                   (code.empty() ? std::string("no response") : code) + "\"");
          sendLocalResponse(503, "auth_service_unavailable", "authorization unavailable\n", {});
        }
      });
  if (result != WasmResult::Ok) {
    LOG_ERROR("http_auth: cannot call cluster \"" + root_->cluster_ + "\": " + toString(result));
    sendLocalResponse(503, "auth_service_unavailable", "authorization unavailable\n", {});
    return FilterHeadersStatus::StopIteration;
  }
  return FilterHeadersStatus::StopIteration;
}

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(http_auth)
