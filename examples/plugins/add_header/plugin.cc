// add_header: adds a configured header to every response (or request).
//
// Configuration (the plugin configuration string, JSON):
//   {"name": "x-hello", "value": "wasmgate"}                  response header (default)
//   {"name": "x-hello", "value": "wasmgate", "to": "request"}  request header instead
//   "to": "both"                                               request and response
// The first form is the add_header example's Config message from the wasme/proxy-wasm C++
// template (name, value), so configurations written for that plugin work unchanged.
// NOLINT(namespace-envoy)
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(add_header)

class AddHeaderRootContext : public RootContext {
public:
  explicit AddHeaderRootContext(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override;

  std::string header_name_;
  std::string header_value_;
  bool to_request_ = false;
  bool to_response_ = true;
};

class AddHeaderContext : public Context {
public:
  explicit AddHeaderContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<AddHeaderRootContext *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override;
  FilterHeadersStatus onResponseHeaders(uint32_t headers, bool end_of_stream) override;

private:
  AddHeaderRootContext *root_;
};

// Registered under the template's root_id, and as the default one so that configurations
// without a root_id work too.
static RegisterContextFactory register_AddHeaderContext(CONTEXT_FACTORY(AddHeaderContext),
                                                        ROOT_FACTORY(AddHeaderRootContext),
                                                        "add_header_root_id");
static RegisterContextFactory register_AddHeaderContextDefault(CONTEXT_FACTORY(AddHeaderContext),
                                                               ROOT_FACTORY(AddHeaderRootContext));

namespace {

// RFC 9110 token characters: what a header name may contain.
bool isToken(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok)
      return false;
  }
  return true;
}

bool isValidHeaderValue(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

} // namespace

bool AddHeaderRootContext::onConfigure(size_t configuration_size) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  std::string error;
  auto config = minijson::parse(conf->view(), &error);
  if (!config || !config->isObject()) {
    LOG_ERROR("add_header: the configuration must be a JSON object: " +
              (error.empty() ? conf->toString() : error));
    return false;
  }
  // Like the template's JsonParseOptions{ignore_unknown_fields = false}: a typo is an error.
  for (const auto &[key, value] : config->members()) {
    if (key != "name" && key != "value" && key != "to") {
      LOG_ERROR("add_header: unknown configuration field \"" + key + "\"");
      return false;
    }
  }
  const auto &name = config->get("name");
  const auto &value = config->get("value");
  if (!name.isString() || !isToken(name.asString())) {
    LOG_ERROR("add_header: \"name\" must be a header name");
    return false;
  }
  if (!value.isNull() && (!value.isString() || !isValidHeaderValue(value.asString()))) {
    LOG_ERROR("add_header: \"value\" must be a string without CR, LF or NUL");
    return false;
  }
  const std::string to = config->get("to").asString("response");
  if (to != "response" && to != "request" && to != "both") {
    LOG_ERROR("add_header: \"to\" must be \"response\", \"request\" or \"both\", not \"" + to +
              "\"");
    return false;
  }
  header_name_ = name.asString();
  header_value_ = value.asString();
  to_request_ = to != "response";
  to_response_ = to != "request";
  LOG_INFO("add_header: adding \"" + header_name_ + ": " + header_value_ + "\" to the " +
           (to == "both" ? std::string("request and response") : to) + " headers");
  return true;
}

FilterHeadersStatus AddHeaderContext::onRequestHeaders(uint32_t, bool) {
  if (root_->to_request_) {
    addRequestHeader(root_->header_name_, root_->header_value_);
  }
  return FilterHeadersStatus::Continue;
}

FilterHeadersStatus AddHeaderContext::onResponseHeaders(uint32_t, bool) {
  if (root_->to_response_) {
    addResponseHeader(root_->header_name_, root_->header_value_);
  }
  return FilterHeadersStatus::Continue;
}

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(add_header)
