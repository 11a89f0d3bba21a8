#include "server/server.h"

#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <condition_variable>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "accesslog/access_logger.h"
#include "common/logger.h"
#include "config/loader.h"
#include "config/loader_internal.h"
#include "config/reload.h"
#include "config/yaml_json.h"
#include "extensions/common/wasm/wasm_runtime.h"
#include "network/listener.h"
#include "server/config_builder.h"

namespace wasmgate::server {

Server::Server(Options options) : options_(std::move(options)) {}

Server::~Server() { shutdown(); }

Result<config::Bootstrap> Server::loadConfig() {
  if (!options_.config_path.empty() && !options_.config_yaml.empty())
    return Status::error("use either -c/--config-path or --config-yaml, not both (merging is not supported yet)");
  if (!options_.config_path.empty()) {
    // Kept for /config_dump; the loader reports an unreadable file itself.
    auto text = config::detail::readFileContents(options_.config_path, "config");
    yaml_text_ = text.ok() ? *text : std::string();
    return config::loadBootstrapFromFile(options_.config_path);
  }
  if (!options_.config_yaml.empty()) {
    yaml_text_ = options_.config_yaml;
    return config::loadBootstrapFromString(options_.config_yaml);
  }
  return Status::error("no configuration: pass -c <file> or --config-yaml '<yaml>'");
}

int Server::validate() {
  auto cfg = loadConfig();
  if (!cfg.ok()) {
    std::cerr << "error: " << cfg.error() << "\n";
    return 1;
  }
  // Build everything that does not need sockets or threads: routes, filters (incl. plugin
  // loading later), access logs, clusters (DNS names must resolve).
  upstream::ClusterManager cm(main_, store_);
  Status s = cm.initialize(cfg->clusters);
  if (!s.ok()) {
    std::cerr << "error: " << s.message() << "\n";
    return 1;
  }
  auto snap = buildSnapshot(*cfg, store_, &cm, {.validate_only = true});
  if (!snap.ok()) {
    std::cerr << "error: " << snap.error() << "\n";
    return 1;
  }
  std::cout << "configuration '" << (options_.config_path.empty() ? "<inline>" : options_.config_path)
            << "' OK\n";
  return 0;
}

int Server::run() {
  // Signals are read from a signalfd on the main loop. Blocked first thing, so that every
  // thread inherits the mask (V8's platform threads and the watchdog start while plugins load):
  // a signal must not find a thread where its default action would kill the process.
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &mask, nullptr);

  auto cfg = loadConfig();
  if (!cfg.ok()) {
    WG_ERROR("error initializing configuration: {}", cfg.error());
    return 1;
  }
  bootstrap_ = std::move(*cfg);
  cluster_manager_ = std::make_unique<upstream::ClusterManager>(main_, store_);
  if (Status s = cluster_manager_->initialize(bootstrap_.clusters); !s.ok()) {
    WG_ERROR("error initializing configuration: {}", s.message());
    return 1;
  }
  {
    auto snap = buildSnapshot(bootstrap_, store_, cluster_manager_.get(), {});
    if (!snap.ok()) {
      WG_ERROR("error initializing configuration: {}", snap.error());
      return 1;
    }
    snapshot_ = std::move(*snap); // the only reference: a reload must be able to free it
  }
  reload_success_ = &store_.counter("server.config_reload.success");
  reload_failure_ = &store_.counter("server.config_reload.failure");

  signal_fd_ = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  signal_event_ = std::make_unique<event::FileEvent>(main_, signal_fd_, [this](uint32_t) {
    signalfd_siginfo si;
    while (::read(signal_fd_, &si, sizeof(si)) == sizeof(si)) {
      if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
        WG_INFO("caught signal {}: draining", si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
        startDrain();
      } else if (si.ssi_signo == SIGHUP) {
        WG_INFO("caught SIGHUP: reloading the configuration");
        (void)reloadConfig(); // logs the outcome
      }
    }
  });

  if (bootstrap_.admin.address) {
    admin_ = std::make_unique<admin::AdminServer>(main_, bootstrap_.admin.access_log_path);
    installAdminHandlers();
    auto addr = network::parseIpAddress(bootstrap_.admin.address->address, uint16_t(bootstrap_.admin.address->port));
    if (!addr.ok()) {
      WG_ERROR("admin.address: {}", addr.error());
      return 1;
    }
    if (Status s = admin_->listen(*addr); !s.ok()) {
      WG_ERROR("{}", s.message());
      return 1;
    }
    WG_INFO("admin address: {}", admin_->address().text);
  }

  // Bind every listener for every worker before starting any thread, so a port conflict is
  // a clean startup error. Worker 0 takes the first socket; the others bind their own with
  // SO_REUSEPORT to the same (resolved) port.
  size_t n = std::max<uint32_t>(1, options_.concurrency);
  std::vector<std::vector<int>> fds(n);
  for (auto& l : std::const_pointer_cast<Snapshot>(snapshot_)->listeners) {
    auto first = network::createListenSocket(l.address, true);
    if (!first.ok()) {
      WG_ERROR("listener '{}': {}", l.name, first.error());
      return 1;
    }
    l.address = network::localAddressOf(*first);
    fds[0].push_back(*first);
    for (size_t w = 1; w < n; ++w) {
      auto fd = network::createListenSocket(l.address, true);
      if (!fd.ok()) {
        WG_ERROR("listener '{}': {}", l.name, fd.error());
        return 1;
      }
      fds[w].push_back(*fd);
    }
    WG_INFO("listener '{}' on {}", l.name, l.address.text);
  }

  for (size_t w = 0; w < n; ++w) {
    workers_.push_back(std::make_unique<Worker>(w));
    cluster_manager_->addWorker(workers_.back()->workerClusterManager());
  }
  for (size_t w = 0; w < n; ++w)
    workers_[w]->start(snapshot_, fds[w]);
  if (!snapshot_->main_thread_initializers.empty()) {
    main_context_ = std::make_unique<MainThreadContext>(main_);
    cluster_manager_->addWorker(main_context_->clusterManager());
    for (const auto& init : snapshot_->main_thread_initializers)
      main_.post([this, init] { init(*main_context_); });
  }
  cluster_manager_->start();
  WG_INFO("wasmgate started: {} worker(s)", n);
  main_.run();
  shutdown();
  return 0;
}

Status Server::reloadConfig() {
  Status result = applyConfigFile();
  if (result.ok()) {
    reload_success_->inc();
    WG_INFO("configuration reloaded from '{}': new connections use the new filter chains",
            options_.config_path);
  } else {
    reload_failure_->inc();
    WG_ERROR("configuration reload refused: {} (still serving the previous configuration)",
             result.message());
  }
  return result;
}

Status Server::applyConfigFile() {
  if (options_.config_path.empty())
    return Status::error("the configuration was given inline (--config-yaml): start with "
                         "-c <file> to reload it");
  if (draining_)
    return Status::error("the server is draining");
  auto text = config::detail::readFileContents(options_.config_path, "config");
  if (!text.ok())
    return text.status();
  auto cfg = config::loadBootstrapFromString(*text, options_.config_path);
  if (!cfg.ok())
    return cfg.status();
  WG_RETURN_IF_ERROR(config::checkReloadable(yaml_text_, *text));
  auto built = buildSnapshot(*cfg, store_, cluster_manager_.get(), {.process_wide = false});
  if (!built.ok())
    return built.status();
  // Same listeners in the same order (checked above): keep what the first build resolved
  // and what open connections reference (listener stats), and the services.
  auto snap = std::const_pointer_cast<Snapshot>(*built);
  for (size_t i = 0; i < snap->listeners.size(); ++i) {
    snap->listeners[i].address = snapshot_->listeners[i].address;
    snap->listeners[i].stats = snapshot_->listeners[i].stats;
  }
  snap->main_thread_initializers = snapshot_->main_thread_initializers;
  snap->worker_initializers = snapshot_->worker_initializers;
  snap->main_thread_finalizers = snapshot_->main_thread_finalizers;
  snapshot_ = std::move(snap);
  yaml_text_ = std::move(*text);
  // The reload is done when every worker took the new snapshot: then a client that saw it
  // succeed (POST /reload) gets the new chains on its next connection. Bounded, because a
  // worker may be inside a plugin callback (itself bounded by the watchdog).
  struct Pending {
    std::mutex mu;
    std::condition_variable cv;
    size_t left;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = workers_.size();
  for (auto& w : workers_)
    w->updateSnapshot(snapshot_, options_.drain_time, [pending] {
      std::lock_guard lock(pending->mu);
      if (--pending->left == 0)
        pending->cv.notify_all();
    });
  std::unique_lock lock(pending->mu);
  if (!pending->cv.wait_for(lock, std::chrono::seconds(5), [&] { return pending->left == 0; }))
    WG_WARN("configuration reload: {} worker(s) still busy after 5 s; they switch when free",
            pending->left);
  return okStatus();
}

void Server::startDrain() {
  if (draining_)
    return;
  draining_ = true;
  for (auto& w : workers_)
    w->drain();
  drain_deadline_ = std::chrono::steady_clock::now() + options_.drain_time;
  drain_check_timer_ = main_.createTimer([this] { checkDrained(); });
  drain_check_timer_->enableTimer(std::chrono::milliseconds(50));
}

void Server::checkDrained() {
  size_t open = 0;
  for (auto& w : workers_)
    open += w->connectionCount();
  if (open == 0 || std::chrono::steady_clock::now() >= drain_deadline_) {
    if (open)
      WG_INFO("drain timeout: closing {} remaining connection(s)", open);
    main_.exit();
    return;
  }
  drain_check_timer_->enableTimer(std::chrono::milliseconds(50));
}

void Server::shutdown() {
  for (auto& w : workers_)
    w->stop();
  workers_.clear();
  // Main-thread services go while the main loop and its clusters still exist.
  if (snapshot_)
    for (const auto& fini : snapshot_->main_thread_finalizers)
      fini();
  if (cluster_manager_)
    cluster_manager_->shutdown();
  main_context_.reset();
  admin_.reset();
  signal_event_.reset();
  if (signal_fd_ >= 0) {
    ::close(signal_fd_);
    signal_fd_ = -1;
  }
  accesslog::flushThreadBuffers();
}

void Server::installAdminHandlers() {
  using admin::AdminRequest;
  using admin::AdminResponse;
  admin_->addHandler("/ready", "print server state, return 200 if LIVE, otherwise return 503",
                     [this](const AdminRequest&) {
                       AdminResponse r;
                       r.status = draining_ ? 503 : 200;
                       r.body = draining_ ? "DRAINING\n" : "LIVE\n";
                       return r;
                     });
  auto stats_handler = [this](const AdminRequest& req) {
    AdminResponse r;
    auto fmt = req.query.count("format") ? req.query.at("format") : "";
    std::string filter = req.query.count("filter") ? req.query.at("filter") : "";
    bool used_only = req.query.count("usedonly") != 0;
    Result<std::string> body = std::string();
    if (fmt == "json") {
      body = stats::renderJson(store_, filter, used_only);
      r.content_type = "application/json";
    } else if (fmt == "prometheus") {
      body = stats::renderPrometheus(store_, filter, used_only);
    } else if (fmt.empty() || fmt == "text") {
      body = stats::renderText(store_, filter, used_only);
    } else {
      r.status = 400;
      r.body = "usage: /stats?format=(json|prometheus|text)\n";
      return r;
    }
    if (!body.ok()) {
      r.status = 400;
      r.body = "invalid filter: " + body.error() + "\n";
      return r;
    }
    r.body = std::move(*body);
    return r;
  };
  admin_->addHandler("/stats", "print server stats", stats_handler);
  admin_->addHandler("/stats/prometheus", "print server stats in prometheus format",
                     [this](const AdminRequest& req) {
                       AdminResponse r;
                       std::string filter = req.query.count("filter") ? req.query.at("filter") : "";
                       auto body = stats::renderPrometheus(store_, filter, req.query.count("usedonly") != 0);
                       if (!body.ok()) {
                         r.status = 400;
                         r.body = "invalid filter: " + body.error() + "\n";
                         return r;
                       }
                       r.content_type = "text/plain; version=0.0.4";
                       r.body = std::move(*body);
                       return r;
                     });
  admin_->addHandler("/clusters", "upstream cluster status", [this](const AdminRequest& req) {
    AdminResponse r;
    bool json = req.query.count("format") && req.query.at("format") == "json";
    nlohmann::json jc = nlohmann::json::array();
    std::string out;
    for (const auto& [name, e] : cluster_manager_->clusters()) {
      const auto& info = *e.info;
      const auto& cb = info.config().circuit_breakers;
      std::string p = name + "::";
      out += p + "default_priority::max_connections::" + std::to_string(cb.max_connections) + "\n";
      out += p + "default_priority::max_pending_requests::" + std::to_string(cb.max_pending_requests) + "\n";
      out += p + "default_priority::max_requests::" + std::to_string(cb.max_requests) + "\n";
      out += p + "default_priority::max_retries::" + std::to_string(cb.max_retries) + "\n";
      out += p + "added_via_api::false\n";
      nlohmann::json hosts = nlohmann::json::array();
      for (const auto& h : *e.hosts) {
        std::string hp = p + h->address.text + "::";
        bool healthy = h->healthy.load();
        out += hp + "cx_active::" + std::to_string(h->cx_active.load()) + "\n";
        out += hp + "cx_total::" + std::to_string(h->cx_total.load()) + "\n";
        out += hp + "rq_active::" + std::to_string(h->active_requests.load()) + "\n";
        out += hp + "rq_error::" + std::to_string(h->rq_error.load()) + "\n";
        out += hp + "rq_total::" + std::to_string(h->rq_total.load()) + "\n";
        out += hp + "hostname::" + h->hostname + "\n";
        out += hp + "health_flags::" + (healthy ? "healthy" : "/failed_active_hc") + "\n";
        out += hp + "weight::" + std::to_string(h->weight) + "\n";
        hosts.push_back({{"address", h->address.text},
                         {"hostname", h->hostname},
                         {"healthy", healthy},
                         {"weight", h->weight},
                         {"cx_active", h->cx_active.load()},
                         {"rq_total", h->rq_total.load()}});
      }
      jc.push_back({{"name", name}, {"host_statuses", hosts}});
    }
    if (json) {
      r.content_type = "application/json";
      r.body = nlohmann::json{{"cluster_statuses", jc}}.dump(2) + "\n";
    } else {
      r.body = std::move(out);
    }
    return r;
  });
  admin_->addHandler("/config_dump", "dump current configuration", [this](const AdminRequest&) {
    AdminResponse r;
    r.content_type = "application/json";
    nlohmann::json bootstrap;
    try {
      bootstrap = config::yamlToJson(YAML::Load(yaml_text_));
    } catch (const std::exception&) {
      bootstrap = nlohmann::json::object();
    }
    nlohmann::json listeners = nlohmann::json::array();
    for (const auto& l : snapshot_->listeners)
      listeners.push_back({{"name", l.name}, {"address", l.address.text}});
    nlohmann::json clusters = nlohmann::json::array();
    for (const auto& [name, e] : cluster_manager_->clusters())
      clusters.push_back({{"name", name}, {"hosts", e.hosts->size()}});
    nlohmann::json dump = {
        {"configs",
         {{{"@type", "type.googleapis.com/envoy.admin.v3.BootstrapConfigDump"}, {"bootstrap", bootstrap}},
          {{"@type", "type.googleapis.com/envoy.admin.v3.ListenersConfigDump"}, {"static_listeners", listeners}},
          {{"@type", "type.googleapis.com/envoy.admin.v3.ClustersConfigDump"}, {"static_clusters", clusters}}}}};
    r.body = dump.dump(2) + "\n";
    return r;
  });
  admin_->addHandler("/wasm", "Proxy-Wasm plugins: runtime, failure policy, limits, state, failure counters",
                     [](const AdminRequest&) {
                       AdminResponse r;
                       r.content_type = "application/json";
                       r.body = extensions::wasm::pluginStatusJson();
                       return r;
                     });
  admin_->addHandler("/reload", "re-read the config file and apply its listeners' filter chains (as SIGHUP)",
                     [this](const AdminRequest&) {
                       AdminResponse r;
                       Status s = reloadConfig();
                       r.status = s.ok() ? 200 : 400;
                       r.body = s.ok() ? "OK\n" : "error: " + s.message() + "\n";
                       return r;
                     }, /*mutates_state=*/true);
  admin_->addHandler("/listeners", "print listener info", [this](const AdminRequest&) {
    AdminResponse r;
    for (const auto& l : snapshot_->listeners)
      r.body += l.name + "::" + l.address.text + "\n";
    return r;
  });
  admin_->addHandler("/logging", "query/change logging levels (?level=<level>)", [](const AdminRequest& req) {
    AdminResponse r;
    auto it = req.query.find("level");
    if (it != req.query.end()) {
      log::Level l;
      if (!log::parseLevel(it->second, l)) {
        r.status = 400;
        r.body = "error: unknown logging level '" + it->second +
                 "' (trace, debug, info, warning, error, critical, off)\n";
        return r;
      }
      log::setLevel(l);
    } else if (!req.query.empty()) {
      r.status = 400;
      r.body = "usage: /logging?level=<trace|debug|info|warning|error|critical|off>\n";
      return r;
    }
    r.body = std::string("active loggers:\n  wasmgate: ") + log::levelName(log::level()) + "\n";
    return r;
  }, /*mutates_state=*/true);
  admin_->addHandler("/server_info", "print server version/status information", [this](const AdminRequest&) {
    AdminResponse r;
    r.content_type = "application/json";
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() - start_time_);
    nlohmann::json j = {{"version", "wasmgate/0.1"},
                        {"state", draining_ ? "DRAINING" : "LIVE"},
                        {"uptime_current_epoch", std::to_string(uptime.count()) + "s"},
                        {"command_line_options", {{"concurrency", options_.concurrency}}}};
    r.body = j.dump(2) + "\n";
    return r;
  });
  admin_->addHandler("/quitquitquit", "exit the server", [this](const AdminRequest&) {
    AdminResponse r;
    r.body = "OK\n";
    // Let the response go out before the loop stops.
    main_.post([this] { main_.exit(); });
    return r;
  }, /*mutates_state=*/true);
  admin_->addHandler("/help", "print out list of admin commands", [this](const AdminRequest& req) {
    // An unknown path answers with the list of commands; reuse it.
    AdminRequest unknown = req;
    unknown.path = "/__help__";
    AdminResponse r = admin_->handleForHelp(unknown);
    r.status = 200;
    return r;
  });
}

} // namespace wasmgate::server
