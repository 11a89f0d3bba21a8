// body_redact: replaces sensitive text in response bodies before they leave the proxy.
//
// Configuration (JSON; every field optional):
//   {
//     "patterns": ["\\b(?:\\d[ -]?){12,18}\\d\\b"],  ECMAScript regexes (default: card numbers)
//     "literals": ["internal-token-123"],          exact strings
//     "replacement": "[REDACTED]",                  what each match becomes
//     "content_types": ["text/", "application/json"]  content-type prefixes to inspect
//                                                   (default: every response)
//   }
// The whole body is buffered (StopIterationAndBuffer) until end of stream, rewritten in one
// go, and written back with setBuffer; content-length is removed up front because the length
// changes. Compressed responses (content-encoding other than identity) pass unchanged.
// NOLINT(namespace-envoy)
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "proxy_wasm_intrinsics.h"
#include "contrib/minijson.h"

START_WASM_PLUGIN(body_redact)

// 13-19 digits, optionally grouped with spaces or dashes: most payment card numbers.
constexpr char kDefaultPattern[] = "\\b(?:\\d[ -]?){12,18}\\d\\b";

class BodyRedactRootContext : public RootContext {
public:
  explicit BodyRedactRootContext(uint32_t id, std::string_view root_id)
      : RootContext(id, root_id) {}

  bool onConfigure(size_t configuration_size) override;

  bool inspects(std::string_view content_type) const;
  // Returns the number of replacements made.
  size_t redact(std::string &body) const;

  std::vector<std::regex> patterns_;
  std::vector<std::string> literals_;
  std::vector<std::string> content_types_;
  std::string replacement_ = "[REDACTED]";
  uint32_t redactions_metric_ = 0;
};

class BodyRedactContext : public Context {
public:
  explicit BodyRedactContext(uint32_t id, RootContext *root)
      : Context(id, root), root_(static_cast<BodyRedactRootContext *>(root)) {}

  FilterHeadersStatus onResponseHeaders(uint32_t headers, bool end_of_stream) override;
  FilterDataStatus onResponseBody(size_t body_buffer_length, bool end_of_stream) override;
  FilterTrailersStatus onResponseTrailers(uint32_t trailers) override;

private:
  void redactBufferedBody(size_t body_size);

  BodyRedactRootContext *root_;
  bool active_ = false; // this response's body is buffered and redacted
};

static RegisterContextFactory register_BodyRedactContext(CONTEXT_FACTORY(BodyRedactContext),
                                                         ROOT_FACTORY(BodyRedactRootContext),
                                                         "body_redact_root_id");
static RegisterContextFactory
    register_BodyRedactContextDefault(CONTEXT_FACTORY(BodyRedactContext),
                                      ROOT_FACTORY(BodyRedactRootContext));

namespace {

bool readStringList(const minijson::Value &config, const char *field,
                    std::vector<std::string> *out) {
  const auto &list = config.get(field);
  if (list.isNull())
    return true;
  if (!list.isArray())
    return false;
  for (const auto &item : list.items()) {
    if (!item.isString() || item.asString().empty())
      return false;
    out->push_back(item.asString());
  }
  return true;
}

std::string lowercase(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

} // namespace

bool BodyRedactRootContext::onConfigure(size_t configuration_size) {
  auto conf = getBufferBytes(WasmBufferType::PluginConfiguration, 0, configuration_size);
  minijson::Value config = minijson::Value::makeObject();
  if (!conf->view().empty()) {
    std::string error;
    auto parsed = minijson::parse(conf->view(), &error);
    if (!parsed || !parsed->isObject()) {
      LOG_ERROR("body_redact: the configuration must be a JSON object: " + error);
      return false;
    }
    config = std::move(*parsed);
  }
  std::vector<std::string> patterns, literals, content_types;
  if (!readStringList(config, "patterns", &patterns) ||
      !readStringList(config, "literals", &literals) ||
      !readStringList(config, "content_types", &content_types)) {
    LOG_ERROR("body_redact: \"patterns\", \"literals\" and \"content_types\" must be lists of "
              "non-empty strings");
    return false;
  }
  if (patterns.empty() && literals.empty()) {
    patterns.push_back(kDefaultPattern);
  }
  const auto &replacement = config.get("replacement");
  if (!replacement.isNull() && !replacement.isString()) {
    LOG_ERROR("body_redact: \"replacement\" must be a string");
    return false;
  }
  replacement_ = replacement.asString("[REDACTED]");
  patterns_.clear();
  for (const auto &p : patterns) {
    // Built without exceptions: an invalid regex aborts the VM (configuration rejected).
    patterns_.emplace_back(p, std::regex::ECMAScript | std::regex::optimize);
  }
  literals_ = std::move(literals);
  content_types_.clear();
  for (const auto &t : content_types)
    content_types_.push_back(lowercase(t));
  if (redactions_metric_ == 0 && defineMetric(MetricType::Counter, "body_redact.redactions",
                                              &redactions_metric_) != WasmResult::Ok) {
    LOG_WARN("body_redact: could not define the redactions counter");
  }
  LOG_INFO("body_redact: " + std::to_string(patterns_.size()) + " pattern(s), " +
           std::to_string(literals_.size()) + " literal(s), replacement \"" + replacement_ + "\"");
  return true;
}

bool BodyRedactRootContext::inspects(std::string_view content_type) const {
  if (content_types_.empty())
    return true;
  const std::string type = lowercase(content_type);
  for (const auto &prefix : content_types_)
    if (type.compare(0, prefix.size(), prefix) == 0)
      return true;
  return false;
}

size_t BodyRedactRootContext::redact(std::string &body) const {
  size_t count = 0;
  for (const auto &literal : literals_) {
    for (size_t pos = body.find(literal); pos != std::string::npos;
         pos = body.find(literal, pos + replacement_.size())) {
      body.replace(pos, literal.size(), replacement_);
      count++;
    }
  }
  for (const auto &pattern : patterns_) {
    std::string out;
    auto begin = std::sregex_iterator(body.begin(), body.end(), pattern);
    auto end = std::sregex_iterator();
    size_t last = 0;
    bool matched = false;
    for (auto it = begin; it != end; ++it) {
      out.append(body, last, it->position() - last);
      out.append(replacement_);
      last = it->position() + it->length();
      matched = true;
      count++;
    }
    if (matched) {
      out.append(body, last, std::string::npos);
      body = std::move(out);
    }
  }
  return count;
}

FilterHeadersStatus BodyRedactContext::onResponseHeaders(uint32_t, bool end_of_stream) {
  if (end_of_stream) {
    return FilterHeadersStatus::Continue; // no body (e.g. HEAD, 204, 304)
  }
  auto encoding = getResponseHeader("content-encoding")->toString();
  if (!encoding.empty() && lowercase(encoding) != "identity") {
    LOG_DEBUG("body_redact: skipping a " + encoding + "-encoded response");
    return FilterHeadersStatus::Continue;
  }
  if (!root_->inspects(getResponseHeader("content-type")->view())) {
    return FilterHeadersStatus::Continue;
  }
  active_ = true;
  // The body length changes; the headers leave before the body is seen.
  removeResponseHeader("content-length");
  return FilterHeadersStatus::Continue;
}

FilterDataStatus BodyRedactContext::onResponseBody(size_t body_buffer_length, bool end_of_stream) {
  if (!active_) {
    return FilterDataStatus::Continue;
  }
  if (!end_of_stream) {
    // Keep buffering: the next call sees the whole body so far.
    return FilterDataStatus::StopIterationAndBuffer;
  }
  redactBufferedBody(body_buffer_length);
  return FilterDataStatus::Continue;
}

// With trailers, no body callback has end_of_stream set; the buffered body is rewritten here
// if the host still exposes it.
FilterTrailersStatus BodyRedactContext::onResponseTrailers(uint32_t) {
  if (active_) {
    size_t size = 0;
    uint32_t flags = 0;
    if (getBufferStatus(WasmBufferType::HttpResponseBody, &size, &flags) == WasmResult::Ok) {
      redactBufferedBody(size);
    } else {
      LOG_WARN("body_redact: the response has trailers and its body is no longer available");
      active_ = false;
    }
  }
  return FilterTrailersStatus::Continue;
}

void BodyRedactContext::redactBufferedBody(size_t body_size) {
  active_ = false;
  auto body = getBufferBytes(WasmBufferType::HttpResponseBody, 0, body_size);
  std::string text = body->toString();
  const size_t count = root_->redact(text);
  if (count == 0) {
    return;
  }
  // start 0, length = whole body: replace everything.
  if (setBuffer(WasmBufferType::HttpResponseBody, 0, body_size, text) != WasmResult::Ok) {
    LOG_ERROR("body_redact: could not replace the response body");
    return;
  }
  if (root_->redactions_metric_ != 0) {
    incrementMetric(root_->redactions_metric_, static_cast<int64_t>(count));
  }
  LOG_DEBUG("body_redact: " + std::to_string(count) + " redaction(s) in a " +
            std::to_string(body_size) + "-byte body");
}

END_WASM_PLUGIN

WASMGATE_NULL_PLUGIN(body_redact)
