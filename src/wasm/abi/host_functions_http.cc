// Header maps, buffers, stream control and local replies (ABI doc 1.2, 1.3, 1.4), with
// Envoy's semantics where it differs from the spec.

#include <algorithm>
#include <cctype>

#include "wasm/abi/host_call.h"

namespace wasmgate::wasm::abi {

namespace {

constexpr uint32_t kMaxStreamType = 3;

// ---------------------------------------------------------------------------------------------
// Header maps

// Hidden headers (PluginInfo::hidden_headers) apply to the HTTP maps (types 0..3).
bool hidesHeaders(HostCall& c, uint32_t type) {
  return type <= uint32_t(MapType::HttpResponseTrailers) && !c.plugin().hidden_headers.empty();
}

// A writable map, creating trailers when the embedder allows it (Envoy's add*Trailers from the
// last body callback). nullptr: not writable now (BadArgument).
http::HeaderMap* writableMap(HostCall& c, MapType type) {
  MapRef ref = c.context().headerMap(type);
  if (ref.map)
    return ref.writable ? ref.map : nullptr;
  if (type == MapType::HttpRequestTrailers || type == MapType::HttpResponseTrailers)
    return c.context().createTrailers(type);
  return nullptr;
}

uint32_t proxyGetHeaderMapPairs(HostCall& c, uint32_t type, uint32_t ret_ptr_ptr,
                                uint32_t ret_size_ptr) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  // Unavailable maps are empty, never an error (the Rust SDK accepts only Ok).
  MapRef ref = c.context().headerMap(MapType(type));
  std::string data;
  if (ref.map && !ref.map->empty()) {
    if (hidesHeaders(c, type)) {
      std::vector<std::pair<std::string_view, std::string_view>> visible;
      for (const auto& [k, v] : ref.map->entries())
        if (!c.plugin().isHidden(k))
          visible.emplace_back(k, v);
      if (!visible.empty())
        data = serializePairs(visible);
    } else {
      data = serializePairs(ref.map->entries());
    }
  }
  return word(c.returnBytes(data, ret_ptr_ptr, ret_size_ptr));
}

uint32_t proxySetHeaderMapPairs(HostCall& c, uint32_t type, uint32_t ptr, uint32_t len) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  auto data = c.read(ptr, len);
  if (!data)
    return word(WasmResult::InvalidMemoryAccess);
  http::HeaderMap* map = writableMap(c, MapType(type));
  if (!map)
    return word(WasmResult::BadArgument);
  // Malformed input parses as empty: the map is cleared and the call succeeds (cpp-host).
  Pairs pairs = lowerCasedPairs(*data);
  // Hidden headers survive: the guest cannot see them, so it cannot mean to drop them.
  std::vector<std::pair<std::string, std::string>> kept;
  if (hidesHeaders(c, type))
    for (const auto& [k, v] : map->entries())
      if (c.plugin().isHidden(k))
        kept.emplace_back(k, v);
  map->clear();
  map->reserve(pairs.size() + kept.size());
  for (auto& [k, v] : kept)
    map->add(std::move(k), std::move(v));
  for (auto& [k, v] : pairs)
    if (!(hidesHeaders(c, type) && c.plugin().isHidden(k)))
      map->add(std::move(k), std::move(v));
  c.context().onHeaderMapModified(MapType(type));
  return word(WasmResult::Ok);
}

uint32_t proxyGetHeaderMapValue(HostCall& c, uint32_t type, uint32_t key_ptr, uint32_t key_len,
                                uint32_t ret_ptr_ptr, uint32_t ret_size_ptr) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  auto key = c.read(key_ptr, key_len);
  if (!key)
    return word(WasmResult::InvalidMemoryAccess);
  const bool v010 = c.version() == AbiVersion::V0_1_0;
  MapRef ref = c.context().headerMap(MapType(type));
  const std::string* value = nullptr;
  if (!ref.map) {
    // Envoy: unavailable is BadArgument, except in the access-log phase (NotFound; 0.1.0: an
    // empty Ok).
    if (c.callback() != Callback::Log)
      return word(WasmResult::BadArgument);
  } else {
    const std::string lower = http::toLower(*key);
    if (!(hidesHeaders(c, type) && c.plugin().isHidden(lower)))
      value = ref.map->get(lower); // first value only, as Envoy
  }
  if (!value) {
    if (!v010)
      return word(WasmResult::NotFound);
    return word(c.returnBytes({}, ret_ptr_ptr, ret_size_ptr));
  }
  const std::string copy = *value; // the allocator runs guest code; don't hold map internals
  return word(c.returnBytes(copy, ret_ptr_ptr, ret_size_ptr));
}

template <bool Replace>
uint32_t addOrReplace(HostCall& c, uint32_t type, uint32_t key_ptr, uint32_t key_len,
                      uint32_t value_ptr, uint32_t value_len) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  auto key = c.read(key_ptr, key_len);
  auto value = c.read(value_ptr, value_len);
  if (!key || !value)
    return word(WasmResult::InvalidMemoryAccess);
  http::HeaderMap* map = writableMap(c, MapType(type));
  if (!map)
    return word(WasmResult::BadArgument);
  if (hidesHeaders(c, type) && c.plugin().isHidden(http::toLower(*key)))
    return word(WasmResult::BadArgument);
  if constexpr (Replace)
    map->set(http::toLower(*key), *value);
  else
    map->add(http::toLower(*key), std::string(*value));
  c.context().onHeaderMapModified(MapType(type));
  return word(WasmResult::Ok);
}

uint32_t proxyAddHeaderMapValue(HostCall& c, uint32_t type, uint32_t key_ptr, uint32_t key_len,
                                uint32_t value_ptr, uint32_t value_len) {
  return addOrReplace<false>(c, type, key_ptr, key_len, value_ptr, value_len);
}

uint32_t proxyReplaceHeaderMapValue(HostCall& c, uint32_t type, uint32_t key_ptr,
                                    uint32_t key_len, uint32_t value_ptr, uint32_t value_len) {
  return addOrReplace<true>(c, type, key_ptr, key_len, value_ptr, value_len);
}

uint32_t proxyRemoveHeaderMapValue(HostCall& c, uint32_t type, uint32_t key_ptr,
                                   uint32_t key_len) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  auto key = c.read(key_ptr, key_len);
  if (!key)
    return word(WasmResult::InvalidMemoryAccess);
  MapRef ref = c.context().headerMap(MapType(type));
  if (!ref.map || !ref.writable)
    return word(WasmResult::BadArgument);
  if (hidesHeaders(c, type) && c.plugin().isHidden(http::toLower(*key)))
    return word(WasmResult::BadArgument);
  // Ok even when absent.
  if (ref.map->remove(http::toLower(*key)) > 0)
    c.context().onHeaderMapModified(MapType(type));
  return word(WasmResult::Ok);
}

uint32_t proxyGetHeaderMapSize(HostCall& c, uint32_t type, uint32_t ret_size_ptr) {
  if (type > kMaxMapType)
    return word(WasmResult::BadArgument);
  MapRef ref = c.context().headerMap(MapType(type));
  // Envoy uses its mutable-map lookup here: the read-only HTTP maps of the access-log phase
  // are BadArgument too. The call-response / gRPC maps (4..7) are never writable but readable.
  if (!ref.map || (!ref.writable && type <= uint32_t(MapType::HttpResponseTrailers)))
    return word(WasmResult::BadArgument);
  // Envoy's HeaderMap::byteSize(): sum of key and value lengths, not a count (of what the
  // guest may see).
  size_t size = ref.map->byteSize();
  if (hidesHeaders(c, type))
    for (const auto& [k, v] : ref.map->entries())
      if (c.plugin().isHidden(k))
        size -= k.size() + v.size();
  return word(c.writeU32(ret_size_ptr, uint32_t(size))
                  ? WasmResult::Ok
                  : WasmResult::InvalidMemoryAccess);
}

// ---------------------------------------------------------------------------------------------
// Buffers

// What a buffer type resolves to now. The configuration buffers come from the PluginInfo
// (6 any time, 7 only while configuring); the rest from the effective context.
BufferRef bufferOf(HostCall& c, BufferType type) {
  if (type == BufferType::VmConfiguration)
    return {nullptr, std::string_view(c.plugin().vm_configuration)};
  if (type == BufferType::PluginConfiguration) {
    if (c.callback() == Callback::Configure || c.callback() == Callback::ValidateConfiguration)
      return {nullptr, std::string_view(c.plugin().plugin_configuration)};
    return {};
  }
  return c.context().buffer(type);
}

uint32_t proxyGetBufferBytes(HostCall& c, uint32_t type, uint32_t start, uint32_t max_size,
                             uint32_t ret_ptr_ptr, uint32_t ret_size_ptr) {
  if (type > kMaxBufferType)
    return word(WasmResult::BadArgument);
  BufferRef ref = bufferOf(c, BufferType(type));
  if (!ref.available())
    return word(WasmResult::NotFound);
  const std::string_view bytes = ref.mutable_buffer ? ref.mutable_buffer->view() : *ref.read_only;
  // SDKs pass huge max_size (0xFFFFFFFF, MaxInt32), so clamp; in 64-bit arithmetic cpp-host's
  // "start + max_size overflows -> BadArgument" cannot happen. start past the end reads nothing.
  const uint64_t begin = start, length = bytes.size();
  std::string_view data;
  if (begin < length)
    data = bytes.substr(size_t(begin), size_t(std::min<uint64_t>(max_size, length - begin)));
  // No copy: the allocator may only log, so the buffer cannot change while it runs.
  return word(c.returnBytes(data, ret_ptr_ptr, ret_size_ptr));
}

uint32_t proxySetBufferBytes(HostCall& c, uint32_t type, uint32_t start, uint32_t size,
                             uint32_t data_ptr, uint32_t data_len) {
  if (type > kMaxBufferType)
    return word(WasmResult::BadArgument);
  auto data = c.read(data_ptr, data_len);
  if (!data)
    return word(WasmResult::InvalidMemoryAccess);
  BufferRef ref = bufferOf(c, BufferType(type));
  if (!ref.available())
    return word(WasmResult::NotFound);
  if (!ref.mutable_buffer) // configuration, call responses, foreign-function arguments
    return word(WasmResult::BadArgument);
  Buffer& buffer = *ref.mutable_buffer;
  // Envoy's Buffer::copyFrom: start 0 drains `size` bytes (clamped) then prepends, so (0,0) is
  // a prepend and (0, >= len) a replace; start >= len appends; anything in between is refused.
  // (Empty data is skipped: Buffer::prepend would memcpy from a null pointer.)
  if (start == 0) {
    buffer.drain(size);
    if (!data->empty())
      buffer.prepend(*data);
  } else if (start >= buffer.size()) {
    buffer.append(*data);
  } else {
    return word(WasmResult::BadArgument);
  }
  return word(WasmResult::Ok);
}

uint32_t proxyGetBufferStatus(HostCall& c, uint32_t type, uint32_t ret_len_ptr,
                              uint32_t ret_flags_ptr) {
  if (type > kMaxBufferType)
    return word(WasmResult::BadArgument);
  BufferRef ref = bufferOf(c, BufferType(type));
  if (!ref.available())
    return word(WasmResult::NotFound);
  const size_t length = ref.mutable_buffer ? ref.mutable_buffer->size() : ref.read_only->size();
  // Flags: cpp-host never sets EndOfStream.
  if (!c.writeU32(ret_len_ptr, uint32_t(length)) || !c.writeU32(ret_flags_ptr, 0))
    return word(WasmResult::InvalidMemoryAccess);
  return word(WasmResult::Ok);
}

// ---------------------------------------------------------------------------------------------
// Stream control

uint32_t proxyContinueStream(HostCall& c, uint32_t type) {
  if (type > kMaxStreamType)
    return word(WasmResult::BadArgument);
  // Envoy cannot resume the upstream (write) side of a TCP proxy.
  if (StreamType(type) == StreamType::Upstream)
    return word(WasmResult::Unimplemented);
  return word(c.context().continueStream(StreamType(type)));
}

uint32_t proxyCloseStream(HostCall& c, uint32_t type) {
  if (type > kMaxStreamType)
    return word(WasmResult::BadArgument);
  return word(c.context().closeStream(StreamType(type)));
}

uint32_t proxyContinueRequest(HostCall& c) {
  return word(c.context().continueStream(StreamType::Request));
}

uint32_t proxyContinueResponse(HostCall& c) {
  return word(c.context().continueStream(StreamType::Response));
}

uint32_t proxyClearRouteCache(HostCall& c) { return word(c.context().clearRouteCache()); }

uint32_t proxySendLocalResponse(HostCall& c, uint32_t status_code, uint32_t details_ptr,
                                uint32_t details_len, uint32_t body_ptr, uint32_t body_len,
                                uint32_t headers_ptr, uint32_t headers_len, uint32_t grpc_status) {
  auto details = c.read(details_ptr, details_len);
  auto body = c.read(body_ptr, body_len);
  auto headers = c.read(headers_ptr, headers_len);
  if (!details || !body || !headers)
    return word(WasmResult::InvalidMemoryAccess);
  // Envoy puts the details into response-code details, which may not contain whitespace.
  std::string clean_details(*details);
  for (char& ch : clean_details)
    if (std::isspace(static_cast<unsigned char>(ch)))
      ch = '_';
  // 0..16 is a gRPC status; anything else (SDKs pass -1) means none.
  const int32_t grpc = grpc_status <= 16 ? int32_t(grpc_status) : -1;
  const WasmResult r = c.context().sendLocalResponse(status_code, clean_details, *body,
                                                     lowerCasedPairs(*headers), grpc);
  // cpp-host stopNextIteration: the callback's own result becomes "stop" whatever it returns.
  if (r == WasmResult::Ok)
    c.markLocalResponseSent();
  return word(r);
}

} // namespace

void registerHttpFunctions(Registrar& r, AbiVersion version) {
  r.env<&proxyGetHeaderMapPairs>("proxy_get_header_map_pairs");
  r.env<&proxySetHeaderMapPairs>("proxy_set_header_map_pairs");
  r.env<&proxyGetHeaderMapValue>("proxy_get_header_map_value");
  r.env<&proxyAddHeaderMapValue>("proxy_add_header_map_value");
  r.env<&proxyReplaceHeaderMapValue>("proxy_replace_header_map_value");
  r.env<&proxyRemoveHeaderMapValue>("proxy_remove_header_map_value");
  r.env<&proxyGetHeaderMapSize>("proxy_get_header_map_size");
  r.env<&proxyGetBufferBytes>("proxy_get_buffer_bytes");
  r.env<&proxySetBufferBytes>("proxy_set_buffer_bytes");
  r.env<&proxyGetBufferStatus>("proxy_get_buffer_status");
  r.env<&proxySendLocalResponse>("proxy_send_local_response");
  if (version == AbiVersion::V0_1_0) {
    r.env<&proxyContinueRequest>("proxy_continue_request");
    r.env<&proxyContinueResponse>("proxy_continue_response");
    r.env<&proxyClearRouteCache>("proxy_clear_route_cache");
  } else {
    r.env<&proxyContinueStream>("proxy_continue_stream");
    r.env<&proxyCloseStream>("proxy_close_stream");
  }
}

} // namespace wasmgate::wasm::abi
