// A native plugin for the null-engine tests (null_engine_test.cc): it runs every shape of
// hostcall the null VM marshals (inputs, u32/u64/size_t out-params, returned blocks, null
// out-params, bad native pointers) and logs each outcome as "key=value" for the test to read.
// Behaviour is chosen by request headers:
//   x-reply: send a local reply 403 with a header and a body
//   x-throw: throw from the callback (the VM must fail, the proxy must not)
//   x-bad-pointers: hostcalls with a null pointer and a non-zero size
// NOLINT(namespace-envoy)
#include <stdexcept>
#include <string>

#include "proxy_wasm_intrinsics.h"

START_WASM_PLUGIN(null_probe)

class ProbeRoot : public RootContext {
public:
  ProbeRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  bool onConfigure(size_t size) override {
    auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, size);
    LOG_INFO("configuration=" + conf->toString());
    return conf->view() != "reject";
  }
};

class ProbeContext : public Context {
public:
  ProbeContext(uint32_t id, RootContext *root) : Context(id, root) {}

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool) override {
    log("headers_arg", std::to_string(headers));
    auto in = getRequestHeader("x-in");
    log("x-in", in->toString());
    log("x-missing.found", getRequestHeader("x-missing")->data() != nullptr ? "yes" : "no");
    auto pairs = getRequestHeaderPairs();
    log("pairs", std::to_string(pairs->pairs().size()));
    addRequestHeader("x-added", "v-" + in->toString());
    replaceRequestHeader("x-replace", "new");
    removeRequestHeader("x-remove");
    size_t map_size = 0;
    log("map_size.result", std::to_string(int(getHeaderMapSize(WasmHeaderMapType::RequestHeaders,
                                                               &map_size))));
    log("map_size", std::to_string(map_size));
    std::string name;
    log("plugin_name.found", getValue({"plugin_name"}, &name) ? "yes" : "no");
    log("plugin_name", name);
    uint64_t now = 0;
    log("time.result", std::to_string(int(proxy_get_current_time_nanoseconds(&now))));
    log("time.nonzero", now != 0 ? "yes" : "no");
    // A discarded result (null out-params) is allowed for foreign functions.
    log("foreign.result",
        std::to_string(int(proxy_call_foreign_function("no_such_function", 16, "", 0, nullptr,
                                                       nullptr))));
    size_t body_size = 99;
    uint32_t flags = 99;
    log("body_status.result",
        std::to_string(int(getBufferStatus(WasmBufferType::HttpRequestBody, &body_size, &flags))));
    log("body_size", std::to_string(body_size));
    if (getRequestHeader("x-bad-pointers")->data() != nullptr) {
      log("bad.log", std::to_string(int(proxy_log(LogLevel::info, nullptr, 5))));
      log("bad.add", std::to_string(int(proxy_add_header_map_value(
                         WasmHeaderMapType::RequestHeaders, nullptr, 3, "v", 1))));
      log("bad.map_type", std::to_string(int(proxy_add_header_map_value(
                              static_cast<WasmHeaderMapType>(99), "k", 1, "v", 1))));
      const char *ptr = nullptr;
      log("bad.out", std::to_string(int(proxy_get_header_map_pairs(
                         WasmHeaderMapType::RequestHeaders, &ptr, nullptr))));
    }
    if (getRequestHeader("x-throw")->data() != nullptr) {
      throw std::runtime_error("probe exploded");
    }
    if (getRequestHeader("x-reply")->data() != nullptr) {
      sendLocalResponse(403, "denied by probe", "no entry", {{"x-probe", "1"}});
      return FilterHeadersStatus::StopIteration;
    }
    return FilterHeadersStatus::Continue;
  }

  FilterDataStatus onRequestBody(size_t body_size, bool end_of_stream) override {
    if (!end_of_stream)
      return FilterDataStatus::StopIterationAndBuffer;
    auto body = getBufferBytes(WasmBufferType::HttpRequestBody, 0, body_size);
    std::string upper = body->toString();
    for (char &c : upper)
      c = (c >= 'a' && c <= 'z') ? char(c - 32) : c;
    setBuffer(WasmBufferType::HttpRequestBody, 0, body_size, upper);
    return FilterDataStatus::Continue;
  }

  void onDone() override { LOG_INFO("done"); }

private:
  void log(const std::string &key, const std::string &value) { LOG_INFO(key + "=" + value); }
};

static RegisterContextFactory register_Probe(CONTEXT_FACTORY(ProbeContext),
                                             ROOT_FACTORY(ProbeRoot));

END_WASM_PLUGIN

WASMGATE_NULL_PLUGIN(null_probe)
