#include "fake_host.h"

#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace sdk_test {

namespace {

constexpr uint32_t kOk = 0, kNotFound = 1, kBadArgument = 2, kCasMismatch = 8;

void putU32(std::string &out, uint32_t v) {
  for (int i = 0; i < 4; i++)
    out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t getU32(std::string_view in, size_t at) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++)
    v |= uint32_t(static_cast<unsigned char>(in[at + i])) << (8 * i);
  return v;
}

// The return-pair convention: the host allocates with malloc (the SDK frees with free), and
// writes (nullptr, 0) for an empty result.
void returnBytes(std::string_view bytes, const char **ptr, size_t *size) {
  if (bytes.empty()) {
    *ptr = nullptr;
    *size = 0;
    return;
  }
  char *copy = static_cast<char *>(std::malloc(bytes.size()));
  std::memcpy(copy, bytes.data(), bytes.size());
  *ptr = copy;
  *size = bytes.size();
}

std::string_view view(const char *p, size_t n) {
  return p ? std::string_view(p, n) : std::string_view();
}

FakeHost &host() {
  if (!FakeHost::current)
    throw std::logic_error("hostcall without a FakeHost");
  return *FakeHost::current;
}

Pairs *findMap(uint32_t type) {
  auto it = host().maps.find(type);
  return it == host().maps.end() ? nullptr : &it->second;
}

// Hostcalls.

uint32_t log(uint32_t level, const char *m, size_t n) {
  if (level > 5)
    return kBadArgument;
  host().logs.emplace_back(level, std::string(view(m, n)));
  return kOk;
}
uint32_t getLogLevel(uint32_t *level) {
  *level = host().log_level;
  return kOk;
}
uint32_t currentTime(uint64_t *ns) {
  *ns = host().now_ns;
  return kOk;
}
uint32_t setTick(uint32_t ms) {
  host().tick_period = ms;
  return kOk;
}
uint32_t getStatus(uint32_t *code, const char **ptr, size_t *size) {
  *code = host().status_code;
  returnBytes(host().status_message, ptr, size);
  return kOk;
}
uint32_t setEffectiveContext(uint32_t id) {
  host().effective_contexts.push_back(id);
  return kOk;
}
uint32_t done() {
  host().done_calls++;
  return kOk;
}

uint32_t getBufferBytes(uint32_t type, uint32_t start, uint32_t max_size, const char **ptr,
                        size_t *size) {
  auto it = host().buffers.find(type);
  if (it == host().buffers.end())
    return kNotFound;
  const std::string &b = it->second;
  if (start > b.size()) {
    returnBytes({}, ptr, size);
    return kOk;
  }
  uint64_t n = std::min<uint64_t>(max_size, b.size() - start); // clamping is mandatory
  returnBytes(std::string_view(b).substr(start, n), ptr, size);
  return kOk;
}
// Envoy semantics: start 0 replaces the first `size` bytes, start >= length appends.
uint32_t setBufferBytes(uint32_t type, uint32_t start, uint32_t size, const char *data, size_t n) {
  auto it = host().buffers.find(type);
  if (it == host().buffers.end())
    return kNotFound;
  std::string &b = it->second;
  if (start == 0) {
    b.replace(0, std::min<size_t>(size, b.size()), view(data, n));
  } else if (start >= b.size()) {
    b.append(view(data, n));
  } else {
    return kBadArgument;
  }
  return kOk;
}
uint32_t getBufferStatus(uint32_t type, size_t *length, uint32_t *flags) {
  auto it = host().buffers.find(type);
  if (it == host().buffers.end())
    return kNotFound;
  *length = it->second.size();
  *flags = 0;
  return kOk;
}

uint32_t getMapPairs(uint32_t type, const char **ptr, size_t *size) {
  Pairs *m = findMap(type);
  returnBytes(m && !m->empty() ? encodePairs(*m) : std::string(), ptr, size);
  return kOk;
}
uint32_t setMapPairs(uint32_t type, const char *ptr, size_t size) {
  Pairs *m = findMap(type);
  if (!m)
    return kBadArgument;
  Pairs parsed;
  decodePairs(view(ptr, size), &parsed); // malformed: empty map, like cpp-host
  *m = parsed;
  return kOk;
}
uint32_t getMapValue(uint32_t type, const char *k, size_t kn, const char **ptr, size_t *size) {
  Pairs *m = findMap(type);
  if (!m)
    return kBadArgument;
  for (const auto &[key, value] : *m) {
    if (key == view(k, kn)) {
      returnBytes(value, ptr, size);
      return kOk;
    }
  }
  return kNotFound;
}
uint32_t addMapValue(uint32_t type, const char *k, size_t kn, const char *v, size_t vn) {
  Pairs *m = findMap(type);
  if (!m)
    return kBadArgument;
  m->emplace_back(std::string(view(k, kn)), std::string(view(v, vn)));
  return kOk;
}
uint32_t removeMapValue(uint32_t type, const char *k, size_t kn) {
  Pairs *m = findMap(type);
  if (!m)
    return kBadArgument;
  std::string key(view(k, kn));
  for (auto it = m->begin(); it != m->end();)
    it = it->first == key ? m->erase(it) : it + 1;
  return kOk;
}
uint32_t replaceMapValue(uint32_t type, const char *k, size_t kn, const char *v, size_t vn) {
  if (removeMapValue(type, k, kn) != kOk)
    return kBadArgument;
  return addMapValue(type, k, kn, v, vn);
}
uint32_t getMapSize(uint32_t type, size_t *size) {
  Pairs *m = findMap(type);
  if (!m)
    return kBadArgument;
  size_t n = 0;
  for (const auto &[key, value] : *m)
    n += key.size() + value.size(); // Envoy's byteSize()
  *size = n;
  return kOk;
}

uint32_t continueStream(uint32_t type) {
  if (type > 3)
    return kBadArgument;
  host().continued.push_back(type);
  return kOk;
}
uint32_t closeStream(uint32_t type) {
  if (type > 3)
    return kBadArgument;
  host().closed.push_back(type);
  return kOk;
}
uint32_t sendLocalResponse(uint32_t status, const char *d, size_t dn, const char *b, size_t bn,
                           const char *h, size_t hn, uint32_t grpc) {
  LocalReply r;
  r.status = status;
  r.details = std::string(view(d, dn));
  r.body = std::string(view(b, bn));
  if (hn != 0 && !decodePairs(view(h, hn), &r.headers))
    return kBadArgument;
  r.grpc_status = grpc;
  host().local_replies.push_back(r);
  return kOk;
}

uint32_t getProperty(const char *p, size_t pn, const char **ptr, size_t *size) {
  std::string raw(view(p, pn));
  host().property_paths.push_back(raw);
  std::string key = raw;
  while (!key.empty() && key.back() == '\0') // the C++ SDK NUL-terminates every segment
    key.pop_back();
  auto it = host().properties.find(key);
  if (it == host().properties.end())
    return kNotFound;
  returnBytes(it->second, ptr, size);
  return kOk;
}
uint32_t setProperty(const char *p, size_t pn, const char *v, size_t vn) {
  host().set_properties.emplace_back(std::string(view(p, pn)), std::string(view(v, vn)));
  return kOk;
}

uint32_t getSharedData(const char *k, size_t kn, const char **ptr, size_t *size, uint32_t *cas) {
  auto it = host().shared_data.find(std::string(view(k, kn)));
  if (it == host().shared_data.end())
    return kNotFound;
  returnBytes(it->second.first, ptr, size);
  *cas = it->second.second;
  return kOk;
}
uint32_t setSharedData(const char *k, size_t kn, const char *v, size_t vn, uint32_t cas) {
  static uint32_t next_cas = 1;
  std::string key(view(k, kn));
  auto it = host().shared_data.find(key);
  if (it != host().shared_data.end() && cas != 0 && cas != it->second.second)
    return kCasMismatch;
  host().shared_data[key] = {std::string(view(v, vn)), next_cas++};
  return kOk;
}

uint32_t defineMetric(uint32_t type, const char *n, size_t nn, uint32_t *id) {
  if (type > 2)
    return kBadArgument;
  *id = host().next_token;
  host().next_token += 4;
  host().metrics[*id] = Metric{type, std::string(view(n, nn)), 0};
  return kOk;
}
uint32_t incrementMetric(uint32_t id, int64_t offset) {
  auto it = host().metrics.find(id);
  if (it == host().metrics.end())
    return kNotFound;
  if (it->second.type == 0 && offset <= 0)
    return kBadArgument;
  it->second.value += offset;
  return kOk;
}
uint32_t recordMetric(uint32_t id, uint64_t value) {
  auto it = host().metrics.find(id);
  if (it == host().metrics.end())
    return kNotFound;
  if (it->second.type == 0)
    it->second.value += value; // Envoy: record on a counter adds
  else
    it->second.value = value;
  return kOk;
}
uint32_t getMetric(uint32_t id, uint64_t *value) {
  auto it = host().metrics.find(id);
  if (it == host().metrics.end())
    return kNotFound;
  *value = it->second.value;
  return kOk;
}

uint32_t httpCall(const char *u, size_t un, const char *h, size_t hn, const char *b, size_t bn,
                  const char *t, size_t tn, uint32_t timeout, uint32_t *token) {
  HttpCall call;
  call.upstream = std::string(view(u, un));
  if (!decodePairs(view(h, hn), &call.headers))
    return kBadArgument;
  call.body = std::string(view(b, bn));
  if (tn != 0 && !decodePairs(view(t, tn), &call.trailers))
    return kBadArgument;
  call.timeout_ms = timeout;
  host().http_calls.push_back(call);
  *token = host().next_token;
  host().next_token += 4;
  return kOk;
}

} // namespace

std::string encodePairs(const Pairs &pairs) {
  std::string out;
  putU32(out, static_cast<uint32_t>(pairs.size()));
  for (const auto &[key, value] : pairs) {
    putU32(out, static_cast<uint32_t>(key.size()));
    putU32(out, static_cast<uint32_t>(value.size()));
  }
  for (const auto &[key, value] : pairs) {
    out += key;
    out.push_back('\0');
    out += value;
    out.push_back('\0');
  }
  return out;
}

bool decodePairs(std::string_view bytes, Pairs *out) {
  out->clear();
  if (bytes.empty())
    return true;
  if (bytes.size() < 4)
    return false;
  uint32_t n = getU32(bytes, 0);
  if (uint64_t(n) * 8 + 4 > bytes.size())
    return false;
  size_t pos = 4 + size_t(n) * 8;
  for (uint32_t i = 0; i < n; i++) {
    size_t key_size = getU32(bytes, 4 + i * 8), value_size = getU32(bytes, 8 + i * 8);
    if (pos + key_size + 1 > bytes.size() || bytes[pos + key_size] != '\0')
      return false;
    std::string key(bytes.substr(pos, key_size));
    pos += key_size + 1;
    if (pos + value_size + 1 > bytes.size() || bytes[pos + value_size] != '\0')
      return false;
    std::string value(bytes.substr(pos, value_size));
    pos += value_size + 1;
    out->emplace_back(std::move(key), std::move(value));
  }
  return pos == bytes.size(); // trailing garbage is malformed too
}

FakeHost *FakeHost::current = nullptr;

FakeHost::FakeHost() {
  api.proxy_log = &log;
  api.proxy_get_log_level = &getLogLevel;
  api.proxy_get_current_time_nanoseconds = &currentTime;
  api.proxy_set_tick_period_milliseconds = &setTick;
  api.proxy_get_status = &getStatus;
  api.proxy_set_effective_context = &setEffectiveContext;
  api.proxy_done = &done;
  api.proxy_get_buffer_bytes = &getBufferBytes;
  api.proxy_set_buffer_bytes = &setBufferBytes;
  api.proxy_get_buffer_status = &getBufferStatus;
  api.proxy_get_header_map_pairs = &getMapPairs;
  api.proxy_set_header_map_pairs = &setMapPairs;
  api.proxy_get_header_map_value = &getMapValue;
  api.proxy_add_header_map_value = &addMapValue;
  api.proxy_replace_header_map_value = &replaceMapValue;
  api.proxy_remove_header_map_value = &removeMapValue;
  api.proxy_get_header_map_size = &getMapSize;
  api.proxy_continue_stream = &continueStream;
  api.proxy_close_stream = &closeStream;
  api.proxy_send_local_response = &sendLocalResponse;
  api.proxy_get_property = &getProperty;
  api.proxy_set_property = &setProperty;
  api.proxy_get_shared_data = &getSharedData;
  api.proxy_set_shared_data = &setSharedData;
  api.proxy_define_metric = &defineMetric;
  api.proxy_increment_metric = &incrementMetric;
  api.proxy_record_metric = &recordMetric;
  api.proxy_get_metric = &getMetric;
  api.proxy_http_call = &httpCall;
  current = this;
}

FakeHost::~FakeHost() {
  if (current == this)
    current = nullptr;
}

bool FakeHost::logged(std::string_view needle) const {
  for (const auto &[level, message] : logs)
    if (message.find(needle) != std::string::npos)
      return true;
  return false;
}

const std::string *FakeHost::header(uint32_t map, std::string_view key) const {
  auto it = maps.find(map);
  if (it == maps.end())
    return nullptr;
  for (const auto &[k, v] : it->second)
    if (k == key)
      return &v;
  return nullptr;
}

Vm::Vm(std::string_view plugin_name, FakeHost &host)
    : plugin_(wasmgate::nullvm::findPlugin(plugin_name)), host_(host) {
  if (!plugin_)
    throw std::runtime_error("no null-VM plugin named " + std::string(plugin_name));
  instance_ = plugin_->create_instance(plugin_, &host_.api);
  if (!instance_)
    throw std::runtime_error("create_instance failed");
}

Vm::~Vm() { plugin_->destroy_instance(instance_); }

bool Vm::startRoot(uint32_t root_context_id, std::string_view root_id, std::string_view config) {
  host_.properties["plugin_root_id"] = std::string(root_id);
  plugin_->proxy_on_context_create(instance_, root_context_id, 0);
  if (!plugin_->proxy_on_vm_start(instance_, root_context_id, 0))
    return false;
  host_.buffers[7] = std::string(config); // PLUGIN_CONFIGURATION, only during on_configure
  bool ok = plugin_->proxy_on_configure(instance_, root_context_id,
                                        static_cast<uint32_t>(config.size())) != 0;
  host_.buffers.erase(7);
  return ok;
}

void Vm::createStream(uint32_t context_id, uint32_t root_context_id) {
  plugin_->proxy_on_context_create(instance_, context_id, root_context_id);
}

void Vm::endStream(uint32_t context_id) {
  plugin_->proxy_on_log(instance_, context_id);
  plugin_->proxy_on_done(instance_, context_id);
  plugin_->proxy_on_delete(instance_, context_id);
}

} // namespace sdk_test
