#include "common/flat_id_map.h"

#include <map>
#include <memory>
#include <random>
#include <string>

#include <gtest/gtest.h>

namespace wasmgate {
namespace {

TEST(FlatIdMap, InsertFindErase) {
  FlatIdMap<std::string> m;
  EXPECT_EQ(m.find(1), nullptr);
  EXPECT_EQ(m.find(0), nullptr);
  auto [v, inserted] = m.tryEmplace(7);
  ASSERT_TRUE(inserted);
  *v = "seven";
  EXPECT_FALSE(m.tryEmplace(7).second);
  EXPECT_EQ(*m.find(7), "seven");
  EXPECT_TRUE(m.contains(7));
  EXPECT_EQ(m.size(), 1u);
  EXPECT_FALSE(m.erase(8));
  EXPECT_TRUE(m.erase(7));
  EXPECT_FALSE(m.contains(7));
  EXPECT_EQ(m.size(), 0u);
}

TEST(FlatIdMap, ErasedValuesAreReleased) {
  FlatIdMap<std::shared_ptr<int>> m;
  auto p = std::make_shared<int>(1);
  *m.tryEmplace(3).first = p;
  EXPECT_EQ(p.use_count(), 2);
  m.erase(3);
  EXPECT_EQ(p.use_count(), 1);
}

// Random inserts and erases (sequential ids as the instance allocates them, and random ones
// that collide) against std::map, through several growths and many backward shifts.
TEST(FlatIdMap, MatchesAnOrderedMap) {
  std::mt19937 rng(42);
  FlatIdMap<uint32_t> m;
  std::map<uint32_t, uint32_t> ref;
  uint32_t next = 1;
  for (int step = 0; step < 200000; ++step) {
    const uint32_t r = rng();
    uint32_t key;
    if (r % 3 == 0)
      key = next++;
    else if (r % 3 == 1 && !ref.empty())
      key = std::next(ref.begin(), rng() % ref.size())->first;
    else
      key = 1 + rng() % 4096;
    if (rng() % 2 == 0 || ref.size() > 3000) {
      EXPECT_EQ(m.erase(key), ref.erase(key) == 1);
    } else {
      auto [v, inserted] = m.tryEmplace(key);
      EXPECT_EQ(inserted, !ref.count(key));
      *v = key ^ 0x5a5a;
      ref[key] = key ^ 0x5a5a;
    }
    if (step % 1000 == 0) {
      ASSERT_EQ(m.size(), ref.size());
      for (auto [k, value] : ref) {
        const uint32_t* found = m.find(k);
        ASSERT_NE(found, nullptr) << k;
        ASSERT_EQ(*found, value);
      }
    }
  }
}

} // namespace
} // namespace wasmgate
