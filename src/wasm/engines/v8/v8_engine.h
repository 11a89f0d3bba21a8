#pragma once

// The V8 engine ("envoy.wasm.runtime.v8"), built on the V8 10.2 inside Debian's libnode108.
// Everything V8-specific stays in v8_engine.cc; see README.md next to it for the isolate model.

#include <memory>
#include <optional>
#include <string>

#include "wasm/engine.h"

namespace wasmgate::wasm {

struct V8EngineOptions {
  // V8's wasm trap handler: guard regions around each memory and a SIGSEGV handler instead of
  // explicit bounds checks (faster code, ~10 GiB of reserved address space per memory). When
  // false, generated code checks bounds explicitly. Process-wide: the first engine created
  // decides. Default: on; it also works under ASan with default ASAN_OPTIONS (README.md).
  std::optional<bool> trap_handler;
  // Extra V8 flags (e.g. "--no-liftoff"), applied once, by the first engine created.
  std::string flags;
};

// V8 itself is initialised once per process, on first use; engines share it.
std::shared_ptr<WasmEngine> createV8Engine(const V8EngineOptions& options = {});

// Whether the process-wide V8 runs with the wasm trap handler (valid after createV8Engine).
bool v8TrapHandlerEnabled();

} // namespace wasmgate::wasm
