// Shared data, shared queues, metrics, HTTP/gRPC callouts and Envoy's DNS call (ABI doc 1.6 -
// 1.10, 1.11). The ABI layer validates memory and arguments and forwards to the HostContext;
// the subsystems themselves are the embedder's (Unimplemented until it provides them).

#include "wasm/abi/host_call.h"

namespace wasmgate::wasm::abi {

namespace {

constexpr uint32_t kMaxMetricType = 2;
// proxy_http_call's timeout arrives as i32: negative ones are refused (Envoy).
constexpr uint32_t kMaxTimeoutMs = 0x7fffffff;

// ---------------------------------------------------------------------------------------------
// Shared data

uint32_t proxyGetSharedData(HostCall& c, uint32_t key_ptr, uint32_t key_len,
                            uint32_t ret_value_ptr_ptr, uint32_t ret_value_size_ptr,
                            uint32_t ret_cas_ptr) {
  auto key = c.read(key_ptr, key_len);
  if (!key)
    return word(WasmResult::InvalidMemoryAccess);
  std::string value;
  uint32_t cas = 0;
  if (WasmResult r = c.context().getSharedData(*key, value, cas); r != WasmResult::Ok)
    return word(r);
  if (!c.writeU32(ret_cas_ptr, cas))
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.returnBytes(value, ret_value_ptr_ptr, ret_value_size_ptr));
}

uint32_t proxySetSharedData(HostCall& c, uint32_t key_ptr, uint32_t key_len, uint32_t value_ptr,
                            uint32_t value_len, uint32_t cas) {
  auto key = c.read(key_ptr, key_len);
  auto value = c.read(value_ptr, value_len);
  if (!key || !value)
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.context().setSharedData(*key, *value, cas));
}

// ---------------------------------------------------------------------------------------------
// Shared queues

uint32_t proxyRegisterSharedQueue(HostCall& c, uint32_t name_ptr, uint32_t name_len,
                                  uint32_t ret_token_ptr) {
  auto name = c.read(name_ptr, name_len);
  if (!name || !c.inBounds(ret_token_ptr, 4))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t token = 0;
  // Delivery is bound to the registrant's root context (ABI doc 0.3, 7.2).
  if (WasmResult r = c.root().registerSharedQueue(*name, token); r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyResolveSharedQueue(HostCall& c, uint32_t vm_id_ptr, uint32_t vm_id_len,
                                 uint32_t name_ptr, uint32_t name_len, uint32_t ret_token_ptr) {
  auto vm_id = c.read(vm_id_ptr, vm_id_len);
  auto name = c.read(name_ptr, name_len);
  if (!vm_id || !name || !c.inBounds(ret_token_ptr, 4))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t token = 0;
  if (WasmResult r = c.context().resolveSharedQueue(*vm_id, *name, token); r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyEnqueueSharedQueue(HostCall& c, uint32_t token, uint32_t value_ptr,
                                 uint32_t value_len) {
  auto value = c.read(value_ptr, value_len);
  if (!value)
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.context().enqueueSharedQueue(token, *value));
}

uint32_t proxyDequeueSharedQueue(HostCall& c, uint32_t token, uint32_t ret_value_ptr_ptr,
                                 uint32_t ret_value_size_ptr) {
  std::string value;
  if (WasmResult r = c.context().dequeueSharedQueue(token, value); r != WasmResult::Ok)
    return word(r);
  return word(c.returnBytes(value, ret_value_ptr_ptr, ret_value_size_ptr));
}

// ---------------------------------------------------------------------------------------------
// Metrics

uint32_t proxyDefineMetric(HostCall& c, uint32_t type, uint32_t name_ptr, uint32_t name_len,
                           uint32_t ret_id_ptr) {
  if (type > kMaxMetricType)
    return word(WasmResult::BadArgument);
  auto name = c.read(name_ptr, name_len);
  if (!name || !c.inBounds(ret_id_ptr, 4))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t id = 0;
  if (WasmResult r = c.context().defineMetric(type, *name, id); r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_id_ptr, id) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyIncrementMetric(HostCall& c, uint32_t id, int64_t offset) {
  return word(c.context().incrementMetric(id, offset));
}

uint32_t proxyRecordMetric(HostCall& c, uint32_t id, uint64_t value) {
  return word(c.context().recordMetric(id, value));
}

uint32_t proxyGetMetric(HostCall& c, uint32_t id, uint32_t ret_value_ptr) {
  if (!c.inBounds(ret_value_ptr, 8))
    return word(WasmResult::InvalidMemoryAccess);
  uint64_t value = 0;
  if (WasmResult r = c.context().getMetric(id, value); r != WasmResult::Ok)
    return word(r);
  return word(c.writeU64(ret_value_ptr, value) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

// ---------------------------------------------------------------------------------------------
// Callouts: owned by the root context of the effective context (ABI doc 0.3).

uint32_t proxyHttpCall(HostCall& c, uint32_t upstream_ptr, uint32_t upstream_len,
                       uint32_t headers_ptr, uint32_t headers_len, uint32_t body_ptr,
                       uint32_t body_len, uint32_t trailers_ptr, uint32_t trailers_len,
                       uint32_t timeout_ms, uint32_t ret_token_ptr) {
  auto upstream = c.read(upstream_ptr, upstream_len);
  auto headers = c.read(headers_ptr, headers_len);
  auto body = c.read(body_ptr, body_len);
  auto trailers = c.read(trailers_ptr, trailers_len);
  if (!upstream || !headers || !body || !trailers)
    return word(WasmResult::InvalidMemoryAccess);
  // cpp-host writes a provisional token first, so a bad pointer fails before the call starts.
  if (!c.writeU32(ret_token_ptr, 0))
    return word(WasmResult::InvalidMemoryAccess);
  if (timeout_ms > kMaxTimeoutMs)
    return word(WasmResult::BadArgument);
  uint32_t token = 0;
  WasmResult r = c.root().httpCall(*upstream, lowerCasedPairs(*headers), *body,
                                   lowerCasedPairs(*trailers), timeout_ms, token);
  if (r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyGrpcCall(HostCall& c, uint32_t service_ptr, uint32_t service_len,
                       uint32_t service_name_ptr, uint32_t service_name_len, uint32_t method_ptr,
                       uint32_t method_len, uint32_t metadata_ptr, uint32_t metadata_len,
                       uint32_t message_ptr, uint32_t message_len, uint32_t timeout_ms,
                       uint32_t ret_token_ptr) {
  auto service = c.read(service_ptr, service_len);
  auto service_name = c.read(service_name_ptr, service_name_len);
  auto method = c.read(method_ptr, method_len);
  auto metadata = c.read(metadata_ptr, metadata_len);
  auto message = c.read(message_ptr, message_len);
  if (!service || !service_name || !method || !metadata || !message)
    return word(WasmResult::InvalidMemoryAccess);
  if (!c.writeU32(ret_token_ptr, 0))
    return word(WasmResult::InvalidMemoryAccess);
  // No negative-timeout rule here: Envoy has it for HTTP callouts only.
  uint32_t token = 0;
  WasmResult r = c.root().grpcCall(*service, *service_name, *method, lowerCasedPairs(*metadata),
                                   *message, timeout_ms, token);
  if (r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyGrpcStream(HostCall& c, uint32_t service_ptr, uint32_t service_len,
                         uint32_t service_name_ptr, uint32_t service_name_len, uint32_t method_ptr,
                         uint32_t method_len, uint32_t metadata_ptr, uint32_t metadata_len,
                         uint32_t ret_token_ptr) {
  auto service = c.read(service_ptr, service_len);
  auto service_name = c.read(service_name_ptr, service_name_len);
  auto method = c.read(method_ptr, method_len);
  auto metadata = c.read(metadata_ptr, metadata_len);
  if (!service || !service_name || !method || !metadata)
    return word(WasmResult::InvalidMemoryAccess);
  if (!c.writeU32(ret_token_ptr, 0))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t token = 0;
  WasmResult r =
      c.root().grpcStream(*service, *service_name, *method, lowerCasedPairs(*metadata), token);
  if (r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

uint32_t proxyGrpcSend(HostCall& c, uint32_t token, uint32_t message_ptr, uint32_t message_len,
                       uint32_t end_stream) {
  auto message = c.read(message_ptr, message_len);
  if (!message)
    return word(WasmResult::InvalidMemoryAccess);
  return word(c.root().grpcSend(token, *message, end_stream != 0));
}

uint32_t proxyGrpcCancel(HostCall& c, uint32_t token) { return word(c.root().grpcCancel(token)); }

uint32_t proxyGrpcClose(HostCall& c, uint32_t token) { return word(c.root().grpcClose(token)); }

uint32_t envoyResolveDns(HostCall& c, uint32_t address_ptr, uint32_t address_len,
                         uint32_t ret_token_ptr) {
  auto address = c.read(address_ptr, address_len);
  if (!address || !c.inBounds(ret_token_ptr, 4))
    return word(WasmResult::InvalidMemoryAccess);
  uint32_t token = 0;
  if (WasmResult r = c.root().resolveDns(*address, token); r != WasmResult::Ok)
    return word(r);
  return word(c.writeU32(ret_token_ptr, token) ? WasmResult::Ok : WasmResult::InvalidMemoryAccess);
}

} // namespace

void registerServiceFunctions(Registrar& r, AbiVersion) {
  r.env<&proxyGetSharedData>("proxy_get_shared_data");
  r.env<&proxySetSharedData>("proxy_set_shared_data");
  r.env<&proxyRegisterSharedQueue>("proxy_register_shared_queue");
  r.env<&proxyResolveSharedQueue>("proxy_resolve_shared_queue");
  r.env<&proxyEnqueueSharedQueue>("proxy_enqueue_shared_queue");
  r.env<&proxyDequeueSharedQueue>("proxy_dequeue_shared_queue");
  r.env<&proxyDefineMetric>("proxy_define_metric");
  r.env<&proxyIncrementMetric>("proxy_increment_metric");
  r.env<&proxyRecordMetric>("proxy_record_metric");
  r.env<&proxyGetMetric>("proxy_get_metric");
  r.env<&proxyHttpCall>("proxy_http_call");
  r.env<&proxyGrpcCall>("proxy_grpc_call");
  r.env<&proxyGrpcStream>("proxy_grpc_stream");
  r.env<&proxyGrpcSend>("proxy_grpc_send");
  r.env<&proxyGrpcCancel>("proxy_grpc_cancel");
  r.env<&proxyGrpcClose>("proxy_grpc_close");
  r.env<&envoyResolveDns>("envoy_resolve_dns");
}

} // namespace wasmgate::wasm::abi
