// A second null-VM plugin using the same root_id as sdk_test: its factories must stay its own.
#include "proxy_wasm_intrinsics.h"
#include "test_events.h"

START_WASM_PLUGIN(sdk_test_other)

class OtherRoot : public RootContext {
public:
  OtherRoot(uint32_t id, std::string_view root_id) : RootContext(id, root_id) {}
  void onCreate() override { sdk_test::record("Other.onCreate " + std::to_string(id())); }
};

static RegisterContextFactory register_Other(ROOT_FACTORY(OtherRoot), "root_a");

END_WASM_PLUGIN

WASMGATE_NULL_PLUGIN(sdk_test_other)
