#include "upstream/health_checker.h"

#include <algorithm>
#include <optional>

#include "common/logger.h"
#include "http/http1/parser.h"
#include "network/connection.h"

namespace wasmgate::upstream {

// One host's checking loop: connect, send one request, read the status, close, wait.
class HealthChecker::Session : public network::ConnectionCallbacks,
                               public http::http1::ParserCallbacks {
public:
  Session(HealthChecker& parent, HostSharedPtr host)
      : parent_(parent), host_(std::move(host)) {
    interval_timer_ = parent_.main_.createTimer([this] { startCheck(); });
    timeout_timer_ = parent_.main_.createTimer([this] { finish(false, "timeout"); });
    host_->hc_pending.store(true);
  }
  ~Session() override {
    if (conn_) {
      conn_->setCallbacks(nullptr);
      conn_->close(network::CloseType::NoFlush);
      parent_.main_.deferredDelete(std::move(conn_));
    }
  }
  const HostSharedPtr& host() const { return host_; }

  void startCheck() {
    parent_.cluster_->stats().health_check_attempt.inc();
    parser_.emplace(http::http1::Parser::Type::Response, *this);
    got_status_ = 0;
    network::Address target = host_->address;
    if (host_->health_check_port != 0) {
      auto a = network::parseIpAddress(target.ip, host_->health_check_port);
      if (a.ok())
        target = *a;
    }
    conn_ = network::Connection::createClient(parent_.main_, target, 0);
    conn_->setCallbacks(this);
    timeout_timer_->enableTimer(parent_.cfg_.timeout);
  }

private:
  void onEvent(network::ConnectionEvent e) override {
    if (e == network::ConnectionEvent::Connected) {
      const auto& cfg = parent_.cfg_;
      // Envoy's order: the check's host, the endpoint's hostname, then the cluster name.
      std::string host = !cfg.host.empty()                      ? cfg.host
                         : !host_->health_check_hostname.empty() ? host_->health_check_hostname
                         : !host_->hostname.empty() &&
                                   !network::parseIpAddress(host_->hostname, 0).ok()
                             ? host_->hostname
                             : parent_.cluster_->name();
      std::string req = "GET " + cfg.path + " HTTP/1.1\r\nhost: " + host +
                        "\r\nuser-agent: wasmgate-health-check\r\nconnection: close\r\n\r\n";
      conn_->write(req);
      return;
    }
    if (!done_) {
      if (parser_->messageInProgress())
        parser_->onEof();
      finish(got_status_ != 0 && statusOk(got_status_), got_status_ ? "status" : "connection closed");
    }
  }
  void onData(Buffer& data, bool) override {
    parser_->execute(data.data(), data.size());
    data.clear();
    if (got_status_ != 0 && !done_)
      finish(statusOk(got_status_), "status");
  }
  bool onHeaders(http::HeaderMap&& headers, const http::http1::MessageInfo&) override {
    uint32_t s = headers.status();
    if (s >= 200)
      got_status_ = s;
    return true;
  }
  void onBody(std::string_view) override {}
  void onTrailers(http::HeaderMap&&) override {}
  bool onMessageComplete() override { return true; }

  bool statusOk(uint32_t s) const {
    const auto& ranges = parent_.cfg_.expected_statuses;
    if (ranges.empty())
      return s == 200; // Envoy's default range is [200, 201)
    for (auto [lo, hi] : ranges)
      if (s >= lo && s < hi)
        return true;
    return false;
  }

  void finish(bool ok, const char* why) {
    done_ = true;
    timeout_timer_->disableTimer();
    if (conn_) {
      conn_->setCallbacks(nullptr);
      conn_->close(network::CloseType::NoFlush);
      parent_.main_.deferredDelete(std::move(conn_));
    }
    auto& st = parent_.cluster_->stats();
    bool was_healthy = host_->healthy.load();
    bool was_pending = host_->hc_pending.load();
    if (ok) {
      st.health_check_success.inc();
      failures_ = 0;
      ++successes_;
      if ((!was_healthy && successes_ >= parent_.cfg_.healthy_threshold) || was_pending)
        host_->healthy.store(true);
    } else {
      st.health_check_failure.inc();
      successes_ = 0;
      ++failures_;
      if ((was_healthy && failures_ >= parent_.cfg_.unhealthy_threshold) || was_pending) {
        if (was_healthy)
          WG_INFO("health check: {} in cluster {} is unhealthy ({})", host_->address.text,
                  parent_.cluster_->name(), why);
        host_->healthy.store(false);
      }
    }
    host_->hc_pending.store(false);
    if (was_healthy != host_->healthy.load() || was_pending)
      parent_.on_change_();
    done_ = false;
    interval_timer_->enableTimer(parent_.cfg_.interval);
  }

  HealthChecker& parent_;
  HostSharedPtr host_;
  std::optional<http::http1::Parser> parser_;
  network::ConnectionPtr conn_;
  event::TimerPtr interval_timer_;
  event::TimerPtr timeout_timer_;
  uint32_t got_status_ = 0;
  uint32_t failures_ = 0;
  uint32_t successes_ = 0;
  bool done_ = false;
};

HealthChecker::HealthChecker(event::Dispatcher& main, ClusterInfoConstSharedPtr cluster,
                             config::HealthCheck cfg, std::function<void()> on_change)
    : main_(main), cluster_(std::move(cluster)), cfg_(std::move(cfg)), on_change_(std::move(on_change)) {}

HealthChecker::~HealthChecker() = default;

void HealthChecker::setHosts(const HostVector& hosts) {
  std::vector<std::unique_ptr<Session>> next;
  for (const auto& h : hosts) {
    auto it = std::find_if(sessions_.begin(), sessions_.end(),
                           [&](const auto& s) { return s && s->host() == h; });
    if (it != sessions_.end()) {
      next.push_back(std::move(*it));
    } else {
      next.push_back(std::make_unique<Session>(*this, h));
      if (started_)
        next.back()->startCheck();
    }
  }
  sessions_ = std::move(next);
}

void HealthChecker::start() {
  started_ = true;
  for (auto& s : sessions_)
    s->startCheck();
}

} // namespace wasmgate::upstream
