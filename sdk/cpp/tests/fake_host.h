// A host double for null-VM tests: implements wasmgate::nullvm::NullVmHostApi the way the
// proxy will (Envoy semantics where they matter), records what plugins do, and drives
// instances through the NullVmPlugin table.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "null_plugin.h"

namespace sdk_test {

using Pairs = std::vector<std::pair<std::string, std::string>>;

// Independent of the SDK's serializer, written straight from proxy-wasm-abi.md 1.3.
std::string encodePairs(const Pairs &pairs);
// Returns false for anything malformed (like cpp-host's PairsUtil::toPairs).
bool decodePairs(std::string_view bytes, Pairs *out);

struct LocalReply {
  uint32_t status = 0;
  std::string details;
  std::string body;
  Pairs headers;
  uint32_t grpc_status = 0;
};

struct HttpCall {
  std::string upstream;
  Pairs headers;
  std::string body;
  Pairs trailers;
  uint32_t timeout_ms = 0;
};

struct Metric {
  uint32_t type = 0;
  std::string name;
  uint64_t value = 0;
};

class FakeHost {
public:
  FakeHost();
  ~FakeHost();

  // The table handed to create_instance. Clearing a pointer simulates an unimplemented call.
  wasmgate::nullvm::NullVmHostApi api;

  // State the plugin sees.
  std::map<uint32_t, Pairs> maps;                // by WasmHeaderMapType
  std::map<uint32_t, std::string> buffers;       // by WasmBufferType
  std::map<std::string, std::string> properties; // by NUL-joined path without trailing NUL
  uint32_t log_level = 1;
  uint64_t now_ns = 1700000000123456789ull;
  uint32_t status_code = 0;
  std::string status_message;

  // What the plugin did.
  std::vector<std::pair<uint32_t, std::string>> logs;
  std::vector<std::string> property_paths; // raw paths as sent (NULs included)
  std::vector<uint32_t> effective_contexts;
  std::vector<uint32_t> continued, closed;
  std::vector<LocalReply> local_replies;
  std::vector<HttpCall> http_calls;
  std::map<uint32_t, Metric> metrics;
  std::vector<std::pair<std::string, std::string>> set_properties;
  std::map<std::string, std::pair<std::string, uint32_t>> shared_data;
  uint32_t tick_period = 0;
  int done_calls = 0;
  uint32_t next_token = 4;

  bool logged(std::string_view needle) const;
  const std::string *header(uint32_t map, std::string_view key) const;

  // The host under test for the static hostcall functions.
  static FakeHost *current;
};

// Drives one instance of a registered plugin like a proxy would.
class Vm {
public:
  Vm(std::string_view plugin_name, FakeHost &host);
  ~Vm();

  const wasmgate::nullvm::NullVmPlugin &plugin() const { return *plugin_; }
  void *instance() const { return instance_; }

  // create + vm_start + configure for a root context named root_id; returns configure's result.
  bool startRoot(uint32_t root_context_id, std::string_view root_id, std::string_view config);
  void createStream(uint32_t context_id, uint32_t root_context_id);
  // on_log, on_done, on_delete.
  void endStream(uint32_t context_id);

private:
  const wasmgate::nullvm::NullVmPlugin *plugin_;
  FakeHost &host_;
  void *instance_ = nullptr;
};

} // namespace sdk_test
