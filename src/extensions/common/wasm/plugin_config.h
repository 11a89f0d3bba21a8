#pragma once

// Envoy's Proxy-Wasm plugin configuration (envoy.extensions.wasm.v3.PluginConfig / VmConfig),
// shared by the HTTP filter, the network filter and the bootstrap service. Parsing resolves
// the code source (reads the file) and turns the `configuration` Any values into the bytes a
// plugin reads: StringValue -> the string, BytesValue -> the bytes, anything else (Struct,
// TypedStruct payloads) -> its JSON.

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"

namespace wasmgate::extensions::wasm {

inline constexpr std::string_view kRuntimeV8 = "envoy.wasm.runtime.v8";
inline constexpr std::string_view kRuntimeNull = "envoy.wasm.runtime.null";

struct VmConfig {
  std::string vm_id;
  std::string runtime;        // canonical name; empty in the config means V8
  std::string code;           // module bytes, or for the null runtime the registered plugin name
  std::string code_origin;    // "file '<path>'", "inline_bytes", "inline_string" (for messages)
  std::string configuration;  // vm_config.configuration as bytes
  std::vector<std::pair<std::string, std::string>> environment; // environment_variables
  bool allow_precompiled = false;
};

enum class FailurePolicy { FailClosed, FailOpen, FailReload };

// wasmgate's sandbox limits, next to vm_config in the PluginConfig (Envoy has none of them).
struct SandboxLimits {
  // Cap on each VM's linear memory: memory.grow past it fails (the module's declared maximum is
  // lowered before compiling). 0 = no cap. Ignored by the null runtime.
  uint64_t memory_limit_bytes = 256ull << 20;
  // Longest a callback may run before the watchdog terminates it (the VM is then failed).
  // Start-up callbacks (_initialize/_start, proxy_on_vm_start, proxy_on_configure) get at
  // least kStartupCallbackFloor. 0 = no limit.
  std::chrono::milliseconds max_callback_duration{50};
};
inline constexpr std::chrono::milliseconds kStartupCallbackFloor{1000};

// FAIL_RELOAD: Envoy's reload_config.backoff (base_interval, max_interval = 10x base by
// default) plus wasmgate's crash-loop limit: `max_crashes` failures within `window` stop the
// reloads for good (the plugin then fails closed) until the configuration changes.
struct ReloadConfig {
  std::chrono::milliseconds base_interval{1000};
  std::chrono::milliseconds max_interval{10000};
  uint32_t max_crashes = 5;
  std::chrono::milliseconds window{60000};
};

struct PluginConfig {
  std::string name;
  std::string root_id;
  VmConfig vm;
  std::string configuration; // plugin configuration as bytes
  FailurePolicy failure_policy = FailurePolicy::FailClosed;
  ReloadConfig reload;
  SandboxLimits limits;
  // capability_restriction_config.allowed_capabilities (unset or empty: everything).
  std::optional<std::set<std::string, std::less<>>> allowed_capabilities;
  // wasmgate: request/response headers the plugin can neither see nor change (lower-case).
  std::vector<std::string> hidden_headers;
  // wasmgate: the clusters proxy_http_call may reach (unset: any).
  std::optional<std::set<std::string, std::less<>>> allowed_http_call_clusters;
  // Envoy's allow_on_headers_stop_iteration: a headers "pause" (1) is a real StopIteration
  // (body keeps flowing to the plugin) instead of StopAllIterationAndWatermark.
  bool allow_on_headers_stop_iteration = false;
  std::string path; // config path of the PluginConfig, for errors naming the plugin
};

// Parses a PluginConfig message body (the `config` field of the Wasm filter, or a
// WasmService's `config`). `path` names it in errors.
Result<PluginConfig> parsePluginConfig(const YAML::Node& node, const std::string& path);

// Parses the envoy.extensions.filters.http.wasm.v3.Wasm (and network Wasm) message: {config}.
Result<PluginConfig> parseWasmFilterConfig(const YAML::Node& node, const std::string& path);

// The bytes of a google.protobuf.Any configuration value as Envoy hands them to plugins.
Result<std::string> anyToBytes(const YAML::Node& node, const std::string& path);

} // namespace wasmgate::extensions::wasm
