#include "extensions/filters/http/wasm/wasm_filter.h"

#include <cstring>

#include "common/logger.h"
#include "extensions/common/wasm/properties.h"
#include "event/dispatcher.h"
#include "router/route_table.h"
#include "wasm/abi/pairs.h"

namespace wasmgate::extensions::wasm {

namespace {

std::string encodeInt(int64_t v) { return encodePropertyInt(v); }

// Without the plugin's hidden headers.
std::string encodeMap(const http::HeaderMap& map, const abi::PluginInfo& plugin) {
  std::vector<std::pair<std::string_view, std::string_view>> pairs;
  for (const auto& [k, v] : map)
    if (!plugin.isHidden(k))
      pairs.emplace_back(k, v);
  return abi::serializePairs(pairs);
}

// Values of a header, comma-joined (the property form); a hidden header is absent.
std::optional<std::string> headerValue(const http::HeaderMap* map, std::string_view name,
                                       const abi::PluginInfo& plugin) {
  if (map == nullptr)
    return std::nullopt;
  std::string lower = http::toLower(name);
  if (plugin.isHidden(lower))
    return std::nullopt;
  std::optional<std::string> out;
  for (const auto& [k, v] : *map) {
    if (k != lower)
      continue;
    if (out)
      out->append(",").append(v);
    else
      out = v;
  }
  return out;
}

} // namespace

WasmFilter::WasmFilter(std::shared_ptr<ThreadLocalPlugin> plugin, uint32_t context_id)
    : keep_alive_(std::move(plugin)), plugin_(*keep_alive_), id_(context_id) {}

WasmFilter::~WasmFilter() { onDestroy(); }

abi::HostContext& WasmFilter::rootContext() { return plugin_.root(); }

void WasmFilter::log(uint32_t level, std::string_view message) {
  logFromPlugin(plugin_.plugin(), level, message);
}

uint32_t WasmFilter::logLevel() const { return pluginLogLevel(); }

http::StreamFilterCallbacks& WasmFilter::anyCallbacks() {
  if (decoder_ != nullptr)
    return *decoder_;
  return *encoder_;
}

bool WasmFilter::ensureCreated() {
  if (created_)
    return true;
  if (failed_ || skip_)
    return false;
  if (Status s = plugin_.createContext(*this, id_); !s.ok()) {
    failStream("proxy_on_context_create", s.message());
    return false;
  }
  created_ = true;
  return true;
}

// The export a phase calls, for failure reports.
const char* WasmFilter::phaseCallback(Phase phase) {
  switch (phase) {
  case Phase::RequestHeaders: return "proxy_on_request_headers";
  case Phase::RequestBody: return "proxy_on_request_body";
  case Phase::RequestTrailers: return "proxy_on_request_trailers";
  case Phase::ResponseHeaders: return "proxy_on_response_headers";
  case Phase::ResponseBody: return "proxy_on_response_body";
  case Phase::ResponseTrailers: return "proxy_on_response_trailers";
  case Phase::Log: return "proxy_on_log";
  case Phase::None: break;
  }
  return "a callback";
}

void WasmFilter::failStream(std::string_view where, const std::string& why) {
  const auto& plugin = plugin_.plugin();
  // Logged and counted once per VM; later streams of a failed VM just follow the policy.
  reportVmFailure(plugin, plugin_.vm(), where, why);
  if (plugin.config.failure_policy == FailurePolicy::FailOpen) {
    skip_ = true;
    return;
  }
  failed_ = true;
  if (decoder_ != nullptr)
    decoder_->sendLocalReply(503, "", nullptr, "wasm_fail_stream");
  else if (encoder_ != nullptr)
    encoder_->sendLocalReply(503, "", nullptr, "wasm_fail_stream");
}

bool WasmFilter::afterCall(const Result<abi::FilterCallResult>& r, uint32_t& status) {
  const Phase phase = phase_;
  phase_ = Phase::None;
  if (!r.ok()) {
    failStream(phaseCallback(phase), r.error());
    return false;
  }
  status = r->status;
  runDeferred();
  return true;
}

void WasmFilter::runDeferred() {
  if (local_reply_) {
    LocalReply reply = std::move(*local_reply_);
    local_reply_.reset();
    auto modify = [&reply](http::HeaderMap& h) {
      for (auto& [k, v] : reply.headers)
        h.add(k, v);
    };
    anyCallbacks().sendLocalReply(reply.status, reply.body, modify, reply.details);
    continue_request_ = continue_response_ = false;
    return;
  }
  if (close_stream_) {
    close_stream_ = false;
    anyCallbacks().resetStream();
  }
}

// ---- decoder side -----------------------------------------------------------------------------

// The filter statuses the ABI layer reports (already mapped the Envoy way) as ours.
static http::FilterHeadersStatus toHeadersStatus(uint32_t status) {
  switch (status) {
  case 0:
    return http::FilterHeadersStatus::Continue;
  case 1:
    return http::FilterHeadersStatus::StopIteration;
  case 3:
    return http::FilterHeadersStatus::StopAllIterationAndBuffer;
  default:
    return http::FilterHeadersStatus::StopAllIterationAndWatermark;
  }
}

// A continue_stream from inside the callback itself simply means "continue".
static uint32_t applyContinue(uint32_t status, bool& continue_requested, bool local_reply_sent) {
  bool cont = continue_requested && !local_reply_sent;
  continue_requested = false;
  return cont ? 0 : status;
}

http::FilterHeadersStatus WasmFilter::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  request_headers_ = &headers;
  if (skip_ || !ensureCreated())
    return skip_ ? http::FilterHeadersStatus::Continue : http::FilterHeadersStatus::StopAllIterationAndWatermark;
  phase_ = Phase::RequestHeaders;
  continue_request_ = false;
  auto r = plugin_.instance().onRequestHeaders(id_, uint32_t(headers.size()), end_stream);
  uint32_t status = 0;
  if (!afterCall(r, status))
    return skip_ ? http::FilterHeadersStatus::Continue : http::FilterHeadersStatus::StopAllIterationAndWatermark;
  status = applyContinue(status, continue_request_, r->local_response_sent);
  request_stopped_ = status != 0;
  return toHeadersStatus(status);
}

static http::FilterDataStatus toDataStatus(uint32_t status) {
  switch (status) {
  case 0:
    return http::FilterDataStatus::Continue;
  case 1:
    return http::FilterDataStatus::StopIterationAndBuffer;
  case 2:
    return http::FilterDataStatus::StopIterationAndWatermark;
  default:
    return http::FilterDataStatus::StopIterationNoBuffer;
  }
}

http::FilterDataStatus WasmFilter::decodeData(Buffer& data, bool end_stream) {
  if (skip_)
    return http::FilterDataStatus::Continue;
  if (failed_ || !created_)
    return http::FilterDataStatus::StopIterationNoBuffer;
  phase_ = Phase::RequestBody;
  body_ = &data;
  body_end_of_stream_ = end_stream;
  continue_request_ = false;
  auto r = plugin_.instance().onRequestBody(id_, uint32_t(data.size()), end_stream);
  body_ = nullptr;
  uint32_t status = 0;
  if (!afterCall(r, status))
    return skip_ ? http::FilterDataStatus::Continue : http::FilterDataStatus::StopIterationNoBuffer;
  status = applyContinue(status, continue_request_, r->local_response_sent);
  request_stopped_ = status != 0;
  return toDataStatus(status);
}

http::FilterTrailersStatus WasmFilter::decodeTrailers(http::HeaderMap& trailers) {
  request_trailers_ = &trailers;
  if (skip_)
    return http::FilterTrailersStatus::Continue;
  if (failed_ || !created_)
    return http::FilterTrailersStatus::StopIteration;
  phase_ = Phase::RequestTrailers;
  continue_request_ = false;
  auto r = plugin_.instance().onRequestTrailers(id_, uint32_t(trailers.size()));
  uint32_t status = 0;
  if (!afterCall(r, status))
    return skip_ ? http::FilterTrailersStatus::Continue : http::FilterTrailersStatus::StopIteration;
  status = applyContinue(status, continue_request_, r->local_response_sent);
  request_stopped_ = status != 0;
  return status == 0 ? http::FilterTrailersStatus::Continue : http::FilterTrailersStatus::StopIteration;
}

// ---- encoder side -----------------------------------------------------------------------------

http::FilterHeadersStatus WasmFilter::encodeHeaders(http::HeaderMap& headers, bool end_stream) {
  response_headers_ = &headers;
  if (skip_ || failed_ || !created_)
    return http::FilterHeadersStatus::Continue; // our own failure reply passes through
  phase_ = Phase::ResponseHeaders;
  continue_response_ = false;
  auto r = plugin_.instance().onResponseHeaders(id_, uint32_t(headers.size()), end_stream);
  uint32_t status = 0;
  if (!afterCall(r, status))
    return http::FilterHeadersStatus::Continue;
  status = applyContinue(status, continue_response_, r->local_response_sent);
  response_stopped_ = status != 0;
  return toHeadersStatus(status);
}

http::FilterDataStatus WasmFilter::encodeData(Buffer& data, bool end_stream) {
  if (skip_ || failed_ || !created_)
    return http::FilterDataStatus::Continue;
  phase_ = Phase::ResponseBody;
  body_ = &data;
  body_end_of_stream_ = end_stream;
  continue_response_ = false;
  auto r = plugin_.instance().onResponseBody(id_, uint32_t(data.size()), end_stream);
  body_ = nullptr;
  uint32_t status = 0;
  if (!afterCall(r, status))
    return http::FilterDataStatus::Continue;
  status = applyContinue(status, continue_response_, r->local_response_sent);
  response_stopped_ = status != 0;
  return toDataStatus(status);
}

http::FilterTrailersStatus WasmFilter::encodeTrailers(http::HeaderMap& trailers) {
  response_trailers_ = &trailers;
  if (skip_ || failed_ || !created_)
    return http::FilterTrailersStatus::Continue;
  phase_ = Phase::ResponseTrailers;
  continue_response_ = false;
  auto r = plugin_.instance().onResponseTrailers(id_, uint32_t(trailers.size()));
  uint32_t status = 0;
  if (!afterCall(r, status))
    return http::FilterTrailersStatus::Continue;
  status = applyContinue(status, continue_response_, r->local_response_sent);
  response_stopped_ = status != 0;
  return status == 0 ? http::FilterTrailersStatus::Continue : http::FilterTrailersStatus::StopIteration;
}

// ---- end of stream: log, then done and delete ----------------------------------------------

void WasmFilter::log(const http::StreamInfo& info) {
  if (logged_ || skip_ || failed_)
    return;
  logged_ = true;
  // A stream that ended before reaching this filter still gets its context, as in Envoy.
  if (!created_ && !ensureCreated())
    return;
  log_info_ = &info;
  if (info.response_headers)
    response_headers_ = const_cast<http::HeaderMap*>(info.response_headers);
  if (info.response_trailers)
    response_trailers_ = const_cast<http::HeaderMap*>(info.response_trailers);
  phase_ = Phase::Log;
  Status s = plugin_.instance().onLog(id_);
  phase_ = Phase::None;
  if (!s.ok())
    reportVmFailure(plugin_.plugin(), plugin_.vm(), "proxy_on_log", s.message());
}

void WasmFilter::onDestroy() {
  if (finished_)
    return;
  finished_ = true;
  alive_.reset(); // queued stream actions are dropped
  plugin_.root().cancelCallouts(id_); // the client went away: its callouts are dropped
  if (!created_)
    return;
  auto& instance = plugin_.instance();
  if (!instance.failed()) {
    if (!failed_)
      plugin_.plugin().failures->noteHealthy();
    (void)instance.onDone(id_);
    (void)instance.onDelete(id_);
  } else {
    instance.unregisterContext(id_);
  }
  // Nothing of the stream may be touched after this.
  request_headers_ = request_trailers_ = response_headers_ = response_trailers_ = nullptr;
  log_info_ = nullptr;
}

// ---- HostContext: maps, buffers, control ----------------------------------------------------

abi::MapRef WasmFilter::headerMap(abi::MapType type) {
  abi::MapRef ref;
  bool in_log = phase_ == Phase::Log;
  switch (type) {
  case abi::MapType::HttpRequestHeaders:
    ref.map = request_headers_;
    ref.writable = !in_log && (phase_ == Phase::RequestHeaders || request_stopped_);
    break;
  case abi::MapType::HttpRequestTrailers:
    ref.map = request_trailers_;
    ref.writable = !in_log && phase_ == Phase::RequestTrailers;
    break;
  case abi::MapType::HttpResponseHeaders:
    ref.map = response_headers_;
    ref.writable = !in_log && (phase_ == Phase::ResponseHeaders || response_stopped_);
    break;
  case abi::MapType::HttpResponseTrailers:
    ref.map = response_trailers_;
    ref.writable = !in_log && phase_ == Phase::ResponseTrailers;
    break;
  case abi::MapType::HttpCallResponseHeaders:
  case abi::MapType::HttpCallResponseTrailers:
    // A callout response is the root's; SDKs read it with this stream effective.
    return plugin_.root().headerMap(type);
  default:
    break;
  }
  return ref;
}

void WasmFilter::onHeaderMapModified(abi::MapType type) {
  // A plugin that rewrites request headers (e.g. :path) re-routes the request, as in Envoy.
  if (type == abi::MapType::HttpRequestHeaders && decoder_ != nullptr)
    decoder_->clearRouteCache();
}

http::HeaderMap* WasmFilter::createTrailers(abi::MapType type) {
  if (!body_end_of_stream_)
    return nullptr;
  if (type == abi::MapType::HttpRequestTrailers && phase_ == Phase::RequestBody && decoder_) {
    request_trailers_ = &decoder_->addDecodedTrailers();
    return request_trailers_;
  }
  if (type == abi::MapType::HttpResponseTrailers && phase_ == Phase::ResponseBody && encoder_) {
    response_trailers_ = &encoder_->addEncodedTrailers();
    return response_trailers_;
  }
  return nullptr;
}

abi::BufferRef WasmFilter::buffer(abi::BufferType type) {
  abi::BufferRef ref;
  switch (type) {
  case abi::BufferType::HttpRequestBody:
    if (phase_ == Phase::RequestBody)
      ref.mutable_buffer = body_;
    else if (request_stopped_ && decoder_ != nullptr)
      ref.mutable_buffer = decoder_->decodingBuffer();
    break;
  case abi::BufferType::HttpResponseBody:
    if (phase_ == Phase::ResponseBody)
      ref.mutable_buffer = body_;
    else if (response_stopped_ && encoder_ != nullptr)
      ref.mutable_buffer = encoder_->encodingBuffer();
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

abi::WasmResult WasmFilter::continueStream(abi::StreamType type) {
  bool in_request_cb = phase_ == Phase::RequestHeaders || phase_ == Phase::RequestBody ||
                       phase_ == Phase::RequestTrailers;
  bool in_response_cb = phase_ == Phase::ResponseHeaders || phase_ == Phase::ResponseBody ||
                        phase_ == Phase::ResponseTrailers;
  switch (type) {
  case abi::StreamType::Request:
    if (in_request_cb) {
      continue_request_ = true; // applied as this callback's result
    } else if (request_stopped_ && decoder_ != nullptr) {
      afterGuestCall([](WasmFilter& f) {
        if (f.request_stopped_) {
          f.request_stopped_ = false;
          f.decoder_->continueDecoding();
        }
      });
    }
    return abi::WasmResult::Ok;
  case abi::StreamType::Response:
    if (in_response_cb) {
      continue_response_ = true;
    } else if (response_stopped_ && encoder_ != nullptr) {
      afterGuestCall([](WasmFilter& f) {
        if (f.response_stopped_) {
          f.response_stopped_ = false;
          f.encoder_->continueEncoding();
        }
      });
    }
    return abi::WasmResult::Ok;
  case abi::StreamType::Downstream:
  case abi::StreamType::Upstream:
    return abi::WasmResult::Unimplemented; // TCP streams: the network filter's business
  }
  return abi::WasmResult::BadArgument;
}

void WasmFilter::afterGuestCall(void (*action)(WasmFilter&)) {
  // The stream may be gone by the time the guest call returns: the action holds only a weak
  // reference to this filter's liveness token.
  if (!alive_)
    alive_ = std::make_shared<char>(0);
  plugin_.instance().runAfterCall([this, alive = std::weak_ptr<char>(alive_), action] {
    if (!alive.expired())
      action(*this);
  });
}

abi::WasmResult WasmFilter::closeStream(abi::StreamType type) {
  if (type != abi::StreamType::Request && type != abi::StreamType::Response)
    return abi::WasmResult::Unimplemented;
  if (phase_ != Phase::None)
    close_stream_ = true;
  else
    afterGuestCall([](WasmFilter& f) { f.anyCallbacks().resetStream(); });
  return abi::WasmResult::Ok;
}

abi::WasmResult WasmFilter::sendLocalResponse(uint32_t status, std::string_view details, std::string_view body,
                                              std::vector<std::pair<std::string, std::string>> headers,
                                              int32_t grpc_status) {
  if (phase_ == Phase::Log)
    return abi::WasmResult::BadArgument;
  std::string d(details);
  for (char& c : d)
    if (c == ' ' || c == '\t')
      c = '_';
  if (grpc_status >= 0 && grpc_status <= 16)
    headers.emplace_back("grpc-status", std::to_string(grpc_status));
  LocalReply reply{status, std::move(d), std::string(body), std::move(headers)};
  // Sent when this stream's callback returns, or (asked from a tick or a callout response on
  // the root context) when the guest call returns.
  local_reply_ = std::move(reply);
  if (phase_ == Phase::None)
    afterGuestCall([](WasmFilter& f) { f.runDeferred(); });
  return abi::WasmResult::Ok;
}

abi::WasmResult WasmFilter::clearRouteCache() {
  if (decoder_ != nullptr)
    decoder_->clearRouteCache();
  return abi::WasmResult::Ok;
}

abi::WasmResult WasmFilter::setProperty(std::string_view path, std::string_view value) {
  // As Envoy: the value becomes this stream's filter state "wasm.<path>", readable with
  // proxy_get_property(<path>), by later filters and as %FILTER_STATE(wasm.<path>)%.
  while (!path.empty() && path.back() == '\0')
    path.remove_suffix(1);
  if (path.empty())
    return abi::WasmResult::BadArgument;
  if (decoder_ == nullptr && encoder_ == nullptr)
    return abi::WasmResult::NotFound;
  std::string key = "wasm.";
  key.append(path);
  auto& state = anyCallbacks().streamInfo().filter_state;
  // A property declared readonly (foreign function declare_property) is set once.
  if (plugin_.root().propertyIsReadonly(path) && state.count(key) != 0)
    return abi::WasmResult::BadArgument;
  state.insert_or_assign(std::move(key), std::string(value));
  return abi::WasmResult::Ok;
}

abi::WasmResult WasmFilter::foreignSetFilterState(std::string_view key, std::string_view value) {
  if (decoder_ == nullptr && encoder_ == nullptr)
    return abi::WasmResult::NotFound;
  anyCallbacks().streamInfo().filter_state.insert_or_assign(std::string(key), std::string(value));
  return abi::WasmResult::Ok;
}

// ---- properties (ABI doc section 6) ---------------------------------------------------------

abi::WasmResult WasmFilter::getProperty(std::string_view path, std::string& value) {
  auto seg = splitPropertyPath(path);
  if (seg.empty())
    return abi::WasmResult::NotFound;
  const http::StreamInfo& info = log_info_ ? *log_info_ : anyCallbacks().streamInfo();
  auto str = [&](std::string_view s) {
    value.assign(s);
    return abi::WasmResult::Ok;
  };
  auto num = [&](int64_t v) {
    value = encodeInt(v);
    return abi::WasmResult::Ok;
  };
  const std::string_view root = seg[0];
  const std::string_view key = seg.size() > 1 ? seg[1] : std::string_view();
  const http::HeaderMap* rq = request_headers_;
  if (root == "request") {
    if (key.empty())
      return abi::WasmResult::NotFound;
    if (key == "time")
      return num(std::chrono::duration_cast<std::chrono::nanoseconds>(info.start_time.time_since_epoch()).count());
    if (key == "protocol")
      return str(info.protocol);
    if (key == "duration") {
      if (!info.end_steady)
        return abi::WasmResult::NotFound;
      return num(std::chrono::duration_cast<std::chrono::nanoseconds>(*info.end_steady - info.start_steady).count());
    }
    if (key == "size")
      return num(int64_t(info.bytes_received));
    if (rq == nullptr)
      return abi::WasmResult::NotFound;
    if (key == "path")
      return str(rq->path());
    if (key == "url_path") {
      std::string_view p = rq->path();
      return str(p.substr(0, p.find('?')));
    }
    if (key == "query") {
      std::string_view p = rq->path();
      size_t q = p.find('?');
      return str(q == std::string_view::npos ? std::string_view() : p.substr(q + 1));
    }
    if (key == "host")
      return str(rq->authority());
    if (key == "scheme")
      return str(rq->scheme());
    if (key == "method")
      return str(rq->method());
    if (key == "referer" || key == "useragent" || key == "id") {
      auto v = headerValue(rq, key == "referer" ? "referer" : key == "useragent" ? "user-agent" : "x-request-id",
                           *plugin_.plugin().info);
      if (!v)
        return abi::WasmResult::NotFound;
      return str(*v);
    }
    if (key == "headers") {
      if (seg.size() > 2) {
        auto v = headerValue(rq, seg[2], *plugin_.plugin().info);
        return v ? str(*v) : abi::WasmResult::NotFound;
      }
      value = encodeMap(*rq, *plugin_.plugin().info);
      return abi::WasmResult::Ok;
    }
    if (key == "total_size")
      return num(int64_t(info.bytes_received + rq->byteSize()));
    return abi::WasmResult::NotFound;
  }
  if (root == "response") {
    if (key == "code") {
      if (info.response_code == 0)
        return abi::WasmResult::NotFound;
      return num(info.response_code);
    }
    if (key == "code_details")
      return str(info.response_code_details);
    if (key == "flags")
      return num(info.response_flags);
    if (key == "size")
      return num(int64_t(info.bytes_sent));
    const http::HeaderMap* map = key == "headers" ? response_headers_ : key == "trailers" ? response_trailers_ : nullptr;
    if ((key == "headers" || key == "trailers")) {
      if (map == nullptr)
        return abi::WasmResult::NotFound;
      if (seg.size() > 2) {
        auto v = headerValue(map, seg[2], *plugin_.plugin().info);
        return v ? str(*v) : abi::WasmResult::NotFound;
      }
      value = encodeMap(*map, *plugin_.plugin().info);
      return abi::WasmResult::Ok;
    }
    if (key == "total_size")
      return num(int64_t(info.bytes_sent + (response_headers_ ? response_headers_->byteSize() : 0)));
    return abi::WasmResult::NotFound;
  }
  if (root == "source" || root == "destination" || root == "upstream") {
    std::string_view addr = root == "source"        ? std::string_view(info.downstream_remote_address)
                            : root == "destination" ? std::string_view(info.downstream_local_address)
                                                    : std::string_view(info.upstream_host);
    if (key == "local_address" && root == "upstream")
      addr = info.upstream_local_address;
    if (addr.empty())
      return abi::WasmResult::NotFound;
    if (key == "address" || key == "local_address")
      return str(addr);
    if (key == "port") {
      auto p = portOf(addr);
      return p ? num(*p) : abi::WasmResult::NotFound;
    }
    if (root == "upstream" && key == "transport_failure_reason")
      return str(info.upstream_transport_failure_reason);
    if (root == "upstream" && key == "request_attempt_count")
      return num(info.attempt_count);
    return abi::WasmResult::NotFound;
  }
  if (root == "connection") {
    if (key == "id")
      return num(int64_t(info.connection_id));
    if (key == "mtls") {
      value.assign(1, '\0'); // no TLS yet: never mutual TLS
      return abi::WasmResult::Ok;
    }
    return abi::WasmResult::NotFound;
  }
  if (root == "connection_id")
    return num(int64_t(info.connection_id));
  if (root == "route_name" || (root == "xds" && key == "route_name"))
    return info.route_name.empty() ? abi::WasmResult::NotFound : str(info.route_name);
  if (root == "cluster_name" || (root == "xds" && key == "cluster_name"))
    return info.upstream_cluster.empty() ? abi::WasmResult::NotFound : str(info.upstream_cluster);
  if (root == "xds" && key == "virtual_host_name") {
    const router::RouteEntry* route = log_info_ ? nullptr : anyCallbacks().route();
    return route ? str(route->virtualHost().name()) : abi::WasmResult::NotFound;
  }
  // Anything else may be filter state a plugin set (a string value has no fields).
  if (seg.size() == 1) {
    std::string state_key = "wasm.";
    state_key.append(root);
    auto it = info.filter_state.find(state_key);
    if (it != info.filter_state.end())
      return str(it->second);
  }
  return abi::WasmResult::NotFound;
}

} // namespace wasmgate::extensions::wasm
