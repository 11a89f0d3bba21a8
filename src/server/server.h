#pragma once

// The process: loads the configuration, builds the snapshot, starts the cluster manager,
// admin endpoint and workers, and handles signals (SIGTERM/SIGINT drain, then exit 0).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "admin/admin_server.h"
#include "config/bootstrap.h"
#include "event/dispatcher.h"
#include "server/snapshot.h"
#include "server/worker.h"
#include "stats/stats.h"
#include "upstream/cluster_manager.h"

namespace wasmgate::server {

struct Options {
  std::string config_path;
  std::string config_yaml;
  uint32_t concurrency = 1;
  std::string mode = "serve"; // serve | validate
  std::chrono::milliseconds drain_time{600 * 1000};
};

class Server {
public:
  explicit Server(Options options);
  ~Server();
  // Serves until drained/stopped; returns the process exit code.
  int run();
  // --mode validate: 0 if the config is valid, 1 with errors on stderr.
  int validate();
  bool validate_mode() const { return options_.mode == "validate"; }

private:
  Result<config::Bootstrap> loadConfig();
  // SIGHUP and POST /reload: re-reads the config file and applies what can change at runtime,
  // the listeners' filter chains (HTTP filters and their plugins, routes, access logs,
  // connection manager and tcp_proxy settings). Anything else that changed refuses the whole
  // reload with an error naming the field; the running configuration stays.
  Status reloadConfig();
  // The reload itself, without its log line and counters.
  Status applyConfigFile();
  void installAdminHandlers();
  void startDrain();
  void checkDrained();
  void shutdown();

  Options options_;
  event::Dispatcher main_{"main"};
  stats::Store store_;
  config::Bootstrap bootstrap_;
  std::unique_ptr<upstream::ClusterManager> cluster_manager_;
  // The main thread as a "worker" for bootstrap services (singleton Wasm services): its loop,
  // and its own view of the clusters for their callouts.
  class MainThreadContext : public network::WorkerContext {
  public:
    explicit MainThreadContext(event::Dispatcher& d) : dispatcher_(d), clusters_(d) {}
    event::Dispatcher& dispatcher() override { return dispatcher_; }
    upstream::WorkerClusterManager& clusterManager() override { return clusters_; }
    bool draining() const override { return false; }
    void removeConnection(event::DeferredDeletable*) override {}

  private:
    event::Dispatcher& dispatcher_;
    upstream::WorkerClusterManager clusters_;
  };
  std::unique_ptr<MainThreadContext> main_context_;
  SnapshotConstSharedPtr snapshot_;
  std::unique_ptr<admin::AdminServer> admin_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::unique_ptr<event::FileEvent> signal_event_;
  int signal_fd_ = -1;
  bool draining_ = false;
  event::TimerPtr drain_check_timer_;
  event::MonotonicTime drain_deadline_;
  std::string yaml_text_; // the config as given, for /config_dump and reload comparisons
  stats::Counter* reload_success_ = nullptr; // server.config_reload.success / .failure
  stats::Counter* reload_failure_ = nullptr;
  std::chrono::system_clock::time_point start_time_ = std::chrono::system_clock::now();
};

} // namespace wasmgate::server
