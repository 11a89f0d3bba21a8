#pragma once

// Upstream endpoints and the per-cluster shared state that every worker reads: immutable
// configuration, stats, and the circuit-breaker counters (atomics, shared across workers).

#include <array>
#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "config/bootstrap.h"
#include "network/address.h"
#include "stats/stats.h"

namespace wasmgate::upstream {

struct Host {
  network::Address address;
  std::string hostname; // the DNS name it came from, if any
  uint32_t weight = 1;
  // endpoint.health_check_config: where and as whom active checks go (0 / empty: the endpoint).
  uint16_t health_check_port = 0;
  std::string health_check_hostname;
  // Active health checking: true until a check says otherwise. `hc_pending` marks hosts not
  // checked yet, which are used only while no checked host is healthy.
  std::atomic<bool> healthy{true};
  std::atomic<bool> hc_pending{false};
  std::atomic<uint32_t> active_requests{0};
  std::atomic<uint64_t> rq_total{0};
  std::atomic<uint64_t> rq_error{0};
  std::atomic<uint64_t> cx_total{0};
  std::atomic<uint32_t> cx_active{0};
};
using HostSharedPtr = std::shared_ptr<Host>;
using HostVector = std::vector<HostSharedPtr>;
using HostSetConstSharedPtr = std::shared_ptr<const HostVector>;

struct ClusterStats {
  explicit ClusterStats(stats::Store& store, const std::string& prefix);
  stats::Counter& upstream_cx_total;
  stats::Gauge& upstream_cx_active;
  stats::Counter& upstream_cx_http1_total;
  stats::Counter& upstream_cx_connect_fail;
  stats::Counter& upstream_cx_connect_timeout;
  stats::Counter& upstream_cx_overflow;
  stats::Counter& upstream_cx_destroy;
  stats::Counter& upstream_cx_destroy_local;
  stats::Counter& upstream_cx_destroy_remote;
  stats::Counter& upstream_cx_idle_timeout;
  stats::Counter& upstream_cx_protocol_error;
  stats::Counter& upstream_cx_rx_bytes_total;
  stats::Counter& upstream_cx_tx_bytes_total;
  stats::Counter& upstream_rq_total;
  stats::Gauge& upstream_rq_active;
  stats::Counter& upstream_rq_completed;
  stats::Counter& upstream_rq_pending_total;
  stats::Gauge& upstream_rq_pending_active;
  stats::Counter& upstream_rq_pending_overflow;
  stats::Counter& upstream_rq_pending_failure_eject;
  stats::Counter& upstream_rq_cancelled;
  stats::Counter& upstream_rq_timeout;
  stats::Counter& upstream_rq_per_try_timeout;
  stats::Counter& upstream_rq_rx_reset;
  stats::Counter& upstream_rq_tx_reset;
  stats::Counter& upstream_rq_retry;
  stats::Counter& upstream_rq_retry_success;
  stats::Counter& upstream_rq_retry_overflow;
  stats::Counter& upstream_rq_retry_limit_exceeded;
  stats::Counter& upstream_cx_none_healthy;
  stats::Gauge& membership_healthy;
  stats::Gauge& membership_total;
  stats::Counter& health_check_attempt;
  stats::Counter& health_check_success;
  stats::Counter& health_check_failure;
  stats::Counter& update_attempt;
  stats::Counter& update_success;
  stats::Counter& update_failure;
  std::array<stats::Counter*, 6> rq_class{}; // upstream_rq_1xx..5xx at [1..5]
};

// Circuit breakers (Envoy's DEFAULT priority thresholds), counted across all workers.
class ResourceLimit {
public:
  explicit ResourceLimit(uint32_t max) : max_(max) {}
  bool canCreate() const { return count_.load(std::memory_order_relaxed) < max_; }
  // Claims one unit if under the limit.
  bool tryInc() {
    uint32_t cur = count_.load(std::memory_order_relaxed);
    while (cur < max_) {
      if (count_.compare_exchange_weak(cur, cur + 1, std::memory_order_relaxed))
        return true;
    }
    return false;
  }
  void inc() { count_.fetch_add(1, std::memory_order_relaxed); }
  void dec() { count_.fetch_sub(1, std::memory_order_relaxed); }
  uint32_t count() const { return count_.load(std::memory_order_relaxed); }
  uint32_t max() const { return max_; }

private:
  uint32_t max_;
  std::atomic<uint32_t> count_{0};
};

class ClusterInfo {
public:
  ClusterInfo(config::Cluster cfg, stats::Store& store);
  const std::string& name() const { return config_.name; }
  const config::Cluster& config() const { return config_; }
  ClusterStats& stats() const { return stats_; }
  // upstream_rq_<code>, created on first use of that code.
  stats::Counter& codeCounter(uint32_t code) const;
  void chargeResponseCode(uint32_t code) const;

  mutable ResourceLimit connections;
  mutable ResourceLimit pending_requests;
  mutable ResourceLimit requests;
  mutable ResourceLimit retries;

private:
  config::Cluster config_;
  stats::Store& store_;
  mutable ClusterStats stats_;
  mutable std::array<std::atomic<stats::Counter*>, 600> code_counters_{};
};
using ClusterInfoConstSharedPtr = std::shared_ptr<const ClusterInfo>;

} // namespace wasmgate::upstream
