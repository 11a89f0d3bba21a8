#pragma once

// Shared pieces of the bootstrap loader (loader*.cc). Not for use outside src/config.

#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "common/status.h"
#include "config/bootstrap.h"
#include "config/object_reader.h"

namespace wasmgate::config::detail {

// Cluster names referenced by routes and tcp_proxy, checked once all clusters are known.
struct ClusterRef {
  std::string cluster;
  std::string path;
};

struct LoadContext {
  std::vector<ClusterRef> cluster_refs;
};

// A google.protobuf.Any as written in a config: "@type" plus the message fields, with
// udpa/xds TypedStruct wrappers unwrapped (their type_url and value become the effective type
// and body). `body` never contains "@type"; body_path is where the body's fields live.
struct TypedConfig {
  std::string type_url;
  YAML::Node body;
  std::string body_path;
};
Result<TypedConfig> parseTypedConfig(const YAML::Node& node, const std::string& path);

// The message name of an Any type URL (what follows the last '/').
std::string_view messageName(std::string_view type_url);

// A file's bytes, or "<path>: cannot read file '<filename>': <reason>".
Result<std::string> readFileContents(const std::string& filename, const std::string& path);

// True for IPv4 and IPv6 literals (no brackets, no port).
bool isIpLiteral(const std::string& address);

// True when the "@type" is absent or names `expected_message` (compared without the URL host).
bool typeMatches(std::string_view type_url, std::string_view expected_message);

// What an address must look like where it is used. `who` names the requirement in errors
// ("listener needs an IP address", "STATIC cluster needs an IP address").
struct AddressRules {
  bool need_ip = false;
  bool need_port = false;
  std::string who;
};
// envoy.config.core.v3.Address; only socket_address is implemented.
Status parseAddress(const YAML::Node& node, const std::string& path, const AddressRules& rules,
                    SocketAddress& out);

// One AccessLog entry (HCM access_log, admin access_log).
Status parseAccessLog(const YAML::Node& node, const std::string& path, AccessLogConfig& out);

// Reads `key` (request_headers_to_add / response_headers_to_add) as HeaderValueOption[].
Status parseHeadersToAdd(ObjectReader& r, std::string_view key,
                         std::vector<std::pair<std::string, std::string>>& out,
                         std::vector<HeaderAppendAction>& actions);
// Reads `key` (*_headers_to_remove) as lower-cased header names.
Status parseHeadersToRemove(ObjectReader& r, std::string_view key, std::vector<std::string>& out);

// envoy.config.core.v3.DataSource as text: inline_string, or the contents of filename.
Status parseDataSource(ObjectReader& r, std::string& out);

// Validates an RE2 pattern: "<path>: invalid regex '<re>': <re2 error>".
Status checkRegex(const std::string& regex, const std::string& path);

std::string toLower(std::string s);

Status parseListener(const YAML::Node& node, const std::string& path, size_t index,
                     LoadContext& ctx, Listener& out);
Status parseHttpConnectionManager(const TypedConfig& tc, LoadContext& ctx,
                                  HttpConnectionManagerConfig& out);
Status parseRouteConfiguration(ObjectReader& r, LoadContext& ctx, RouteConfiguration& out);
Status parseCluster(const YAML::Node& node, const std::string& path, Cluster& out);

} // namespace wasmgate::config::detail
