#pragma once

// An ordered list of header (name, value) pairs. Names are stored lower-case, as HTTP/2 and
// Proxy-Wasm expect; pseudo-headers (":method", ":path", ":authority", ":scheme", ":status")
// carry the request/status line, as in Envoy, so filters and plugins see one shape.

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wasmgate::http {

inline char asciiLower(char c) { return (c >= 'A' && c <= 'Z') ? char(c + 32) : c; }

inline bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (asciiLower(a[i]) != asciiLower(b[i]))
      return false;
  return true;
}

inline std::string toLower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = asciiLower(c);
  return out;
}

class HeaderMap {
public:
  using Entry = std::pair<std::string, std::string>;

  // Returns the first value of `name` (lower-case), or nullptr.
  const std::string* get(std::string_view name) const {
    for (const auto& e : entries_)
      if (e.first == name)
        return &e.second;
    return nullptr;
  }
  std::string_view getView(std::string_view name) const {
    const std::string* v = get(name);
    return v ? std::string_view(*v) : std::string_view();
  }
  bool has(std::string_view name) const { return get(name) != nullptr; }

  // Appends an entry; `name` must already be lower-case.
  void add(std::string name, std::string value) {
    byte_size_ += name.size() + value.size();
    entries_.emplace_back(std::move(name), std::move(value));
  }
  void addCopy(std::string_view name, std::string_view value) {
    add(std::string(name), std::string(value));
  }
  // Replaces every value of `name` with one value (or adds it).
  void set(std::string_view name, std::string_view value) {
    bool replaced = false;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->first == name) {
        if (!replaced) {
          byte_size_ -= it->second.size();
          it->second.assign(value);
          byte_size_ += value.size();
          replaced = true;
          ++it;
        } else {
          byte_size_ -= it->first.size() + it->second.size();
          it = entries_.erase(it);
        }
      } else {
        ++it;
      }
    }
    if (!replaced)
      addCopy(name, value);
  }
  // Removes every entry of `name`; returns how many were removed.
  size_t remove(std::string_view name) {
    size_t n = 0;
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (it->first == name) {
        byte_size_ -= it->first.size() + it->second.size();
        it = entries_.erase(it);
        ++n;
      } else {
        ++it;
      }
    }
    return n;
  }
  template <class Pred> void removeIf(Pred pred) {
    for (auto it = entries_.begin(); it != entries_.end();) {
      if (pred(*it)) {
        byte_size_ -= it->first.size() + it->second.size();
        it = entries_.erase(it);
      } else {
        ++it;
      }
    }
  }
  void reserve(size_t n) { entries_.reserve(n); }
  void clear() {
    entries_.clear();
    byte_size_ = 0;
  }

  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  size_t byteSize() const { return byte_size_; }
  const std::vector<Entry>& entries() const { return entries_; }
  auto begin() const { return entries_.begin(); }
  auto end() const { return entries_.end(); }

  // Convenience accessors for the pseudo-headers.
  std::string_view method() const { return getView(":method"); }
  std::string_view path() const { return getView(":path"); }
  std::string_view authority() const { return getView(":authority"); }
  std::string_view scheme() const { return getView(":scheme"); }
  // Returns the :status as an integer, or 0 when absent or not a number.
  uint32_t status() const {
    std::string_view s = getView(":status");
    uint32_t v = 0;
    if (s.empty() || s.size() > 3)
      return 0;
    for (char c : s) {
      if (c < '0' || c > '9')
        return 0;
      v = v * 10 + uint32_t(c - '0');
    }
    return v;
  }

private:
  std::vector<Entry> entries_;
  size_t byte_size_ = 0;
};

} // namespace wasmgate::http
