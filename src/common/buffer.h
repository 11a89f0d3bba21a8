#pragma once

// A contiguous byte buffer with a movable read head: sockets read into the tail, parsers and
// writers consume from the head. Contiguity keeps the parser zero-copy; the head is compacted
// lazily so draining is O(1) in the common case.

#include <cstddef>
#include <cstring>
#include <string_view>
#include <vector>

namespace wasmgate {

class Buffer {
public:
  const char* data() const { return storage_.data() + head_; }
  char* mutableData() { return storage_.data() + head_; }
  size_t size() const { return tail_ - head_; }
  bool empty() const { return tail_ == head_; }
  std::string_view view() const { return {data(), size()}; }

  void append(std::string_view s) { append(s.data(), s.size()); }
  void append(const char* p, size_t n) {
    if (n == 0)
      return;
    char* dst = prepareWrite(n);
    std::memcpy(dst, p, n);
    commit(n);
  }
  void append(const Buffer& other) { append(other.data(), other.size()); }
  // Moves all of `other` to the end of this buffer (swaps storage when this one is empty).
  void move(Buffer& other) {
    if (empty() && other.head_ == 0) {
      storage_.swap(other.storage_);
      head_ = 0;
      tail_ = other.tail_;
      other.head_ = other.tail_ = 0;
      return;
    }
    append(other);
    other.clear();
  }
  void prepend(std::string_view s) {
    if (s.empty())
      return;
    if (s.size() <= head_) {
      head_ -= s.size();
      std::memcpy(storage_.data() + head_, s.data(), s.size());
      return;
    }
    std::vector<char> n(s.size() + size());
    std::memcpy(n.data(), s.data(), s.size());
    if (size())
      std::memcpy(n.data() + s.size(), data(), size());
    tail_ = n.size();
    head_ = 0;
    storage_.swap(n);
  }

  // Returns space for at least `n` bytes at the tail; commit() what was actually written.
  char* prepareWrite(size_t n) {
    if (storage_.size() - tail_ < n) {
      if (head_ > 0 && storage_.size() - size() >= n && head_ >= size()) {
        compact();
      } else {
        size_t want = size() + n;
        size_t cap = storage_.empty() ? 4096 : storage_.size();
        while (cap < want)
          cap *= 2;
        if (head_ > 0)
          compact();
        storage_.resize(cap);
      }
    }
    return storage_.data() + tail_;
  }
  void commit(size_t n) { tail_ += n; }

  void drain(size_t n) {
    if (n >= size()) {
      head_ = tail_ = 0;
      return;
    }
    head_ += n;
  }
  void clear() { head_ = tail_ = 0; }
  // Releases memory held by a large, now empty buffer (after a big body went through).
  void shrinkIfIdle(size_t keep = 64 * 1024) {
    if (empty() && storage_.size() > keep) {
      std::vector<char>().swap(storage_);
      head_ = tail_ = 0;
    }
  }
  size_t capacity() const { return storage_.size(); }

private:
  void compact() {
    size_t n = size();
    if (n)
      std::memmove(storage_.data(), data(), n);
    head_ = 0;
    tail_ = n;
  }

  std::vector<char> storage_;
  size_t head_ = 0;
  size_t tail_ = 0;
};

} // namespace wasmgate
