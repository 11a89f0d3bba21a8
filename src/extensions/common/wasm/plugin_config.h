#pragma once

// Envoy's Proxy-Wasm plugin configuration (envoy.extensions.wasm.v3.PluginConfig / VmConfig),
// shared by the HTTP filter, the network filter and the bootstrap service. Parsing resolves
// the code source (reads the file) and turns the `configuration` Any values into the bytes a
// plugin reads: StringValue -> the string, BytesValue -> the bytes, anything else (Struct,
// TypedStruct payloads) -> its JSON.

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

struct PluginConfig {
  std::string name;
  std::string root_id;
  VmConfig vm;
  std::string configuration; // plugin configuration as bytes
  FailurePolicy failure_policy = FailurePolicy::FailClosed;
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
