// Every enum that crosses the ABI, against proxy-wasm-abi.md section 3.
#include <type_traits>

#include "gtest/gtest.h"
#include "proxy_wasm_intrinsics.h"

namespace {

template <typename E> constexpr long long v(E e) { return static_cast<long long>(e); }

// Enums travel as i32: 4 bytes.
static_assert(sizeof(WasmResult) == 4 && sizeof(LogLevel) == 4 && sizeof(WasmHeaderMapType) == 4 &&
              sizeof(WasmBufferType) == 4 && sizeof(WasmStreamType) == 4 &&
              sizeof(FilterHeadersStatus) == 4 && sizeof(FilterDataStatus) == 4 &&
              sizeof(FilterTrailersStatus) == 4 && sizeof(FilterStatus) == 4 &&
              sizeof(MetricType) == 4 && sizeof(GrpcStatus) == 4 && sizeof(CloseType) == 4);
static_assert(std::is_same_v<PeerType, CloseType> && std::is_same_v<BufferType, WasmBufferType>);

TEST(AbiValues, WasmResult) { // 3.1
  EXPECT_EQ(v(WasmResult::Ok), 0);
  EXPECT_EQ(v(WasmResult::NotFound), 1);
  EXPECT_EQ(v(WasmResult::BadArgument), 2);
  EXPECT_EQ(v(WasmResult::SerializationFailure), 3);
  EXPECT_EQ(v(WasmResult::ParseFailure), 4);
  EXPECT_EQ(v(WasmResult::BadExpression), 5);
  EXPECT_EQ(v(WasmResult::InvalidMemoryAccess), 6);
  EXPECT_EQ(v(WasmResult::Empty), 7);
  EXPECT_EQ(v(WasmResult::CasMismatch), 8);
  EXPECT_EQ(v(WasmResult::ResultMismatch), 9);
  EXPECT_EQ(v(WasmResult::InternalFailure), 10);
  EXPECT_EQ(v(WasmResult::BrokenConnection), 11);
  EXPECT_EQ(v(WasmResult::Unimplemented), 12);
  EXPECT_EQ(toString(WasmResult::CasMismatch), "CasMismatch");
  EXPECT_EQ(toString(static_cast<WasmResult>(99)), "WasmResult(99)");
}

TEST(AbiValues, LogLevel) { // 3.2
  EXPECT_EQ(v(LogLevel::trace), 0);
  EXPECT_EQ(v(LogLevel::debug), 1);
  EXPECT_EQ(v(LogLevel::info), 2);
  EXPECT_EQ(v(LogLevel::warn), 3);
  EXPECT_EQ(v(LogLevel::error), 4);
  EXPECT_EQ(v(LogLevel::critical), 5);
  EXPECT_EQ(v(LogLevel::Max), 5);
}

TEST(AbiValues, BufferType) { // 3.3
  EXPECT_EQ(v(WasmBufferType::HttpRequestBody), 0);
  EXPECT_EQ(v(WasmBufferType::HttpResponseBody), 1);
  EXPECT_EQ(v(WasmBufferType::NetworkDownstreamData), 2);
  EXPECT_EQ(v(WasmBufferType::NetworkUpstreamData), 3);
  EXPECT_EQ(v(WasmBufferType::HttpCallResponseBody), 4);
  EXPECT_EQ(v(WasmBufferType::GrpcReceiveBuffer), 5);
  EXPECT_EQ(v(WasmBufferType::VmConfiguration), 6);
  EXPECT_EQ(v(WasmBufferType::PluginConfiguration), 7);
  EXPECT_EQ(v(WasmBufferType::CallData), 8);
  EXPECT_EQ(v(WasmBufferType::MAX), 8);
  EXPECT_EQ(v(WasmBufferFlags::EndOfStream), 1); // 3.15
}

TEST(AbiValues, MapType) { // 3.4
  EXPECT_EQ(v(WasmHeaderMapType::RequestHeaders), 0);
  EXPECT_EQ(v(WasmHeaderMapType::RequestTrailers), 1);
  EXPECT_EQ(v(WasmHeaderMapType::ResponseHeaders), 2);
  EXPECT_EQ(v(WasmHeaderMapType::ResponseTrailers), 3);
  EXPECT_EQ(v(WasmHeaderMapType::GrpcReceiveInitialMetadata), 4);
  EXPECT_EQ(v(WasmHeaderMapType::GrpcReceiveTrailingMetadata), 5);
  EXPECT_EQ(v(WasmHeaderMapType::HttpCallResponseHeaders), 6);
  EXPECT_EQ(v(WasmHeaderMapType::HttpCallResponseTrailers), 7);
  EXPECT_EQ(v(WasmHeaderMapType::MAX), 7);
}

TEST(AbiValues, StreamType) { // 3.5
  EXPECT_EQ(v(WasmStreamType::Request), 0);
  EXPECT_EQ(v(WasmStreamType::Response), 1);
  EXPECT_EQ(v(WasmStreamType::Downstream), 2);
  EXPECT_EQ(v(WasmStreamType::Upstream), 3);
  EXPECT_EQ(v(WasmStreamType::MAX), 3);
}

TEST(AbiValues, CallbackResults) { // 3.7 - 3.11
  EXPECT_EQ(v(FilterHeadersStatus::Continue), 0);
  EXPECT_EQ(v(FilterHeadersStatus::StopIteration), 1);
  EXPECT_EQ(v(FilterHeadersStatus::ContinueAndEndStream), 2);
  EXPECT_EQ(v(FilterHeadersStatus::StopAllIterationAndBuffer), 3);
  EXPECT_EQ(v(FilterHeadersStatus::StopAllIterationAndWatermark), 4);
  EXPECT_EQ(v(FilterDataStatus::Continue), 0);
  EXPECT_EQ(v(FilterDataStatus::StopIterationAndBuffer), 1);
  EXPECT_EQ(v(FilterDataStatus::StopIterationAndWatermark), 2);
  EXPECT_EQ(v(FilterDataStatus::StopIterationNoBuffer), 3);
  EXPECT_EQ(v(FilterTrailersStatus::Continue), 0);
  EXPECT_EQ(v(FilterTrailersStatus::StopIteration), 1);
  EXPECT_EQ(v(FilterMetadataStatus::Continue), 0);
  EXPECT_EQ(v(FilterStatus::Continue), 0);
  EXPECT_EQ(v(FilterStatus::StopIteration), 1);
}

TEST(AbiValues, PeerMetricGrpc) { // 3.12 - 3.14
  EXPECT_EQ(v(PeerType::Unknown), 0);
  EXPECT_EQ(v(PeerType::Local), 1);
  EXPECT_EQ(v(PeerType::Remote), 2);
  EXPECT_EQ(v(MetricType::Counter), 0);
  EXPECT_EQ(v(MetricType::Gauge), 1);
  EXPECT_EQ(v(MetricType::Histogram), 2);
  EXPECT_EQ(v(MetricType::Max), 2);
  const GrpcStatus all[] = {GrpcStatus::Ok,
                            GrpcStatus::Canceled,
                            GrpcStatus::Unknown,
                            GrpcStatus::InvalidArgument,
                            GrpcStatus::DeadlineExceeded,
                            GrpcStatus::NotFound,
                            GrpcStatus::AlreadyExists,
                            GrpcStatus::PermissionDenied,
                            GrpcStatus::ResourceExhausted,
                            GrpcStatus::FailedPrecondition,
                            GrpcStatus::Aborted,
                            GrpcStatus::OutOfRange,
                            GrpcStatus::Unimplemented,
                            GrpcStatus::Internal,
                            GrpcStatus::Unavailable,
                            GrpcStatus::DataLoss,
                            GrpcStatus::Unauthenticated};
  for (int i = 0; i <= 16; i++)
    EXPECT_EQ(v(all[i]), i);
  EXPECT_EQ(v(GrpcStatus::MaximumValid), 16);
  // "Not a gRPC reply" travels as 0xFFFFFFFF in proxy_send_local_response.
  EXPECT_EQ(static_cast<uint32_t>(GrpcStatus::InvalidCode), 0xFFFFFFFFu);
}

} // namespace
