#pragma once

// Proxy-Wasm plugins in the proxy: a Plugin is compiled and validated once on the main thread
// (config time); each worker thread lazily gets its own VM instance cloned from the compiled
// module (no recompilation) and a root context per plugin. Plugins whose VMs have the same
// vm_id, VM configuration and code share one instance per worker, as in Envoy.

#include <atomic>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "event/dispatcher.h"
#include "extensions/common/wasm/foreign.h"
#include "extensions/common/wasm/metrics.h"
#include "extensions/common/wasm/plugin_config.h"
#include "extensions/common/wasm/shared_queue.h"
#include "extensions/common/wasm/watchdog.h"
#include "network/active_connection.h"
#include "upstream/async_client.h"
#include "wasm/abi/wasm_instance.h"
#include "wasm/engine.h"

namespace wasmgate::upstream {
class WorkerClusterManager;
}

namespace wasmgate::extensions::wasm {

namespace abi = ::wasmgate::wasm::abi;

// wasm.<plugin>.* in /stats and Prometheus: what happened to a plugin's VMs on all workers.
struct PluginStats {
  PluginStats(stats::Store& store, const std::string& prefix);
  stats::Counter& crashes;           // VM failures of any kind (trap, timeout, memory, exception)
  stats::Counter& callback_timeouts; // ... of which the watchdog terminated a callback
  stats::Counter& memory_limit_hits; // ... of which the VM had grown to its memory limit
  stats::Counter& restarts;          // FAIL_RELOAD replaced a failed VM
  stats::Gauge& crash_loop;          // configurations of the plugin whose reloads the
                                     // crash-loop limit stopped (1 for a crash-looping plugin)
  stats::Counter& capability_denied; // hostcalls refused by capability_restriction_config or
                                     // the callout allowlist
};

// FAIL_RELOAD bookkeeping shared by the workers: recent failures, the backoff before the next
// reload, and the crash-loop verdict.
class FailureTracker {
public:
  explicit FailureTracker(const ReloadConfig& config) : config_(config) {}
  // Records a VM failure; true when it made the plugin crash-looping (report it once).
  bool record(std::chrono::steady_clock::time_point now);
  bool reloadAllowed(std::chrono::steady_clock::time_point now) const;
  bool crashLooping() const;
  // A stream went through the plugin without failing: the next failure reloads at once again.
  // (Cheap on the request path: one relaxed load while nothing failed.)
  void noteHealthy() {
    if (consecutive_.load(std::memory_order_relaxed) != 0)
      consecutive_.store(0, std::memory_order_relaxed);
  }

private:
  const ReloadConfig config_;
  mutable std::mutex mu_;
  std::deque<std::chrono::steady_clock::time_point> failures_; // within the window
  std::chrono::steady_clock::time_point next_reload_{};
  bool looping_ = false;
  // Failures since a VM last served a stream: the first reload is immediate, later ones
  // back off (a plugin that crashes on start does not spin).
  std::atomic<uint32_t> consecutive_{0};
};

struct Plugin {
  ~Plugin();
  PluginConfig config;
  std::shared_ptr<const abi::PluginInfo> info;
  std::shared_ptr<::wasmgate::wasm::CompiledModule> module;
  std::string vm_key; // vm_id + VM configuration + code hash: which plugins share a VM
  std::string log_name; // "<name>" or "<root_id>" for messages
  stats::Store* stats = nullptr; // where plugin-defined metrics go (null: private per VM)
  std::unique_ptr<stats::Store> own_stats; // when no store was given
  std::unique_ptr<PluginStats> counters;
  std::unique_ptr<FailureTracker> failures;
  // Set when the configuration that loaded the plugin is gone (see PluginHandle).
  mutable std::atomic<bool> retired{false};
};
using PluginSharedPtr = std::shared_ptr<const Plugin>;

// How a configuration (a filter chain, a service) holds the plugin it loaded. When the last
// holder goes, i.e. a config reload replaced it and the last connection using it closed, the
// plugin is retired: each worker drops its instance (root context, and the VM unless another
// plugin shares it) at its next releaseRetiredThreadLocalPlugins().
class PluginHandle {
public:
  explicit PluginHandle(PluginSharedPtr plugin) : plugin_(std::move(plugin)) {}
  ~PluginHandle() { plugin_->retired.store(true, std::memory_order_release); }
  PluginHandle(const PluginHandle&) = delete;
  PluginHandle& operator=(const PluginHandle&) = delete;
  const PluginSharedPtr& plugin() const { return plugin_; }

private:
  PluginSharedPtr plugin_;
};
using PluginHandleSharedPtr = std::shared_ptr<const PluginHandle>;

// Compiles (once per distinct code) and validates the plugin by starting it on the calling
// thread: a module that fails to load, or whose proxy_on_vm_start/proxy_on_configure returns
// false or traps, is an error naming the plugin and the reason.
Result<PluginSharedPtr> loadPlugin(const PluginConfig& config, stats::Store* stats = nullptr);

// What the HTTP and network Wasm filter factories share: parse Envoy's PluginConfig at `path`,
// load and validate the plugin, and (when `worker_initializers` is given, i.e. serving) start it
// on each worker as the worker starts: Envoy creates root contexts eagerly, so proxy_on_tick
// runs before any traffic. The filter chain keeps the returned handle.
Result<PluginHandleSharedPtr> loadPluginForFilterChain(
    const YAML::Node& typed_config, const std::string& path, stats::Store& stats,
    std::vector<std::function<void(network::WorkerContext&)>>* worker_initializers);

// The admin page /wasm: every plugin still configured (one entry per filter/service config,
// so a plugin used twice shows twice), as a JSON array: identity, runtime, failure policy,
// sandbox limits, state ("ok", "reload_backoff", "crash_loop") and the wasm.<plugin>.* counters.
std::string pluginStatusJson();

class RootContext;

// What a worker thread lends the plugins running on it: its event loop (timers) and its
// clusters (callouts). Recorded per thread by getOrCreateThreadLocalPlugin.
struct WorkerServices {
  event::Dispatcher* dispatcher = nullptr;
  upstream::WorkerClusterManager* cluster_manager = nullptr;
};

// One VM on one worker: the instance and what belongs to it rather than to one plugin (the
// metric ids it handed out). Plugins with the same vm_key share it.
struct WorkerVm {
  WorkerVm(std::unique_ptr<abi::WasmInstance> i, stats::Store* stats)
      : instance(std::move(i)), metrics(stats) {}
  std::unique_ptr<abi::WasmInstance> instance; // under the CPU watchdog when limited
  VmMetrics metrics;
  bool failure_reported = false;
};

// Accounts for a VM failure seen in `where` (a callback name) once per VM: the log line (plugin,
// callback, reason with the guest backtrace), the wasm.<plugin>.* counters, the FAIL_RELOAD
// history. Later errors of the same failed VM are not logged again.
void reportVmFailure(const Plugin& plugin, WorkerVm& vm, std::string_view where,
                     const std::string& reason);

// A plugin on one worker thread: the shared VM and this plugin's root context.
class ThreadLocalPlugin {
public:
  abi::WasmInstance& instance() { return *vm_->instance; }
  WorkerVm& vm() { return *vm_; }
  RootContext& root() { return *root_; }
  const Plugin& plugin() const { return *plugin_; }
  // False once the VM trapped: streams then follow the failure policy.
  bool healthy() const { return !vm_->instance->failed(); }
  // A stream (HTTP) or connection (TCP) context `id` in the VM, under this plugin's root:
  // registered with the host and announced with proxy_on_context_create. An error when the VM
  // has failed or the guest call fails.
  Status createContext(abi::HostContext& context, uint32_t id);

private:
  friend Result<std::shared_ptr<ThreadLocalPlugin>> getOrCreateThreadLocalPlugin(
      const PluginSharedPtr& plugin, const WorkerServices& services);
  PluginSharedPtr plugin_;
  std::shared_ptr<WorkerVm> vm_;
  std::unique_ptr<RootContext> root_;
};

// The calling worker's instance of `plugin`, created (and started/configured) on first use:
// at worker start (worker initializer) or by the first stream. Under FAIL_RELOAD a failed VM is
// replaced by a fresh one for the next stream; streams still holding the old one keep it alive
// until they end.
Result<std::shared_ptr<ThreadLocalPlugin>> getOrCreateThreadLocalPlugin(const PluginSharedPtr& plugin,
                                                                      const WorkerServices& services);

// Drops the calling thread's instances of retired plugins that no stream uses any more: the
// root context gets proxy_on_done and proxy_on_delete (when its VM is healthy), then goes with
// its timers and callouts. Workers call it from their housekeeping timer.
void releaseRetiredThreadLocalPlugins();

// Drops the calling thread's plugins and VMs. Worker threads do it by exiting; the main thread
// (singleton bootstrap services) calls it at shutdown while its event loop still exists.
void releaseThreadLocalPlugins();

// The root (plugin) context: logging with the plugin's prefix, VM and plugin configuration,
// shared data, and (on a worker) the tick timer.
class RootContext : public abi::HostContext, public ForeignFunctionTarget {
public:
  // `vm` and `services` are absent for the validation run at config time: nothing ticks there.
  RootContext(const Plugin& plugin, uint32_t id, VmMetrics& metrics,
              WorkerVm* vm = nullptr, WorkerServices services = {})
      : plugin_(plugin), id_(id), metrics_(metrics), vm_(vm), services_(services) {}
  ~RootContext() override;
  uint32_t contextId() const override { return id_; }
  abi::HostContext& rootContext() override { return *this; }
  void log(uint32_t level, std::string_view message) override;
  uint32_t logLevel() const override;
  abi::BufferRef buffer(abi::BufferType type) override;
  // The response being delivered to proxy_on_http_call_response (map types 6 and 7).
  abi::MapRef headerMap(abi::MapType type) override;
  // Process-wide shared data of the plugin's vm_id (shared_data.h); stream contexts delegate
  // here.
  abi::WasmResult getSharedData(std::string_view key, std::string& value, uint32_t& cas) override;
  abi::WasmResult setSharedData(std::string_view key, std::string_view value, uint32_t cas) override;
  // proxy_set_tick_period_milliseconds: proxy_on_tick every period on this worker; 0 stops.
  abi::WasmResult setTickPeriod(uint32_t period_ms) override;
  // proxy_define_metric and friends: the VM's metrics (metrics.h); stream contexts delegate.
  abi::WasmResult defineMetric(uint32_t type, std::string_view name, uint32_t& id) override {
    return metrics_.define(type, name, id);
  }
  abi::WasmResult incrementMetric(uint32_t id, int64_t offset) override {
    return metrics_.increment(id, offset);
  }
  abi::WasmResult recordMetric(uint32_t id, uint64_t value) override {
    return metrics_.record(id, value);
  }
  abi::WasmResult getMetric(uint32_t id, uint64_t& value) override {
    return metrics_.get(id, value);
  }
  // proxy_http_call: a request to a configured cluster on this worker's loop; the response
  // (or "reset") reaches proxy_on_http_call_response on this root context. Envoy's result
  // codes: BadArgument for an unknown cluster or a request without :method, :path or
  // :authority.
  abi::WasmResult httpCall(std::string_view cluster,
                           std::vector<std::pair<std::string, std::string>> headers,
                           std::string_view body,
                           std::vector<std::pair<std::string, std::string>> trailers,
                           uint32_t timeout_ms, uint32_t& token) override;
  // Status of the last callout: 0 after a response, BrokenConnection (11) "reset" after a
  // failure.
  abi::WasmResult getStatus(uint32_t& code, std::string& message) override;
  // Cancels the callouts made while stream `context_id` was the effective context (the client
  // went away): no response is delivered for them.
  void cancelCallouts(uint32_t context_id);

  // Shared queues (shared_queue.h) under the plugin's vm_id; proxy_on_queue_ready for queues
  // this root registered runs on this worker. Stream contexts delegate here.
  abi::WasmResult registerSharedQueue(std::string_view name, uint32_t& token) override;
  abi::WasmResult resolveSharedQueue(std::string_view vm_id, std::string_view name,
                                     uint32_t& token) override;
  abi::WasmResult enqueueSharedQueue(uint32_t token, std::string_view value) override;
  abi::WasmResult dequeueSharedQueue(uint32_t token, std::string& value) override;

  // proxy_call_foreign_function (foreign.h). On a root context the stream-only functions are
  // NotFound; declare_property records the declaration for this plugin's streams.
  abi::WasmResult callForeignFunction(std::string_view name, std::string_view arguments,
                                      std::string& result) override {
    return ::wasmgate::extensions::wasm::callForeignFunction(*this, name, arguments, result);
  }
  abi::WasmResult foreignClearRouteCache() override { return abi::WasmResult::NotFound; }
  abi::WasmResult foreignSetFilterState(std::string_view, std::string_view) override {
    return abi::WasmResult::NotFound;
  }
  abi::WasmResult foreignDeclareProperty(std::string_view name, bool readonly) override {
    readonly_properties_[std::string(name)] = readonly;
    return abi::WasmResult::Ok;
  }
  // Whether proxy_set_property(name) may only set the value once.
  bool propertyIsReadonly(std::string_view name) const {
    auto it = readonly_properties_.find(name);
    return it != readonly_properties_.end() && it->second;
  }
  size_t calloutsInFlight() const { return callouts_.size(); }

  const Plugin& plugin() const { return plugin_; }
  uint32_t tickPeriodMs() const { return tick_period_ms_; }

  // Callouts in flight per root context per worker; past it proxy_http_call fails with
  // InternalFailure (Envoy has no limit).
  static constexpr size_t kMaxCalloutsInFlight = 1024;

private:
  struct Callout : upstream::AsyncRequestCallbacks, event::DeferredDeletable {
    RootContext* root = nullptr;
    uint32_t token = 0;
    uint32_t origin = 0; // the stream that was effective, 0 for the root itself
    std::unique_ptr<upstream::AsyncRequest> request;
    std::optional<upstream::AsyncResponse> response; // set when it completed
    void onAsyncSuccess(upstream::AsyncResponse&& r) override;
    void onAsyncFailure(std::string_view reason) override;
  };

  void onTickTimer();
  void deliverCallout(uint32_t token);
  void onQueueReady(uint32_t token);
  abi::WasmInstance* instance() const { return vm_ != nullptr ? vm_->instance.get() : nullptr; }
  void reportFailure(std::string_view where, const std::string& reason) {
    if (vm_ != nullptr)
      reportVmFailure(plugin_, *vm_, where, reason);
  }

  const Plugin& plugin_;
  uint32_t id_;
  VmMetrics& metrics_;
  WorkerVm* vm_; // null for the validation run
  WorkerServices services_;
  uint32_t tick_period_ms_ = 0;
  event::TimerPtr tick_timer_;
  std::map<uint32_t, std::unique_ptr<Callout>> callouts_;
  uint32_t next_callout_token_ = 1;
  const upstream::AsyncResponse* callout_response_ = nullptr; // during the response callback
  uint32_t status_code_ = 0;
  std::string status_message_;
  std::shared_ptr<QueueReceiver> queue_receiver_; // created by the first registration
  std::map<std::string, bool, std::less<>> readonly_properties_; // declare_property
};

// Writes a plugin's log line into the proxy log: "wasm log <name> <root_id> <vm_id>: msg".
void logFromPlugin(const Plugin& plugin, uint32_t level, std::string_view message);
uint32_t pluginLogLevel();

} // namespace wasmgate::extensions::wasm
