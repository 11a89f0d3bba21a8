// wasmgate C++ plugin SDK (source-compatible with proxy-wasm-cpp-sdk).
//
// The high-level C++ API: contexts, WasmData, and the camelCase helpers over the hostcalls.
// Include "proxy_wasm_intrinsics.h" rather than this file.
// NOLINT(namespace-envoy)
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#ifdef PROXY_WASM_PROTOBUF
#include "google/protobuf/message_lite.h"
#endif

// Context keeps both the current onRequestHeaders(headers, end_of_stream) and the older
// one-argument form so plugins written for either SDK generation compile. Overriding one of
// them "hides" the other, which -Wall reports; that is intended here, so the warning is off
// for translation units that include the SDK.
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

#define CHECK_RESULT(_c)                                                                           \
  do {                                                                                             \
    if ((_c) != WasmResult::Ok) {                                                                  \
      proxy_log(LogLevel::critical, #_c, sizeof(#_c) - 1);                                         \
      abort();                                                                                     \
    }                                                                                              \
  } while (0)

//
// High Level C++ API.
//
class ContextBase;
class RootContext;
class Context;

// Note: exceptions are not supported (plugins are built with -fno-exceptions).
#define WASM_EXCEPTIONS 0

inline WasmResult logTrace(std::string_view logMessage) {
  return proxy_log(LogLevel::trace, logMessage.data(), logMessage.size());
}
inline WasmResult logDebug(std::string_view logMessage) {
  return proxy_log(LogLevel::debug, logMessage.data(), logMessage.size());
}
inline WasmResult logInfo(std::string_view logMessage) {
  return proxy_log(LogLevel::info, logMessage.data(), logMessage.size());
}
inline WasmResult logWarn(std::string_view logMessage) {
  return proxy_log(LogLevel::warn, logMessage.data(), logMessage.size());
}
inline WasmResult logError(std::string_view logMessage) {
  return proxy_log(LogLevel::error, logMessage.data(), logMessage.size());
}
inline WasmResult logCritical(std::string_view logMessage) {
  return proxy_log(LogLevel::critical, logMessage.data(), logMessage.size());
}
inline void logAbort(std::string_view logMessage) {
  logCritical(logMessage);
  abort();
}

// Prefixes "[file:line]::function() " like the proxy-wasm C++ SDK does.
#define LOG(_level, ...)                                                                           \
  log##_level(std::string("[") + __FILE__ + ":" + std::to_string(__LINE__) +                       \
              "]::" + __FUNCTION__ + "() " + __VA_ARGS__)
#define LOG_TRACE(...) LOG(Trace, __VA_ARGS__)
#define LOG_DEBUG(...) LOG(Debug, __VA_ARGS__)
#define LOG_INFO(...) LOG(Info, __VA_ARGS__)
#define LOG_WARN(...) LOG(Warn, __VA_ARGS__)
#define LOG_ERROR(...) LOG(Error, __VA_ARGS__)
#define LOG_CRITICAL(...) LOG(Critical, __VA_ARGS__)

//
// Serialized maps (proxy-wasm-abi.md 1.3), all integers u32 little-endian:
//   u32 N, N x {u32 key_len, u32 value_len}, N x {key bytes, 0x00, value bytes, 0x00}
// Written byte by byte so the layout is the ABI's on any host (the null VM runs natively).
//
namespace proxy_wasm_sdk {

inline uint32_t loadLittleEndian32(const char *p) {
  const auto *b = reinterpret_cast<const unsigned char *>(p);
  return uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
}

inline char *storeLittleEndian32(char *p, uint32_t v) {
  p[0] = static_cast<char>(v & 0xff);
  p[1] = static_cast<char>((v >> 8) & 0xff);
  p[2] = static_cast<char>((v >> 16) & 0xff);
  p[3] = static_cast<char>((v >> 24) & 0xff);
  return p + 4;
}

// Returns no pairs for anything that does not fit the layout (a truncated or corrupt buffer
// from a buggy host must not make the plugin read out of bounds).
inline std::vector<std::pair<std::string_view, std::string_view>> parsePairs(const char *data,
                                                                             size_t size) {
  std::vector<std::pair<std::string_view, std::string_view>> result;
  if (data == nullptr || size < 4) {
    return result;
  }
  const uint32_t n = loadLittleEndian32(data);
  if (n > (size - 4) / 8) {
    return result;
  }
  const char *lengths = data + 4;
  const char *s = lengths + size_t(n) * 8;
  const char *end = data + size;
  result.reserve(n);
  for (uint32_t i = 0; i < n; i++) {
    const size_t key_size = loadLittleEndian32(lengths);
    const size_t value_size = loadLittleEndian32(lengths + 4);
    lengths += 8;
    if (size_t(end - s) < key_size + 1) {
      return {};
    }
    std::string_view key(s, key_size);
    s += key_size + 1;
    if (size_t(end - s) < value_size + 1) {
      return {};
    }
    std::string_view value(s, value_size);
    s += value_size + 1;
    result.emplace_back(key, value);
  }
  return result;
}

} // namespace proxy_wasm_sdk

template <typename Pairs> size_t pairsSize(const Pairs &result) {
  size_t size = 4; // number of headers
  for (auto &p : result) {
    size += 8;                   // size of key, size of value
    size += p.first.size() + 1;  // null terminated key
    size += p.second.size() + 1; // null terminated value
  }
  return size;
}

// `buffer` must hold pairsSize(result) bytes.
template <typename Pairs> void marshalPairs(const Pairs &result, char *buffer) {
  char *b = proxy_wasm_sdk::storeLittleEndian32(buffer, static_cast<uint32_t>(result.size()));
  for (auto &p : result) {
    b = proxy_wasm_sdk::storeLittleEndian32(b, static_cast<uint32_t>(p.first.size()));
    b = proxy_wasm_sdk::storeLittleEndian32(b, static_cast<uint32_t>(p.second.size()));
  }
  for (auto &p : result) {
    if (!p.first.empty())
      memcpy(b, p.first.data(), p.first.size());
    b += p.first.size();
    *b++ = 0;
    if (!p.second.empty())
      memcpy(b, p.second.data(), p.second.size());
    b += p.second.size();
    *b++ = 0;
  }
}

// An empty map is sent as (nullptr, 0), as the proxy-wasm C++ SDK does. Free *ptr with ::free.
template <typename Pairs> void exportPairs(const Pairs &pairs, const char **ptr, size_t *size_ptr) {
  if (pairs.empty()) {
    *ptr = nullptr;
    *size_ptr = 0;
    return;
  }
  size_t size = pairsSize(pairs);
  char *buffer = static_cast<char *>(::malloc(size));
  marshalPairs(pairs, buffer);
  *size_ptr = size;
  *ptr = buffer;
}

// Buffers coming into the plugin. Owns memory the host allocated with the module's malloc
// (the null VM host: with std::malloc).
class WasmData {
public:
  WasmData(const char *data, size_t size) : data_(data), size_(size) {}
  ~WasmData() { ::free(const_cast<char *>(data_)); }
  const char *data() const { return data_; }
  size_t size() const { return size_; }
  std::string_view view() const { return {data_, size_}; }
  std::string toString() const { return std::string(view()); }
  // For map-typed data (headers, map properties): views into this buffer.
  std::vector<std::pair<std::string_view, std::string_view>> pairs() const {
    return proxy_wasm_sdk::parsePairs(data_, size_);
  }
  template <typename T> T proto() const {
    T p;
    p.ParseFromArray(data_, size_);
    return p;
  }

  WasmData &operator=(const WasmData &) = delete;
  WasmData(const WasmData &) = delete;

private:
  const char *data_;
  size_t size_;
};
typedef std::unique_ptr<WasmData> WasmDataPtr;

struct PairHash {
  template <typename T, typename U> std::size_t operator()(const std::pair<T, U> &x) const {
    return std::hash<T>()(x.first) + std::hash<U>()(x.second);
  }
};

struct Tuple3Hash {
  template <typename T, typename U, typename V>
  std::size_t operator()(const std::tuple<T, U, V> &x) const {
    return std::hash<T>()(std::get<0>(x)) + std::hash<U>()(std::get<1>(x)) +
           std::hash<V>()(std::get<2>(x));
  }
};

using HeaderStringPairs = std::vector<std::pair<std::string, std::string>>;

// SDK internals the classes below need; defined in proxy_wasm_exports.h.
namespace proxy_wasm_sdk {
// The context whose callback the host is currently running (0 outside callbacks).
inline uint32_t activeContextId();
} // namespace proxy_wasm_sdk

class GrpcCallHandlerBase {
public:
  GrpcCallHandlerBase() {}
  virtual ~GrpcCallHandlerBase() {}

  RootContext *context() { return context_; }

  void cancel();
  uint32_t token() { return token_; }

  virtual void onSuccess(size_t body_size) = 0;
  virtual void onFailure(GrpcStatus status) = 0;

private:
  friend class RootContext;

  RootContext *context_{nullptr};
  uint32_t token_{0};
};

template <typename Message> class GrpcCallHandler : public GrpcCallHandlerBase {
public:
  GrpcCallHandler() : GrpcCallHandlerBase() {}
  virtual ~GrpcCallHandler() {}

  virtual void onSuccess(size_t body_size) = 0;
};

class GrpcStreamHandlerBase {
public:
  GrpcStreamHandlerBase() {}
  virtual ~GrpcStreamHandlerBase() {}

  RootContext *context() { return context_; }

  // NB: with end_of_stream == true, callbacks can still occur: reset() to prevent further
  // callbacks.
  WasmResult send(std::string_view message, bool end_of_stream);
  void close(); // NB: callbacks can still occur: reset() to prevent further callbacks.
  void reset();
  uint32_t token() { return token_; }

  virtual void onReceiveInitialMetadata(uint32_t /* headers */) {}
  virtual void onReceiveTrailingMetadata(uint32_t /* trailers */) {}
  virtual void onReceive(size_t body_size) = 0;
  virtual void onRemoteClose(GrpcStatus status) = 0;

protected:
  friend class RootContext;

  void doRemoteClose(GrpcStatus status);

  bool local_close_{false};
  bool remote_close_{false};
  RootContext *context_{nullptr};
  uint32_t token_{0};
};

template <typename Request, typename Response>
class GrpcStreamHandler : public GrpcStreamHandlerBase {
public:
  GrpcStreamHandler() : GrpcStreamHandlerBase() {}
  virtual ~GrpcStreamHandler() {}

  WasmResult send(const Request &message, bool end_of_stream) {
    std::string output;
    if (!message.SerializeToString(&output)) {
      return WasmResult::SerializationFailure;
    }
    GrpcStreamHandlerBase::send(output, end_of_stream);
    local_close_ = local_close_ || end_of_stream;
    return WasmResult::Ok;
  }

  virtual void onReceive(size_t body_size) = 0;
};

// Behavior supported by all contexts.
class ContextBase {
public:
  explicit ContextBase(uint32_t id) : id_(id) {}
  virtual ~ContextBase() {}

  uint32_t id() { return id_; }

  // Make this context the effective context for calls out of the VM (e.g. to continue a
  // stream from a callout response, which is delivered to the root context).
  WasmResult setEffectiveContext();

  virtual RootContext *asRoot() { return nullptr; }
  virtual Context *asContext() { return nullptr; }

  virtual void onCreate() {}
  virtual bool onDoneBase() = 0;
  // Called on a stream context when the stream has ended (around onDone, in the host's order).
  virtual void onLog() {}
  // Called to indicate that no more calls will come and this context is being deleted.
  virtual void onDelete() {}
  // Called when a foreign function event arrives (arguments in WasmBufferType::CallData).
  virtual void onForeignFunction(uint32_t /* foreign_function_id */, uint32_t /* data_size */) {}

  // Return the log level configured for the plugin's logger in the host.
  WasmResult getLogLevel(LogLevel *level) { return proxy_get_log_level(level); }

  using HttpCallCallback =
      std::function<void(uint32_t, size_t, uint32_t)>; // headers, body_size, trailers
  using GrpcSimpleCallCallback = std::function<void(GrpcStatus status, size_t body_size)>;

private:
  uint32_t id_;
};

// A context unique for each root_id for a use-case (e.g. filter) compiled into the module.
class RootContext : public ContextBase {
public:
  RootContext(uint32_t id, std::string_view root_id) : ContextBase(id), root_id_(root_id) {}
  ~RootContext() {}

  std::string_view root_id() { return root_id_; }

  RootContext *asRoot() override { return this; }
  Context *asContext() override { return nullptr; }

  // Can be used to validate the configuration (e.g. in the control plane).
  // Returns false if the configuration is invalid.
  virtual bool validateConfiguration(size_t /* configuration_size */) { return true; }
  // Called when the plugin is configured (once per root context, again on reconfiguration).
  // Returns false if the configuration is invalid.
  virtual bool onConfigure(size_t /* configuration_size */) { return true; }
  // Called when the VM starts for this root context. Returns false on failure.
  virtual bool onStart(size_t /* vm_configuration_size */) { return true; }
  // Called when the timer goes off.
  virtual void onTick() {}
  // Called when data arrives on a SharedQueue.
  virtual void onQueueReady(uint32_t /* token */) {}

  virtual bool onDone() { return true; } // Called when the VM is being torn down.
  void done(); // Report that we are now done following returning false from onDone.

  // The plugin configuration (valid during onConfigure/validateConfiguration) and the VM
  // configuration (during onStart). Empty data when there is none.
  WasmDataPtr getConfiguration();
  WasmDataPtr getVmConfiguration();

  // Low level HTTP/gRPC interface.
  virtual void onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size,
                                  uint32_t trailers);
  virtual void onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers);
  virtual void onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers);
  virtual void onGrpcReceive(uint32_t token, size_t body_size);
  virtual void onGrpcClose(uint32_t token, GrpcStatus status);

  // Default high level HTTP/gRPC interface. NB: overriding the low level interface will
  // disable this interface. `uri` is the name of an upstream cluster; request_headers must
  // contain :method, :path and :authority. When called while a stream context's callback is
  // running, that stream is made the effective context again before `callback` runs (if it
  // still exists), so the callback can continue or reply on the stream.
  WasmResult httpCall(std::string_view uri, const HeaderStringPairs &request_headers,
                      std::string_view request_body, const HeaderStringPairs &request_trailers,
                      uint32_t timeout_milliseconds, HttpCallCallback callback);
  // NB: the message is the response if status == OK and an error message otherwise.
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs &initial_metadata,
                            std::string_view request, uint32_t timeout_milliseconds,
                            GrpcSimpleCallCallback callback);
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs &initial_metadata,
                            std::string_view request, uint32_t timeout_milliseconds,
                            std::function<void(size_t body_size)> success_callback,
                            std::function<void(GrpcStatus status)> failure_callback) {
    auto callback = [success_callback, failure_callback](GrpcStatus status, size_t body_size) {
      if (status == GrpcStatus::Ok) {
        success_callback(body_size);
      } else {
        failure_callback(status);
      }
    };
    return grpcSimpleCall(service, service_name, method_name, initial_metadata, request,
                          timeout_milliseconds, callback);
  }
  WasmResult grpcCallHandler(std::string_view service, std::string_view service_name,
                             std::string_view method_name,
                             const HeaderStringPairs &initial_metadata, std::string_view request,
                             uint32_t timeout_milliseconds,
                             std::unique_ptr<GrpcCallHandlerBase> handler);
#ifdef PROXY_WASM_PROTOBUF
  WasmResult grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs &initial_metadata,
                            const google::protobuf::MessageLite &request,
                            uint32_t timeout_milliseconds, GrpcSimpleCallCallback callback) {
    std::string serialized_request;
    if (!request.SerializeToString(&serialized_request)) {
      return WasmResult::SerializationFailure;
    }
    return grpcSimpleCall(service, service_name, method_name, initial_metadata, serialized_request,
                          timeout_milliseconds, callback);
  }
  WasmResult grpcCallHandler(std::string_view service, std::string_view service_name,
                             std::string_view method_name,
                             const HeaderStringPairs &initial_metadata,
                             const google::protobuf::MessageLite &request,
                             uint32_t timeout_milliseconds,
                             std::unique_ptr<GrpcCallHandlerBase> handler) {
    std::string serialized_request;
    if (!request.SerializeToString(&serialized_request)) {
      return WasmResult::SerializationFailure;
    }
    return grpcCallHandler(service, service_name, method_name, initial_metadata, serialized_request,
                           timeout_milliseconds, std::move(handler));
  }
#endif
  WasmResult grpcStreamHandler(std::string_view service, std::string_view service_name,
                               std::string_view method_name,
                               const HeaderStringPairs &initial_metadata,
                               std::unique_ptr<GrpcStreamHandlerBase> handler);

private:
  friend class GrpcCallHandlerBase;
  friend class GrpcStreamHandlerBase;

  struct PendingHttpCall {
    uint32_t origin_context_id; // the context that started the call (0: none)
    HttpCallCallback callback;
  };

  bool onDoneBase() override { return onDone(); }

  const std::string root_id_;
  std::unordered_map<uint32_t, PendingHttpCall> http_calls_;
  std::unordered_map<uint32_t, GrpcSimpleCallCallback> simple_grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcCallHandlerBase>> grpc_calls_;
  std::unordered_map<uint32_t, std::unique_ptr<GrpcStreamHandlerBase>> grpc_streams_;
};

inline RootContext *getRoot(std::string_view root_id);

// Context for a stream (an HTTP request/response pair or a TCP connection).
class Context : public ContextBase {
public:
  Context(uint32_t id, RootContext *root) : ContextBase(id), root_(root) {}
  virtual ~Context() {}

  RootContext *root() { return root_; }

  RootContext *asRoot() override { return nullptr; }
  Context *asContext() override { return this; }

  // TCP.
  virtual FilterStatus onNewConnection() { return FilterStatus::Continue; }
  virtual FilterStatus onDownstreamData(size_t, bool) { return FilterStatus::Continue; }
  virtual FilterStatus onUpstreamData(size_t, bool) { return FilterStatus::Continue; }
  virtual void onDownstreamConnectionClose(CloseType) {}
  virtual void onUpstreamConnectionClose(CloseType) {}

  // HTTP. The one-argument header callbacks are the pre-0.2 SDK signature; the two-argument
  // ones forward to them unless overridden, so either style works.
  virtual FilterHeadersStatus onRequestHeaders(uint32_t headers, bool /* end_of_stream */) {
    return onRequestHeaders(headers);
  }
  virtual FilterHeadersStatus onRequestHeaders(uint32_t) { return FilterHeadersStatus::Continue; }
  virtual FilterMetadataStatus onRequestMetadata(uint32_t) {
    return FilterMetadataStatus::Continue;
  }
  virtual FilterDataStatus onRequestBody(size_t /* body_buffer_length */,
                                         bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onRequestTrailers(uint32_t) {
    return FilterTrailersStatus::Continue;
  }
  virtual FilterHeadersStatus onResponseHeaders(uint32_t headers, bool /* end_of_stream */) {
    return onResponseHeaders(headers);
  }
  virtual FilterHeadersStatus onResponseHeaders(uint32_t) { return FilterHeadersStatus::Continue; }
  virtual FilterMetadataStatus onResponseMetadata(uint32_t) {
    return FilterMetadataStatus::Continue;
  }
  virtual FilterDataStatus onResponseBody(size_t /* body_buffer_length */,
                                          bool /* end_of_stream */) {
    return FilterDataStatus::Continue;
  }
  virtual FilterTrailersStatus onResponseTrailers(uint32_t) {
    return FilterTrailersStatus::Continue;
  }
  virtual void onDone() {} // Called when the stream has completed.

private:
  // For stream Contexts, onDone always returns true.
  bool onDoneBase() override {
    onDone();
    return true;
  }

  RootContext *root_{};
};

// Return nullptr if the context no longer exists (i.e. the stream has been destroyed).
inline Context *getContext(uint32_t context_id);
inline RootContext *getRootContext(uint32_t context_id);
inline ContextBase *getContextBase(uint32_t context_id);

using RootFactory =
    std::function<std::unique_ptr<RootContext>(uint32_t id, std::string_view root_id)>;
using ContextFactory = std::function<std::unique_ptr<Context>(uint32_t id, RootContext *root)>;

// Create a factory from a class name.
#define ROOT_FACTORY(_c)                                                                           \
  [](uint32_t id, std::string_view root_id) -> std::unique_ptr<RootContext> {                      \
    return std::make_unique<_c>(id, root_id);                                                      \
  }
#define CONTEXT_FACTORY(_c)                                                                        \
  [](uint32_t id, RootContext *root) -> std::unique_ptr<Context> {                                 \
    return std::make_unique<_c>(id, root);                                                         \
  }

// RegisterContextFactory (defined in proxy_wasm_exports.h), e.g.
//   static RegisterContextFactory register_MyContext(CONTEXT_FACTORY(MyContext),
//                                                    ROOT_FACTORY(MyRootContext), "my_root_id");

inline std::pair<uint32_t, WasmDataPtr> getStatus() {
  uint32_t code = 0;
  const char *value_ptr = nullptr;
  size_t value_size = 0;
  CHECK_RESULT(proxy_get_status(&code, &value_ptr, &value_size));
  return std::make_pair(code, std::make_unique<WasmData>(value_ptr, value_size));
}

// Properties. The path is sent as segments each followed by a NUL byte.
template <typename Parts>
inline std::optional<WasmDataPtr> getPropertyFromParts(const Parts &parts) {
  size_t size = 0;
  for (const auto &part : parts) {
    size += part.size() + 1; // null terminated string value
  }
  std::string path;
  path.reserve(size);
  for (const auto &part : parts) {
    path.append(part.data(), part.size());
    path.push_back('\0');
  }
  const char *value_ptr = nullptr;
  size_t value_size = 0;
  auto result = proxy_get_property(path.data(), path.size(), &value_ptr, &value_size);
  if (result != WasmResult::Ok) {
    return {};
  }
  return std::make_unique<WasmData>(value_ptr, value_size);
}

inline std::optional<WasmDataPtr>
getProperty(const std::initializer_list<std::string_view> &parts) {
  return getPropertyFromParts(parts);
}

template <typename S> inline std::optional<WasmDataPtr> getProperty(const std::vector<S> &parts) {
  return getPropertyFromParts(parts);
}

// Generic property reader for basic types: int64, uint64, double, bool.
// Durations are represented as int64 nanoseconds.
// Timestamps are represented as int64 Unix nanoseconds.
// Strings and bytes are represented as std::string.
template <typename T>
inline bool getValue(const std::initializer_list<std::string_view> &parts, T *out) {
  auto buf = getProperty(parts);
  if (!buf.has_value() || buf.value()->size() != sizeof(T)) {
    return false;
  }
  memcpy(out, buf.value()->data(), sizeof(T));
  return true;
}

// Specialization for bytes and string values
template <>
inline bool getValue<std::string>(const std::initializer_list<std::string_view> &parts,
                                  std::string *out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) {
    return false;
  }
  out->assign(buf.value()->view());
  return true;
}

template <typename S, typename T> inline bool getValue(const std::vector<S> &parts, T *out) {
  auto buf = getProperty(parts);
  if (!buf.has_value() || buf.value()->size() != sizeof(T)) {
    return false;
  }
  memcpy(out, buf.value()->data(), sizeof(T));
  return true;
}

template <>
inline bool getValue<std::string, std::string>(const std::vector<std::string> &parts,
                                               std::string *out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) {
    return false;
  }
  out->assign(buf.value()->view());
  return true;
}

template <>
inline bool getValue<std::string_view, std::string>(const std::vector<std::string_view> &parts,
                                                    std::string *out) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) {
    return false;
  }
  out->assign(buf.value()->view());
  return true;
}

// Specialization for message types (including struct value for lists and maps)
template <typename T>
inline bool getMessageValue(const std::initializer_list<std::string_view> &parts, T *value_ptr) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) {
    return false;
  }
  if (buf.value()->size() == 0) {
    return true;
  }
  return value_ptr->ParseFromArray(buf.value()->data(), buf.value()->size());
}

template <typename S, typename T>
inline bool getMessageValue(const std::vector<S> &parts, T *value_ptr) {
  auto buf = getProperty(parts);
  if (!buf.has_value()) {
    return false;
  }
  if (buf.value()->size() == 0) {
    return true;
  }
  return value_ptr->ParseFromArray(buf.value()->data(), buf.value()->size());
}

// Envoy stores it in the stream's filter state as "wasm.<key>".
inline WasmResult setFilterState(std::string_view key, std::string_view value) {
  return static_cast<WasmResult>(
      proxy_set_property(key.data(), key.size(), value.data(), value.size()));
}

inline WasmResult setFilterStateStringValue(std::string_view key, std::string_view s) {
  return setFilterState(key, s);
}

// Continue/Respond/Route
inline WasmResult continueDownstream() { return proxy_continue_stream(WasmStreamType::Downstream); }
inline WasmResult continueUpstream() { return proxy_continue_stream(WasmStreamType::Upstream); }

inline WasmResult closeDownstream() { return proxy_close_stream(WasmStreamType::Downstream); }
inline WasmResult closeUpstream() { return proxy_close_stream(WasmStreamType::Upstream); }

inline WasmResult continueRequest() { return proxy_continue_stream(WasmStreamType::Request); }
inline WasmResult continueResponse() { return proxy_continue_stream(WasmStreamType::Response); }

inline WasmResult closeRequest() { return proxy_close_stream(WasmStreamType::Request); }
inline WasmResult closeResponse() { return proxy_close_stream(WasmStreamType::Response); }

inline WasmResult sendLocalResponse(uint32_t response_code, std::string_view response_code_details,
                                    std::string_view body,
                                    const HeaderStringPairs &additional_response_headers,
                                    GrpcStatus grpc_status = GrpcStatus::InvalidCode) {
  const char *ptr = nullptr;
  size_t size = 0;
  exportPairs(additional_response_headers, &ptr, &size);
  WasmResult result = proxy_send_local_response(
      response_code, response_code_details.data(), response_code_details.size(), body.data(),
      body.size(), ptr, size, static_cast<uint32_t>(grpc_status));
  ::free(const_cast<char *>(ptr));
  return result;
}

// SharedData
inline WasmResult getSharedData(std::string_view key, WasmDataPtr *value, uint32_t *cas = nullptr) {
  uint32_t dummy_cas;
  const char *value_ptr = nullptr;
  size_t value_size = 0;
  if (!cas)
    cas = &dummy_cas;
  auto result = proxy_get_shared_data(key.data(), key.size(), &value_ptr, &value_size, cas);
  if (result != WasmResult::Ok) {
    return result;
  }
  *value = std::make_unique<WasmData>(value_ptr, value_size);
  return WasmResult::Ok;
}

inline WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas = 0) {
  return proxy_set_shared_data(key.data(), key.size(), value.data(), value.size(), cas);
}

inline WasmDataPtr getSharedDataValue(std::string_view key, uint32_t *cas = nullptr) {
  WasmDataPtr data;
  auto result = getSharedData(key, &data, cas);
  if (result != WasmResult::Ok) {
    logAbort("getSharedData returned WasmError: " + toString(result));
  }
  return data;
}

// SharedQueue
inline WasmResult registerSharedQueue(std::string_view queue_name, uint32_t *token) {
  return proxy_register_shared_queue(queue_name.data(), queue_name.size(), token);
}

inline WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view queue_name,
                                     uint32_t *token) {
  return proxy_resolve_shared_queue(vm_id.data(), vm_id.size(), queue_name.data(),
                                    queue_name.size(), token);
}

inline WasmResult enqueueSharedQueue(uint32_t token, std::string_view data) {
  return proxy_enqueue_shared_queue(token, data.data(), data.size());
}

inline WasmResult dequeueSharedQueue(uint32_t token, WasmDataPtr *data) {
  const char *data_ptr = nullptr;
  size_t data_size = 0;
  auto result = proxy_dequeue_shared_queue(token, &data_ptr, &data_size);
  *data = std::make_unique<WasmData>(data_ptr, data_size);
  return result;
}

// Headers/Trailers
inline WasmResult addHeaderMapValue(WasmHeaderMapType type, std::string_view key,
                                    std::string_view value) {
  return proxy_add_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}

// Empty data when the header is absent (NotFound) or the map is not available.
inline WasmDataPtr getHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  const char *value_ptr = nullptr;
  size_t value_size = 0;
  proxy_get_header_map_value(type, key.data(), key.size(), &value_ptr, &value_size);
  return std::make_unique<WasmData>(value_ptr, value_size);
}

inline WasmResult replaceHeaderMapValue(WasmHeaderMapType type, std::string_view key,
                                        std::string_view value) {
  return proxy_replace_header_map_value(type, key.data(), key.size(), value.data(), value.size());
}

inline WasmResult removeHeaderMapValue(WasmHeaderMapType type, std::string_view key) {
  return proxy_remove_header_map_value(type, key.data(), key.size());
}

inline WasmDataPtr getHeaderMapPairs(WasmHeaderMapType type) {
  const char *ptr = nullptr;
  size_t size = 0;
  proxy_get_header_map_pairs(type, &ptr, &size);
  return std::make_unique<WasmData>(ptr, size);
}

inline WasmResult setHeaderMapPairs(WasmHeaderMapType type, const HeaderStringPairs &pairs) {
  const char *ptr = nullptr;
  size_t size = 0;
  exportPairs(pairs, &ptr, &size);
  auto result = proxy_set_header_map_pairs(type, ptr, size);
  ::free(const_cast<char *>(ptr));
  return result;
}

// Note: Envoy reports the byte size of the map (sum of key and value lengths).
inline WasmResult getHeaderMapSize(WasmHeaderMapType type, size_t *size) {
  return proxy_get_header_map_size(type, size);
}

#define PROXY_WASM_HEADER_MAP_HELPERS(_Name, _Type)                                                \
  inline WasmResult add##_Name(std::string_view key, std::string_view value) {                     \
    return addHeaderMapValue(WasmHeaderMapType::_Type, key, value);                                \
  }                                                                                                \
  inline WasmDataPtr get##_Name(std::string_view key) {                                            \
    return getHeaderMapValue(WasmHeaderMapType::_Type, key);                                       \
  }                                                                                                \
  inline WasmResult replace##_Name(std::string_view key, std::string_view value) {                 \
    return replaceHeaderMapValue(WasmHeaderMapType::_Type, key, value);                            \
  }                                                                                                \
  inline WasmResult remove##_Name(std::string_view key) {                                          \
    return removeHeaderMapValue(WasmHeaderMapType::_Type, key);                                    \
  }                                                                                                \
  inline WasmDataPtr get##_Name##Pairs() { return getHeaderMapPairs(WasmHeaderMapType::_Type); }   \
  inline WasmResult set##_Name##Pairs(const HeaderStringPairs &pairs) {                            \
    return setHeaderMapPairs(WasmHeaderMapType::_Type, pairs);                                     \
  }                                                                                                \
  inline WasmResult get##_Name##Size(size_t *size) {                                               \
    return getHeaderMapSize(WasmHeaderMapType::_Type, size);                                       \
  }

// addRequestHeader, getRequestHeader, replaceRequestHeader, removeRequestHeader,
// getRequestHeaderPairs, setRequestHeaderPairs, getRequestHeaderSize, and the same for
// RequestTrailer, ResponseHeader and ResponseTrailer.
PROXY_WASM_HEADER_MAP_HELPERS(RequestHeader, RequestHeaders)
PROXY_WASM_HEADER_MAP_HELPERS(RequestTrailer, RequestTrailers)
PROXY_WASM_HEADER_MAP_HELPERS(ResponseHeader, ResponseHeaders)
PROXY_WASM_HEADER_MAP_HELPERS(ResponseTrailer, ResponseTrailers)
#undef PROXY_WASM_HEADER_MAP_HELPERS

// Buffer
inline WasmDataPtr getBufferBytes(WasmBufferType type, size_t start, size_t length) {
  const char *ptr = nullptr;
  size_t size = 0;
  proxy_get_buffer_bytes(type, static_cast<uint32_t>(start), static_cast<uint32_t>(length), &ptr,
                         &size);
  return std::make_unique<WasmData>(ptr, size);
}

inline WasmResult getBufferStatus(WasmBufferType type, size_t *size, uint32_t *flags) {
  return proxy_get_buffer_status(type, size, flags);
}

// Envoy semantics: start == 0 replaces the first `length` bytes with `data` (length >= size
// replaces everything), start >= size appends; anything in between is BadArgument.
inline WasmResult setBuffer(WasmBufferType type, size_t start, size_t length, std::string_view data,
                            size_t *new_size = nullptr) {
  auto result = proxy_set_buffer_bytes(type, static_cast<uint32_t>(start),
                                       static_cast<uint32_t>(length), data.data(), data.size());
  if (result == WasmResult::Ok && new_size)
    *new_size = *new_size - length + data.size();
  return result;
}

inline WasmDataPtr getRequestBodyBufferBytes(size_t start, size_t length) {
  return getBufferBytes(WasmBufferType::HttpRequestBody, start, length);
}
inline WasmDataPtr getResponseBodyBufferBytes(size_t start, size_t length) {
  return getBufferBytes(WasmBufferType::HttpResponseBody, start, length);
}

// The whole buffer: hosts clamp max_size to what is there (as for the Rust/Go SDKs).
inline WasmDataPtr getConfiguration() {
  return getBufferBytes(WasmBufferType::PluginConfiguration, 0,
                        std::numeric_limits<uint32_t>::max());
}
inline WasmDataPtr getVmConfiguration() {
  return getBufferBytes(WasmBufferType::VmConfiguration, 0, std::numeric_limits<uint32_t>::max());
}
inline WasmDataPtr RootContext::getConfiguration() { return ::getConfiguration(); }
inline WasmDataPtr RootContext::getVmConfiguration() { return ::getVmConfiguration(); }

// HTTP

inline void MakeHeaderStringPairsBuffer(const HeaderStringPairs &headers, void **buffer_ptr,
                                        size_t *size_ptr) {
  const char *ptr = nullptr;
  exportPairs(headers, &ptr, size_ptr);
  *buffer_ptr = const_cast<char *>(ptr);
}

inline WasmResult makeHttpCall(std::string_view uri, const HeaderStringPairs &request_headers,
                               std::string_view request_body,
                               const HeaderStringPairs &request_trailers,
                               uint32_t timeout_milliseconds, uint32_t *token_ptr) {
  void *headers_ptr = nullptr, *trailers_ptr = nullptr;
  size_t headers_size = 0, trailers_size = 0;
  MakeHeaderStringPairsBuffer(request_headers, &headers_ptr, &headers_size);
  MakeHeaderStringPairsBuffer(request_trailers, &trailers_ptr, &trailers_size);
  WasmResult result = proxy_http_call(uri.data(), uri.size(), headers_ptr, headers_size,
                                      request_body.data(), request_body.size(), trailers_ptr,
                                      trailers_size, timeout_milliseconds, token_ptr);
  ::free(headers_ptr);
  ::free(trailers_ptr);
  return result;
}

// Foreign functions (e.g. Envoy's "clear_route_cache", "compress"). *results is allocated by
// the host in the plugin's memory; wrap it in WasmData to free it.
inline WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                      WasmDataPtr *results = nullptr) {
  char *results_ptr = nullptr;
  size_t results_size = 0;
  auto result = proxy_call_foreign_function(name.data(), name.size(), arguments.data(),
                                            arguments.size(), &results_ptr, &results_size);
  auto data = std::make_unique<WasmData>(results_ptr, results_size);
  if (results)
    *results = std::move(data);
  return result;
}

// Timer for the root context of the current context; 0 disables it.
inline WasmResult setTickPeriodMilliseconds(uint32_t period_milliseconds) {
  return proxy_set_tick_period_milliseconds(period_milliseconds);
}

// Low level metrics interface.

inline WasmResult defineMetric(MetricType type, std::string_view name, uint32_t *metric_id) {
  return proxy_define_metric(type, name.data(), name.size(), metric_id);
}

inline WasmResult incrementMetric(uint32_t metric_id, int64_t offset) {
  return proxy_increment_metric(metric_id, offset);
}

inline WasmResult recordMetric(uint32_t metric_id, uint64_t value) {
  return proxy_record_metric(metric_id, value);
}

inline WasmResult getMetric(uint32_t metric_id, uint64_t *value) {
  return proxy_get_metric(metric_id, value);
}

// Higher level metrics interface. The ABI has no labels: tags are encoded into the metric name
// as "<tag><value_separator><value><field_separator>...<name>" (the host's stats config can
// extract them again).

template <typename T> inline std::string toString(T t) { return std::to_string(t); }
template <> inline std::string toString(std::string_view t) { return std::string(t); }
template <> inline std::string toString(const char *t) { return std::string(t); }
template <> inline std::string toString(std::string t) { return t; }
template <> inline std::string toString(bool t) { return t ? "true" : "false"; }

template <typename T> struct StringToStringView { typedef T type; };
template <> struct StringToStringView<std::string> { typedef std::string_view type; };

struct MetricTag {
  enum class TagType : uint32_t {
    String = 0,
    Int = 1,
    Bool = 2,
  };
  std::string name;
  TagType tagType;
};

struct MetricBase {
  MetricBase(MetricType t, const std::string &n) : type(t), name(n) {}
  MetricBase(MetricType t, const std::string &n, const std::vector<MetricTag> &ts)
      : type(t), name(n), tags(ts.begin(), ts.end()) {}
  MetricBase(MetricType t, const std::string &n, const std::vector<MetricTag> &ts, std::string fs,
             std::string vs)
      : type(t), name(n), tags(ts.begin(), ts.end()), field_separator(std::move(fs)),
        value_separator(std::move(vs)) {}

  MetricType type;
  std::string name;
  std::string prefix;
  std::vector<MetricTag> tags;
  std::unordered_map<std::string, uint32_t> metric_ids;

  std::string field_separator = "."; // used to separate two fields.
  std::string value_separator = "."; // used to separate a field from its value.

  std::string prefixWithFields(const std::vector<std::string> &fields) {
    std::string n = prefix;
    for (size_t i = 0; i < fields.size() && i < tags.size(); i++) {
      n.append(tags[i].name);
      n.append(value_separator);
      n.append(fields[i]);
      n.append(field_separator);
    }
    return n;
  }
  // Defines the metric on first use of a full name and caches its id.
  uint32_t resolveFullName(const std::string &n) {
    auto it = metric_ids.find(n);
    if (it != metric_ids.end()) {
      return it->second;
    }
    uint32_t metric_id = 0;
    CHECK_RESULT(defineMetric(type, n, &metric_id));
    metric_ids[n] = metric_id;
    return metric_id;
  }
  uint32_t resolveWithFields(const std::vector<std::string> &fields) {
    if (fields.size() != tags.size()) {
      logAbort("metric fields.size() != tags.size()");
    }
    return resolveFullName(prefixWithFields(fields) + name);
  }
  void partiallyResolveWithFields(const std::vector<std::string> &fields) {
    if (fields.size() >= tags.size()) {
      logAbort("metric fields.size() >= tags.size()");
    }
    prefix = prefixWithFields(fields);
    tags.erase(tags.begin(), tags.begin() + fields.size());
  }
  std::string nameFromIdSlow(uint32_t id) {
    for (auto &p : metric_ids)
      if (p.second == id)
        return p.first;
    return "";
  }
};

struct Metric : public MetricBase {
  Metric(MetricType t, const std::string &n) : MetricBase(t, n) {}
  Metric(MetricType t, const std::string &n, const std::vector<MetricTag> &ts)
      : MetricBase(t, n, ts) {}
  Metric(MetricType t, const std::string &n, const std::vector<MetricTag> &ts,
         std::string field_separator, std::string value_separator)
      : MetricBase(t, n, ts, field_separator, value_separator) {}

  template <typename... Fields> void increment(int64_t offset, Fields... f) {
    incrementMetric(resolveWithFields({toString(f)...}), offset);
  }
  template <typename... Fields> void record(uint64_t value, Fields... f) {
    recordMetric(resolveWithFields({toString(f)...}), value);
  }
  template <typename... Fields> uint64_t get(Fields... f) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolveWithFields({toString(f)...}), &value));
    return value;
  }
  template <typename... Fields> uint32_t resolve(Fields... f) {
    return resolveWithFields({toString(f)...});
  }
  template <typename... Fields> Metric partiallyResolve(Fields... f) {
    Metric partial_metric(*this);
    partial_metric.partiallyResolveWithFields({toString(f)...});
    return partial_metric;
  }
};

template <typename T> struct MetricTagDescriptor {
  MetricTagDescriptor(std::string_view n) : name(n) {}
  MetricTagDescriptor(const char *n) : name(n) {}
  typedef T type;
  std::string_view name;
};

template <typename T> inline MetricTag toMetricTag(const MetricTagDescriptor<T> &d) {
  return {std::string(d.name), MetricTag::TagType::String};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<int> &d) {
  return {std::string(d.name), MetricTag::TagType::Int};
}
template <> inline MetricTag toMetricTag(const MetricTagDescriptor<bool> &d) {
  return {std::string(d.name), MetricTag::TagType::Bool};
}

struct SimpleCounter {
  SimpleCounter(uint32_t id) : metric_id(id) {}

  void increment(int64_t offset) { recordMetric(metric_id, offset); }
  void record(int64_t offset) { increment(offset); }
  uint64_t get() {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(metric_id, &value));
    return value;
  }
  void operator++() { increment(1); }
  void operator++(int) { increment(1); }

  uint32_t metric_id;
};

struct SimpleGauge {
  SimpleGauge(uint32_t id) : metric_id(id) {}

  void record(uint64_t offset) { recordMetric(metric_id, offset); }
  uint64_t get() {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(metric_id, &value));
    return value;
  }

  uint32_t metric_id;
};

struct SimpleHistogram {
  SimpleHistogram(uint32_t id) : metric_id(id) {}

  void record(int64_t offset) { recordMetric(metric_id, offset); }

  uint32_t metric_id;
};

template <typename... Tags> struct Counter : public MetricBase {
  static Counter<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Counter<Tags...>(std::string(name),
                                std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }

  Counter(std::string_view name, MetricTagDescriptor<Tags>... descriptors)
      : Counter(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleCounter resolve(Tags... f) { return SimpleCounter(resolveWithFields({toString(f)...})); }

  template <typename... AdditionalTags>
  Counter<AdditionalTags...> *extendAndResolve(Tags... f,
                                               MetricTagDescriptor<AdditionalTags>... fieldnames) {
    auto new_counter = Counter<AdditionalTags...>::New(name, fieldnames...);
    new_counter->prefix = prefixWithFields({toString(f)...});
    return new_counter;
  }

  void increment(int64_t offset, Tags... tags) {
    incrementMetric(resolveWithFields({toString(tags)...}), offset);
  }

  void record(int64_t offset, Tags... tags) { increment(offset, tags...); }

  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolveWithFields({toString(tags)...}), &value));
    return value;
  }

private:
  Counter(const std::string &name, const std::vector<MetricTag> &tags)
      : MetricBase(MetricType::Counter, name, tags) {}
};

template <typename... Tags> struct Gauge : public MetricBase {
  static Gauge<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Gauge<Tags...>(std::string(name),
                              std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }

  Gauge(std::string_view name, MetricTagDescriptor<Tags>... descriptors)
      : Gauge(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleGauge resolve(Tags... f) { return SimpleGauge(resolveWithFields({toString(f)...})); }

  template <typename... AdditionalTags>
  Gauge<AdditionalTags...> *extendAndResolve(Tags... f,
                                             MetricTagDescriptor<AdditionalTags>... fieldnames) {
    auto new_gauge = Gauge<AdditionalTags...>::New(name, fieldnames...);
    new_gauge->prefix = prefixWithFields({toString(f)...});
    return new_gauge;
  }

  void record(int64_t offset, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), offset);
  }

  uint64_t get(Tags... tags) {
    uint64_t value = 0;
    CHECK_RESULT(getMetric(resolveWithFields({toString(tags)...}), &value));
    return value;
  }

private:
  Gauge(const std::string &name, const std::vector<MetricTag> &tags)
      : MetricBase(MetricType::Gauge, name, tags) {}
};

template <typename... Tags> struct Histogram : public MetricBase {
  static Histogram<Tags...> *New(std::string_view name, MetricTagDescriptor<Tags>... descriptors) {
    return new Histogram<Tags...>(std::string(name),
                                  std::vector<MetricTag>({toMetricTag(descriptors)...}));
  }

  Histogram(std::string_view name, MetricTagDescriptor<Tags>... descriptors)
      : Histogram(std::string(name), std::vector<MetricTag>({toMetricTag(descriptors)...})) {}

  SimpleHistogram resolve(Tags... f) {
    return SimpleHistogram(resolveWithFields({toString(f)...}));
  }

  template <typename... AdditionalTags>
  Histogram<AdditionalTags...> *
  extendAndResolve(Tags... f, MetricTagDescriptor<AdditionalTags>... fieldnames) {
    auto new_histogram = Histogram<AdditionalTags...>::New(name, fieldnames...);
    new_histogram->prefix = prefixWithFields({toString(f)...});
    return new_histogram;
  }

  void record(int64_t offset, typename StringToStringView<Tags>::type... tags) {
    recordMetric(resolveWithFields({toString(tags)...}), offset);
  }

private:
  Histogram(const std::string &name, const std::vector<MetricTag> &tags)
      : MetricBase(MetricType::Histogram, name, tags) {}
};

// gRPC

inline WasmResult grpcCall(std::string_view service, std::string_view service_name,
                           std::string_view method_name, const HeaderStringPairs &initial_metadata,
                           std::string_view request, uint32_t timeout_milliseconds,
                           uint32_t *token_ptr) {
  void *metadata_ptr = nullptr;
  size_t metadata_size = 0;
  MakeHeaderStringPairsBuffer(initial_metadata, &metadata_ptr, &metadata_size);
  WasmResult result =
      proxy_grpc_call(service.data(), service.size(), service_name.data(), service_name.size(),
                      method_name.data(), method_name.size(), metadata_ptr, metadata_size,
                      request.data(), request.size(), timeout_milliseconds, token_ptr);
  ::free(metadata_ptr);
  return result;
}

#ifdef PROXY_WASM_PROTOBUF
inline WasmResult grpcCall(std::string_view service, std::string_view service_name,
                           std::string_view method_name, const HeaderStringPairs &initial_metadata,
                           const google::protobuf::MessageLite &request,
                           uint32_t timeout_milliseconds, uint32_t *token_ptr) {
  std::string serialized_request;
  if (!request.SerializeToString(&serialized_request)) {
    return WasmResult::SerializationFailure;
  }
  return grpcCall(service, service_name, method_name, initial_metadata, serialized_request,
                  timeout_milliseconds, token_ptr);
}
#endif

inline WasmResult grpcStream(std::string_view service, std::string_view service_name,
                             std::string_view method_name,
                             const HeaderStringPairs &initial_metadata, uint32_t *token_ptr) {
  void *metadata_ptr = nullptr;
  size_t metadata_size = 0;
  MakeHeaderStringPairsBuffer(initial_metadata, &metadata_ptr, &metadata_size);
  WasmResult result = proxy_grpc_stream(service.data(), service.size(), service_name.data(),
                                        service_name.size(), method_name.data(), method_name.size(),
                                        metadata_ptr, metadata_size, token_ptr);
  ::free(metadata_ptr);
  return result;
}

inline WasmResult grpcCancel(uint32_t token) { return proxy_grpc_cancel(token); }

inline WasmResult grpcClose(uint32_t token) { return proxy_grpc_close(token); }

inline WasmResult grpcSend(uint32_t token, std::string_view message, bool end_stream) {
  return proxy_grpc_send(token, message.data(), message.size(), end_stream ? 1 : 0);
}

inline WasmResult RootContext::httpCall(std::string_view uri,
                                        const HeaderStringPairs &request_headers,
                                        std::string_view request_body,
                                        const HeaderStringPairs &request_trailers,
                                        uint32_t timeout_milliseconds, HttpCallCallback callback) {
  uint32_t token = 0;
  auto result = makeHttpCall(uri, request_headers, request_body, request_trailers,
                             timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    http_calls_[token] = PendingHttpCall{proxy_wasm_sdk::activeContextId(), std::move(callback)};
  }
  return result;
}

inline void RootContext::onHttpCallResponse(uint32_t token, uint32_t headers, size_t body_size,
                                            uint32_t trailers) {
  auto it = http_calls_.find(token);
  if (it == http_calls_.end()) {
    return;
  }
  // Erase first: the callback may start new calls.
  PendingHttpCall call = std::move(it->second);
  http_calls_.erase(it);
  if (call.origin_context_id != 0 && call.origin_context_id != id() &&
      getContextBase(call.origin_context_id) != nullptr) {
    proxy_set_effective_context(call.origin_context_id);
  }
  if (call.callback) {
    call.callback(headers, body_size, trailers);
  }
}

inline WasmResult
RootContext::grpcSimpleCall(std::string_view service, std::string_view service_name,
                            std::string_view method_name, const HeaderStringPairs &initial_metadata,
                            std::string_view request, uint32_t timeout_milliseconds,
                            Context::GrpcSimpleCallCallback callback) {
  uint32_t token = 0;
  WasmResult result = grpcCall(service, service_name, method_name, initial_metadata, request,
                               timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    simple_grpc_calls_[token] = std::move(callback);
  }
  return result;
}

inline void GrpcCallHandlerBase::cancel() {
  grpcCancel(token_);
  context_->grpc_calls_.erase(token_); // deletes this
}

inline void GrpcStreamHandlerBase::reset() {
  grpcCancel(token_);
  context_->grpc_streams_.erase(token_); // deletes this
}

inline void GrpcStreamHandlerBase::close() {
  grpcClose(token_);
  local_close_ = true;
  if (local_close_ && remote_close_) {
    context_->grpc_streams_.erase(token_);
  }
  // NB: else callbacks can still occur: reset() to prevent further callbacks.
}

inline WasmResult GrpcStreamHandlerBase::send(std::string_view message, bool end_of_stream) {
  WasmResult r = grpcSend(token_, message, end_of_stream);
  if (r != WasmResult::Ok) {
    return r;
  }
  if (end_of_stream) {
    // NB: callbacks can still occur: reset() to prevent further callbacks.
    local_close_ = true;
    if (local_close_ && remote_close_) {
      context_->grpc_streams_.erase(token_);
    }
  }
  return WasmResult::Ok;
}

inline void RootContext::onGrpcReceiveInitialMetadata(uint32_t token, uint32_t headers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) {
    it->second->onReceiveInitialMetadata(headers);
  }
}

inline void RootContext::onGrpcReceiveTrailingMetadata(uint32_t token, uint32_t trailers) {
  auto it = grpc_streams_.find(token);
  if (it != grpc_streams_.end()) {
    it->second->onReceiveTrailingMetadata(trailers);
  }
}

inline void RootContext::onGrpcReceive(uint32_t token, size_t body_size) {
  {
    auto it = simple_grpc_calls_.find(token);
    if (it != simple_grpc_calls_.end()) {
      auto callback = std::move(it->second);
      simple_grpc_calls_.erase(it);
      callback(GrpcStatus::Ok, body_size);
      return;
    }
  }
  {
    auto it = grpc_calls_.find(token);
    if (it != grpc_calls_.end()) {
      auto handler = std::move(it->second);
      grpc_calls_.erase(it);
      handler->onSuccess(body_size);
      return;
    }
  }
  {
    // Streams stay open: a stream delivers any number of messages before it closes.
    auto it = grpc_streams_.find(token);
    if (it != grpc_streams_.end()) {
      it->second->onReceive(body_size);
      return;
    }
  }
}

inline void GrpcStreamHandlerBase::doRemoteClose(GrpcStatus status) {
  auto context = context_;
  auto token = token_;
  this->onRemoteClose(status);
  if (context->grpc_streams_.find(token) != context->grpc_streams_.end()) {
    // We have not been deleted, e.g. by reset() in the onRemoteClose() virtual handler.
    remote_close_ = true;
    if (local_close_ && remote_close_) {
      context_->grpc_streams_.erase(token_);
    }
    // else do not erase the token since we can still send in this state.
  }
}

inline void RootContext::onGrpcClose(uint32_t token, GrpcStatus status) {
  {
    auto it = simple_grpc_calls_.find(token);
    if (it != simple_grpc_calls_.end()) {
      auto callback = std::move(it->second);
      simple_grpc_calls_.erase(it);
      callback(status, 0);
      return;
    }
  }
  {
    auto it = grpc_calls_.find(token);
    if (it != grpc_calls_.end()) {
      auto handler = std::move(it->second);
      grpc_calls_.erase(it);
      handler->onFailure(status);
      return;
    }
  }
  {
    auto it = grpc_streams_.find(token);
    if (it != grpc_streams_.end()) {
      it->second->doRemoteClose(status);
      return;
    }
  }
}

inline WasmResult RootContext::grpcCallHandler(
    std::string_view service, std::string_view service_name, std::string_view method_name,
    const HeaderStringPairs &initial_metadata, std::string_view request,
    uint32_t timeout_milliseconds, std::unique_ptr<GrpcCallHandlerBase> handler) {
  uint32_t token = 0;
  auto result = grpcCall(service, service_name, method_name, initial_metadata, request,
                         timeout_milliseconds, &token);
  if (result == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_calls_[token] = std::move(handler);
  }
  return result;
}

inline WasmResult RootContext::grpcStreamHandler(std::string_view service,
                                                 std::string_view service_name,
                                                 std::string_view method_name,
                                                 const HeaderStringPairs &initial_metadata,
                                                 std::unique_ptr<GrpcStreamHandlerBase> handler) {
  uint32_t token = 0;
  auto result = grpcStream(service, service_name, method_name, initial_metadata, &token);
  if (result == WasmResult::Ok) {
    handler->token_ = token;
    handler->context_ = this;
    grpc_streams_[token] = std::move(handler);
  }
  return result;
}

inline WasmResult ContextBase::setEffectiveContext() { return proxy_set_effective_context(id_); }

inline uint64_t getCurrentTimeNanoseconds() {
  uint64_t t = 0;
  CHECK_RESULT(proxy_get_current_time_nanoseconds(&t));
  return t;
}

inline void RootContext::done() { proxy_done(); }
