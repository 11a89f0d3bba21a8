#pragma once

// What a config reload may change. The listeners' filter chains (HTTP filters and their
// plugins, routes, access logs, connection manager and tcp_proxy settings) are rebuilt and
// swapped in while serving; everything else (listener names, addresses and options, clusters,
// admin, bootstrap extensions, stats config) is bound to sockets, threads or process-wide state
// and needs a restart.

#include <string>
#include <string_view>

#include "common/status.h"

namespace wasmgate::config {

// OK when `after` differs from `before` (both YAML or JSON texts that load) only inside
// listeners' filter_chains; otherwise an error naming the first field that differs, e.g.
// "static_resources.clusters[0].connect_timeout: changed, ...".
Status checkReloadable(std::string_view before, std::string_view after);

} // namespace wasmgate::config
