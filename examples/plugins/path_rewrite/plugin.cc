// path_rewrite: rewrites the request :path with the first matching regular expression.
//
// Configuration (JSON), a list of rules tried in order; the first match wins:
//   {"rewrites": [{"regex_match": "...", "custom_path": "/anything"}]}
//       The wasme path_rewrite tutorial's format: the regex must match the WHOLE :path (query
//       included) and the path becomes custom_path ($1..$9 refer to capture groups).
//   {"rewrites": [{"pattern": "^/api/v1/(.*)", "replacement": "/v2/$1"}]}
//       Search-and-replace: the first occurrence of pattern in :path is replaced.
// Both forms may be mixed. Regexes are ECMAScript (std::regex) and compiled once, at
// configuration time.
// NOLINT(namespace-envoy)
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(path_rewrite)

struct PathRewriteRule {
  std::string source; // the pattern as configured, for logs
  std::regex regex;
  std::string replacement;
  bool whole_path; // regex_match + custom_path (true) or pattern + replacement (false)
};

class PathRewriteRootContext : public RootContext {
public:
  explicit PathRewriteRootContext(uint32_t id, std::string_view root_id)
      : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override;

  // The new path, or nullopt when no rule matches.
  std::optional<std::string> rewrite(const std::string &path) const;

  std::vector<PathRewriteRule> rewrites_;
};

class PathRewriteContext : public Context {
public:
  explicit PathRewriteContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<PathRewriteRootContext *>(root)) {}

  FilterHeadersStatus onRequestHeaders(uint32_t headers, bool end_of_stream) override;

private:
  PathRewriteRootContext *root_;
};

static RegisterContextFactory register_PathRewriteContext(CONTEXT_FACTORY(PathRewriteContext),
                                                          ROOT_FACTORY(PathRewriteRootContext),
                                                          "path_rewrite_root_id");
static RegisterContextFactory
    register_PathRewriteContextDefault(CONTEXT_FACTORY(PathRewriteContext),
                                       ROOT_FACTORY(PathRewriteRootContext));

bool PathRewriteRootContext::onConfigure(size_t configuration_size) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  std::string error;
  auto config = minijson::parse(conf->view(), &error);
  if (!config || !config->isObject() || !config->get("rewrites").isArray()) {
    LOG_ERROR("path_rewrite: the configuration must be {\"rewrites\": [...]}" +
              (error.empty() ? std::string() : ": " + error));
    return false;
  }
  std::vector<PathRewriteRule> rules;
  for (const auto &rule : config->get("rewrites").items()) {
    const bool whole_path = rule.has("regex_match");
    const auto &pattern = rule.get(whole_path ? "regex_match" : "pattern");
    const auto &replacement = rule.get(whole_path ? "custom_path" : "replacement");
    if (!pattern.isString() || pattern.asString().empty() || !replacement.isString()) {
      LOG_ERROR("path_rewrite: rewrite " + std::to_string(rules.size()) +
                " needs \"regex_match\" and \"custom_path\", or \"pattern\" and \"replacement\"");
      return false;
    }
    if (replacement.asString().empty() || replacement.asString()[0] != '/') {
      LOG_ERROR("path_rewrite: the replacement path of rewrite " + std::to_string(rules.size()) +
                " must start with '/'");
      return false;
    }
    // Compiled here, not per request. Note: built without exceptions, an invalid regex
    // aborts the VM, which rejects the configuration as returning false would.
    rules.push_back(PathRewriteRule{pattern.asString(),
                                    std::regex(pattern.asString(), std::regex::ECMAScript),
                                    replacement.asString(), whole_path});
  }
  rewrites_ = std::move(rules);
  LOG_INFO("path_rewrite: " + std::to_string(rewrites_.size()) + " rewrite rule(s) configured");
  return true;
}

std::optional<std::string> PathRewriteRootContext::rewrite(const std::string &path) const {
  for (const auto &rule : rewrites_) {
    std::smatch match;
    if (rule.whole_path) {
      if (std::regex_match(path, match, rule.regex)) {
        return match.format(rule.replacement);
      }
    } else if (std::regex_search(path, match, rule.regex)) {
      return std::string(match.prefix()) + match.format(rule.replacement) +
             std::string(match.suffix());
    }
  }
  return std::nullopt;
}

FilterHeadersStatus PathRewriteContext::onRequestHeaders(uint32_t, bool) {
  // Envoy keeps the request path in the :path pseudo-header.
  auto path = getRequestHeader(":path");
  std::string path_string = path->toString();
  if (path_string.empty()) {
    return FilterHeadersStatus::Continue;
  }
  auto rewritten = root_->rewrite(path_string);
  if (rewritten && *rewritten != path_string) {
    LOG_DEBUG("path_rewrite: " + path_string + " -> " + *rewritten);
    replaceRequestHeader(":path", *rewritten);
  }
  return FilterHeadersStatus::Continue;
}

END_WASM_PLUGIN

WASMGATE_NULL_PLUGIN(path_rewrite)
