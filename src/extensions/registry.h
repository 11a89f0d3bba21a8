#pragma once

// Extension factories keyed by Envoy's names. Each extension registers itself from its own
// config.cc with a static RegisterHttpFilter<T> object; the core never names extensions.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "config/bootstrap.h"
#include "http/filter.h"
#include "tcp/network_filter.h"

namespace wasmgate::network {
class WorkerContext;
}
namespace wasmgate::http {
using WorkerContext = network::WorkerContext;
}

namespace wasmgate::stats {
class Store;
}
namespace wasmgate::upstream {
class ClusterManager;
}
namespace wasmgate::event {
class Dispatcher;
}

namespace wasmgate::extensions {

// What a factory may use while building a filter config (main thread, config time).
struct FactoryContext {
  stats::Store& stats;
  upstream::ClusterManager* cluster_manager; // null in --mode validate before clusters exist
  std::string stat_prefix;                   // the HCM's stat_prefix
  bool validate_only = false;
  // Where a filter registers work for each worker thread at its start (HcmConfig's list).
  std::vector<std::function<void(http::WorkerContext&)>>* worker_initializers = nullptr;
};

class HttpFilterFactory {
public:
  virtual ~HttpFilterFactory() = default;
  // Envoy names this factory answers to (first is canonical).
  virtual std::vector<std::string> names() const = 0;
  // Accepted "@type" URLs of typed_config (empty: any / none required).
  virtual std::vector<std::string> typeUrls() const { return {}; }
  // Validates `cfg.typed_config` and returns the per-stream factory. Errors name
  // `cfg.path` + field.
  virtual Result<http::FilterFactoryCb> createFilterFactory(const config::HttpFilterConfig& cfg,
                                                            FactoryContext& ctx) = 0;
  virtual bool isTerminal() const { return false; }
};

void registerHttpFilterFactory(HttpFilterFactory* factory);
HttpFilterFactory* findHttpFilterFactory(std::string_view name);
std::vector<std::string> registeredHttpFilterNames();

template <class T> struct RegisterHttpFilter {
  RegisterHttpFilter() {
    static T factory;
    registerHttpFilterFactory(&factory);
  }
};

// bootstrap_extensions[]: process-level extensions (envoy.bootstrap.wasm services).
struct BootstrapContext {
  stats::Store& stats;
  bool validate_only = false;
  // Run on the main thread's event loop once the server runs / on each worker as it starts /
  // on the main thread at shutdown, before its event loop goes away.
  std::vector<std::function<void(network::WorkerContext&)>>* main_thread_initializers = nullptr;
  std::vector<std::function<void(network::WorkerContext&)>>* worker_initializers = nullptr;
  std::vector<std::function<void()>>* main_thread_finalizers = nullptr;
};

class BootstrapExtensionFactory {
public:
  virtual ~BootstrapExtensionFactory() = default;
  virtual std::vector<std::string> names() const = 0;
  virtual std::vector<std::string> typeUrls() const = 0;
  // Validates the extension (errors name `ext.typed_config_path` + field) and registers its
  // per-thread work in `ctx`.
  virtual Status create(const config::BootstrapExtension& ext, BootstrapContext& ctx) = 0;
};

void registerBootstrapExtensionFactory(BootstrapExtensionFactory* factory);
BootstrapExtensionFactory* findBootstrapExtensionFactory(std::string_view name);
std::vector<std::string> registeredBootstrapExtensionNames();

template <class T> struct RegisterBootstrapExtension {
  RegisterBootstrapExtension() {
    static T factory;
    registerBootstrapExtensionFactory(&factory);
  }
};

// Network (L4) filters that sit in front of envoy.filters.network.tcp_proxy.
class NetworkFilterFactory {
public:
  virtual ~NetworkFilterFactory() = default;
  virtual std::vector<std::string> names() const = 0;
  // Validates `cfg.typed_config` and returns the per-connection factory. Errors name
  // `cfg.typed_config_path` + field.
  virtual Result<tcp::NetworkFilterFactoryCb> createFilterFactory(const config::NetworkFilterConfig& cfg,
                                                                  FactoryContext& ctx) = 0;
};

void registerNetworkFilterFactory(NetworkFilterFactory* factory);
NetworkFilterFactory* findNetworkFilterFactory(std::string_view name);

template <class T> struct RegisterNetworkFilter {
  RegisterNetworkFilter() {
    static T factory;
    registerNetworkFilterFactory(&factory);
  }
};

} // namespace wasmgate::extensions
