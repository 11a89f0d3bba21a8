#include "extensions/common/wasm/wasm_runtime.h"

#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>

#include <nlohmann/json.hpp>
#include <openssl/sha.h>

#include "common/logger.h"
#include "extensions/common/wasm/shared_data.h"
#include "upstream/cluster_manager.h"
#include "wasm/engines/null/null_engine.h"
#include "wasm/engines/v8/v8_engine.h"

namespace wasmgate::extensions::wasm {

namespace {

// One engine per runtime for the process, created on first use (V8 is not started unless a
// plugin asks for it).
std::shared_ptr<::wasmgate::wasm::WasmEngine> engineFor(std::string_view runtime) {
  if (runtime == kRuntimeNull) {
    static std::shared_ptr<::wasmgate::wasm::WasmEngine> engine = ::wasmgate::wasm::createNullEngine();
    return engine;
  }
  static std::shared_ptr<::wasmgate::wasm::WasmEngine> engine = ::wasmgate::wasm::createV8Engine();
  return engine;
}

// Compiled modules shared by code hash, so filters with the same .wasm compile once.
struct ModuleCache {
  std::mutex mu;
  std::map<std::string, std::weak_ptr<::wasmgate::wasm::CompiledModule>> modules;
};
ModuleCache& moduleCache() {
  static ModuleCache cache;
  return cache;
}

// SHA-256 of the code: the cache key, and part of the VM sharing key (Envoy uses the hash too).
std::string codeHash(const std::string& code) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(code.data()), code.size(), digest);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : digest) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0xf]);
  }
  return out;
}

abi::InstanceConfig instanceConfig(const Plugin& plugin) {
  abi::InstanceConfig cfg;
  cfg.plugin = *plugin.info;
  cfg.environment = plugin.config.vm.environment;
  cfg.vm_log = [&plugin](uint32_t level, std::string_view msg) { logFromPlugin(plugin, level, msg); };
  cfg.vm_log_level = pluginLogLevel();
  cfg.allowed_capabilities = plugin.config.allowed_capabilities;
  if (cfg.allowed_capabilities)
    cfg.on_capability_denied = [&plugin](std::string_view name) {
      plugin.counters->capability_denied.inc();
      WG_DEBUG("wasm plugin '{}': {} refused by capability_restriction_config", plugin.log_name, name);
    };
  return cfg;
}

// Puts a new VM under the CPU watchdog before its start-up code runs (max_callback_duration).
// The registration lives as long as the instance (and goes first when it is destroyed).
std::function<void(abi::WasmInstance&)> watchdogHook(const Plugin& plugin) {
  const auto limit = plugin.config.limits.max_callback_duration;
  if (limit.count() <= 0)
    return nullptr;
  return [limit](abi::WasmInstance& instance) {
    std::shared_ptr<CallWatchdog::Registration> watch =
        CallWatchdog::global().watch(instance, limit, kStartupCallbackFloor);
    instance.keepUntilDestroyed(std::move(watch));
  };
}

// Starts a root context for `plugin` on `instance`: create, vm_start, configure.
Status startRoot(abi::WasmInstance& instance, RootContext& root, const Plugin& plugin) {
  const std::string who = "plugin '" + plugin.log_name + "'";
  if (Status s = instance.registerContext(root, plugin.info); !s.ok())
    return Status::error(who + ": " + s.message());
  if (Status s = instance.onContextCreate(root.contextId(), 0); !s.ok())
    return Status::error(who + ": proxy_on_context_create failed: " + s.message());
  auto started = instance.onVmStart(root.contextId(), uint32_t(plugin.config.vm.configuration.size()));
  if (!started.ok())
    return Status::error(who + ": proxy_on_vm_start failed: " + started.error());
  if (!*started)
    return Status::error(who + ": proxy_on_vm_start returned false");
  auto configured = instance.onConfigure(root.contextId(), uint32_t(plugin.config.configuration.size()));
  if (!configured.ok())
    return Status::error(who + ": proxy_on_configure failed: " + configured.error());
  if (!*configured)
    return Status::error(who + ": proxy_on_configure returned false (the plugin rejected its configuration)");
  return okStatus();
}

struct ThreadState {
  // vm_key -> the VM plugins with that key share on this thread.
  std::unordered_map<std::string, std::weak_ptr<WorkerVm>> vms;
  std::unordered_map<const Plugin*, std::shared_ptr<ThreadLocalPlugin>> plugins;
};
thread_local ThreadState t_state;

} // namespace

PluginStats::PluginStats(stats::Store& store, const std::string& prefix)
    : crashes(store.counter(prefix + "crashes")),
      callback_timeouts(store.counter(prefix + "callback_timeouts")),
      memory_limit_hits(store.counter(prefix + "memory_limit_hits")),
      restarts(store.counter(prefix + "restarts")),
      crash_loop(store.gauge(prefix + "crash_loop")),
      capability_denied(store.counter(prefix + "capability_denied")) {}

bool FailureTracker::record(std::chrono::steady_clock::time_point now) {
  std::lock_guard lock(mu_);
  failures_.push_back(now);
  while (!failures_.empty() && now - failures_.front() > config_.window)
    failures_.pop_front();
  // Backoff by consecutive failures: none after a VM that served streams, then base, 2x base,
  // ... up to max.
  const uint32_t consecutive = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
  std::chrono::milliseconds backoff{0};
  if (consecutive > 1) {
    backoff = config_.base_interval;
    for (uint32_t i = 2; i < consecutive && backoff < config_.max_interval; ++i)
      backoff *= 2;
  }
  next_reload_ = now + std::min(backoff, config_.max_interval);
  if (!looping_ && failures_.size() >= config_.max_crashes) {
    looping_ = true;
    return true;
  }
  return false;
}

bool FailureTracker::reloadAllowed(std::chrono::steady_clock::time_point now) const {
  std::lock_guard lock(mu_);
  return !looping_ && now >= next_reload_;
}

bool FailureTracker::crashLooping() const {
  std::lock_guard lock(mu_);
  return looping_;
}

Plugin::~Plugin() {
  // A config reload is how an operator clears a crash loop: the replaced plugin stops counting
  // once its last stream is gone; the new one starts with a clean failure history.
  if (failures && counters && failures->crashLooping())
    counters->crash_loop.dec();
}

void reportVmFailure(const Plugin& plugin, WorkerVm& vm, std::string_view where,
                     const std::string& reason) {
  if (vm.failure_reported)
    return;
  vm.failure_reported = true;
  PluginStats& st = *plugin.counters;
  st.crashes.inc();
  std::string_view kind = "trap";
  const uint64_t limit = plugin.config.limits.memory_limit_bytes;
  if (vm.instance->vm().terminated()) {
    st.callback_timeouts.inc();
    kind = "callback took too long";
  } else if (limit != 0 && plugin.config.vm.runtime != kRuntimeNull &&
             vm.instance->vm().memorySize() + 65536 > limit) {
    st.memory_limit_hits.inc();
    kind = "memory limit reached";
  }
  WG_ERROR("wasm plugin '{}' failed in {} ({}): {}", plugin.log_name, where, kind, reason);
  if (plugin.failures->record(std::chrono::steady_clock::now())) {
    st.crash_loop.inc(); // back down when this configuration of the plugin is gone (~Plugin)
    if (plugin.config.failure_policy == FailurePolicy::FailReload)
      WG_ERROR("wasm plugin '{}' failed {} times within {} ms: not reloading it any more "
               "(requests through it fail closed until the configuration changes)",
               plugin.log_name, plugin.config.reload.max_crashes,
               plugin.config.reload.window.count());
  }
}

uint32_t pluginLogLevel() {
  // Proxy-Wasm levels: trace 0 .. critical 5, off 6 — the same order as ours.
  return uint32_t(log::level());
}

void logFromPlugin(const Plugin& plugin, uint32_t level, std::string_view message) {
  auto l = log::Level(std::min<uint32_t>(level, uint32_t(log::Level::Critical)));
  if (!log::enabled(l))
    return;
  const auto& pc = plugin.config;
  std::string prefix = "wasm log";
  for (const std::string* part : {&pc.name, &pc.root_id, &pc.vm.vm_id})
    if (!part->empty())
      prefix += " " + *part;
  log::write(l, prefix + ": " + std::string(message));
}

void RootContext::log(uint32_t level, std::string_view message) { logFromPlugin(plugin_, level, message); }
uint32_t RootContext::logLevel() const { return pluginLogLevel(); }

abi::BufferRef RootContext::buffer(abi::BufferType type) {
  abi::BufferRef ref;
  if (type == abi::BufferType::VmConfiguration)
    ref.read_only = std::string_view(plugin_.config.vm.configuration);
  else if (type == abi::BufferType::PluginConfiguration)
    ref.read_only = std::string_view(plugin_.config.configuration);
  else if (type == abi::BufferType::HttpCallResponseBody && callout_response_ != nullptr)
    ref.read_only = callout_response_->body.view();
  return ref;
}

abi::MapRef RootContext::headerMap(abi::MapType type) {
  abi::MapRef ref;
  if (callout_response_ == nullptr)
    return ref;
  // Read-only: the guest reads the response, it does not edit it.
  if (type == abi::MapType::HttpCallResponseHeaders)
    ref.map = const_cast<http::HeaderMap*>(&callout_response_->headers);
  else if (type == abi::MapType::HttpCallResponseTrailers)
    ref.map = const_cast<http::HeaderMap*>(&callout_response_->trailers);
  return ref;
}

// ---- HTTP callouts ------------------------------------------------------------------------

abi::WasmResult RootContext::registerSharedQueue(std::string_view name, uint32_t& token) {
  if (services_.dispatcher == nullptr || instance() == nullptr) {
    // The config-time validation instance: no thread to deliver to, and registering would pin
    // the queue to nobody. The token it gets is not a queue.
    token = 0;
    return abi::WasmResult::Ok;
  }
  if (!queue_receiver_)
    queue_receiver_ = std::make_shared<QueueReceiver>(
        services_.dispatcher, [this](uint32_t t) { onQueueReady(t); });
  return SharedQueues::global().registerQueue(plugin_.config.vm.vm_id, name, queue_receiver_, token);
}

abi::WasmResult RootContext::resolveSharedQueue(std::string_view vm_id, std::string_view name,
                                                uint32_t& token) {
  return SharedQueues::global().resolve(vm_id, name, token);
}

abi::WasmResult RootContext::enqueueSharedQueue(uint32_t token, std::string_view value) {
  return SharedQueues::global().enqueue(token, value);
}

abi::WasmResult RootContext::dequeueSharedQueue(uint32_t token, std::string& value) {
  return SharedQueues::global().dequeue(token, value);
}

void RootContext::onQueueReady(uint32_t token) {
  if (instance()->failed())
    return;
  Status s = instance()->onQueueReady(id_, token);
  if (!s.ok())
    reportFailure("proxy_on_queue_ready", s.message());
}

RootContext::~RootContext() {
  if (queue_receiver_)
    queue_receiver_->detach(); // pending notifications for this root are dropped
  // Requests still in flight are cancelled; none calls back.
  for (auto& [token, callout] : callouts_)
    if (callout->request)
      callout->request->cancel();
}

abi::WasmResult RootContext::httpCall(std::string_view cluster,
                                      std::vector<std::pair<std::string, std::string>> headers,
                                      std::string_view body,
                                      std::vector<std::pair<std::string, std::string>> trailers,
                                      uint32_t timeout_ms, uint32_t& token) {
  http::HeaderMap request;
  request.reserve(headers.size());
  for (auto& [k, v] : headers)
    request.add(std::move(k), std::move(v));
  if (!request.has(":method") || !request.has(":path") || !request.has(":authority"))
    return abi::WasmResult::BadArgument;
  if (services_.cluster_manager == nullptr || instance() == nullptr) {
    // The config-time validation instance: the call is accepted and never answered (the
    // instance is discarded right after proxy_on_configure).
    token = next_callout_token_++;
    return abi::WasmResult::Ok;
  }
  if (plugin_.config.allowed_http_call_clusters &&
      plugin_.config.allowed_http_call_clusters->count(cluster) == 0) {
    plugin_.counters->capability_denied.inc();
    WG_WARN("wasm plugin '{}': proxy_http_call to cluster '{}' refused (not in allowed_http_call_clusters)",
            plugin_.log_name, cluster);
    return abi::WasmResult::BadArgument; // what an unknown cluster answers
  }
  upstream::ThreadLocalCluster* target = services_.cluster_manager->get(cluster);
  if (target == nullptr)
    return abi::WasmResult::BadArgument;
  if (callouts_.size() >= kMaxCalloutsInFlight) {
    WG_WARN("wasm plugin '{}': proxy_http_call refused: {} callouts already in flight",
            plugin_.log_name, callouts_.size());
    return abi::WasmResult::InternalFailure;
  }
  http::HeaderMap request_trailers;
  for (auto& [k, v] : trailers)
    request_trailers.add(std::move(k), std::move(v));
  token = next_callout_token_++;
  if (next_callout_token_ == 0)
    next_callout_token_ = 1;
  auto callout = std::make_unique<Callout>();
  Callout& ref = *callout;
  ref.root = this;
  ref.token = token;
  const uint32_t effective = instance()->effectiveContextId();
  ref.origin = effective == id_ ? 0 : effective;
  callouts_[token] = std::move(callout);
  std::optional<std::chrono::milliseconds> timeout;
  if (timeout_ms > 0)
    timeout = std::chrono::milliseconds(timeout_ms);
  // May complete synchronously (no healthy host, overflow): delivery waits for the guest call.
  ref.request = upstream::AsyncRequest::send(*target, *services_.dispatcher, std::move(request),
                                             std::string(body), std::move(request_trailers), timeout,
                                             ref);
  return abi::WasmResult::Ok;
}

void RootContext::Callout::onAsyncSuccess(upstream::AsyncResponse&& r) {
  response = std::move(r);
  RootContext* self = root;
  const uint32_t t = token;
  self->instance()->runAfterCall([self, t] { self->deliverCallout(t); });
}

void RootContext::Callout::onAsyncFailure(std::string_view) {
  RootContext* self = root;
  const uint32_t t = token;
  self->instance()->runAfterCall([self, t] { self->deliverCallout(t); });
}

void RootContext::deliverCallout(uint32_t token) {
  auto it = callouts_.find(token);
  if (it == callouts_.end())
    return; // cancelled meanwhile
  std::unique_ptr<Callout> callout = std::move(it->second);
  callouts_.erase(it);
  // We may be inside the request's own callback: free it after this event.
  Callout* c = callout.get();
  services_.dispatcher->deferredDelete(std::move(callout));
  if (instance()->failed())
    return;
  uint32_t headers = 0, body = 0, trailers = 0;
  if (c->response) {
    status_code_ = 0;
    status_message_.clear();
    headers = uint32_t(c->response->headers.size());
    body = uint32_t(c->response->body.size());
    trailers = uint32_t(c->response->trailers.size());
    callout_response_ = &*c->response;
  } else {
    status_code_ = uint32_t(abi::WasmResult::BrokenConnection);
    status_message_ = "reset";
  }
  Status s = instance()->onHttpCallResponse(id_, token, headers, body, trailers);
  callout_response_ = nullptr;
  if (!s.ok())
    reportFailure("proxy_on_http_call_response", s.message());
}

abi::WasmResult RootContext::getStatus(uint32_t& code, std::string& message) {
  code = status_code_;
  message = status_message_;
  return abi::WasmResult::Ok;
}

void RootContext::cancelCallouts(uint32_t context_id) {
  for (auto it = callouts_.begin(); it != callouts_.end();) {
    if (it->second->origin == context_id) {
      if (it->second->request)
        it->second->request->cancel();
      if (services_.dispatcher != nullptr)
        services_.dispatcher->deferredDelete(std::move(it->second));
      it = callouts_.erase(it);
    } else {
      ++it;
    }
  }
}

abi::WasmResult RootContext::setTickPeriod(uint32_t period_ms) {
  tick_period_ms_ = period_ms;
  if (services_.dispatcher == nullptr || instance() == nullptr)
    return abi::WasmResult::Ok; // the config-time validation instance never ticks
  if (period_ms == 0) {
    tick_timer_.reset();
    return abi::WasmResult::Ok;
  }
  if (!tick_timer_)
    tick_timer_ = services_.dispatcher->createTimer([this] { onTickTimer(); });
  tick_timer_->enableTimer(std::chrono::milliseconds(period_ms));
  return abi::WasmResult::Ok;
}

void RootContext::onTickTimer() {
  if (instance()->failed()) {
    tick_timer_.reset(); // a failed VM is not called again
    return;
  }
  // The guest may change or stop the period from proxy_on_tick; re-arm with what it left.
  Status s = instance()->onTick(id_);
  if (!s.ok()) {
    reportFailure("proxy_on_tick", s.message());
    tick_timer_.reset();
    return;
  }
  if (tick_period_ms_ > 0 && tick_timer_ && !tick_timer_->enabled())
    tick_timer_->enableTimer(std::chrono::milliseconds(tick_period_ms_));
}

abi::WasmResult RootContext::getSharedData(std::string_view key, std::string& value, uint32_t& cas) {
  return SharedData::global().get(plugin_.config.vm.vm_id, key, value, cas);
}

abi::WasmResult RootContext::setSharedData(std::string_view key, std::string_view value, uint32_t cas) {
  const abi::WasmResult r = SharedData::global().set(plugin_.config.vm.vm_id, key, value, cas);
  if (r == abi::WasmResult::BadArgument || r == abi::WasmResult::InternalFailure)
    WG_WARN("wasm plugin '{}': proxy_set_shared_data refused: {}", plugin_.log_name,
            r == abi::WasmResult::BadArgument ? "value larger than the shared data value limit"
                                              : "too many shared data keys for this vm_id");
  return r;
}

namespace {

// Plugins loaded by this process, for /wasm; expired entries are dropped when listed.
struct LoadedPlugins {
  std::mutex mu;
  std::vector<std::weak_ptr<const Plugin>> plugins;
};
LoadedPlugins& loadedPlugins() {
  static LoadedPlugins* l = new LoadedPlugins; // used by the admin thread until exit
  return *l;
}

const char* policyName(FailurePolicy p) {
  switch (p) {
  case FailurePolicy::FailOpen: return "FAIL_OPEN";
  case FailurePolicy::FailReload: return "FAIL_RELOAD";
  case FailurePolicy::FailClosed: break;
  }
  return "FAIL_CLOSED";
}

} // namespace

std::string pluginStatusJson() {
  std::vector<PluginSharedPtr> plugins;
  {
    auto& l = loadedPlugins();
    std::lock_guard lock(l.mu);
    std::erase_if(l.plugins, [](const auto& w) { return w.expired(); });
    for (const auto& w : l.plugins)
      if (auto p = w.lock())
        plugins.push_back(std::move(p));
  }
  nlohmann::json out = nlohmann::json::array();
  const auto now = std::chrono::steady_clock::now();
  for (const auto& p : plugins) {
    const PluginConfig& c = p->config;
    const PluginStats& st = *p->counters;
    const char* state = p->failures->crashLooping() ? "crash_loop"
                        : c.failure_policy == FailurePolicy::FailReload &&
                                !p->failures->reloadAllowed(now)
                            ? "reload_backoff"
                            : "ok";
    out.push_back({{"name", c.name},
                   {"root_id", c.root_id},
                   {"vm_id", c.vm.vm_id},
                   {"runtime", c.vm.runtime},
                   {"code", c.vm.code_origin},
                   {"failure_policy", policyName(c.failure_policy)},
                   {"memory_limit_bytes", c.limits.memory_limit_bytes},
                   {"max_callback_duration_ms", c.limits.max_callback_duration.count()},
                   {"state", state},
                   {"crashes", st.crashes.value()},
                   {"callback_timeouts", st.callback_timeouts.value()},
                   {"memory_limit_hits", st.memory_limit_hits.value()},
                   {"restarts", st.restarts.value()},
                   {"capability_denied", st.capability_denied.value()}});
  }
  return out.dump(2) + "\n";
}

Result<PluginSharedPtr> loadPlugin(const PluginConfig& config, stats::Store* stats) {
  auto plugin = std::make_shared<Plugin>();
  plugin->config = config;
  plugin->stats = stats;
  if (stats == nullptr)
    plugin->own_stats = std::make_unique<stats::Store>();
  plugin->log_name = !config.name.empty() ? config.name : !config.root_id.empty() ? config.root_id : "<unnamed>";
  plugin->counters = std::make_unique<PluginStats>(stats ? *stats : *plugin->own_stats,
                                                   "wasm." + plugin->log_name + ".");
  plugin->failures = std::make_unique<FailureTracker>(config.reload);
  const std::string who = "plugin '" + plugin->log_name + "'";
  auto info = std::make_shared<abi::PluginInfo>();
  info->name = config.name;
  info->root_id = config.root_id;
  info->vm_id = config.vm.vm_id;
  info->vm_configuration = config.vm.configuration;
  info->plugin_configuration = config.configuration;
  info->allow_on_headers_stop_iteration = config.allow_on_headers_stop_iteration;
  info->hidden_headers = config.hidden_headers;
  plugin->info = info;
  // The runtime is part of the code's identity: a native plugin's "code" is its name.
  // The memory limit is compiled into the module, so it is part of the cache key too.
  const bool limit_memory = config.vm.runtime != kRuntimeNull && config.limits.memory_limit_bytes != 0;
  std::string hash = config.vm.runtime + ':' + codeHash(config.vm.code) +
                     (limit_memory ? ":mem" + std::to_string(config.limits.memory_limit_bytes) : "");
  plugin->vm_key = config.vm.vm_id + '\0' + config.vm.configuration + '\0' + hash;

  std::shared_ptr<::wasmgate::wasm::CompiledModule> module;
  {
    auto& cache = moduleCache();
    std::lock_guard<std::mutex> lock(cache.mu);
    module = cache.modules[hash].lock();
    if (!module) {
      ::wasmgate::wasm::CompileOptions options;
      if (limit_memory)
        options.max_memory_bytes = config.limits.memory_limit_bytes;
      auto compiled = engineFor(config.vm.runtime)->compile(config.vm.code, plugin->log_name, options);
      if (!compiled.ok())
        return Status::error(config.path + ".vm_config.code: " + who + ": cannot load " +
                             config.vm.code_origin + ": " + compiled.error());
      module = *compiled;
      cache.modules[hash] = module;
    }
  }
  plugin->module = module;

  // Validate now, on this thread, so a broken plugin stops startup with a clear error. The
  // instance is thrown away; workers get their own. The watchdog covers it too: a plugin that
  // loops in _initialize or proxy_on_configure is a startup error, not a hung proxy.
  abi::InstanceConfig icfg = instanceConfig(*plugin);
  icfg.before_startup = watchdogHook(*plugin);
  auto instance = abi::WasmInstance::create(module, std::move(icfg));
  if (!instance.ok())
    return Status::error(config.path + ": " + who + ": " + instance.error());
  VmMetrics metrics(stats);
  RootContext root(*plugin, (*instance)->allocateContextId(), metrics);
  if (Status s = startRoot(**instance, root, *plugin); !s.ok())
    return Status::error(config.path + ": " + s.message());
  (void)(*instance)->onDone(root.contextId());
  (void)(*instance)->onDelete(root.contextId());
  {
    auto& l = loadedPlugins();
    std::lock_guard lock(l.mu);
    l.plugins.push_back(plugin);
  }
  return PluginSharedPtr(std::move(plugin));
}

Status ThreadLocalPlugin::createContext(abi::HostContext& context, uint32_t id) {
  abi::WasmInstance& vm = instance();
  if (!healthy())
    return Status::error("the plugin's VM has failed: " + vm.failureReason());
  WG_RETURN_IF_ERROR(vm.registerContext(context, plugin_->info));
  return vm.onContextCreate(id, root_->contextId());
}

Result<PluginHandleSharedPtr> loadPluginForFilterChain(
    const YAML::Node& typed_config, const std::string& path, stats::Store& stats,
    std::vector<std::function<void(network::WorkerContext&)>>* worker_initializers) {
  auto config = parseWasmFilterConfig(typed_config, path);
  if (!config.ok())
    return config.status();
  auto plugin = loadPlugin(*config, &stats);
  if (!plugin.ok())
    return plugin.status();
  auto handle = std::make_shared<const PluginHandle>(*plugin);
  if (worker_initializers != nullptr)
    worker_initializers->push_back([handle](network::WorkerContext& worker) {
      const PluginSharedPtr& p = handle->plugin();
      auto tlp = getOrCreateThreadLocalPlugin(p, {&worker.dispatcher(), &worker.clusterManager()});
      if (!tlp.ok()) // reported again, with the failure policy applied, per stream
        WG_ERROR("wasm plugin '{}': cannot start on this worker: {}", p->log_name, tlp.error());
    });
  return PluginHandleSharedPtr(std::move(handle));
}

void releaseRetiredThreadLocalPlugins() {
  auto& plugins = t_state.plugins;
  for (auto it = plugins.begin(); it != plugins.end();) {
    ThreadLocalPlugin& tlp = *it->second;
    // use_count 1: only this map holds it, no stream or callout is running on it.
    if (!tlp.plugin().retired.load(std::memory_order_acquire) || it->second.use_count() != 1) {
      ++it;
      continue;
    }
    if (tlp.healthy()) {
      const uint32_t id = tlp.root().contextId();
      (void)tlp.instance().onDone(id);
      (void)tlp.instance().onDelete(id);
    }
    WG_DEBUG("wasm plugin '{}': configuration replaced, instance released on this thread",
             tlp.plugin().log_name);
    it = plugins.erase(it);
  }
}

void releaseThreadLocalPlugins() {
  auto& st = t_state;
  st.plugins.clear(); // root contexts first: they use their VM
  st.vms.clear();
}

Result<std::shared_ptr<ThreadLocalPlugin>> getOrCreateThreadLocalPlugin(const PluginSharedPtr& plugin,
                                                                      const WorkerServices& services) {
  auto& st = t_state;
  auto it = st.plugins.find(plugin.get());
  if (it != st.plugins.end()) {
    if (it->second->healthy() || plugin->config.failure_policy != FailurePolicy::FailReload)
      return it->second;
    // FAIL_RELOAD: a fresh VM, unless backing off or crash-looping (then the failed one stays
    // and its streams fail closed).
    if (!plugin->failures->reloadAllowed(std::chrono::steady_clock::now()))
      return it->second;
    WG_WARN("wasm plugin '{}': reloading a fresh VM after a failure", plugin->log_name);
    plugin->counters->restarts.inc();
    st.plugins.erase(it);
  }
  std::shared_ptr<WorkerVm> vm = st.vms[plugin->vm_key].lock();
  if (!vm || vm->instance->failed()) {
    abi::InstanceConfig icfg = instanceConfig(*plugin);
    icfg.before_startup = watchdogHook(*plugin);
    auto created = abi::WasmInstance::create(plugin->module, std::move(icfg));
    if (!created.ok())
      return Status::error("plugin '" + plugin->log_name + "': " + created.error());
    vm = std::make_shared<WorkerVm>(std::move(*created), plugin->stats);
    st.vms[plugin->vm_key] = vm;
  }
  auto tlp = std::make_shared<ThreadLocalPlugin>();
  tlp->plugin_ = plugin;
  tlp->vm_ = vm;
  abi::WasmInstance& instance = *vm->instance;
  tlp->root_ = std::make_unique<RootContext>(*plugin, instance.allocateContextId(), vm->metrics,
                                             vm.get(), services);
  if (Status s = startRoot(instance, *tlp->root_, *plugin); !s.ok())
    return s;
  st.plugins.emplace(plugin.get(), tlp);
  return tlp;
}

} // namespace wasmgate::extensions::wasm
