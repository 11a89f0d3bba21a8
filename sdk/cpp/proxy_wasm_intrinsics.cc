// The proxy-wasm C++ SDK defines its exports in this file; this SDK defines them inline in
// proxy_wasm_intrinsics.h, so compiling this file is optional. It exists so that build files
// written for the upstream SDK (which list proxy_wasm_intrinsics.cc) keep working.
// NOLINT(namespace-envoy)
#include "proxy_wasm_intrinsics.h"
