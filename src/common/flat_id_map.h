#pragma once

// A hash map from non-zero 32-bit ids to values, stored in one array (open addressing, linear
// probing, Fibonacci hashing, backward-shift deletion): inserting and erasing an entry allocate
// nothing once the table has grown to the working set, which matters for per-stream
// registrations on the request path. Pointers to values are invalidated by tryEmplace (growth)
// and erase (entries shift back), like std::vector's.

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace wasmgate {

template <class V> class FlatIdMap {
public:
  size_t size() const { return size_; }

  V* find(uint32_t key) {
    if (key == 0 || slots_.empty())
      return nullptr;
    for (size_t i = home(key);; i = (i + 1) & mask_) {
      if (slots_[i].key == key)
        return &slots_[i].value;
      if (slots_[i].key == 0)
        return nullptr;
    }
  }
  const V* find(uint32_t key) const { return const_cast<FlatIdMap*>(this)->find(key); }
  bool contains(uint32_t key) const { return find(key) != nullptr; }

  // The value for `key` (which must not be 0), default-constructed if new; second is true when
  // it was inserted.
  std::pair<V*, bool> tryEmplace(uint32_t key) {
    if (V* v = find(key))
      return {v, false};
    if ((size_ + 1) * 2 > slots_.size())
      grow();
    size_t i = home(key);
    while (slots_[i].key != 0)
      i = (i + 1) & mask_;
    slots_[i].key = key;
    ++size_;
    return {&slots_[i].value, true};
  }

  bool erase(uint32_t key) {
    if (key == 0 || slots_.empty())
      return false;
    size_t hole = home(key);
    while (slots_[hole].key != key) {
      if (slots_[hole].key == 0)
        return false;
      hole = (hole + 1) & mask_;
    }
    // Shift back each later entry of the run that may live in the hole (its home is not
    // cyclically within (hole, j]), so lookups never meet a gap before their key.
    for (size_t j = (hole + 1) & mask_; slots_[j].key != 0; j = (j + 1) & mask_) {
      const size_t h = home(slots_[j].key);
      const bool stays = hole < j ? (h > hole && h <= j) : (h > hole || h <= j);
      if (stays)
        continue;
      slots_[hole] = std::move(slots_[j]);
      hole = j;
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

private:
  struct Slot {
    uint32_t key = 0; // 0: empty
    V value{};
  };

  size_t home(uint32_t key) const { return size_t((key * 0x9E3779B9u) >> shift_) & mask_; }

  void grow() {
    std::vector<Slot> old = std::move(slots_);
    const size_t capacity = old.empty() ? 16 : old.size() * 2;
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    shift_ = 32;
    for (size_t c = capacity; c > 1; c >>= 1)
      --shift_; // 32 - log2(capacity): the hash's top bits
    size_ = 0;
    for (Slot& s : old)
      if (s.key != 0)
        *tryEmplace(s.key).first = std::move(s.value);
  }

  std::vector<Slot> slots_;
  size_t size_ = 0;
  size_t mask_ = 0;
  uint32_t shift_ = 32;
};

} // namespace wasmgate
