#pragma once

// A HostContext that records what the plugin did and serves whatever the test put in it:
// header maps (per type, available/writable switches), buffers, properties, time, and the
// later-issue services (shared data, metrics, callouts) with simple in-memory behaviour.

#include <array>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "wasm/abi/host_context.h"

namespace wasmgate::wasm::abi::testing {

class FakeContext : public HostContext {
public:
  explicit FakeContext(uint32_t id, FakeContext* root = nullptr)
      : id_(id), root_(root ? root : this) {}

  uint32_t contextId() const override { return id_; }
  HostContext& rootContext() override { return *root_; }

  // ---- logging
  struct LogLine {
    uint32_t level;
    std::string message;
  };
  std::vector<LogLine> logs;
  uint32_t log_level = 2;
  void log(uint32_t level, std::string_view message) override {
    logs.push_back({level, std::string(message)});
  }
  uint32_t logLevel() const override { return log_level; }
  std::vector<std::string> messages() const {
    std::vector<std::string> out;
    for (const auto& l : logs)
      out.push_back(l.message);
    return out;
  }

  // ---- header maps
  std::array<http::HeaderMap, 8> maps;
  std::array<bool, 8> map_available{};
  std::array<bool, 8> map_writable{};
  std::vector<MapType> modified;
  bool can_create_trailers = false;
  void setMap(MapType t, std::vector<std::pair<std::string, std::string>> entries,
              bool writable = true) {
    auto& m = maps[size_t(t)];
    m.clear();
    for (auto& [k, v] : entries)
      m.add(std::move(k), std::move(v));
    map_available[size_t(t)] = true;
    map_writable[size_t(t)] = writable;
  }
  MapRef headerMap(MapType t) override {
    if (!map_available[size_t(t)])
      return {};
    return {&maps[size_t(t)], map_writable[size_t(t)]};
  }
  void onHeaderMapModified(MapType t) override { modified.push_back(t); }
  http::HeaderMap* createTrailers(MapType t) override {
    if (!can_create_trailers)
      return nullptr;
    map_available[size_t(t)] = map_writable[size_t(t)] = true;
    return &maps[size_t(t)];
  }

  // ---- buffers: mutable body buffers (0..3) or read-only bytes
  std::array<Buffer, 9> buffers;
  std::array<bool, 9> buffer_available{};
  std::array<std::optional<std::string>, 9> read_only;
  void setBuffer(BufferType t, std::string_view data) {
    buffers[size_t(t)].clear();
    buffers[size_t(t)].append(data);
    buffer_available[size_t(t)] = true;
  }
  BufferRef buffer(BufferType t) override {
    if (read_only[size_t(t)])
      return {nullptr, std::string_view(*read_only[size_t(t)])};
    if (!buffer_available[size_t(t)])
      return {};
    return {&buffers[size_t(t)], std::nullopt};
  }

  // ---- stream control
  std::vector<StreamType> continued, closed;
  WasmResult continueStream(StreamType t) override {
    continued.push_back(t);
    return WasmResult::Ok;
  }
  WasmResult closeStream(StreamType t) override {
    closed.push_back(t);
    return WasmResult::Ok;
  }
  struct LocalReply {
    uint32_t status;
    std::string details, body;
    std::vector<std::pair<std::string, std::string>> headers;
    int32_t grpc_status;
  };
  std::vector<LocalReply> local_replies;
  WasmResult sendLocalResponse(uint32_t status, std::string_view details, std::string_view body,
                               std::vector<std::pair<std::string, std::string>> headers,
                               int32_t grpc_status) override {
    local_replies.push_back(
        {status, std::string(details), std::string(body), std::move(headers), grpc_status});
    return WasmResult::Ok;
  }

  // ---- properties: exact path (trailing NULs stripped) -> value
  std::map<std::string, std::string> properties;
  std::vector<std::string> property_lookups;
  static std::string strip(std::string_view path) {
    while (!path.empty() && path.back() == '\0')
      path.remove_suffix(1);
    return std::string(path);
  }
  WasmResult getProperty(std::string_view path, std::string& value) override {
    property_lookups.push_back(strip(path));
    auto it = properties.find(strip(path));
    if (it == properties.end())
      return WasmResult::NotFound;
    value = it->second;
    return WasmResult::Ok;
  }
  WasmResult setProperty(std::string_view path, std::string_view value) override {
    properties[strip(path)] = std::string(value);
    return WasmResult::Ok;
  }

  // ---- root services
  uint32_t tick_period = 0;
  int tick_calls = 0;
  WasmResult setTickPeriod(uint32_t period_ms) override {
    tick_period = period_ms;
    ++tick_calls;
    return WasmResult::Ok;
  }
  WasmResult done_result = WasmResult::NotFound;
  int done_calls = 0;
  WasmResult done() override {
    ++done_calls;
    return done_result;
  }
  int clear_route_cache_calls = 0;
  WasmResult clearRouteCache() override {
    ++clear_route_cache_calls;
    return WasmResult::Ok;
  }

  // ---- time
  uint64_t realtime = 1'700'000'000'123'456'789ull;
  uint64_t monotonic = 42'000'000'007ull;
  uint64_t realTimeNanoseconds() const override { return realtime; }
  uint64_t monotonicTimeNanoseconds() const override { return monotonic; }

  // ---- status (get_status)
  uint32_t status_code = 0;
  std::string status_message;
  WasmResult getStatus(uint32_t& code, std::string& message) override {
    code = status_code;
    message = status_message;
    return WasmResult::Ok;
  }

  // ---- services: off unless `services` (then a tiny in-memory implementation)
  bool services = false;
  std::map<std::string, std::pair<std::string, uint32_t>> shared;
  uint32_t next_cas = 1;
  WasmResult getSharedData(std::string_view key, std::string& value, uint32_t& cas) override {
    if (!services)
      return HostContext::getSharedData(key, value, cas);
    auto it = shared.find(std::string(key));
    if (it == shared.end())
      return WasmResult::NotFound;
    value = it->second.first;
    cas = it->second.second;
    return WasmResult::Ok;
  }
  WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas) override {
    if (!services)
      return HostContext::setSharedData(key, value, cas);
    auto it = shared.find(std::string(key));
    if (it != shared.end() && cas != 0 && cas != it->second.second)
      return WasmResult::CasMismatch;
    shared[std::string(key)] = {std::string(value), next_cas++};
    return WasmResult::Ok;
  }
  std::vector<std::string> metric_names;
  WasmResult defineMetric(uint32_t type, std::string_view name, uint32_t& id) override {
    if (!services)
      return HostContext::defineMetric(type, name, id);
    metric_names.emplace_back(name);
    id = uint32_t(metric_names.size()) * 4 + type;
    return WasmResult::Ok;
  }
  std::vector<int64_t> increments;
  WasmResult incrementMetric(uint32_t id, int64_t offset) override {
    if (!services)
      return HostContext::incrementMetric(id, offset);
    increments.push_back(offset);
    return WasmResult::Ok;
  }
  struct HttpCall {
    std::string cluster;
    std::vector<std::pair<std::string, std::string>> headers;
    std::string body;
    std::vector<std::pair<std::string, std::string>> trailers;
    uint32_t timeout_ms;
  };
  std::vector<HttpCall> http_calls;
  WasmResult httpCall(std::string_view cluster,
                      std::vector<std::pair<std::string, std::string>> headers,
                      std::string_view body,
                      std::vector<std::pair<std::string, std::string>> trailers,
                      uint32_t timeout_ms, uint32_t& token) override {
    if (!services)
      return HostContext::httpCall(cluster, std::move(headers), body, std::move(trailers),
                                   timeout_ms, token);
    http_calls.push_back({std::string(cluster), std::move(headers), std::string(body),
                          std::move(trailers), timeout_ms});
    token = uint32_t(http_calls.size()) * 4;
    return WasmResult::Ok;
  }
  std::map<std::string, std::string> foreign; // name -> result (echoes args when empty)
  WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                 std::string& result) override {
    auto it = foreign.find(std::string(name));
    if (it == foreign.end())
      return WasmResult::NotFound;
    result = it->second.empty() ? std::string(arguments) : it->second;
    return WasmResult::Ok;
  }

private:
  uint32_t id_;
  FakeContext* root_;
};

} // namespace wasmgate::wasm::abi::testing
