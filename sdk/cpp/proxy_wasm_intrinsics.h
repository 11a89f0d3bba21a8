// wasmgate C++ plugin SDK: header-only and source-compatible with proxy-wasm-cpp-sdk.
//
// The one header a plugin includes:
//
//   #include "proxy_wasm_intrinsics.h"
//
// It declares the hostcalls, the C++ API (RootContext, Context, WasmData, ...) and defines the
// module's exports (proxy_on_*, proxy_abi_version_0_2_1, malloc). Everything is inline, so
// including it from several .cc files of one plugin is fine; no proxy_wasm_intrinsics.cc needs
// to be compiled (an empty one is provided for builds that list it).
//
// Build modes (see README.md): wasm32 (the default target), native with a test double of the
// host, or -DPROXY_WASM_NULL_VM to compile the plugin into wasmgate itself.
// NOLINT(namespace-envoy)
#pragma once

#ifndef PROXY_WASM_KEEPALIVE
#define PROXY_WASM_KEEPALIVE __attribute__((used)) __attribute__((visibility("default")))
#endif

// For plugins that define extra exports themselves, e.g.
//   WASM_EXPORT(uint32_t, my_export, (uint32_t x)) { ... }
#if defined(__wasm__) && !defined(PROXY_WASM_NULL_VM)
#define WASM_EXPORT(_return_type, _function_name, _function_args)                                  \
  extern "C" PROXY_WASM_KEEPALIVE __attribute__((export_name(#_function_name)))                    \
  _return_type _function_name _function_args
#else
#define WASM_EXPORT(_return_type, _function_name, _function_args)                                  \
  extern "C" PROXY_WASM_KEEPALIVE _return_type _function_name _function_args
#endif

// Wrap a plugin in these to give it its own namespace when it is compiled into the proxy
// next to other plugins (PROXY_WASM_NULL_VM), so that equally named classes in two plugins do
// not collide. No-ops in wasm builds, as in the proxy-wasm C++ SDK.
#ifdef PROXY_WASM_NULL_VM
#define START_WASM_PLUGIN(_name) namespace wasmgate_null_plugin_##_name {
#define END_WASM_PLUGIN }
#else
#define START_WASM_PLUGIN(_name)
#define END_WASM_PLUGIN
#endif

#include <cstdint>
#include <optional>
#include <string_view>
using StringView = std::string_view;
template <typename T> using Optional = std::optional<T>;

#include "proxy_wasm_enums.h"
#include "proxy_wasm_common.h"
#include "proxy_wasm_externs.h"
#ifdef PROXY_WASM_PROTOBUF_FULL
#define PROXY_WASM_PROTOBUF 1
#include "proxy_wasm_intrinsics.pb.h"
#endif
#ifdef PROXY_WASM_PROTOBUF_LITE
#define PROXY_WASM_PROTOBUF 1
#include "proxy_wasm_intrinsics_lite.pb.h"
#endif
#include "proxy_wasm_api.h"
#include "proxy_wasm_exports.h"
