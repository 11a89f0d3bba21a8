#include "extensions/filters/network/wasm/wasm_network_filter.h"

#include "common/logger.h"
#include "extensions/common/wasm/properties.h"

namespace wasmgate::extensions::wasm {

WasmNetworkFilter::WasmNetworkFilter(std::shared_ptr<ThreadLocalPlugin> plugin, uint32_t context_id)
    : keep_alive_(std::move(plugin)), plugin_(*keep_alive_), id_(context_id) {}

WasmNetworkFilter::~WasmNetworkFilter() { finish(); }

void WasmNetworkFilter::log(uint32_t level, std::string_view message) {
  logFromPlugin(plugin_.plugin(), level, message);
}

uint32_t WasmNetworkFilter::logLevel() const { return pluginLogLevel(); }

bool WasmNetworkFilter::ensureCreated() {
  if (created_)
    return true;
  if (failed_ || skip_)
    return false;
  if (Status s = plugin_.createContext(*this, id_); !s.ok()) {
    fail("proxy_on_context_create", s.message());
    return false;
  }
  created_ = true;
  return true;
}

tcp::FilterStatus WasmNetworkFilter::fail(std::string_view where, const std::string& why) {
  const auto& plugin = plugin_.plugin();
  reportVmFailure(plugin, plugin_.vm(), where, why);
  if (plugin.config.failure_policy == FailurePolicy::FailOpen) {
    skip_ = true;
    return tcp::FilterStatus::Continue;
  }
  // Closed (and reload: the next connection gets a fresh VM): this connection ends.
  failed_ = true;
  if (callbacks_ != nullptr)
    callbacks_->closeDownstream();
  return tcp::FilterStatus::StopIteration;
}

tcp::FilterStatus WasmNetworkFilter::onNewConnection() {
  if (skip_)
    return tcp::FilterStatus::Continue;
  if (!ensureCreated())
    return skip_ ? tcp::FilterStatus::Continue : tcp::FilterStatus::StopIteration;
  phase_ = Phase::NewConnection;
  continue_requested_ = false;
  auto r = plugin_.instance().onNewConnection(id_);
  phase_ = Phase::None;
  if (!r.ok())
    return fail("proxy_on_new_connection", r.error());
  read_paused_ = *r != 0 && !continue_requested_;
  return read_paused_ ? tcp::FilterStatus::StopIteration : tcp::FilterStatus::Continue;
}

tcp::FilterStatus WasmNetworkFilter::onDownstreamData(Buffer& data, bool end_stream) {
  if (skip_)
    return tcp::FilterStatus::Continue;
  if (failed_ || !created_)
    return tcp::FilterStatus::StopIteration;
  phase_ = Phase::Downstream;
  data_ = &data;
  continue_requested_ = false;
  auto r = plugin_.instance().onDownstreamData(id_, uint32_t(data.size()), end_stream);
  data_ = nullptr;
  phase_ = Phase::None;
  if (!r.ok())
    return fail("proxy_on_downstream_data", r.error());
  read_paused_ = *r != 0 && !continue_requested_;
  return read_paused_ ? tcp::FilterStatus::StopIteration : tcp::FilterStatus::Continue;
}

tcp::FilterStatus WasmNetworkFilter::onUpstreamData(Buffer& data, bool end_stream) {
  if (skip_)
    return tcp::FilterStatus::Continue;
  if (failed_ || !created_)
    return tcp::FilterStatus::StopIteration;
  phase_ = Phase::Upstream;
  data_ = &data;
  auto r = plugin_.instance().onUpstreamData(id_, uint32_t(data.size()), end_stream);
  data_ = nullptr;
  phase_ = Phase::None;
  if (!r.ok())
    return fail("proxy_on_upstream_data", r.error());
  return *r != 0 ? tcp::FilterStatus::StopIteration : tcp::FilterStatus::Continue;
}

void WasmNetworkFilter::onDownstreamClose(tcp::PeerType peer) {
  if (!created_ || failed_ || skip_ || finished_)
    return;
  Status s = plugin_.instance().onDownstreamConnectionClose(id_, uint32_t(peer));
  if (!s.ok())
    reportVmFailure(plugin_.plugin(), plugin_.vm(), "proxy_on_downstream_connection_close", s.message());
}

void WasmNetworkFilter::onUpstreamClose(tcp::PeerType peer) {
  if (!created_ || failed_ || skip_ || finished_)
    return;
  Status s = plugin_.instance().onUpstreamConnectionClose(id_, uint32_t(peer));
  if (!s.ok())
    reportVmFailure(plugin_.plugin(), plugin_.vm(), "proxy_on_upstream_connection_close", s.message());
}

void WasmNetworkFilter::onDestroy() { finish(); }

// Done, log, delete: once, after the downstream close (ABI doc 4.4).
void WasmNetworkFilter::finish() {
  if (finished_)
    return;
  finished_ = true;
  alive_.reset();
  if (!created_)
    return;
  plugin_.root().cancelCallouts(id_);
  auto& instance = plugin_.instance();
  if (!instance.failed()) {
    (void)instance.onDone(id_);
    (void)instance.onLog(id_);
    (void)instance.onDelete(id_);
  } else {
    instance.unregisterContext(id_);
  }
  callbacks_ = nullptr;
}

abi::BufferRef WasmNetworkFilter::buffer(abi::BufferType type) {
  abi::BufferRef ref;
  switch (type) {
  case abi::BufferType::DownstreamData:
    if (phase_ == Phase::Downstream)
      ref.mutable_buffer = data_;
    break;
  case abi::BufferType::UpstreamData:
    if (phase_ == Phase::Upstream)
      ref.mutable_buffer = data_;
    break;
  case abi::BufferType::VmConfiguration:
    ref.read_only = std::string_view(plugin_.plugin().config.vm.configuration);
    break;
  case abi::BufferType::HttpCallResponseBody:
    return plugin_.root().buffer(type);
  default:
    break;
  }
  return ref;
}

abi::MapRef WasmNetworkFilter::headerMap(abi::MapType type) {
  if (type == abi::MapType::HttpCallResponseHeaders || type == abi::MapType::HttpCallResponseTrailers)
    return plugin_.root().headerMap(type);
  return {};
}

void WasmNetworkFilter::afterGuestCall(void (*action)(WasmNetworkFilter&)) {
  if (!alive_)
    alive_ = std::make_shared<char>(0);
  plugin_.instance().runAfterCall([this, alive = std::weak_ptr<char>(alive_), action] {
    if (!alive.expired())
      action(*this);
  });
}

abi::WasmResult WasmNetworkFilter::continueStream(abi::StreamType type) {
  switch (type) {
  case abi::StreamType::Downstream:
    if (phase_ == Phase::NewConnection || phase_ == Phase::Downstream) {
      continue_requested_ = true; // this callback's own result becomes Continue
    } else if (read_paused_) {
      afterGuestCall([](WasmNetworkFilter& f) {
        if (f.read_paused_ && f.callbacks_ != nullptr) {
          f.read_paused_ = false;
          f.callbacks_->continueReading();
        }
      });
    }
    return abi::WasmResult::Ok;
  case abi::StreamType::Upstream:
    return abi::WasmResult::Unimplemented; // as Envoy: the write path cannot be resumed
  default:
    return abi::WasmResult::BadArgument; // HTTP stream types on a TCP connection
  }
}

abi::WasmResult WasmNetworkFilter::closeStream(abi::StreamType type) {
  switch (type) {
  case abi::StreamType::Downstream:
    afterGuestCall([](WasmNetworkFilter& f) {
      if (f.callbacks_ != nullptr)
        f.callbacks_->closeDownstream();
    });
    return abi::WasmResult::Ok;
  case abi::StreamType::Upstream:
    afterGuestCall([](WasmNetworkFilter& f) {
      if (f.callbacks_ != nullptr)
        f.callbacks_->closeUpstream();
    });
    return abi::WasmResult::Ok;
  default:
    return abi::WasmResult::BadArgument;
  }
}

abi::WasmResult WasmNetworkFilter::getProperty(std::string_view path, std::string& value) {
  if (callbacks_ == nullptr)
    return abi::WasmResult::NotFound;
  auto seg = splitPropertyPath(path);
  if (seg.empty())
    return abi::WasmResult::NotFound;
  const tcp::ConnectionInfo& info = callbacks_->info();
  const std::string_view root = seg[0];
  const std::string_view key = seg.size() > 1 ? seg[1] : std::string_view();
  auto str = [&](std::string_view s) {
    if (s.empty())
      return abi::WasmResult::NotFound;
    value.assign(s);
    return abi::WasmResult::Ok;
  };
  auto num = [&](int64_t v) {
    value = encodePropertyInt(v);
    return abi::WasmResult::Ok;
  };
  if (root == "source" || root == "destination" || root == "upstream") {
    std::string_view addr = root == "source"        ? std::string_view(info.downstream_remote_address)
                            : root == "destination" ? std::string_view(info.downstream_local_address)
                                                    : std::string_view(info.upstream_host);
    if (root == "upstream" && key == "local_address")
      return str(info.upstream_local_address);
    if (key == "address")
      return str(addr);
    if (key == "port") {
      auto port = portOf(addr);
      return port ? num(*port) : abi::WasmResult::NotFound;
    }
    return abi::WasmResult::NotFound;
  }
  if (root == "connection") {
    if (key == "id")
      return num(int64_t(info.connection_id));
    if (key == "mtls") {
      value.assign(1, '\0');
      return abi::WasmResult::Ok;
    }
    return abi::WasmResult::NotFound;
  }
  if (root == "connection_id")
    return num(int64_t(info.connection_id));
  if (root == "cluster_name" || (root == "xds" && key == "cluster_name"))
    return str(info.upstream_cluster);
  return abi::WasmResult::NotFound;
}

} // namespace wasmgate::extensions::wasm
