#pragma once

// Active HTTP health checking (Envoy's http_health_check), run on the main thread. Results
// land in each Host's atomic `healthy` flag, which workers read when load balancing.

#include <functional>
#include <memory>
#include <vector>

#include "config/bootstrap.h"
#include "event/dispatcher.h"
#include "upstream/host.h"

namespace wasmgate::upstream {

class HealthChecker {
public:
  HealthChecker(event::Dispatcher& main, ClusterInfoConstSharedPtr cluster, config::HealthCheck cfg,
                std::function<void()> on_change);
  ~HealthChecker();
  void setHosts(const HostVector& hosts);
  void start();

private:
  class Session;
  event::Dispatcher& main_;
  ClusterInfoConstSharedPtr cluster_;
  config::HealthCheck cfg_;
  std::function<void()> on_change_;
  std::vector<std::unique_ptr<Session>> sessions_;
  bool started_ = false;
};

} // namespace wasmgate::upstream
