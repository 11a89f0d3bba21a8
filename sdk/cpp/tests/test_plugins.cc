// Null-VM test plugin "sdk_test": two root ids with different factories, and a stream context
// that exercises the API from its callbacks (driven by the request :path).
#include "proxy_wasm_intrinsics.h"
#include "test_events.h"

START_WASM_PLUGIN(sdk_test)

using sdk_test::record;

class TestRootA : public RootContext {
public:
  TestRootA(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {
    record("A.construct " + std::to_string(id) + " " + std::string(root_id));
  }
  void onCreate() override { record("A.onCreate " + std::to_string(id())); }
  bool onStart(size_t size) override {
    record("A.onStart " + std::to_string(size));
    return true;
  }
  bool onConfigure(size_t size) override {
    auto config = getConfiguration(); // the extension: whole PluginConfiguration buffer
    record("A.onConfigure " + std::to_string(size) + " " + config->toString());
    if (config->view() == "reject")
      return false;
    if (config->view() == "async-done")
      async_done_ = true;
    requests_.reset(
        Counter<std::string>::New("requests", "method")); // New() returns an owning raw pointer
    return true;
  }
  bool onDone() override {
    record("A.onDone");
    return !async_done_;
  }
  void onTick() override {
    record("A.onTick");
    if (async_done_)
      done();
  }
  void onDelete() override { record("A.onDelete " + std::to_string(id())); }

  std::unique_ptr<Counter<std::string>> requests_;
  bool async_done_ = false;
};

class TestRootB : public RootContext {
public:
  TestRootB(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  void onCreate() override { record("B.onCreate " + std::to_string(id())); }
};

class TestStream : public Context {
public:
  TestStream(uint32_t id, RootContext *root) : Context(id, root) {}

  void onCreate() override { record("S.onCreate " + std::to_string(id())); }

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override {
    record("S.onRequestHeaders " + std::to_string(headers) + " " + std::to_string(end_of_stream));
    std::string path = getRequestHeader(":path")->toString();
    addRequestHeader("x-test", "1");
    auto *a = static_cast<TestRootA *>(root());
    if (a->requests_)
      a->requests_->increment(1, getRequestHeader(":method")->toString());
    if (path == "/reply") {
      sendLocalResponse(403, "denied by test", "nope", {{"x-reason", "test"}});
      return FilterHeadersStatus::StopIteration;
    }
    if (path == "/call") {
      uint32_t self = id();
      auto result = root()->httpCall(
          "cluster", {{":method", "GET"}, {":path", "/x"}, {":authority", "a"}}, "ping", {}, 1000,
          [self](uint32_t h, size_t body_size, uint32_t t) {
            auto body = getBufferBytes(WasmBufferType::HttpCallResponseBody, 0, body_size);
            record("S.callback " + std::to_string(self) + " " + std::to_string(h) + " " +
                   std::to_string(body_size) + " " + std::to_string(t) + " " + body->toString());
            continueRequest();
          });
      record("S.httpCall " + toString(result));
      return FilterHeadersStatus::StopAllIterationAndWatermark;
    }
    if (path == "/unimplemented") {
      record("S.grpcCancel " + toString(grpcCancel(1)));
    }
    if (path == "/props") {
      int64_t size = 0;
      std::string name;
      bool got_size = getValue({"request", "size"}, &size);
      bool got_name = getValue({"plugin_name"}, &name);
      bool got_missing = getValue({"no", "such"}, &name);
      record("S.props " + std::to_string(got_size) + " " + std::to_string(size) + " " +
             std::to_string(got_name) + " " + name + " " + std::to_string(got_missing));
    }
    if (path == "/pairs") {
      auto pairs = getRequestHeaderPairs();
      std::string all;
      for (auto &[k, v] : pairs->pairs())
        all += std::string(k) + "=" + std::string(v) + ";";
      record("S.pairs " + all);
      setRequestHeaderPairs({{":path", "/replaced"}, {"k", "v"}});
    }
    if (path == "/shared") {
      WasmDataPtr value;
      uint32_t cas = 0;
      record("S.shared.get1 " + toString(getSharedData("k", &value, &cas)));
      setSharedData("k", "v1");
      auto result = getSharedData("k", &value, &cas); // before reading `value`
      record("S.shared.get2 " + toString(result) + " " + value->toString());
      record("S.shared.stale " + toString(setSharedData("k", "v2", cas + 100)));
      record("S.shared.cas " + toString(setSharedData("k", "v3", cas)));
    }
    return FilterHeadersStatus::Continue;
  }

  FilterDataStatus onRequestBody(size_t size, bool end_of_stream) override {
    record("S.onRequestBody " + std::to_string(size) + " " + std::to_string(end_of_stream));
    return end_of_stream ? FilterDataStatus::Continue : FilterDataStatus::StopIterationAndBuffer;
  }
  FilterTrailersStatus onRequestTrailers(uint32_t n) override {
    record("S.onRequestTrailers " + std::to_string(n));
    return FilterTrailersStatus::StopIteration;
  }
  FilterHeadersStatus onResponseHeaders(uint32_t n, bool end_of_stream) override {
    record("S.onResponseHeaders " + std::to_string(n) + " " + std::to_string(end_of_stream));
    return FilterHeadersStatus::Continue;
  }
  FilterStatus onNewConnection() override {
    record("S.onNewConnection");
    return FilterStatus::StopIteration;
  }
  FilterStatus onDownstreamData(size_t size, bool end_of_stream) override {
    record("S.onDownstreamData " + std::to_string(size) + " " + std::to_string(end_of_stream));
    return FilterStatus::Continue;
  }
  void onDownstreamConnectionClose(CloseType t) override {
    record("S.onDownstreamConnectionClose " + std::to_string(static_cast<int>(t)));
  }
  void onLog() override { record("S.onLog " + std::to_string(id())); }
  void onDone() override { record("S.onDone " + std::to_string(id())); }
  void onDelete() override { record("S.onDelete " + std::to_string(id())); }
  ~TestStream() override { record("S.destroyed " + std::to_string(id())); }
};

static RegisterContextFactory register_TestA(CONTEXT_FACTORY(TestStream), ROOT_FACTORY(TestRootA),
                                             "root_a");
// Root factory only: streams of root_b get the default Context.
static RegisterContextFactory register_TestB(ROOT_FACTORY(TestRootB), "root_b");

END_WASM_PLUGIN

WASMGATE_NULL_PLUGIN(sdk_test)
