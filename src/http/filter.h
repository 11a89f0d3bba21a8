#pragma once

// The HTTP filter chain seam, in Envoy's shape: decoder filters see the request in order,
// encoder filters see the response in reverse order, each returning a status that continues or
// stops iteration. The router is the last decoder filter; the Wasm filter is one adaptor.

#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "common/buffer.h"
#include "http/header_map.h"
#include "http/stream_info.h"

namespace wasmgate::event {
class Dispatcher;
}
namespace wasmgate::router {
class RouteEntry;
}
namespace wasmgate::upstream {
class WorkerClusterManager;
}

namespace wasmgate::http {

enum class FilterHeadersStatus {
  Continue,
  StopIteration,               // later filters wait for headers; data still reaches this filter
  StopAllIterationAndBuffer,   // nothing passes this filter until continue; body is buffered
  StopAllIterationAndWatermark // same, with the buffer limit applied as back-pressure
};
enum class FilterDataStatus {
  Continue,
  StopIterationAndBuffer,    // buffer body here; this filter sees the whole buffer next time
  StopIterationAndWatermark, // same, with back-pressure instead of an error at the limit
  StopIterationNoBuffer      // this filter keeps the data; nothing is buffered
};
enum class FilterTrailersStatus { Continue, StopIteration };

class StreamFilterCallbacks {
public:
  virtual ~StreamFilterCallbacks() = default;
  virtual event::Dispatcher& dispatcher() = 0;
  virtual StreamInfo& streamInfo() = 0;
  virtual uint64_t streamId() const = 0;
  // The route picked for the request (nullptr: none). Recomputed after clearRouteCache().
  virtual const router::RouteEntry* route() = 0;
  virtual void clearRouteCache() = 0;
  // Ends the stream without a response (the downstream connection is closed if HTTP/1).
  virtual void resetStream() = 0;
  virtual HeaderMap* requestHeaders() = 0;
  virtual HeaderMap* responseHeaders() = 0;
  // Replies locally: the response goes through the encoder filters (that have not yet seen a
  // response) and the stream ends. `details` becomes %RESPONSE_CODE_DETAILS%.
  virtual void sendLocalReply(uint32_t status, std::string_view body,
                              const std::function<void(HeaderMap&)>& modify_headers,
                              std::string_view details) = 0;
};

// Lets the router pause the upstream when the downstream cannot keep up.
class DownstreamWatermarkCallbacks {
public:
  virtual ~DownstreamWatermarkCallbacks() = default;
  virtual void onAboveWriteBufferHighWatermark() = 0;
  virtual void onBelowWriteBufferLowWatermark() = 0;
};

class StreamDecoderFilterCallbacks : public virtual StreamFilterCallbacks {
public:
  virtual void continueDecoding() = 0;
  // The request body buffered so far by a stopped filter (nullptr if none).
  virtual Buffer* decodingBuffer() = 0;
  virtual HeaderMap* requestTrailers() = 0;
  // Adds trailers at the end of the request (only from decodeData with end_stream).
  virtual HeaderMap& addDecodedTrailers() = 0;
  // For the terminal filter: start the response. It runs through all encoder filters.
  virtual void encode1xxHeaders(HeaderMap&& headers) = 0;
  virtual void encodeHeaders(HeaderMap&& headers, bool end_stream, std::string_view details) = 0;
  virtual void encodeData(Buffer& data, bool end_stream) = 0;
  virtual void encodeTrailers(HeaderMap&& trailers) = 0;
  virtual void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) = 0;
  virtual void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) = 0;
  // Stop/resume reading the request from the downstream (upstream back-pressure).
  virtual void onDecoderFilterAboveWriteBufferHighWatermark() = 0;
  virtual void onDecoderFilterBelowWriteBufferLowWatermark() = 0;
  virtual uint32_t decoderBufferLimit() = 0;
  // Raises/lowers how much request body this stream may buffer (the buffer filter sets it to
  // max_request_bytes); past it a buffering filter's stream gets 413.
  virtual void setDecoderBufferLimit(uint32_t limit) = 0;
};

class StreamEncoderFilterCallbacks : public virtual StreamFilterCallbacks {
public:
  virtual void continueEncoding() = 0;
  virtual Buffer* encodingBuffer() = 0;
  virtual HeaderMap* responseTrailers() = 0;
  virtual HeaderMap& addEncodedTrailers() = 0;
  virtual uint32_t encoderBufferLimit() = 0;
};

class StreamFilterBase {
public:
  virtual ~StreamFilterBase() = default;
  // The stream is going away (complete or reset); no callbacks may be used after this.
  virtual void onDestroy() {}
};

class StreamDecoderFilter : public virtual StreamFilterBase {
public:
  virtual FilterHeadersStatus decodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus decodeData(Buffer& data, bool end_stream) = 0;
  virtual FilterTrailersStatus decodeTrailers(HeaderMap& trailers) = 0;
  virtual void setDecoderFilterCallbacks(StreamDecoderFilterCallbacks& callbacks) = 0;
};

class StreamEncoderFilter : public virtual StreamFilterBase {
public:
  virtual FilterHeadersStatus encodeHeaders(HeaderMap& headers, bool end_stream) = 0;
  virtual FilterDataStatus encodeData(Buffer& data, bool end_stream) = 0;
  virtual FilterTrailersStatus encodeTrailers(HeaderMap& trailers) = 0;
  virtual void setEncoderFilterCallbacks(StreamEncoderFilterCallbacks& callbacks) = 0;
};

class StreamFilter : public StreamDecoderFilter, public StreamEncoderFilter {};

// Called once per stream after it ends (Proxy-Wasm's onLog, access loggers).
class AccessLogHandler {
public:
  virtual ~AccessLogHandler() = default;
  virtual void log(const StreamInfo& info) = 0;
};

using StreamDecoderFilterSharedPtr = std::shared_ptr<StreamDecoderFilter>;
using StreamEncoderFilterSharedPtr = std::shared_ptr<StreamEncoderFilter>;
using StreamFilterSharedPtr = std::shared_ptr<StreamFilter>;
using AccessLogHandlerSharedPtr = std::shared_ptr<AccessLogHandler>;

class FilterChainFactoryCallbacks {
public:
  virtual ~FilterChainFactoryCallbacks() = default;
  virtual void addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) = 0;
  virtual void addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) = 0;
  virtual void addStreamFilter(StreamFilterSharedPtr filter) = 0;
  virtual void addAccessLogHandler(AccessLogHandlerSharedPtr handler) = 0;
  virtual event::Dispatcher& dispatcher() = 0;
  // The worker's clusters (for the router and, later, Proxy-Wasm http calls).
  virtual upstream::WorkerClusterManager& clusterManager() = 0;
};

// Built once per configured filter at config load; invoked per stream on the worker thread.
using FilterFactoryCb = std::function<void(FilterChainFactoryCallbacks&)>;

} // namespace wasmgate::http
