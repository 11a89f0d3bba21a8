// Source compatibility with plugins written for the older proxy-wasm C++ SDK: the add_header
// and path_rewrite plugins of the wasme tutorial (Istio 1.5 era), kept as written there —
// StringView, one-argument onRequestHeaders/onResponseHeaders overrides, the free
// getConfiguration(), LOG_DEBUG, `if (!path.get())` — except that configuration is parsed with
// contrib/minijson.h instead of protobuf's JsonStringToMessage.
//
// Built natively into the null-VM tests (seed_add_header) and to wasm by the sdk_seed_wasm test.
// NOLINT(namespace-envoy)
#include <regex>
#include <string>
#include <unordered_map>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

class AddHeaderRootContext : public RootContext {
public:
  explicit AddHeaderRootContext(uint32_t id, StringView root_id) : RootContext(id, root_id) {}
  bool onConfigure(size_t /* configuration_size */) override;

  bool onStart(size_t) override;

  std::string header_name_;
  std::string header_value_;
  std::vector<std::pair<std::regex, std::string>> rewrites_;
};

class AddHeaderContext : public Context {
public:
  explicit AddHeaderContext(uint32_t id, RootContext* root) : Context(id, root), root_(static_cast<AddHeaderRootContext*>(static_cast<void*>(root))) {}

  void onCreate() override;
  FilterHeadersStatus onRequestHeaders(uint32_t headers) override;
  FilterDataStatus onRequestBody(size_t body_buffer_length, bool end_of_stream) override;
  FilterHeadersStatus onResponseHeaders(uint32_t headers) override;
  void onDone() override;
  void onLog() override;
  void onDelete() override;
private:

  AddHeaderRootContext* root_;
};
static RegisterContextFactory register_AddHeaderContext(CONTEXT_FACTORY(AddHeaderContext),
                                                      ROOT_FACTORY(AddHeaderRootContext),
                                                      "add_header_root_id");

bool AddHeaderRootContext::onConfigure(size_t) {
  auto conf = getConfiguration();
  if (!conf.get()) {
    return true;
  }
  // (The tutorial: google::protobuf::util::JsonStringToMessage(conf->toString(), &config, ...).)
  auto config = minijson::parse(conf->toString());
  if (!config) {
    return false;
  }
  LOG_DEBUG("onConfigure name " + config->get("name").asString());
  LOG_DEBUG("onConfigure " + config->get("value").asString());
  header_name_ = config->get("name").asString();
  header_value_ = config->get("value").asString();
  for (auto &rewrite : config->get("rewrites").items()) {
    rewrites_.push_back(
        {std::regex(rewrite.get("regex_match").asString()), rewrite.get("custom_path").asString()});
  }
  return true;
}

bool AddHeaderRootContext::onStart(size_t) { LOG_DEBUG("onStart"); return true;}

void AddHeaderContext::onCreate() { LOG_DEBUG(std::string("onCreate " + std::to_string(id()))); }

FilterHeadersStatus AddHeaderContext::onRequestHeaders(uint32_t) {
  LOG_DEBUG(std::string("onRequestHeaders ") + std::to_string(id()));
  auto path = getRequestHeader(":path");
  if (!path.get()) {
    return FilterHeadersStatus::Continue;
  }
  std::string path_string = path->toString();
  for (auto &rewrite : root_->rewrites_) {
    if (std::regex_match(path_string, rewrite.first) &&
        !rewrite.second.empty()) {
      replaceRequestHeader(":path", rewrite.second);
      replaceRequestHeader("location", "envoy-wasm");
      return FilterHeadersStatus::Continue;
    }
  }
  return FilterHeadersStatus::Continue;
}

FilterHeadersStatus AddHeaderContext::onResponseHeaders(uint32_t) {
  LOG_DEBUG(std::string("onResponseHeaders ") + std::to_string(id()));
  addResponseHeader(root_->header_name_, root_->header_value_);
  replaceResponseHeader("location", "envoy-wasm");
  return FilterHeadersStatus::Continue;
}

FilterDataStatus AddHeaderContext::onRequestBody(size_t body_buffer_length, bool end_of_stream) {
  return FilterDataStatus::Continue;
}

void AddHeaderContext::onDone() { LOG_DEBUG(std::string("onDone " + std::to_string(id()))); }

void AddHeaderContext::onLog() { LOG_DEBUG(std::string("onLog " + std::to_string(id()))); }

void AddHeaderContext::onDelete() { LOG_DEBUG(std::string("onDelete " + std::to_string(id()))); }

WASMGATE_NULL_PLUGIN(seed_add_header)
