// A small JSON reader for plugin configuration (optional; not part of the upstream SDK API).
//
// Plugins are built with -fno-exceptions, so parse errors are reported through the return value
// instead of throwing, and looking at a value of the wrong type returns a default instead of
// aborting. Good for the few-kilobyte configuration documents plugins receive; not a streaming
// or high-performance parser.
//
//   std::string error;
//   auto doc = minijson::parse(getConfiguration()->view(), &error);
//   if (!doc) { LOG_ERROR("bad configuration: " + error); return false; }
//   std::string name = doc->get("name").asString();
// NOLINT(namespace-envoy)
#pragma once

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace minijson {

class Value {
public:
  enum class Type { Null, Bool, Number, String, Array, Object };

  Value() = default;
  static Value makeBool(bool b) {
    Value v;
    v.type_ = Type::Bool;
    v.bool_ = b;
    return v;
  }
  static Value makeNumber(double d) {
    Value v;
    v.type_ = Type::Number;
    v.number_ = d;
    return v;
  }
  static Value makeString(std::string s) {
    Value v;
    v.type_ = Type::String;
    v.string_ = std::move(s);
    return v;
  }
  static Value makeArray() {
    Value v;
    v.type_ = Type::Array;
    return v;
  }
  static Value makeObject() {
    Value v;
    v.type_ = Type::Object;
    return v;
  }

  Type type() const { return type_; }
  bool isNull() const { return type_ == Type::Null; }
  bool isBool() const { return type_ == Type::Bool; }
  bool isNumber() const { return type_ == Type::Number; }
  bool isString() const { return type_ == Type::String; }
  bool isArray() const { return type_ == Type::Array; }
  bool isObject() const { return type_ == Type::Object; }

  // Typed reads fall back to `def` when the value has another type.
  bool asBool(bool def = false) const { return isBool() ? bool_ : def; }
  double asNumber(double def = 0) const { return isNumber() ? number_ : def; }
  const std::string &asString() const {
    static const std::string empty;
    return isString() ? string_ : empty;
  }
  std::string asString(std::string_view def) const {
    return isString() ? string_ : std::string(def);
  }

  // Arrays (empty for other types).
  const std::vector<Value> &items() const { return items_; }

  // Objects: members in document order; get() returns a Null value for a missing key, so
  // lookups chain: doc.get("a").get("b").asString().
  const std::vector<std::pair<std::string, Value>> &members() const { return members_; }
  bool has(std::string_view key) const { return find(key) != nullptr; }
  const Value *find(std::string_view key) const {
    // The last duplicate key wins, as in most parsers.
    for (auto it = members_.rbegin(); it != members_.rend(); ++it)
      if (it->first == key)
        return &it->second;
    return nullptr;
  }
  const Value &get(std::string_view key) const {
    static const Value null_value;
    const Value *v = find(key);
    return v ? *v : null_value;
  }

  void push(Value v) { items_.push_back(std::move(v)); }
  void set(std::string key, Value v) { members_.emplace_back(std::move(key), std::move(v)); }

private:
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::vector<Value> items_;
  std::vector<std::pair<std::string, Value>> members_;
};

namespace detail {

class Parser {
public:
  explicit Parser(std::string_view text) : text_(text) {}

  std::optional<Value> parseDocument(std::string *error) {
    Value v;
    skipSpace();
    if (!parseValue(v, 0)) {
      return fail(error);
    }
    skipSpace();
    if (pos_ != text_.size()) {
      error_ = "unexpected trailing characters";
      return fail(error);
    }
    return v;
  }

private:
  static constexpr int kMaxDepth = 64;

  std::optional<Value> fail(std::string *error) {
    if (error)
      *error = error_ + " at offset " + std::to_string(pos_);
    return std::nullopt;
  }

  bool setError(const char *message) {
    if (error_.empty())
      error_ = message;
    return false;
  }

  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      pos_++;
  }

  bool consume(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word)
      return false;
    pos_ += word.size();
    return true;
  }

  bool parseValue(Value &out, int depth) {
    if (depth > kMaxDepth)
      return setError("nesting too deep");
    if (pos_ >= text_.size())
      return setError("unexpected end of input");
    switch (text_[pos_]) {
    case '{':
      return parseObject(out, depth);
    case '[':
      return parseArray(out, depth);
    case '"': {
      std::string s;
      if (!parseString(s))
        return false;
      out = Value::makeString(std::move(s));
      return true;
    }
    case 't':
      if (!consume("true"))
        return setError("invalid literal");
      out = Value::makeBool(true);
      return true;
    case 'f':
      if (!consume("false"))
        return setError("invalid literal");
      out = Value::makeBool(false);
      return true;
    case 'n':
      if (!consume("null"))
        return setError("invalid literal");
      out = Value();
      return true;
    default:
      return parseNumber(out);
    }
  }

  bool parseObject(Value &out, int depth) {
    out = Value::makeObject();
    pos_++; // '{'
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == '}') {
      pos_++;
      return true;
    }
    while (true) {
      skipSpace();
      if (pos_ >= text_.size() || text_[pos_] != '"')
        return setError("expected a string key");
      std::string key;
      if (!parseString(key))
        return false;
      skipSpace();
      if (pos_ >= text_.size() || text_[pos_] != ':')
        return setError("expected ':'");
      pos_++;
      skipSpace();
      Value v;
      if (!parseValue(v, depth + 1))
        return false;
      out.set(std::move(key), std::move(v));
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == '}') {
        pos_++;
        return true;
      }
      return setError("expected ',' or '}'");
    }
  }

  bool parseArray(Value &out, int depth) {
    out = Value::makeArray();
    pos_++; // '['
    skipSpace();
    if (pos_ < text_.size() && text_[pos_] == ']') {
      pos_++;
      return true;
    }
    while (true) {
      skipSpace();
      Value v;
      if (!parseValue(v, depth + 1))
        return false;
      out.push(std::move(v));
      skipSpace();
      if (pos_ < text_.size() && text_[pos_] == ',') {
        pos_++;
        continue;
      }
      if (pos_ < text_.size() && text_[pos_] == ']') {
        pos_++;
        return true;
      }
      return setError("expected ',' or ']'");
    }
  }

  static void appendUtf8(std::string &s, uint32_t cp) {
    if (cp < 0x80) {
      s.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      s.push_back(static_cast<char>(0xC0 | (cp >> 6)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      s.push_back(static_cast<char>(0xE0 | (cp >> 12)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  bool parseHex4(uint32_t &out) {
    if (pos_ + 4 > text_.size())
      return setError("truncated \\u escape");
    out = 0;
    for (int i = 0; i < 4; i++) {
      char c = text_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= uint32_t(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= uint32_t(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= uint32_t(c - 'A' + 10);
      else
        return setError("invalid \\u escape");
    }
    return true;
  }

  bool parseString(std::string &out) {
    pos_++; // opening quote
    while (pos_ < text_.size()) {
      char c = text_[pos_++];
      if (c == '"')
        return true;
      if (static_cast<unsigned char>(c) < 0x20)
        return setError("control character in string");
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      if (pos_ >= text_.size())
        break;
      char e = text_[pos_++];
      switch (e) {
      case '"':
      case '\\':
      case '/':
        out.push_back(e);
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!parseHex4(cp))
          return false;
        if (cp >= 0xD800 && cp <= 0xDBFF) { // high surrogate: needs a low one
          uint32_t low = 0;
          if (!consume("\\u") || !parseHex4(low) || low < 0xDC00 || low > 0xDFFF)
            return setError("invalid surrogate pair");
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return setError("invalid surrogate pair");
        }
        appendUtf8(out, cp);
        break;
      }
      default:
        return setError("invalid escape");
      }
    }
    return setError("unterminated string");
  }

  bool parseNumber(Value &out) {
    const size_t start = pos_;
    auto digits = [&]() {
      size_t begin = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9')
        pos_++;
      return pos_ > begin;
    };
    if (pos_ < text_.size() && text_[pos_] == '-')
      pos_++;
    if (pos_ < text_.size() && text_[pos_] == '0') {
      pos_++;
    } else if (!digits()) {
      return setError("invalid value");
    }
    if (pos_ < text_.size() && text_[pos_] == '.') {
      pos_++;
      if (!digits())
        return setError("invalid number");
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      pos_++;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-'))
        pos_++;
      if (!digits())
        return setError("invalid number");
    }
    // The grammar is checked above; strtod needs a NUL-terminated copy.
    std::string number(text_.substr(start, pos_ - start));
    out = Value::makeNumber(std::strtod(number.c_str(), nullptr));
    return true;
  }

  std::string_view text_;
  size_t pos_ = 0;
  std::string error_;
};

} // namespace detail

// nullopt (and *error set) when `text` is not a single valid JSON value.
inline std::optional<Value> parse(std::string_view text, std::string *error = nullptr) {
  return detail::Parser(text).parseDocument(error);
}

} // namespace minijson
