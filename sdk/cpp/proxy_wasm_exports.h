// wasmgate C++ plugin SDK (source-compatible with proxy-wasm-cpp-sdk).
//
// What the proxy-wasm C++ SDK keeps in proxy_wasm_intrinsics.cc, as a header: the context
// registry, the dispatch of host callbacks to contexts, and the module's exports.
//
// Every definition here is `inline` (exports are `extern "C" inline` + `used`), so any number
// of a plugin's .cc files may include proxy_wasm_intrinsics.h; the linker keeps one copy.
//
//  * wasm32: the proxy_on_* callbacks, proxy_abi_version_0_2_1 and `malloc` are exported by
//    name (export_name), so no linker --export flags are needed.
//  * native, no PROXY_WASM_NULL_VM: the same extern "C" functions without export names, so
//    a test can call them directly against its own host double.
//  * PROXY_WASM_NULL_VM: no extern "C" symbols at all; WASMGATE_NULL_PLUGIN(name) registers a
//    wasmgate::nullvm::NullVmPlugin table instead (see null_plugin.h).
// NOLINT(namespace-envoy)
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace proxy_wasm_sdk {

// Context factories by root_id, filled by RegisterContextFactory objects.
struct Factories {
  std::unordered_map<std::string, RootFactory> root_factories;
  std::unordered_map<std::string, ContextFactory> context_factories;

  void add(ContextFactory context_factory, RootFactory root_factory, std::string_view root_id) {
    if (context_factory)
      context_factories[std::string(root_id)] = std::move(context_factory);
    if (root_factory)
      root_factories[std::string(root_id)] = std::move(root_factory);
  }
};

// One VM instance's contexts. A wasm module has exactly one (its globals); a null-VM plugin has
// one per instance the host creates.
struct State
#ifdef PROXY_WASM_NULL_VM
    : proxy_wasm_null_vm::InstanceBase
#endif
{
  explicit State(const Factories *f) : factories(f) {}
  State(const State &) = delete;
  State &operator=(const State &) = delete;
  ~State() { clear(); }

  // Streams first: their destructors may still use their root context.
  void clear() {
    for (auto it = contexts.begin(); it != contexts.end();) {
      it = it->second->asContext() != nullptr ? contexts.erase(it) : std::next(it);
    }
    contexts.clear();
    roots.clear();
  }

  const Factories *factories;
  std::unordered_map<uint32_t, std::unique_ptr<ContextBase>> contexts;
  std::unordered_map<std::string, RootContext *> roots; // by root_id
  uint32_t active_context_id = 0;                       // the context whose callback is running
  // The stream factory of the last root_id looked up: every new stream needs it, and a
  // root_id is usually too long for the small-string buffer (no allocation per stream).
  std::string memo_root_id;
  const ContextFactory *memo_factory = nullptr;
  bool memo_valid = false;
};

#ifndef PROXY_WASM_NULL_VM
inline Factories &registeredFactories() {
  static Factories factories; // constructed on first registration (static-init order safe)
  return factories;
}
inline State *currentState() {
  static State state(&registeredFactories());
  return &state;
}
#else
inline State *currentState() { return static_cast<State *>(proxy_wasm_null_vm::currentInstance()); }
#endif

inline ContextBase *findContext(State &s, uint32_t id) {
  auto it = s.contexts.find(id);
  return it == s.contexts.end() ? nullptr : it->second.get();
}

inline uint32_t activeContextId() {
  State *s = currentState();
  return s ? s->active_context_id : 0;
}

} // namespace proxy_wasm_sdk

inline ContextBase *getContextBase(uint32_t context_id) {
  proxy_wasm_sdk::State *s = proxy_wasm_sdk::currentState();
  return s ? proxy_wasm_sdk::findContext(*s, context_id) : nullptr;
}

inline Context *getContext(uint32_t context_id) {
  ContextBase *base = getContextBase(context_id);
  return base ? base->asContext() : nullptr;
}

inline RootContext *getRootContext(uint32_t context_id) {
  ContextBase *base = getContextBase(context_id);
  return base ? base->asRoot() : nullptr;
}

inline RootContext *getRoot(std::string_view root_id) {
  proxy_wasm_sdk::State *s = proxy_wasm_sdk::currentState();
  if (!s)
    return nullptr;
  auto it = s->roots.find(std::string(root_id));
  return it == s->roots.end() ? nullptr : it->second;
}

namespace proxy_wasm_sdk {
namespace dispatch {

// Records which context is running so httpCall can remember where a call came from.
class ActiveContext {
public:
  ActiveContext(State &s, uint32_t id) : s_(s), saved_(s.active_context_id) {
    s.active_context_id = id;
  }
  ~ActiveContext() { s_.active_context_id = saved_; }

private:
  State &s_;
  uint32_t saved_;
};

// The host names the plugin's root_id through this property (proxy-wasm-abi.md 4.1).
inline std::string pluginRootId() {
  static constexpr char kProperty[] = "plugin_root_id";
  const char *ptr = nullptr;
  size_t size = 0;
  if (proxy_get_property(kProperty, sizeof(kProperty) - 1, &ptr, &size) != WasmResult::Ok) {
    logWarn("proxy-wasm sdk: property plugin_root_id is not available; using root_id \"\"");
    return {};
  }
  return WasmData(ptr, size).toString();
}

inline void createRootContext(State &s, uint32_t id) {
  const std::string root_id = pluginRootId();
  std::unique_ptr<RootContext> root;
  auto it = s.factories->root_factories.find(root_id);
  if (it != s.factories->root_factories.end() && it->second) {
    root = it->second(id, root_id);
  } else if (s.factories->context_factories.count(root_id) == 0 &&
             !(s.factories->root_factories.empty() && s.factories->context_factories.empty())) {
    // The plugin registered contexts, but not for this root_id: every callback would do
    // nothing, which is nearly always a root_id typo in the proxy configuration.
    std::string known;
    for (const auto &[name, factory] : s.factories->root_factories)
      known += (known.empty() ? "\"" : ", \"") + name + "\"";
    for (const auto &[name, factory] : s.factories->context_factories)
      if (s.factories->root_factories.count(name) == 0)
        known += (known.empty() ? "\"" : ", \"") + name + "\"";
    logWarn("proxy-wasm sdk: no context factory registered for root_id \"" + root_id +
            "\" (registered: " + known + "); the plugin will do nothing");
  }
  if (!root)
    root = std::make_unique<RootContext>(id, root_id);
  RootContext *raw = root.get();
  s.contexts[id] = std::move(root);
  s.roots[root_id] = raw;
  raw->onCreate();
}

inline void createStreamContext(State &s, uint32_t id, uint32_t parent_id) {
  ContextBase *parent = findContext(s, parent_id);
  RootContext *root = parent ? parent->asRoot() : nullptr;
  if (!root) {
    logError("proxy-wasm sdk: context " + std::to_string(id) +
             " created with unknown root context " + std::to_string(parent_id));
    return;
  }
  std::unique_ptr<Context> context;
  if (!s.memo_valid || s.memo_root_id != root->root_id()) {
    s.memo_root_id = std::string(root->root_id());
    auto it = s.factories->context_factories.find(s.memo_root_id);
    s.memo_factory = it != s.factories->context_factories.end() && it->second ? &it->second
                                                                               : nullptr;
    s.memo_valid = true;
  }
  if (s.memo_factory)
    context = (*s.memo_factory)(id, root);
  if (!context)
    context = std::make_unique<Context>(id, root);
  Context *raw = context.get();
  s.contexts[id] = std::move(context);
  raw->onCreate();
}

inline void onContextCreate(State &s, uint32_t id, uint32_t parent_id) {
  if (findContext(s, id) != nullptr) {
    logError("proxy-wasm sdk: context " + std::to_string(id) + " created twice");
    return;
  }
  ActiveContext active(s, id);
  if (parent_id == 0) {
    createRootContext(s, id);
  } else {
    createStreamContext(s, id, parent_id);
  }
}

// Callbacks for ids the SDK does not know (never created, or already deleted) are answered
// with the neutral value instead of crashing the VM.
template <typename T, typename F>
inline auto onRoot(State &s, uint32_t id, T fallback, F &&f) -> T {
  ContextBase *base = findContext(s, id);
  RootContext *root = base ? base->asRoot() : nullptr;
  if (!root)
    return fallback;
  ActiveContext active(s, id);
  return f(root);
}

template <typename T, typename F>
inline auto onStream(State &s, uint32_t id, T fallback, F &&f) -> T {
  ContextBase *base = findContext(s, id);
  Context *context = base ? base->asContext() : nullptr;
  if (!context)
    return fallback;
  ActiveContext active(s, id);
  return f(context);
}

template <typename F> inline void onRootVoid(State &s, uint32_t id, F &&f) {
  onRoot(s, id, 0, [&](RootContext *root) {
    f(root);
    return 0;
  });
}

template <typename F> inline void onStreamVoid(State &s, uint32_t id, F &&f) {
  onStream(s, id, 0, [&](Context *context) {
    f(context);
    return 0;
  });
}

inline uint32_t onVmStart(State &s, uint32_t id, uint32_t size) {
  return onRoot(s, id, 0u, [&](RootContext *r) { return r->onStart(size) ? 1u : 0u; });
}
inline uint32_t validateConfiguration(State &s, uint32_t id, uint32_t size) {
  return onRoot(s, id, 0u,
                [&](RootContext *r) { return r->validateConfiguration(size) ? 1u : 0u; });
}
inline uint32_t onConfigure(State &s, uint32_t id, uint32_t size) {
  return onRoot(s, id, 0u, [&](RootContext *r) { return r->onConfigure(size) ? 1u : 0u; });
}
inline void onTick(State &s, uint32_t id) {
  onRootVoid(s, id, [&](RootContext *r) { r->onTick(); });
}
inline void onQueueReady(State &s, uint32_t id, uint32_t token) {
  onRootVoid(s, id, [&](RootContext *r) { r->onQueueReady(token); });
}
inline void onForeignFunction(State &s, uint32_t id, uint32_t function_id, uint32_t size) {
  ContextBase *base = findContext(s, id);
  if (!base)
    return;
  ActiveContext active(s, id);
  base->onForeignFunction(function_id, size);
}

inline uint32_t onNewConnection(State &s, uint32_t id) {
  return onStream(s, id, 0u, [&](Context *c) { return uint32_t(c->onNewConnection()); });
}
inline uint32_t onDownstreamData(State &s, uint32_t id, uint32_t size, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onDownstreamData(size, eos != 0)); });
}
inline uint32_t onUpstreamData(State &s, uint32_t id, uint32_t size, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onUpstreamData(size, eos != 0)); });
}
inline void onDownstreamConnectionClose(State &s, uint32_t id, uint32_t peer) {
  onStreamVoid(s, id,
               [&](Context *c) { c->onDownstreamConnectionClose(static_cast<CloseType>(peer)); });
}
inline void onUpstreamConnectionClose(State &s, uint32_t id, uint32_t peer) {
  onStreamVoid(s, id,
               [&](Context *c) { c->onUpstreamConnectionClose(static_cast<CloseType>(peer)); });
}

inline uint32_t onRequestHeaders(State &s, uint32_t id, uint32_t headers, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onRequestHeaders(headers, eos != 0)); });
}
inline uint32_t onRequestBody(State &s, uint32_t id, uint32_t size, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onRequestBody(size, eos != 0)); });
}
inline uint32_t onRequestTrailers(State &s, uint32_t id, uint32_t trailers) {
  return onStream(s, id, 0u, [&](Context *c) { return uint32_t(c->onRequestTrailers(trailers)); });
}
inline uint32_t onRequestMetadata(State &s, uint32_t id, uint32_t elements) {
  return onStream(s, id, 0u, [&](Context *c) { return uint32_t(c->onRequestMetadata(elements)); });
}
inline uint32_t onResponseHeaders(State &s, uint32_t id, uint32_t headers, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onResponseHeaders(headers, eos != 0)); });
}
inline uint32_t onResponseBody(State &s, uint32_t id, uint32_t size, uint32_t eos) {
  return onStream(s, id, 0u,
                  [&](Context *c) { return uint32_t(c->onResponseBody(size, eos != 0)); });
}
inline uint32_t onResponseTrailers(State &s, uint32_t id, uint32_t trailers) {
  return onStream(s, id, 0u, [&](Context *c) { return uint32_t(c->onResponseTrailers(trailers)); });
}
inline uint32_t onResponseMetadata(State &s, uint32_t id, uint32_t elements) {
  return onStream(s, id, 0u, [&](Context *c) { return uint32_t(c->onResponseMetadata(elements)); });
}

inline void onHttpCallResponse(State &s, uint32_t id, uint32_t token, uint32_t headers,
                               uint32_t body_size, uint32_t trailers) {
  onRootVoid(s, id,
             [&](RootContext *r) { r->onHttpCallResponse(token, headers, body_size, trailers); });
}
inline void onGrpcReceiveInitialMetadata(State &s, uint32_t id, uint32_t token, uint32_t n) {
  onRootVoid(s, id, [&](RootContext *r) { r->onGrpcReceiveInitialMetadata(token, n); });
}
inline void onGrpcReceive(State &s, uint32_t id, uint32_t token, uint32_t size) {
  onRootVoid(s, id, [&](RootContext *r) { r->onGrpcReceive(token, size); });
}
inline void onGrpcReceiveTrailingMetadata(State &s, uint32_t id, uint32_t token, uint32_t n) {
  onRootVoid(s, id, [&](RootContext *r) { r->onGrpcReceiveTrailingMetadata(token, n); });
}
inline void onGrpcClose(State &s, uint32_t id, uint32_t token, uint32_t status) {
  onRootVoid(s, id,
             [&](RootContext *r) { r->onGrpcClose(token, static_cast<GrpcStatus>(status)); });
}

// Root contexts: 1 = may be deleted now, 0 = will call proxy_done() later. Unknown: done.
inline uint32_t onDone(State &s, uint32_t id) {
  ContextBase *base = findContext(s, id);
  if (!base)
    return 1;
  ActiveContext active(s, id);
  return base->onDoneBase() ? 1 : 0;
}

inline void onLog(State &s, uint32_t id) {
  ContextBase *base = findContext(s, id);
  if (!base)
    return;
  ActiveContext active(s, id);
  base->onLog();
}

inline void onDelete(State &s, uint32_t id) {
  auto it = s.contexts.find(id);
  if (it == s.contexts.end())
    return;
  {
    ActiveContext active(s, id);
    it->second->onDelete();
  }
  // onDelete may have touched the map (e.g. created contexts): look the entry up again.
  it = s.contexts.find(id);
  if (it == s.contexts.end())
    return;
  if (RootContext *root = it->second->asRoot()) {
    auto r = s.roots.find(std::string(root->root_id()));
    if (r != s.roots.end() && r->second == root)
      s.roots.erase(r);
  }
  std::unique_ptr<ContextBase> doomed = std::move(it->second);
  s.contexts.erase(it);
  ActiveContext active(s, id);
  doomed.reset(); // the destructor runs with the context still "active" for logging
}

} // namespace dispatch
} // namespace proxy_wasm_sdk

#ifndef PROXY_WASM_NULL_VM

// Register Context factories, e.g.
//   static RegisterContextFactory register_MyContext(CONTEXT_FACTORY(MyContext),
//                                                    ROOT_FACTORY(MyRootContext), "my_root_id");
struct RegisterContextFactory {
  RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory,
                         std::string_view root_id = "") {
    proxy_wasm_sdk::registeredFactories().add(std::move(context_factory), std::move(root_factory),
                                              root_id);
  }
  explicit RegisterContextFactory(RootFactory root_factory, std::string_view root_id = "")
      : RegisterContextFactory(nullptr, std::move(root_factory), root_id) {}
  explicit RegisterContextFactory(ContextFactory context_factory, std::string_view root_id = "")
      : RegisterContextFactory(std::move(context_factory), nullptr, root_id) {}
};

#if defined(__wasm__)
#define PROXY_WASM_EXPORT_AS(_name) extern "C" inline __attribute__((used, export_name(#_name)))
#else
#define PROXY_WASM_EXPORT_AS(_name) extern "C" inline __attribute__((used))
#endif

#define PROXY_WASM_STATE (*proxy_wasm_sdk::currentState())

// The ABI version marker: the host reads it from the export section and never calls it.
PROXY_WASM_EXPORT_AS(proxy_abi_version_0_2_1) void proxy_abi_version_0_2_1() {}

#if defined(__wasm__) && !defined(PROXY_WASM_NO_MALLOC_EXPORT)
// The host allocates the results of hostcalls in guest memory through the "malloc" export and
// the SDK frees them with ::free. Exported under that name from a wrapper so that no
// -Wl,--export=malloc is needed; define PROXY_WASM_NO_MALLOC_EXPORT if the build already
// exports malloc (duplicate export names make the module invalid).
PROXY_WASM_EXPORT_AS(malloc) void *proxy_wasm_sdk_malloc(size_t size) { return ::malloc(size); }
#endif

PROXY_WASM_EXPORT_AS(proxy_on_context_create)
void proxy_on_context_create(uint32_t context_id, uint32_t parent_context_id) {
  proxy_wasm_sdk::dispatch::onContextCreate(PROXY_WASM_STATE, context_id, parent_context_id);
}
PROXY_WASM_EXPORT_AS(proxy_on_vm_start)
uint32_t proxy_on_vm_start(uint32_t root_context_id, uint32_t vm_configuration_size) {
  return proxy_wasm_sdk::dispatch::onVmStart(PROXY_WASM_STATE, root_context_id,
                                             vm_configuration_size);
}
PROXY_WASM_EXPORT_AS(proxy_validate_configuration)
uint32_t proxy_validate_configuration(uint32_t root_context_id, uint32_t configuration_size) {
  return proxy_wasm_sdk::dispatch::validateConfiguration(PROXY_WASM_STATE, root_context_id,
                                                         configuration_size);
}
PROXY_WASM_EXPORT_AS(proxy_on_configure)
uint32_t proxy_on_configure(uint32_t root_context_id, uint32_t configuration_size) {
  return proxy_wasm_sdk::dispatch::onConfigure(PROXY_WASM_STATE, root_context_id,
                                               configuration_size);
}
PROXY_WASM_EXPORT_AS(proxy_on_tick) void proxy_on_tick(uint32_t root_context_id) {
  proxy_wasm_sdk::dispatch::onTick(PROXY_WASM_STATE, root_context_id);
}
PROXY_WASM_EXPORT_AS(proxy_on_queue_ready)
void proxy_on_queue_ready(uint32_t root_context_id, uint32_t token) {
  proxy_wasm_sdk::dispatch::onQueueReady(PROXY_WASM_STATE, root_context_id, token);
}
PROXY_WASM_EXPORT_AS(proxy_on_foreign_function)
void proxy_on_foreign_function(uint32_t root_context_id, uint32_t function_id, uint32_t data_size) {
  proxy_wasm_sdk::dispatch::onForeignFunction(PROXY_WASM_STATE, root_context_id, function_id,
                                              data_size);
}

PROXY_WASM_EXPORT_AS(proxy_on_new_connection)
uint32_t proxy_on_new_connection(uint32_t context_id) {
  return proxy_wasm_sdk::dispatch::onNewConnection(PROXY_WASM_STATE, context_id);
}
PROXY_WASM_EXPORT_AS(proxy_on_downstream_data)
uint32_t proxy_on_downstream_data(uint32_t context_id, uint32_t data_length,
                                  uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onDownstreamData(PROXY_WASM_STATE, context_id, data_length,
                                                    end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_upstream_data)
uint32_t proxy_on_upstream_data(uint32_t context_id, uint32_t data_length, uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onUpstreamData(PROXY_WASM_STATE, context_id, data_length,
                                                  end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_downstream_connection_close)
void proxy_on_downstream_connection_close(uint32_t context_id, uint32_t peer_type) {
  proxy_wasm_sdk::dispatch::onDownstreamConnectionClose(PROXY_WASM_STATE, context_id, peer_type);
}
PROXY_WASM_EXPORT_AS(proxy_on_upstream_connection_close)
void proxy_on_upstream_connection_close(uint32_t context_id, uint32_t peer_type) {
  proxy_wasm_sdk::dispatch::onUpstreamConnectionClose(PROXY_WASM_STATE, context_id, peer_type);
}

PROXY_WASM_EXPORT_AS(proxy_on_request_headers)
uint32_t proxy_on_request_headers(uint32_t context_id, uint32_t headers, uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onRequestHeaders(PROXY_WASM_STATE, context_id, headers,
                                                    end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_request_body)
uint32_t proxy_on_request_body(uint32_t context_id, uint32_t body_buffer_length,
                               uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onRequestBody(PROXY_WASM_STATE, context_id, body_buffer_length,
                                                 end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_request_trailers)
uint32_t proxy_on_request_trailers(uint32_t context_id, uint32_t trailers) {
  return proxy_wasm_sdk::dispatch::onRequestTrailers(PROXY_WASM_STATE, context_id, trailers);
}
PROXY_WASM_EXPORT_AS(proxy_on_request_metadata)
uint32_t proxy_on_request_metadata(uint32_t context_id, uint32_t elements) {
  return proxy_wasm_sdk::dispatch::onRequestMetadata(PROXY_WASM_STATE, context_id, elements);
}
PROXY_WASM_EXPORT_AS(proxy_on_response_headers)
uint32_t proxy_on_response_headers(uint32_t context_id, uint32_t headers, uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onResponseHeaders(PROXY_WASM_STATE, context_id, headers,
                                                     end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_response_body)
uint32_t proxy_on_response_body(uint32_t context_id, uint32_t body_buffer_length,
                                uint32_t end_of_stream) {
  return proxy_wasm_sdk::dispatch::onResponseBody(PROXY_WASM_STATE, context_id, body_buffer_length,
                                                  end_of_stream);
}
PROXY_WASM_EXPORT_AS(proxy_on_response_trailers)
uint32_t proxy_on_response_trailers(uint32_t context_id, uint32_t trailers) {
  return proxy_wasm_sdk::dispatch::onResponseTrailers(PROXY_WASM_STATE, context_id, trailers);
}
PROXY_WASM_EXPORT_AS(proxy_on_response_metadata)
uint32_t proxy_on_response_metadata(uint32_t context_id, uint32_t elements) {
  return proxy_wasm_sdk::dispatch::onResponseMetadata(PROXY_WASM_STATE, context_id, elements);
}

PROXY_WASM_EXPORT_AS(proxy_on_http_call_response)
void proxy_on_http_call_response(uint32_t context_id, uint32_t token, uint32_t headers,
                                 uint32_t body_size, uint32_t trailers) {
  proxy_wasm_sdk::dispatch::onHttpCallResponse(PROXY_WASM_STATE, context_id, token, headers,
                                               body_size, trailers);
}
PROXY_WASM_EXPORT_AS(proxy_on_grpc_receive_initial_metadata)
void proxy_on_grpc_receive_initial_metadata(uint32_t context_id, uint32_t token, uint32_t headers) {
  proxy_wasm_sdk::dispatch::onGrpcReceiveInitialMetadata(PROXY_WASM_STATE, context_id, token,
                                                         headers);
}
PROXY_WASM_EXPORT_AS(proxy_on_grpc_receive)
void proxy_on_grpc_receive(uint32_t context_id, uint32_t token, uint32_t response_size) {
  proxy_wasm_sdk::dispatch::onGrpcReceive(PROXY_WASM_STATE, context_id, token, response_size);
}
// The host looks up this name; the upstream SDK header's "proxy_on_grpc_trailing_metadata"
// is never called.
PROXY_WASM_EXPORT_AS(proxy_on_grpc_receive_trailing_metadata)
void proxy_on_grpc_receive_trailing_metadata(uint32_t context_id, uint32_t token,
                                             uint32_t trailers) {
  proxy_wasm_sdk::dispatch::onGrpcReceiveTrailingMetadata(PROXY_WASM_STATE, context_id, token,
                                                          trailers);
}
PROXY_WASM_EXPORT_AS(proxy_on_grpc_close)
void proxy_on_grpc_close(uint32_t context_id, uint32_t token, uint32_t status_code) {
  proxy_wasm_sdk::dispatch::onGrpcClose(PROXY_WASM_STATE, context_id, token, status_code);
}

PROXY_WASM_EXPORT_AS(proxy_on_done) uint32_t proxy_on_done(uint32_t context_id) {
  return proxy_wasm_sdk::dispatch::onDone(PROXY_WASM_STATE, context_id);
}
PROXY_WASM_EXPORT_AS(proxy_on_log) void proxy_on_log(uint32_t context_id) {
  proxy_wasm_sdk::dispatch::onLog(PROXY_WASM_STATE, context_id);
}
PROXY_WASM_EXPORT_AS(proxy_on_delete) void proxy_on_delete(uint32_t context_id) {
  proxy_wasm_sdk::dispatch::onDelete(PROXY_WASM_STATE, context_id);
}

#undef PROXY_WASM_STATE

// Null-VM registration is meaningless in a wasm module; keep plugin sources buildable both ways.
#define WASMGATE_NULL_PLUGIN(_name)

#else // PROXY_WASM_NULL_VM

namespace proxy_wasm_null_vm {

// Makes `instance` the current one for the hostcall shims for the duration of a host call
// (nested host calls restore the outer one).
class Scope {
public:
  explicit Scope(void *instance) : saved_(currentInstance()) {
    currentInstance() = static_cast<proxy_wasm_sdk::State *>(instance);
  }
  ~Scope() { currentInstance() = saved_; }
  Scope(const Scope &) = delete;
  Scope &operator=(const Scope &) = delete;

private:
  InstanceBase *saved_;
};

inline proxy_wasm_sdk::State &stateOf(void *instance) {
  return *static_cast<proxy_wasm_sdk::State *>(instance);
}

inline void *createInstance(const wasmgate::nullvm::NullVmPlugin *plugin,
                            const wasmgate::nullvm::NullVmHostApi *host) {
  if (plugin == nullptr || host == nullptr ||
      host->api_version != wasmgate::nullvm::kNullVmApiVersion) {
    return nullptr;
  }
  auto *state =
      new proxy_wasm_sdk::State(static_cast<const proxy_wasm_sdk::Factories *>(plugin->sdk_data));
  state->host = host;
  return state;
}

inline void destroyInstance(void *instance) {
  if (instance == nullptr)
    return;
  Scope scope(instance); // context destructors may still log
  delete static_cast<proxy_wasm_sdk::State *>(instance);
}

// The NullVmPlugin entry points: set the instance, then dispatch as the wasm exports do.
#define PROXY_WASM_NULL_VM_ENTRY(_ret, _name, _dispatch, _params, _args)                           \
  inline _ret _name(void *instance PROXY_WASM_NULL_VM_UNPAREN _params) {                           \
    Scope scope(instance);                                                                         \
    return proxy_wasm_sdk::dispatch::_dispatch(stateOf(instance)                                   \
                                                   PROXY_WASM_NULL_VM_UNPAREN _args);              \
  }
#define PROXY_WASM_NULL_VM_UNPAREN(...) __VA_ARGS__

PROXY_WASM_NULL_VM_ENTRY(void, onContextCreate, onContextCreate, (, uint32_t id, uint32_t parent),
                         (, id, parent))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onVmStart, onVmStart, (, uint32_t id, uint32_t size),
                         (, id, size))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, validateConfiguration, validateConfiguration,
                         (, uint32_t id, uint32_t size), (, id, size))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onConfigure, onConfigure, (, uint32_t id, uint32_t size),
                         (, id, size))
PROXY_WASM_NULL_VM_ENTRY(void, onTick, onTick, (, uint32_t id), (, id))
PROXY_WASM_NULL_VM_ENTRY(void, onQueueReady, onQueueReady, (, uint32_t id, uint32_t token),
                         (, id, token))
PROXY_WASM_NULL_VM_ENTRY(void, onForeignFunction, onForeignFunction,
                         (, uint32_t id, uint32_t function_id, uint32_t size),
                         (, id, function_id, size))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onDone, onDone, (, uint32_t id), (, id))
PROXY_WASM_NULL_VM_ENTRY(void, onLog, onLog, (, uint32_t id), (, id))
PROXY_WASM_NULL_VM_ENTRY(void, onDelete, onDelete, (, uint32_t id), (, id))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onNewConnection, onNewConnection, (, uint32_t id), (, id))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onDownstreamData, onDownstreamData,
                         (, uint32_t id, uint32_t size, uint32_t eos), (, id, size, eos))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onUpstreamData, onUpstreamData,
                         (, uint32_t id, uint32_t size, uint32_t eos), (, id, size, eos))
PROXY_WASM_NULL_VM_ENTRY(void, onDownstreamConnectionClose, onDownstreamConnectionClose,
                         (, uint32_t id, uint32_t peer), (, id, peer))
PROXY_WASM_NULL_VM_ENTRY(void, onUpstreamConnectionClose, onUpstreamConnectionClose,
                         (, uint32_t id, uint32_t peer), (, id, peer))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onRequestHeaders, onRequestHeaders,
                         (, uint32_t id, uint32_t n, uint32_t eos), (, id, n, eos))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onRequestBody, onRequestBody,
                         (, uint32_t id, uint32_t size, uint32_t eos), (, id, size, eos))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onRequestTrailers, onRequestTrailers,
                         (, uint32_t id, uint32_t n), (, id, n))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onRequestMetadata, onRequestMetadata,
                         (, uint32_t id, uint32_t n), (, id, n))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onResponseHeaders, onResponseHeaders,
                         (, uint32_t id, uint32_t n, uint32_t eos), (, id, n, eos))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onResponseBody, onResponseBody,
                         (, uint32_t id, uint32_t size, uint32_t eos), (, id, size, eos))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onResponseTrailers, onResponseTrailers,
                         (, uint32_t id, uint32_t n), (, id, n))
PROXY_WASM_NULL_VM_ENTRY(uint32_t, onResponseMetadata, onResponseMetadata,
                         (, uint32_t id, uint32_t n), (, id, n))
PROXY_WASM_NULL_VM_ENTRY(void, onHttpCallResponse, onHttpCallResponse,
                         (, uint32_t id, uint32_t token, uint32_t headers, uint32_t body_size,
                          uint32_t trailers),
                         (, id, token, headers, body_size, trailers))
PROXY_WASM_NULL_VM_ENTRY(void, onGrpcReceiveInitialMetadata, onGrpcReceiveInitialMetadata,
                         (, uint32_t id, uint32_t token, uint32_t n), (, id, token, n))
PROXY_WASM_NULL_VM_ENTRY(void, onGrpcReceive, onGrpcReceive,
                         (, uint32_t id, uint32_t token, uint32_t size), (, id, token, size))
PROXY_WASM_NULL_VM_ENTRY(void, onGrpcReceiveTrailingMetadata, onGrpcReceiveTrailingMetadata,
                         (, uint32_t id, uint32_t token, uint32_t n), (, id, token, n))
PROXY_WASM_NULL_VM_ENTRY(void, onGrpcClose, onGrpcClose,
                         (, uint32_t id, uint32_t token, uint32_t status), (, id, token, status))

#undef PROXY_WASM_NULL_VM_ENTRY
#undef PROXY_WASM_NULL_VM_UNPAREN

// One per WASMGATE_NULL_PLUGIN: the plugin's export table, registered by name at startup.
class PluginRegistration {
public:
  PluginRegistration(const char *name, const proxy_wasm_sdk::Factories *factories) {
    plugin_.name = name;
    plugin_.abi_version = "0.2.1";
    plugin_.sdk_data = factories;
    plugin_.create_instance = &createInstance;
    plugin_.destroy_instance = &destroyInstance;
    plugin_.proxy_on_context_create = &onContextCreate;
    plugin_.proxy_on_vm_start = &onVmStart;
    plugin_.proxy_validate_configuration = &validateConfiguration;
    plugin_.proxy_on_configure = &onConfigure;
    plugin_.proxy_on_tick = &onTick;
    plugin_.proxy_on_queue_ready = &onQueueReady;
    plugin_.proxy_on_foreign_function = &onForeignFunction;
    plugin_.proxy_on_done = &onDone;
    plugin_.proxy_on_log = &onLog;
    plugin_.proxy_on_delete = &onDelete;
    plugin_.proxy_on_new_connection = &onNewConnection;
    plugin_.proxy_on_downstream_data = &onDownstreamData;
    plugin_.proxy_on_upstream_data = &onUpstreamData;
    plugin_.proxy_on_downstream_connection_close = &onDownstreamConnectionClose;
    plugin_.proxy_on_upstream_connection_close = &onUpstreamConnectionClose;
    plugin_.proxy_on_request_headers = &onRequestHeaders;
    plugin_.proxy_on_request_body = &onRequestBody;
    plugin_.proxy_on_request_trailers = &onRequestTrailers;
    plugin_.proxy_on_request_metadata = &onRequestMetadata;
    plugin_.proxy_on_response_headers = &onResponseHeaders;
    plugin_.proxy_on_response_body = &onResponseBody;
    plugin_.proxy_on_response_trailers = &onResponseTrailers;
    plugin_.proxy_on_response_metadata = &onResponseMetadata;
    plugin_.proxy_on_http_call_response = &onHttpCallResponse;
    plugin_.proxy_on_grpc_receive_initial_metadata = &onGrpcReceiveInitialMetadata;
    plugin_.proxy_on_grpc_receive = &onGrpcReceive;
    plugin_.proxy_on_grpc_receive_trailing_metadata = &onGrpcReceiveTrailingMetadata;
    plugin_.proxy_on_grpc_close = &onGrpcClose;
    wasmgate::nullvm::registerPlugin(&plugin_);
  }
  PluginRegistration(const PluginRegistration &) = delete;
  PluginRegistration &operator=(const PluginRegistration &) = delete;

  const wasmgate::nullvm::NullVmPlugin &plugin() const { return plugin_; }

private:
  wasmgate::nullvm::NullVmPlugin plugin_;
};

} // namespace proxy_wasm_null_vm

// Everything below is per translation unit (anonymous namespace): each plugin .cc compiled
// into the proxy has its own factories, so several plugins can share one binary. Keep a
// plugin's RegisterContextFactory objects and its WASMGATE_NULL_PLUGIN in the same .cc file.
namespace {

inline proxy_wasm_sdk::Factories &proxyWasmTranslationUnitFactories() {
  static proxy_wasm_sdk::Factories factories;
  return factories;
}

struct RegisterContextFactory {
  RegisterContextFactory(ContextFactory context_factory, RootFactory root_factory,
                         std::string_view root_id = "") {
    proxyWasmTranslationUnitFactories().add(std::move(context_factory), std::move(root_factory),
                                            root_id);
  }
  explicit RegisterContextFactory(RootFactory root_factory, std::string_view root_id = "")
      : RegisterContextFactory(nullptr, std::move(root_factory), root_id) {}
  explicit RegisterContextFactory(ContextFactory context_factory, std::string_view root_id = "")
      : RegisterContextFactory(std::move(context_factory), nullptr, root_id) {}
};

} // namespace

// Registers this .cc file's context factories as the native plugin `_name` (an identifier:
// the name the proxy configuration selects with code.local.inline_string).
#define WASMGATE_NULL_PLUGIN(_name)                                                                \
  namespace {                                                                                      \
  ::proxy_wasm_null_vm::PluginRegistration                                                         \
      wasmgate_null_plugin_registration_##_name(#_name, &proxyWasmTranslationUnitFactories());     \
  }

#endif // PROXY_WASM_NULL_VM
