// queue_pair: a producer and a consumer talking through a Proxy-Wasm shared queue, across VMs
// and worker threads. One module, two root ids:
//
//   root_id "consumer"  registers the queue `queue` under its own vm_id in onConfigure and, in
//                       onQueueReady (on the worker that registered it), dequeues every item,
//                       counts it in the counter queue_consumed_total and logs "consumed <item>".
//                       Configuration: {"queue": "requests"}
//   root_id "producer"  enqueues every request's ":method :path" into the queue resolved by
//                       (consumer_vm_id, queue); the request continues right away.
//                       Configuration: {"consumer_vm_id": "queue_consumer", "queue": "requests"}
// NOLINT(namespace-envoy)
#include <optional>
#include <string>
#include <string_view>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(queue_pair)

namespace {

// Reads the plugin configuration as a JSON object with only string fields from `allowed`.
bool readConfig(size_t size, std::initializer_list<std::string_view> allowed,
                std::optional<minijson::Value> *out) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, size);
  std::string error;
  auto config = minijson::parse(conf->view(), &error);
  if (!config || !config->isObject()) {
    LOG_ERROR("queue_pair: the configuration must be a JSON object: " +
              (error.empty() ? conf->toString() : error));
    return false;
  }
  for (const auto &[key, value] : config->members()) {
    bool known = false;
    for (auto a : allowed)
      known = known || key == a;
    if (!known || !value.isString()) {
      LOG_ERROR("queue_pair: unexpected configuration field \"" + key + "\"");
      return false;
    }
  }
  *out = std::move(config);
  return true;
}

} // namespace

class ConsumerRoot : public RootContext {
public:
  ConsumerRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t size) override {
    std::optional<minijson::Value> config;
    if (!readConfig(size, {"queue"}, &config))
      return false;
    const std::string queue = config->get("queue").asString("requests");
    if (defineMetric(MetricType::Counter, "queue_consumed_total", &consumed_) != WasmResult::Ok)
      return false;
    if (registerSharedQueue(queue, &token_) != WasmResult::Ok) {
      LOG_ERROR("queue_pair: cannot register queue \"" + queue + "\"");
      return false;
    }
    return true;
  }

  void onQueueReady(uint32_t token) override {
    WasmDataPtr item;
    while (dequeueSharedQueue(token, &item) == WasmResult::Ok) {
      incrementMetric(consumed_, 1);
      LOG_INFO("consumed " + item->toString());
    }
  }

private:
  uint32_t token_ = 0;
  uint32_t consumed_ = 0;
};

class ProducerRoot : public RootContext {
public:
  ProducerRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}

  bool onConfigure(size_t size) override {
    std::optional<minijson::Value> config;
    if (!readConfig(size, {"consumer_vm_id", "queue"}, &config))
      return false;
    consumer_vm_id_ = config->get("consumer_vm_id").asString("");
    queue_ = config->get("queue").asString("requests");
    return true;
  }

  // The consumer may start after us: resolve until it exists.
  bool queueToken(uint32_t *token) {
    if (token_ == 0 && resolveSharedQueue(consumer_vm_id_, queue_, &token_) != WasmResult::Ok)
      token_ = 0;
    *token = token_;
    return token_ != 0;
  }

private:
  std::string consumer_vm_id_;
  std::string queue_;
  uint32_t token_ = 0;
};

class ProducerContext : public Context {
public:
  ProducerContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<ProducerRoot *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t, bool) override {
    uint32_t token = 0;
    if (!root_->queueToken(&token)) {
      LOG_WARN("queue_pair: no consumer queue yet");
      return FilterHeadersStatus::Continue;
    }
    const std::string item =
        getRequestHeader(":method")->toString() + " " + getRequestHeader(":path")->toString();
    if (enqueueSharedQueue(token, item) != WasmResult::Ok)
      LOG_WARN("queue_pair: enqueue failed");
    return FilterHeadersStatus::Continue;
  }

private:
  ProducerRoot *root_;
};

static RegisterContextFactory register_Consumer(ROOT_FACTORY(ConsumerRoot), "consumer");
static RegisterContextFactory register_Producer(CONTEXT_FACTORY(ProducerContext),
                                                ROOT_FACTORY(ProducerRoot), "producer");

END_WASM_PLUGIN

// Compiled into wasmgate itself (runtime envoy.wasm.runtime.null), this is its name.
WASMGATE_NULL_PLUGIN(queue_pair)
