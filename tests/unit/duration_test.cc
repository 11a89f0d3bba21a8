#include "config/duration.h"

#include <gtest/gtest.h>

namespace wasmgate::config {
namespace {

using namespace std::chrono_literals;

std::chrono::milliseconds ms(const std::string& yaml) {
  auto r = parseDuration(YAML::Load(yaml), "x.timeout");
  EXPECT_TRUE(r.ok()) << r.error();
  return r.ok() ? *r : std::chrono::milliseconds(-1);
}

std::string err(const std::string& yaml) {
  auto r = parseDuration(YAML::Load(yaml), "x.timeout");
  EXPECT_FALSE(r.ok());
  return r.error();
}

TEST(ConfigDurationTest, StringForms) {
  EXPECT_EQ(ms("0.25s"), 250ms);
  EXPECT_EQ(ms("5s"), 5000ms);
  EXPECT_EQ(ms("1.5s"), 1500ms);
  EXPECT_EQ(ms("0s"), 0ms);
  EXPECT_EQ(ms("300s"), 300000ms);
  EXPECT_EQ(ms("\"0.001s\""), 1ms);
}

TEST(ConfigDurationTest, SubMillisecondRoundsUp) {
  EXPECT_EQ(ms("1.000000001s"), 1001ms);
  EXPECT_EQ(ms("0.000000001s"), 1ms);
  EXPECT_EQ(ms("0.0005s"), 1ms);
  EXPECT_EQ(ms("0.000000000s"), 0ms);
}

TEST(ConfigDurationTest, ObjectForm) {
  EXPECT_EQ(ms("{seconds: 1, nanos: 500000000}"), 1500ms);
  EXPECT_EQ(ms("{seconds: 3}"), 3000ms);
  EXPECT_EQ(ms("{nanos: 1}"), 1ms);
  EXPECT_EQ(ms("{seconds: \"2\"}"), 2000ms);
  EXPECT_EQ(ms("{}"), 0ms);
}

TEST(ConfigDurationTest, PureStringParser) {
  auto r = parseDurationString("1.000000001s");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, std::chrono::nanoseconds(1000000001));
  EXPECT_EQ(*parseDurationString("0.25s"), 250ms);
  EXPECT_FALSE(parseDurationString("1.0000000001s").ok()); // 10 fractional digits
  EXPECT_FALSE(parseDurationString("").ok());
  EXPECT_FALSE(parseDurationString("s").ok());
  EXPECT_FALSE(parseDurationString("1.s").ok());
  EXPECT_FALSE(parseDurationString(".5s").ok());
  EXPECT_FALSE(parseDurationString("1e3s").ok());
  EXPECT_FALSE(parseDurationString("99999999999999999999s").ok());
}

TEST(ConfigDurationTest, Errors) {
  EXPECT_EQ(err("5"), "x.timeout: invalid duration '5' (expected e.g. \"0.25s\" or {seconds, nanos})");
  EXPECT_EQ(err("5ms"), "x.timeout: invalid duration '5ms' (expected e.g. \"0.25s\" or {seconds, nanos})");
  EXPECT_EQ(err("-1s"), "x.timeout: invalid duration '-1s' (must not be negative)");
  EXPECT_EQ(err("abc"), "x.timeout: invalid duration 'abc' (expected e.g. \"0.25s\" or {seconds, nanos})");
  EXPECT_EQ(err("5 seconds"),
            "x.timeout: invalid duration '5 seconds' (expected e.g. \"0.25s\" or {seconds, nanos})");
  EXPECT_EQ(err("{seconds: x}"), "x.timeout.seconds: expected an integer, got 'x'");
  EXPECT_EQ(err("{seconds: \"x\"}"), "x.timeout.seconds: expected an integer, got 'x'");
  EXPECT_EQ(err("{seconds: -1}"), "x.timeout.seconds: must not be negative, got '-1'");
  EXPECT_EQ(err("{nanos: 1000000000}"), "x.timeout.nanos: 1000000000 is out of range 0..999999999");
  EXPECT_EQ(err("{nanos: 1.5}"), "x.timeout.nanos: expected an integer, got '1.5'");
  EXPECT_EQ(err("{seconds: 1, minutes: 2}"),
            "x.timeout.minutes: unknown field (a duration has seconds and nanos)");
  EXPECT_EQ(err("[1]"), "x.timeout: invalid duration, got a list (expected e.g. \"0.25s\" or {seconds, nanos})");
}

} // namespace
} // namespace wasmgate::config
