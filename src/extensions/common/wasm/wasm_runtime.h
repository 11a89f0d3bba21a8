#pragma once

// Proxy-Wasm plugins in the proxy: a Plugin is compiled and validated once on the main thread
// (config time); each worker thread lazily gets its own VM instance cloned from the compiled
// module (no recompilation) and a root context per plugin. Plugins whose VMs have the same
// vm_id, VM configuration and code share one instance per worker, as in Envoy.

#include <memory>
#include <string>

#include "common/status.h"
#include "extensions/common/wasm/plugin_config.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engine.h"

namespace wasmgate::extensions::wasm {

namespace abi = ::wasmgate::wasm::abi;

struct Plugin {
  PluginConfig config;
  std::shared_ptr<const abi::PluginInfo> info;
  std::shared_ptr<::wasmgate::wasm::CompiledModule> module;
  std::string vm_key; // vm_id + VM configuration + code hash: which plugins share a VM
  std::string log_name; // "<name>" or "<root_id>" for messages
};
using PluginSharedPtr = std::shared_ptr<const Plugin>;

// Compiles (once per distinct code) and validates the plugin by starting it on the calling
// thread: a module that fails to load, or whose proxy_on_vm_start/proxy_on_configure returns
// false or traps, is an error naming the plugin and the reason.
Result<PluginSharedPtr> loadPlugin(const PluginConfig& config);

class RootContext;

// A plugin on one worker thread: the shared VM instance and this plugin's root context.
class ThreadLocalPlugin {
public:
  abi::WasmInstance& instance() { return *instance_; }
  RootContext& root() { return *root_; }
  const Plugin& plugin() const { return *plugin_; }
  // False once the VM trapped: streams then follow the failure policy.
  bool healthy() const { return !instance_->failed(); }

private:
  friend Result<std::shared_ptr<ThreadLocalPlugin>> getOrCreateThreadLocalPlugin(const PluginSharedPtr& plugin);
  PluginSharedPtr plugin_;
  std::shared_ptr<abi::WasmInstance> instance_;
  std::unique_ptr<RootContext> root_;
};

// The calling worker's instance of `plugin`, created (and started/configured) on first use.
// Under FAIL_RELOAD a failed VM is replaced by a fresh one for the next stream; streams still
// holding the old one keep it alive until they end.
Result<std::shared_ptr<ThreadLocalPlugin>> getOrCreateThreadLocalPlugin(const PluginSharedPtr& plugin);

// The root (plugin) context: logging with the plugin's prefix, VM and plugin configuration.
class RootContext : public abi::HostContext {
public:
  RootContext(const Plugin& plugin, uint32_t id) : plugin_(plugin), id_(id) {}
  uint32_t contextId() const override { return id_; }
  abi::HostContext& rootContext() override { return *this; }
  void log(uint32_t level, std::string_view message) override;
  uint32_t logLevel() const override;
  abi::BufferRef buffer(abi::BufferType type) override;
  // Process-wide shared data of the plugin's vm_id (shared_data.h); stream contexts delegate
  // here.
  abi::WasmResult getSharedData(std::string_view key, std::string& value, uint32_t& cas) override;
  abi::WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas) override;
  const Plugin& plugin() const { return plugin_; }

private:
  const Plugin& plugin_;
  uint32_t id_;
};

// Writes a plugin's log line into the proxy log: "wasm log <name> <root_id> <vm_id>: msg".
void logFromPlugin(const Plugin& plugin, uint32_t level, std::string_view message);
uint32_t pluginLogLevel();

} // namespace wasmgate::extensions::wasm
