#include "upstream/host.h"

namespace wasmgate::upstream {

ClusterStats::ClusterStats(stats::Store& s, const std::string& p)
    : upstream_cx_total(s.counter(p + "upstream_cx_total")),
      upstream_cx_active(s.gauge(p + "upstream_cx_active")),
      upstream_cx_http1_total(s.counter(p + "upstream_cx_http1_total")),
      upstream_cx_connect_fail(s.counter(p + "upstream_cx_connect_fail")),
      upstream_cx_connect_timeout(s.counter(p + "upstream_cx_connect_timeout")),
      upstream_cx_overflow(s.counter(p + "upstream_cx_overflow")),
      upstream_cx_destroy(s.counter(p + "upstream_cx_destroy")),
      upstream_cx_destroy_local(s.counter(p + "upstream_cx_destroy_local")),
      upstream_cx_destroy_remote(s.counter(p + "upstream_cx_destroy_remote")),
      upstream_cx_idle_timeout(s.counter(p + "upstream_cx_idle_timeout")),
      upstream_cx_protocol_error(s.counter(p + "upstream_cx_protocol_error")),
      upstream_cx_rx_bytes_total(s.counter(p + "upstream_cx_rx_bytes_total")),
      upstream_cx_tx_bytes_total(s.counter(p + "upstream_cx_tx_bytes_total")),
      upstream_rq_total(s.counter(p + "upstream_rq_total")),
      upstream_rq_active(s.gauge(p + "upstream_rq_active")),
      upstream_rq_completed(s.counter(p + "upstream_rq_completed")),
      upstream_rq_pending_total(s.counter(p + "upstream_rq_pending_total")),
      upstream_rq_pending_active(s.gauge(p + "upstream_rq_pending_active")),
      upstream_rq_pending_overflow(s.counter(p + "upstream_rq_pending_overflow")),
      upstream_rq_pending_failure_eject(s.counter(p + "upstream_rq_pending_failure_eject")),
      upstream_rq_cancelled(s.counter(p + "upstream_rq_cancelled")),
      upstream_rq_timeout(s.counter(p + "upstream_rq_timeout")),
      upstream_rq_per_try_timeout(s.counter(p + "upstream_rq_per_try_timeout")),
      upstream_rq_rx_reset(s.counter(p + "upstream_rq_rx_reset")),
      upstream_rq_tx_reset(s.counter(p + "upstream_rq_tx_reset")),
      upstream_rq_retry(s.counter(p + "upstream_rq_retry")),
      upstream_rq_retry_success(s.counter(p + "upstream_rq_retry_success")),
      upstream_rq_retry_overflow(s.counter(p + "upstream_rq_retry_overflow")),
      upstream_rq_retry_limit_exceeded(s.counter(p + "upstream_rq_retry_limit_exceeded")),
      upstream_cx_none_healthy(s.counter(p + "upstream_cx_none_healthy")),
      membership_healthy(s.gauge(p + "membership_healthy")),
      membership_total(s.gauge(p + "membership_total")),
      health_check_attempt(s.counter(p + "health_check.attempt")),
      health_check_success(s.counter(p + "health_check.success")),
      health_check_failure(s.counter(p + "health_check.failure")),
      update_attempt(s.counter(p + "update_attempt")),
      update_success(s.counter(p + "update_success")),
      update_failure(s.counter(p + "update_failure")) {
  for (int c = 1; c <= 5; ++c)
    rq_class[c] = &s.counter(p + "upstream_rq_" + std::to_string(c) + "xx");
}

ClusterInfo::ClusterInfo(config::Cluster cfg, stats::Store& store)
    : connections(cfg.circuit_breakers.max_connections),
      pending_requests(cfg.circuit_breakers.max_pending_requests),
      requests(cfg.circuit_breakers.max_requests), retries(cfg.circuit_breakers.max_retries),
      config_(std::move(cfg)), store_(store), stats_(store, "cluster." + config_.name + ".") {}

stats::Counter& ClusterInfo::codeCounter(uint32_t code) const {
  if (code >= code_counters_.size())
    code = 0;
  stats::Counter* c = code_counters_[code].load(std::memory_order_acquire);
  if (c == nullptr) {
    // First response with this code: the store lookup locks, once per code.
    c = &store_.counter("cluster." + config_.name + ".upstream_rq_" + std::to_string(code));
    code_counters_[code].store(c, std::memory_order_release);
  }
  return *c;
}

void ClusterInfo::chargeResponseCode(uint32_t code) const {
  uint32_t cls = code / 100;
  if (cls >= 1 && cls <= 5)
    stats_.rq_class[cls]->inc();
  codeCounter(code).inc();
}

} // namespace wasmgate::upstream
