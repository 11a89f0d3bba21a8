#include "upstream/cluster_manager.h"

#include <netdb.h>

#include <algorithm>
#include <cstring>

#include "common/logger.h"
#include "upstream/health_checker.h"

namespace wasmgate::upstream {

// ---------------------------------------------------------------------------------------------
// Worker side

ThreadLocalCluster::ThreadLocalCluster(event::Dispatcher& d, ClusterInfoConstSharedPtr info,
                                       HostSetConstSharedPtr hosts)
    : dispatcher_(d), info_(std::move(info)), hosts_(std::move(hosts)), rng_(std::random_device{}()) {
  rr_index_ = rng_(); // workers start at different hosts
}

HostSharedPtr ThreadLocalCluster::chooseHost(const Host* exclude) {
  const HostVector& hosts = *hosts_;
  if (hosts.empty())
    return nullptr;
  // Candidates: healthy checked hosts; if none, hosts whose first check is still pending.
  scratch_.clear();
  for (const auto& h : hosts)
    if (h->healthy.load(std::memory_order_relaxed) && !h->hc_pending.load(std::memory_order_relaxed))
      scratch_.push_back(h.get());
  if (scratch_.empty())
    for (const auto& h : hosts)
      if (h->hc_pending.load(std::memory_order_relaxed))
        scratch_.push_back(h.get());
  if (scratch_.empty())
    return nullptr;
  if (exclude != nullptr && scratch_.size() > 1)
    scratch_.erase(std::remove(scratch_.begin(), scratch_.end(), exclude), scratch_.end());

  Host* pick = nullptr;
  switch (info_->config().lb_policy) {
  case config::Cluster::LbPolicy::RoundRobin: {
    // Weighted round robin by expanding weights over the index space.
    uint64_t total = 0;
    for (Host* h : scratch_)
      total += h->weight;
    uint64_t slot = rr_index_++ % total;
    for (Host* h : scratch_) {
      if (slot < h->weight) {
        pick = h;
        break;
      }
      slot -= h->weight;
    }
    break;
  }
  case config::Cluster::LbPolicy::Random:
    pick = scratch_[rng_() % scratch_.size()];
    break;
  case config::Cluster::LbPolicy::LeastRequest: {
    // Power of two choices, as Envoy's default least_request.
    Host* a = scratch_[rng_() % scratch_.size()];
    Host* b = scratch_[rng_() % scratch_.size()];
    pick = a->active_requests.load(std::memory_order_relaxed) <=
                   b->active_requests.load(std::memory_order_relaxed)
               ? a
               : b;
    break;
  }
  }
  for (const auto& h : hosts)
    if (h.get() == pick)
      return h;
  return nullptr;
}

ConnPool& ThreadLocalCluster::connPool(const HostSharedPtr& host) {
  auto it = pools_.find(host.get());
  if (it == pools_.end())
    it = pools_.emplace(host.get(), std::make_unique<ConnPool>(dispatcher_, info_, host)).first;
  return *it->second;
}

void ThreadLocalCluster::updateHosts(HostSetConstSharedPtr hosts) {
  hosts_ = std::move(hosts);
  // Drop pools of hosts that left; their in-flight streams keep their connections alive
  // until the pool's destructor closes them, so only idle pools are dropped right away.
  for (auto it = pools_.begin(); it != pools_.end();) {
    bool present = std::any_of(hosts_->begin(), hosts_->end(),
                               [&](const HostSharedPtr& h) { return h.get() == it->first; });
    if (!present && it->second->activeClients() == 0) {
      it = pools_.erase(it);
    } else {
      if (!present)
        it->second->closeIdle();
      ++it;
    }
  }
}

ThreadLocalCluster* WorkerClusterManager::get(std::string_view name) const {
  auto it = clusters_.find(name);
  return it == clusters_.end() ? nullptr : it->second.get();
}

void WorkerClusterManager::addOrUpdate(ClusterInfoConstSharedPtr info, HostSetConstSharedPtr hosts) {
  auto it = clusters_.find(info->name());
  if (it != clusters_.end() && it->second->infoPtr() == info) {
    it->second->updateHosts(std::move(hosts));
    return;
  }
  std::string name = info->name();
  clusters_[name] = std::make_unique<ThreadLocalCluster>(dispatcher_, std::move(info), std::move(hosts));
}

void WorkerClusterManager::updateHosts(const std::string& name, HostSetConstSharedPtr hosts) {
  if (auto* c = get(name))
    c->updateHosts(std::move(hosts));
}

// ---------------------------------------------------------------------------------------------
// Main thread

Result<std::vector<network::Address>> resolveHost(const std::string& host, uint16_t port,
                                                  config::Cluster::DnsLookupFamily family) {
  auto literal = network::parseIpAddress(host, port);
  if (literal.ok())
    return std::vector<network::Address>{*literal};
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  using F = config::Cluster::DnsLookupFamily;
  hints.ai_family = family == F::V4Only ? AF_INET : family == F::V6Only ? AF_INET6 : AF_UNSPEC;
  addrinfo* res = nullptr;
  int rc = getaddrinfo(host.c_str(), nullptr, &hints, &res);
  if (rc != 0)
    return Status::error("cannot resolve '" + host + "': " + gai_strerror(rc));
  std::vector<network::Address> v4, v6;
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    network::Address a = network::fromSockaddr(ai->ai_addr, ai->ai_addrlen);
    auto withPort = network::parseIpAddress(a.ip, port);
    if (!withPort.ok())
      continue;
    auto& bucket = ai->ai_family == AF_INET ? v4 : v6;
    if (std::none_of(bucket.begin(), bucket.end(), [&](const auto& x) { return x.text == withPort->text; }))
      bucket.push_back(*withPort);
  }
  freeaddrinfo(res);
  std::vector<network::Address> out;
  // AUTO and V4_PREFERRED prefer IPv4 (Envoy's AUTO prefers v6; v4 is what loopback tests use
  // and what most upstreams serve; documented in the README).
  if (family == F::V6Only) {
    out = v6;
  } else if (family == F::All) {
    out = v4;
    out.insert(out.end(), v6.begin(), v6.end());
  } else {
    out = !v4.empty() ? v4 : v6;
  }
  if (out.empty())
    return Status::error("no addresses for '" + host + "'");
  return out;
}

ClusterManager::ClusterManager(event::Dispatcher& main, stats::Store& store) : main_(main), store_(store) {}

ClusterManager::~ClusterManager() { shutdown(); }

void ClusterManager::shutdown() {
  *alive_ = false;
  for (auto& [name, e] : clusters_) {
    e.health_checker.reset();
    e.dns_timer.reset();
  }
}

Status ClusterManager::initialize(const std::vector<config::Cluster>& clusters) {
  for (size_t i = 0; i < clusters.size(); ++i) {
    const config::Cluster& c = clusters[i];
    ClusterEntry e;
    auto info = std::make_shared<ClusterInfo>(c, store_);
    auto hosts = std::make_shared<HostVector>();
    for (size_t j = 0; j < c.endpoints.size(); ++j) {
      const auto& ep = c.endpoints[j];
      auto resolved = resolveHost(ep.address.address, uint16_t(ep.address.port), c.dns_lookup_family);
      if (!resolved.ok())
        return Status::error("static_resources.clusters[" + std::to_string(i) + "] (" + c.name +
                             "): " + resolved.error());
      const auto& addrs = *resolved;
      // LOGICAL_DNS uses the first address only; STRICT_DNS every address.
      size_t n = c.type == config::Cluster::Type::LogicalDns ? 1 : addrs.size();
      for (size_t k = 0; k < n; ++k) {
        auto h = std::make_shared<Host>();
        h->address = addrs[k];
        h->hostname = ep.hostname.empty() ? ep.address.address : ep.hostname;
        h->weight = std::max<uint32_t>(1, ep.load_balancing_weight);
        h->health_check_port = uint16_t(ep.health_check_port);
        h->health_check_hostname = ep.health_check_hostname;
        hosts->push_back(std::move(h));
      }
    }
    e.info = info;
    e.hosts = hosts;
    info->stats().membership_total.set(hosts->size());
    info->stats().membership_healthy.set(hosts->size());
    if (c.health_checks.size() > 1)
      return Status::error("static_resources.clusters[" + std::to_string(i) +
                           "].health_checks: only one health check per cluster is supported");
    if (!c.health_checks.empty()) {
      std::string name = c.name;
      e.health_checker = std::make_unique<HealthChecker>(main_, info, c.health_checks[0], [this, name] {
        auto it = clusters_.find(name);
        if (it != clusters_.end())
          updateMembership(it->second);
      });
      e.health_checker->setHosts(*hosts);
    }
    clusters_.emplace(c.name, std::move(e));
  }
  return okStatus();
}

void ClusterManager::updateMembership(ClusterEntry& e) {
  uint64_t healthy = 0;
  for (const auto& h : *e.hosts)
    if (h->healthy.load())
      ++healthy;
  e.info->stats().membership_total.set(e.hosts->size());
  e.info->stats().membership_healthy.set(healthy);
}

void ClusterManager::addWorker(WorkerClusterManager& worker) {
  workers_.push_back(&worker);
  std::vector<std::pair<ClusterInfoConstSharedPtr, HostSetConstSharedPtr>> all;
  for (auto& [name, e] : clusters_)
    all.emplace_back(e.info, e.hosts);
  worker.dispatcher().post([&worker, all] {
    for (const auto& [info, hosts] : all)
      worker.addOrUpdate(info, hosts);
  });
}

void ClusterManager::start() {
  for (auto& [name, e] : clusters_) {
    if (e.health_checker)
      e.health_checker->start();
    if (e.info->config().type != config::Cluster::Type::Static) {
      std::string n = name;
      e.dns_timer = main_.createTimer([this, n] { refreshDns(n); });
      e.dns_timer->enableTimer(e.info->config().dns_refresh_rate);
    }
  }
}

void ClusterManager::publishHosts(const std::string& name) {
  auto& e = clusters_.at(name);
  updateMembership(e);
  for (auto* w : workers_) {
    HostSetConstSharedPtr hosts = e.hosts;
    w->dispatcher().post([w, name, hosts] { w->updateHosts(name, hosts); });
  }
}

void ClusterManager::refreshDns(const std::string& name) {
  auto& e = clusters_.at(name);
  if (e.dns_in_flight)
    return;
  e.dns_in_flight = true;
  e.info->stats().update_attempt.inc();
  config::Cluster cfg = e.info->config();
  std::weak_ptr<bool> alive = alive_;
  // getaddrinfo blocks: resolve on a short-lived thread, apply on the main loop.
  // The thread only touches the main dispatcher (which outlives the cluster manager) and
  // `alive`; the result is applied on the main loop if the manager still exists.
  event::Dispatcher& main = main_;
  std::thread([this, &main, name, cfg, alive] {
    std::vector<std::pair<network::Address, const config::LbEndpoint*>> found;
    bool failed = false;
    for (const auto& ep : cfg.endpoints) {
      auto r = resolveHost(ep.address.address, uint16_t(ep.address.port), cfg.dns_lookup_family);
      if (!r.ok()) {
        failed = true;
        break;
      }
      size_t n = cfg.type == config::Cluster::Type::LogicalDns ? 1 : r->size();
      for (size_t k = 0; k < n; ++k)
        found.emplace_back((*r)[k], &ep);
    }
    std::vector<std::tuple<network::Address, std::string, uint32_t>> result;
    for (auto& [addr, ep] : found)
      result.emplace_back(addr, ep->address.address, ep->load_balancing_weight);
    main.post([this, name, failed, result, alive] {
      if (alive.expired() || !*alive.lock())
        return;
      auto& e = clusters_.at(name);
      e.dns_in_flight = false;
      if (e.dns_timer)
        e.dns_timer->enableTimer(e.info->config().dns_refresh_rate);
      if (failed) {
        // Keep the last known hosts, as Envoy does.
        e.info->stats().update_failure.inc();
        return;
      }
      e.info->stats().update_success.inc();
      // Keep Host objects (and their health/pools) for addresses that did not change.
      auto next = std::make_shared<HostVector>();
      bool changed = result.size() != e.hosts->size();
      for (const auto& [addr, hostname, weight] : result) {
        const std::string& text = addr.text; // (C++20 lambdas cannot capture a structured binding in clang 14)
        auto it = std::find_if(e.hosts->begin(), e.hosts->end(),
                               [&](const HostSharedPtr& h) { return h->address.text == text; });
        if (it != e.hosts->end()) {
          next->push_back(*it);
        } else {
          changed = true;
          auto h = std::make_shared<Host>();
          h->address = addr;
          h->hostname = hostname;
          h->weight = std::max<uint32_t>(1, weight);
          next->push_back(std::move(h));
        }
      }
      if (!changed)
        return;
      e.hosts = next;
      if (e.health_checker)
        e.health_checker->setHosts(*next);
      publishHosts(name);
    });
  }).detach();
}

} // namespace wasmgate::upstream
