#include "extensions/common/wasm/plugin_config.h"

#include <cstdlib>

#include "config/loader_internal.h"
#include "config/object_reader.h"
#include "config/yaml_json.h"
#include "http/header_map.h"

namespace wasmgate::extensions::wasm {

namespace {

using config::fieldError;
using config::ObjectReader;


int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}

// Protobuf JSON encodes bytes as base64 (standard or URL-safe, padding optional).
Result<std::string> decodeBase64(std::string_view in, const std::string& path) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ')
      continue;
    int v = base64Value(c);
    if (v < 0)
      return fieldError(path, "invalid base64 (unexpected character)");
    acc = (acc << 6) | uint32_t(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(char((acc >> bits) & 0xff));
    }
  }
  return out;
}


Status parseCode(ObjectReader& code, VmConfig& vm) {
  WG_RETURN_IF_ERROR(code.unsupported("remote", "remote code sources are not implemented yet; use local"));
  if (!code.has("local"))
    return code.missing("local");
  return code.getObject("local", [&](ObjectReader& local) -> Status {
    int sources = int(local.has("filename")) + int(local.has("inline_bytes")) + int(local.has("inline_string"));
    WG_RETURN_IF_ERROR(local.unsupported("environment_variable", "use filename, inline_bytes or inline_string"));
    if (sources != 1)
      return fieldError(local.path(), "exactly one of filename, inline_bytes, inline_string is required");
    if (local.has("filename")) {
      std::string filename;
      WG_RETURN_IF_ERROR(local.getString("filename", filename));
      auto bytes = config::detail::readFileContents(filename, local.pathOf("filename"));
      if (!bytes.ok())
        return bytes.status();
      vm.code = std::move(*bytes);
      vm.code_origin = "file '" + filename + "'";
    } else if (local.has("inline_bytes")) {
      std::string b64;
      WG_RETURN_IF_ERROR(local.getString("inline_bytes", b64));
      auto bytes = decodeBase64(b64, local.pathOf("inline_bytes"));
      if (!bytes.ok())
        return bytes.status();
      vm.code = std::move(*bytes);
      vm.code_origin = "inline_bytes";
    } else {
      WG_RETURN_IF_ERROR(local.getString("inline_string", vm.code));
      vm.code_origin = "inline_string";
    }
    return okStatus();
  });
}

Status parseVmConfig(ObjectReader& r, VmConfig& vm) {
  WG_RETURN_IF_ERROR(r.getString("vm_id", vm.vm_id));
  std::string runtime;
  WG_RETURN_IF_ERROR(r.getString("runtime", runtime));
  if (runtime.empty() || runtime == kRuntimeV8) {
    vm.runtime = std::string(kRuntimeV8);
  } else if (runtime == kRuntimeNull) {
    vm.runtime = std::string(kRuntimeNull);
  } else {
    return fieldError(r.pathOf("runtime"), "unsupported runtime '" + runtime + "' (this build has " +
                                               std::string(kRuntimeV8) + " and " + std::string(kRuntimeNull) + ")");
  }
  if (!r.has("code"))
    return r.missing("code");
  WG_RETURN_IF_ERROR(r.getObject("code", [&](ObjectReader& code) { return parseCode(code, vm); }));
  if (r.has("configuration")) {
    auto bytes = anyToBytes(r.take("configuration"), r.pathOf("configuration"));
    if (!bytes.ok())
      return bytes.status();
    vm.configuration = std::move(*bytes);
  }
  WG_RETURN_IF_ERROR(r.getBool("allow_precompiled", vm.allow_precompiled));
  // Code caching on NACK is an xDS concern; wasmgate loads code once at config time.
  r.ignore("nack_on_code_cache_miss");
  WG_RETURN_IF_ERROR(r.getObject("environment_variables", [&](ObjectReader& env) -> Status {
    std::vector<std::string> host_keys;
    WG_RETURN_IF_ERROR(env.getStringList("host_env_keys", host_keys));
    for (const auto& k : host_keys)
      if (const char* v = std::getenv(k.c_str()))
        vm.environment.emplace_back(k, v);
    YAML::Node kv = env.take("key_values");
    if (kv && !kv.IsNull()) {
      if (!kv.IsMap())
        return fieldError(env.pathOf("key_values"), "expected a map of strings");
      for (const auto& e : kv) {
        auto value = config::nodeString(e.second, env.pathOf("key_values") + "." + e.first.as<std::string>());
        if (!value.ok())
          return value.status();
        vm.environment.emplace_back(e.first.as<std::string>(), *value);
      }
    }
    return okStatus();
  }));
  return okStatus();
}

} // namespace

Result<std::string> anyToBytes(const YAML::Node& node, const std::string& path) {
  if (node.IsScalar()) // a bare string: accepted as the raw bytes (common in hand-written configs)
    return node.Scalar();
  auto tc = config::detail::parseTypedConfig(node, path);
  if (!tc.ok())
    return tc.status();
  std::string_view type = config::detail::messageName(tc->type_url);
  if (type == "google.protobuf.StringValue" || type == "google.protobuf.BytesValue") {
    std::string value;
    Status s = config::readObject(tc->body, tc->body_path, [&](ObjectReader& r) {
      return r.getString("value", value);
    });
    if (!s.ok())
      return s;
    if (type == "google.protobuf.BytesValue")
      return decodeBase64(value, tc->body_path + ".value");
    return value;
  }
  // Struct and any other message: its JSON, as Envoy serializes non-string Any payloads. Well-
  // known JSON types carry their payload in "value" (protobuf's Any JSON mapping).
  YAML::Node payload = tc->body;
  if ((type == "google.protobuf.Struct" || type == "google.protobuf.Value" ||
       type == "google.protobuf.ListValue") &&
      payload && payload.IsMap())
    payload = payload["value"];
  if (!payload || payload.IsNull())
    return std::string("{}");
  return config::yamlToJson(payload).dump();
}

Result<PluginConfig> parsePluginConfig(const YAML::Node& node, const std::string& path) {
  PluginConfig pc;
  pc.path = path;
  Status s = config::readObject(node, path, [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.getString("name", pc.name));
    WG_RETURN_IF_ERROR(r.getString("root_id", pc.root_id));
    if (!r.has("vm_config"))
      return r.has("vm") ? r.unsupported("vm", "shared VM references are not implemented; use vm_config")
                         : r.missing("vm_config");
    WG_RETURN_IF_ERROR(r.getObject("vm_config", [&](ObjectReader& vm) { return parseVmConfig(vm, pc.vm); }));
    if (r.has("configuration")) {
      auto bytes = anyToBytes(r.take("configuration"), r.pathOf("configuration"));
      if (!bytes.ok())
        return bytes.status();
      pc.configuration = std::move(*bytes);
    }
    bool fail_open = false;
    WG_RETURN_IF_ERROR(r.getBool("fail_open", fail_open));
    FailurePolicy p = FailurePolicy::FailClosed;
    bool has_policy = r.has("failure_policy");
    WG_RETURN_IF_ERROR(r.getEnum<FailurePolicy>("failure_policy", p,
                                                {{"FAIL_UNSPECIFIED", FailurePolicy::FailClosed},
                                                 {"FAIL_CLOSED", FailurePolicy::FailClosed},
                                                 {"FAIL_OPEN", FailurePolicy::FailOpen},
                                                 {"FAIL_RELOAD", FailurePolicy::FailReload}}));
    // Envoy: failure_policy wins when set; the deprecated fail_open otherwise.
    pc.failure_policy = has_policy ? p : (fail_open ? FailurePolicy::FailOpen : FailurePolicy::FailClosed);
    WG_RETURN_IF_ERROR(r.getBool("allow_on_headers_stop_iteration", pc.allow_on_headers_stop_iteration));
    WG_RETURN_IF_ERROR(r.getObject("capability_restriction_config", [&](ObjectReader& cr) -> Status {
      YAML::Node allowed = cr.take("allowed_capabilities");
      if (!allowed || allowed.IsNull())
        return okStatus();
      if (!allowed.IsMap())
        return fieldError(cr.pathOf("allowed_capabilities"),
                          "expected a map of capability name to SanitizationConfig ({})");
      std::set<std::string, std::less<>> names;
      for (const auto& e : allowed) {
        const std::string name = e.first.as<std::string>();
        if (e.second && !e.second.IsNull() && !(e.second.IsMap() && e.second.size() == 0))
          return fieldError(cr.pathOf("allowed_capabilities") + "." + name,
                            "SanitizationConfig has no fields: use {}");
        names.insert(name);
      }
      if (!names.empty()) // Envoy: an empty map allows everything
        pc.allowed_capabilities = std::move(names);
      return okStatus();
    }));
    std::vector<std::string> hidden;
    WG_RETURN_IF_ERROR(r.getStringList("hidden_headers", hidden));
    for (auto& h : hidden)
      pc.hidden_headers.push_back(http::toLower(h));
    if (r.has("allowed_http_call_clusters")) {
      std::vector<std::string> clusters;
      WG_RETURN_IF_ERROR(r.getStringList("allowed_http_call_clusters", clusters));
      pc.allowed_http_call_clusters = std::set<std::string, std::less<>>(clusters.begin(), clusters.end());
    }
    WG_RETURN_IF_ERROR(r.getObject("reload_config", [&](ObjectReader& rc) -> Status {
      return rc.getObject("backoff", [&](ObjectReader& b) -> Status {
        std::optional<std::chrono::milliseconds> base, max;
        WG_RETURN_IF_ERROR(b.getDuration("base_interval", base));
        if (!base || base->count() <= 0)
          return fieldError(b.pathOf("base_interval"), "required, and greater than zero");
        WG_RETURN_IF_ERROR(b.getDuration("max_interval", max));
        if (max && *max < *base)
          return fieldError(b.pathOf("max_interval"), "must not be less than base_interval");
        pc.reload.base_interval = *base;
        pc.reload.max_interval = max ? *max : *base * 10;
        return okStatus();
      });
    }));
    // wasmgate extensions (not in Envoy's PluginConfig): the sandbox and crash-loop limits.
    WG_RETURN_IF_ERROR(r.getUint64("memory_limit_bytes", pc.limits.memory_limit_bytes));
    std::optional<std::chrono::milliseconds> max_callback;
    WG_RETURN_IF_ERROR(r.getDuration("max_callback_duration", max_callback));
    if (max_callback)
      pc.limits.max_callback_duration = *max_callback;
    WG_RETURN_IF_ERROR(r.getObject("crash_loop", [&](ObjectReader& cl) -> Status {
      WG_RETURN_IF_ERROR(cl.getUint32("max_crashes", pc.reload.max_crashes, 1, 1000000));
      std::optional<std::chrono::milliseconds> window;
      WG_RETURN_IF_ERROR(cl.getDuration("window", window));
      if (window) {
        if (window->count() <= 0)
          return fieldError(cl.pathOf("window"), "must be greater than zero");
        pc.reload.window = *window;
      }
      return okStatus();
    }));
    return okStatus();
  });
  if (!s.ok())
    return s;
  return pc;
}

Result<PluginConfig> parseWasmFilterConfig(const YAML::Node& node, const std::string& path) {
  YAML::Node cfg;
  Status s = config::readObject(node, path, [&](ObjectReader& r) -> Status {
    if (!r.has("config"))
      return r.missing("config");
    cfg = r.take("config");
    return okStatus();
  });
  if (!s.ok())
    return s;
  return parsePluginConfig(cfg, path + ".config");
}

} // namespace wasmgate::extensions::wasm
