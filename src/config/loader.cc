// Top level of the bootstrap loader plus the helpers every section uses (Any unwrapping,
// addresses, access logs, header mutations, regexes). Listener, route and cluster sections
// live in loader_listener.cc, loader_route.cc and loader_cluster.cc.

#include "config/loader.h"

#include <arpa/inet.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <re2/re2.h>

#include "config/loader_internal.h"

namespace wasmgate::config {
namespace detail {
namespace {

constexpr std::string_view kUdpaTypedStruct = "udpa.type.v1.TypedStruct";
constexpr std::string_view kXdsTypedStruct = "xds.type.v3.TypedStruct";

// The message name of a type URL: everything after the last '/'.

bool isHeaderNameChar(char c) {
  // RFC 9110 token characters.
  return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}


// Checks a header name given to a *_headers_to_add/remove list and lower-cases it.
Status checkMutableHeader(std::string& name, const std::string& path) {
  if (name.empty())
    return fieldError(path, "must not be empty");
  name = toLower(std::move(name));
  // Envoy refuses these too: pseudo-headers and Host are owned by the codec and the router.
  if (name[0] == ':' || name == "host")
    return fieldError(path, "'" + name + "' may not be modified (pseudo-headers and host are reserved)");
  for (char c : name)
    if (!isHeaderNameChar(c))
      return fieldError(path, "invalid header name '" + name + "'");
  return okStatus();
}

// json_format is a free-form map of output key -> format string.
Status parseJsonFormat(const YAML::Node& node, const std::string& path,
                       std::map<std::string, std::string>& out) {
  auto reader = ObjectReader::make(node, path);
  if (!reader.ok())
    return reader.status();
  for (const auto& key : reader->keys()) {
    YAML::Node value = reader->take(key);
    if (value.IsMap() || value.IsSequence())
      return fieldError(reader->pathOf(key), "unsupported (nested json_format values are not implemented)");
    out[key] = value.IsNull() ? std::string() : value.Scalar();
  }
  return okStatus();
}

Status parseLogFormat(ObjectReader& r, AccessLogConfig& out) {
  int formats = 0;
  for (std::string_view key : {"text_format", "text_format_source", "json_format"})
    formats += r.has(key) ? 1 : 0;
  if (formats > 1)
    return fieldError(r.path(), "only one of text_format, text_format_source, json_format may be set");
  WG_RETURN_IF_ERROR(r.getString("text_format", out.format));
  WG_RETURN_IF_ERROR(r.getObject("text_format_source", [&](ObjectReader& src) -> Status {
    if (!src.has("inline_string") && !src.has("filename"))
      return fieldError(src.path(), "one of inline_string, filename is required");
    return parseDataSource(src, out.format);
  }));
  if (r.has("json_format"))
    WG_RETURN_IF_ERROR(parseJsonFormat(r.take("json_format"), r.pathOf("json_format"), out.json_format));
  WG_RETURN_IF_ERROR(r.getBool("omit_empty_values", out.omit_empty_values));
  if (out.omit_empty_values)
    return fieldError(r.pathOf("omit_empty_values"), "unsupported value true (not implemented yet)");
  // content_type only affects local reply bodies, which wasmgate formats itself.
  r.ignore("content_type");
  WG_RETURN_IF_ERROR(r.unsupported("formatters", "formatter extensions are not implemented"));
  return okStatus();
}

} // namespace

std::string_view messageName(std::string_view type_url) {
  auto slash = type_url.rfind('/');
  return slash == std::string_view::npos ? type_url : type_url.substr(slash + 1);
}

Result<std::string> readFileContents(const std::string& filename, const std::string& path) {
  std::ifstream in(filename, std::ios::binary);
  if (!in)
    return fieldError(path, "cannot read file '" + filename + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status parseDataSource(ObjectReader& r, std::string& out) {
  WG_RETURN_IF_ERROR(r.unsupported("inline_bytes", "use inline_string"));
  WG_RETURN_IF_ERROR(r.unsupported("environment_variable", "use inline_string"));
  if (r.has("inline_string") && r.has("filename"))
    return fieldError(r.path(), "only one of inline_string, filename may be set");
  WG_RETURN_IF_ERROR(r.getString("inline_string", out));
  if (r.has("filename")) {
    std::string filename;
    WG_RETURN_IF_ERROR(r.getString("filename", filename));
    auto text = readFileContents(filename, r.pathOf("filename"));
    if (!text.ok())
      return text.status();
    out = std::move(*text);
  }
  return okStatus();
}

std::string toLower(std::string s) {
  for (char& c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

Result<TypedConfig> parseTypedConfig(const YAML::Node& node, const std::string& path) {
  TypedConfig out;
  out.body_path = path;
  if (!node || node.IsNull())
    return out;
  if (!node.IsMap())
    return fieldError(path, "expected a map, got " + describeNode(node));
  auto reader = ObjectReader::make(node, path);
  if (!reader.ok())
    return reader.status();
  WG_RETURN_IF_ERROR(reader->getString("@type", out.type_url));
  std::string_view message = messageName(out.type_url);
  if (message == kUdpaTypedStruct || message == kXdsTypedStruct) {
    WG_RETURN_IF_ERROR(reader->requireString("type_url", out.type_url));
    YAML::Node value = reader->take("value");
    WG_RETURN_IF_ERROR(reader->finish());
    out.body_path = joinPath(path, "value");
    if (value && !value.IsNull() && !value.IsMap())
      return fieldError(out.body_path, "expected a map, got " + describeNode(value));
    out.body = (value && value.IsMap()) ? value : YAML::Node(YAML::NodeType::Map);
    return out;
  }
  // Everything but "@type" is the message itself.
  out.body = YAML::Node(YAML::NodeType::Map);
  for (auto it = node.begin(); it != node.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "@type")
      continue;
    out.body[it->first] = it->second;
  }
  return out;
}

bool typeMatches(std::string_view type_url, std::string_view expected_message) {
  return type_url.empty() || messageName(type_url) == expected_message;
}

bool isIpLiteral(const std::string& address) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, address.c_str(), &v4) == 1 ||
         inet_pton(AF_INET6, address.c_str(), &v6) == 1;
}

Status parseAddress(const YAML::Node& node, const std::string& path, const AddressRules& rules,
                    SocketAddress& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.unsupported("pipe", "unix domain sockets are not implemented"));
    WG_RETURN_IF_ERROR(r.unsupported("envoy_internal_address", "internal listeners are not implemented"));
    if (!r.has("socket_address"))
      return r.missing("socket_address");
    return r.getObject("socket_address", [&](ObjectReader& sa) -> Status {
      WG_RETURN_IF_ERROR(sa.requireString("address", out.address));
      if (rules.need_ip && !isIpLiteral(out.address))
        return fieldError(sa.pathOf("address"),
                          rules.who + " needs an IP address, got '" + out.address + "'");
      if (rules.need_port && !sa.has("port_value"))
        return sa.missing("port_value");
      WG_RETURN_IF_ERROR(sa.getUint32("port_value", out.port, 0, 65535));
      WG_RETURN_IF_ERROR(sa.unsupported("named_port", "use port_value"));
      WG_RETURN_IF_ERROR(sa.unsupported("resolver_name", "custom resolvers are not implemented"));
      enum class Protocol { Tcp };
      Protocol protocol = Protocol::Tcp;
      WG_RETURN_IF_ERROR(sa.getEnum<Protocol>(
          "protocol", protocol, {{"TCP", Protocol::Tcp}, {"UDP", std::nullopt, "UDP is not implemented"}}));
      // ipv4_compat only matters for dual-stack "::" sockets, which wasmgate always opens
      // with the OS default.
      sa.ignore("ipv4_compat");
      return okStatus();
    });
  });
}

Status parseAccessLog(const YAML::Node& node, const std::string& path, AccessLogConfig& out) {
  return readObject(node, path, [&](ObjectReader& r) -> Status {
    std::string name;
    WG_RETURN_IF_ERROR(r.requireString("name", name));
    WG_RETURN_IF_ERROR(r.unsupported("filter", "access log filters are not implemented"));
    WG_RETURN_IF_ERROR(r.unsupported("config", "the v2 'config' field was removed; use typed_config"));
    std::string_view expected;
    if (name == "envoy.access_loggers.file" || name == "envoy.file_access_log") {
      expected = "envoy.extensions.access_loggers.file.v3.FileAccessLog";
      out.sink = AccessLogConfig::Sink::File;
    } else if (name == "envoy.access_loggers.stdout") {
      expected = "envoy.extensions.access_loggers.stream.v3.StdoutAccessLog";
      out.sink = AccessLogConfig::Sink::Stdout;
    } else if (name == "envoy.access_loggers.stderr") {
      expected = "envoy.extensions.access_loggers.stream.v3.StderrAccessLog";
      out.sink = AccessLogConfig::Sink::Stderr;
    } else {
      return fieldError(r.pathOf("name"), "unsupported access logger '" + name + "'");
    }
    auto tc = parseTypedConfig(r.take("typed_config"), r.pathOf("typed_config"));
    if (!tc.ok())
      return tc.status();
    if (!typeMatches(tc->type_url, expected))
      return fieldError(joinPath(r.pathOf("typed_config"), "@type"),
                        "'" + tc->type_url + "' does not match access logger '" + name +
                            "' (expected type.googleapis.com/" + std::string(expected) + ")");
    return readObject(tc->body, tc->body_path, [&](ObjectReader& body) -> Status {
      if (out.sink == AccessLogConfig::Sink::File) {
        WG_RETURN_IF_ERROR(body.requireString("path", out.path));
        if (out.path == "/dev/stdout")
          out.sink = AccessLogConfig::Sink::Stdout;
        else if (out.path == "/dev/stderr")
          out.sink = AccessLogConfig::Sink::Stderr;
        // Deprecated pre-log_format spellings.
        bool legacy = body.has("format") || body.has("json_format");
        WG_RETURN_IF_ERROR(body.getString("format", out.format));
        if (body.has("json_format"))
          WG_RETURN_IF_ERROR(parseJsonFormat(body.take("json_format"), body.pathOf("json_format"), out.json_format));
        WG_RETURN_IF_ERROR(body.unsupported("typed_json_format", "use log_format.json_format"));
        if (legacy && body.has("log_format"))
          return fieldError(body.pathOf("log_format"), "cannot be combined with format/json_format");
      }
      if (body.has("log_format")) {
        YAML::Node lf = body.take("log_format");
        const std::string lf_path = body.pathOf("log_format");
        WG_RETURN_IF_ERROR(readObject(lf, lf_path, [&](ObjectReader& f) { return parseLogFormat(f, out); }));
      }
      return okStatus();
    });
  });
}

Status parseHeadersToAdd(ObjectReader& r, std::string_view key,
                         std::vector<std::pair<std::string, std::string>>& out,
                         std::vector<HeaderAppendAction>& actions) {
  return r.getList(key, [&](const YAML::Node& element, const std::string& path, size_t) {
    return readObject(element, path, [&](ObjectReader& opt) -> Status {
      std::string name;
      std::string value;
      if (!opt.has("header"))
        return opt.missing("header");
      WG_RETURN_IF_ERROR(opt.getObject("header", [&](ObjectReader& h) -> Status {
        if (!h.has("key"))
          return h.missing("key");
        WG_RETURN_IF_ERROR(h.getString("key", name));
        WG_RETURN_IF_ERROR(checkMutableHeader(name, h.pathOf("key")));
        WG_RETURN_IF_ERROR(h.getString("value", value));
        return h.unsupported("raw_value", "use value");
      }));
      HeaderAppendAction action = HeaderAppendAction::AppendIfExistsOrAdd;
      if (opt.has("append") && opt.has("append_action"))
        return fieldError(opt.pathOf("append_action"), "cannot be combined with append");
      std::optional<bool> append;
      WG_RETURN_IF_ERROR(opt.getBool("append", append));
      if (append && !*append)
        action = HeaderAppendAction::OverwriteIfExistsOrAdd;
      WG_RETURN_IF_ERROR(opt.getEnum<HeaderAppendAction>(
          "append_action", action,
          {{"APPEND_IF_EXISTS_OR_ADD", HeaderAppendAction::AppendIfExistsOrAdd},
           {"ADD_IF_ABSENT", HeaderAppendAction::AddIfAbsent},
           {"OVERWRITE_IF_EXISTS_OR_ADD", HeaderAppendAction::OverwriteIfExistsOrAdd},
           {"OVERWRITE_IF_EXISTS", HeaderAppendAction::OverwriteIfExists}}));
      bool keep_empty_value = false;
      WG_RETURN_IF_ERROR(opt.getBool("keep_empty_value", keep_empty_value));
      if (keep_empty_value)
        return opt.unsupportedValue("keep_empty_value", "true", "empty header values are always dropped");
      out.emplace_back(std::move(name), std::move(value));
      actions.push_back(action);
      return okStatus();
    });
  });
}

Status parseHeadersToRemove(ObjectReader& r, std::string_view key, std::vector<std::string>& out) {
  return r.getList(key, [&](const YAML::Node& element, const std::string& path, size_t) {
    auto name = nodeString(element, path);
    if (!name.ok())
      return name.status();
    WG_RETURN_IF_ERROR(checkMutableHeader(*name, path));
    out.push_back(std::move(*name));
    return okStatus();
  });
}

Status checkRegex(const std::string& regex, const std::string& path) {
  RE2::Options options;
  options.set_log_errors(false);
  RE2 re(regex, options);
  if (re.ok())
    return okStatus();
  // RE2 appends ": <offending fragment>"; the pattern is already in the message.
  std::string why = re.error();
  const std::string suffix = ": " + re.error_arg();
  if (!re.error_arg().empty() && why.size() > suffix.size() &&
      why.compare(why.size() - suffix.size(), suffix.size(), suffix) == 0)
    why.resize(why.size() - suffix.size());
  return fieldError(path, "invalid regex '" + regex + "': " + why);
}

namespace {

Status parseAdmin(ObjectReader& r, Admin& out) {
  if (r.has("address")) {
    SocketAddress address;
    WG_RETURN_IF_ERROR(parseAddress(r.take("address"), r.pathOf("address"),
                                    {.need_ip = true, .need_port = true, .who = "admin"}, address));
    out.address = address;
  }
  WG_RETURN_IF_ERROR(r.getString("access_log_path", out.access_log_path));
  WG_RETURN_IF_ERROR(r.unsupported("access_log", "admin access logs go to access_log_path"));
  // There is no CPU profiler endpoint, so its output path has nothing to configure.
  r.ignore("profile_path");
  return r.unsupported("socket_options", "socket options are not implemented");
}

Status parseBootstrap(const YAML::Node& root, Bootstrap& out) {
  if (!root || root.IsNull() || (root.IsScalar() && root.Scalar().empty()))
    return Status::error("empty configuration");
  if (!root.IsMap())
    return Status::error("configuration must be a map, got " + describeNode(root));
  LoadContext ctx;
  WG_RETURN_IF_ERROR(readObject(root, "", [&](ObjectReader& r) -> Status {
    WG_RETURN_IF_ERROR(r.getObject("static_resources", [&](ObjectReader& sr) -> Status {
      WG_RETURN_IF_ERROR(sr.getList("listeners", [&](const YAML::Node& e, const std::string& path, size_t i) {
        Listener listener;
        WG_RETURN_IF_ERROR(parseListener(e, path, i, ctx, listener));
        for (const auto& l : out.listeners) {
          if (l.name == listener.name)
            return fieldError(joinPath(path, "name"), "duplicate listener name '" + listener.name + "'");
          // Port 0 asks the OS for a fresh port, so those never collide.
          if (listener.address.port != 0 && l.address.port == listener.address.port &&
              l.address.address == listener.address.address)
            return fieldError(joinPath(path, "address"),
                              "duplicate address " + listener.address.address + ":" +
                                  std::to_string(listener.address.port) + " (also used by listener '" +
                                  l.name + "')");
        }
        out.listeners.push_back(std::move(listener));
        return okStatus();
      }));
      WG_RETURN_IF_ERROR(sr.getList("clusters", [&](const YAML::Node& e, const std::string& path, size_t) {
        Cluster cluster;
        WG_RETURN_IF_ERROR(parseCluster(e, path, cluster));
        for (const auto& c : out.clusters)
          if (c.name == cluster.name)
            return fieldError(joinPath(path, "name"), "duplicate cluster name '" + cluster.name + "'");
        out.clusters.push_back(std::move(cluster));
        return okStatus();
      }));
      return sr.unsupported("secrets", "TLS is not implemented yet");
    }));
    WG_RETURN_IF_ERROR(r.getObject("admin", [&](ObjectReader& a) { return parseAdmin(a, out.admin); }));
    WG_RETURN_IF_ERROR(r.getObject("node", [&](ObjectReader& n) -> Status {
      WG_RETURN_IF_ERROR(n.getString("id", out.node_id));
      WG_RETURN_IF_ERROR(n.getString("cluster", out.node_cluster));
      // Only reported to management servers, which wasmgate does not talk to.
      n.ignore("metadata");
      n.ignore("locality");
      return okStatus();
    }));
    WG_RETURN_IF_ERROR(r.getList("bootstrap_extensions", [&](const YAML::Node& e, const std::string& path, size_t) {
      return readObject(e, path, [&](ObjectReader& x) -> Status {
        BootstrapExtension ext;
        ext.path = path;
        WG_RETURN_IF_ERROR(x.requireString("name", ext.name));
        if (!x.has("typed_config"))
          return x.missing("typed_config");
        auto tc = parseTypedConfig(x.take("typed_config"), x.pathOf("typed_config"));
        if (!tc.ok())
          return tc.status();
        ext.type_url = tc->type_url;
        ext.typed_config = tc->body;
        ext.typed_config_path = tc->body_path;
        out.bootstrap_extensions.push_back(std::move(ext));
        return okStatus();
      });
    }));
    // Runtime layers only feed runtime feature flags, and wasmgate has none to override.
    r.ignore("layered_runtime");
    WG_RETURN_IF_ERROR(r.getObject("stats_config", [&](ObjectReader& sc) -> Status {
      WG_RETURN_IF_ERROR(sc.getList("stats_tags", [&](const YAML::Node& e, const std::string& path, size_t) {
        return readObject(e, path, [&](ObjectReader& t) -> Status {
          StatsTag tag;
          WG_RETURN_IF_ERROR(t.requireString("tag_name", tag.tag_name));
          WG_RETURN_IF_ERROR(t.unsupported("fixed_value", "only regex tag extractors are supported"));
          WG_RETURN_IF_ERROR(t.requireString("regex", tag.regex));
          tag.path = t.pathOf("regex");
          out.stats_tags.push_back(std::move(tag));
          return okStatus();
        });
      }));
      bool all_default_tags = true;
      WG_RETURN_IF_ERROR(sc.getBool("use_all_default_tags", all_default_tags));
      if (!all_default_tags)
        return fieldError(sc.pathOf("use_all_default_tags"),
                          "unsupported (false): Envoy's default tag extractors are always on");
      WG_RETURN_IF_ERROR(sc.unsupported("stats_matcher", "every stat is kept"));
      return sc.unsupported("histogram_bucket_settings", "histograms use Envoy's default buckets");
    }));
    for (std::string_view key : {"stats_sinks", "dynamic_resources", "cluster_manager",
                                 "overload_manager", "tracing", "watchdog", "watchdogs", "hds_config",
                                 "stats_flush_interval", "runtime"})
      WG_RETURN_IF_ERROR(r.unsupported(key, ""));
    return okStatus();
  }));

  std::set<std::string> clusters;
  for (const auto& c : out.clusters)
    clusters.insert(c.name);
  for (const auto& ref : ctx.cluster_refs)
    if (!clusters.count(ref.cluster))
      return fieldError(ref.path, "unknown cluster '" + ref.cluster + "'");
  return okStatus();
}

// `source` prefixes YAML syntax errors: a file name, or empty for in-memory text.
Result<Bootstrap> loadFromText(std::string_view text, const std::string& source) {
  try {
    std::vector<YAML::Node> docs = YAML::LoadAll(std::string(text));
    if (docs.size() > 1)
      return Status::error((source.empty() ? std::string() : source + ": ") +
                           "expected one YAML document, found " + std::to_string(docs.size()));
    Bootstrap bootstrap;
    WG_RETURN_IF_ERROR(parseBootstrap(docs.empty() ? YAML::Node() : docs[0], bootstrap));
    return bootstrap;
  } catch (const YAML::ParserException& e) {
    std::string where = std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    if (source.empty())
      return Status::error("line " + std::to_string(e.mark.line + 1) + ", column " +
                           std::to_string(e.mark.column + 1) + ": invalid YAML: " + e.msg);
    return Status::error(source + ":" + where + ": invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    // The loader itself never throws on purpose; this keeps a yaml-cpp surprise from escaping.
    return Status::error((source.empty() ? std::string() : source + ": ") +
                         "failed to load configuration: " + e.what());
  }
}

} // namespace
} // namespace detail

Result<Bootstrap> loadBootstrapFromString(std::string_view yaml_or_json, const std::string& source) {
  return detail::loadFromText(yaml_or_json, source);
}

Result<Bootstrap> loadBootstrapFromFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot read file: " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad())
    return Status::error(path + ": cannot read file: " + std::strerror(errno));
  return detail::loadFromText(ss.str(), path);
}

} // namespace wasmgate::config
