#pragma once

// One request/response exchange on a downstream connection: its headers, filter chain,
// stream info, timers and access logging. Owned by the ConnectionManager.

#include <cstddef>
#include <memory>
#include <memory_resource>
#include <optional>
#include <vector>

#include "common/recycled.h"
#include "http/conn_manager.h"

namespace wasmgate::http {

class ActiveStream;

// Per-filter callbacks: each filter learns its own position so continue*() resumes from it.
class ActiveDecoderFilter : public StreamDecoderFilterCallbacks {
public:
  ActiveDecoderFilter(ActiveStream& s, StreamDecoderFilterSharedPtr f, size_t index)
      : stream_(s), filter_(std::move(f)), index_(index) {}
  StreamDecoderFilter& filter() { return *filter_; }

  event::Dispatcher& dispatcher() override;
  StreamInfo& streamInfo() override;
  uint64_t streamId() const override;
  const router::RouteEntry* route() override;
  void clearRouteCache() override;
  void resetStream() override;
  HeaderMap* requestHeaders() override;
  HeaderMap* responseHeaders() override;
  void sendLocalReply(uint32_t status, std::string_view body,
                      const std::function<void(HeaderMap&)>& modify_headers,
                      std::string_view details) override;
  void continueDecoding() override;
  Buffer* decodingBuffer() override;
  HeaderMap* requestTrailers() override;
  HeaderMap& addDecodedTrailers() override;
  void encode1xxHeaders(HeaderMap&& headers) override;
  void encodeHeaders(HeaderMap&& headers, bool end_stream, std::string_view details) override;
  void encodeData(Buffer& data, bool end_stream) override;
  void encodeTrailers(HeaderMap&& trailers) override;
  void addDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) override;
  void removeDownstreamWatermarkCallbacks(DownstreamWatermarkCallbacks& cb) override;
  void onDecoderFilterAboveWriteBufferHighWatermark() override;
  void onDecoderFilterBelowWriteBufferLowWatermark() override;
  uint32_t decoderBufferLimit() override;
  void setDecoderBufferLimit(uint32_t limit) override;

private:
  ActiveStream& stream_;
  StreamDecoderFilterSharedPtr filter_;
  size_t index_;
};

class ActiveEncoderFilter : public StreamEncoderFilterCallbacks {
public:
  ActiveEncoderFilter(ActiveStream& s, StreamEncoderFilterSharedPtr f, size_t index)
      : stream_(s), filter_(std::move(f)), index_(index) {}
  StreamEncoderFilter& filter() { return *filter_; }
  void setIndex(size_t i) { index_ = i; }

  event::Dispatcher& dispatcher() override;
  StreamInfo& streamInfo() override;
  uint64_t streamId() const override;
  const router::RouteEntry* route() override;
  void clearRouteCache() override;
  void resetStream() override;
  HeaderMap* requestHeaders() override;
  HeaderMap* responseHeaders() override;
  void sendLocalReply(uint32_t status, std::string_view body,
                      const std::function<void(HeaderMap&)>& modify_headers,
                      std::string_view details) override;
  void continueEncoding() override;
  Buffer* encodingBuffer() override;
  HeaderMap* responseTrailers() override;
  HeaderMap& addEncodedTrailers() override;
  uint32_t encoderBufferLimit() override;

private:
  ActiveStream& stream_;
  StreamEncoderFilterSharedPtr filter_;
  size_t index_;
};

class ActiveStream : public RequestDecoder,
                     public FilterChainFactoryCallbacks,
                     public event::DeferredDeletable,
                     public Recycled<ActiveStream> { // ~1.3 KB, one per request
public:
  ActiveStream(ConnectionManager& cm, ResponseEncoder& encoder, const http1::MessageInfo& info);
  ~ActiveStream() override;

  // RequestDecoder
  void decodeHeaders(HeaderMap&& headers, bool end_stream) override;
  void decodeData(Buffer& data, bool end_stream) override;
  void decodeTrailers(HeaderMap&& trailers) override;

  // FilterChainFactoryCallbacks
  void addStreamDecoderFilter(StreamDecoderFilterSharedPtr filter) override;
  void addStreamEncoderFilter(StreamEncoderFilterSharedPtr filter) override;
  void addStreamFilter(StreamFilterSharedPtr filter) override;
  void addAccessLogHandler(AccessLogHandlerSharedPtr handler) override;
  event::Dispatcher& dispatcher() override;
  upstream::WorkerClusterManager& clusterManager() override;

  // Shared by the per-filter callbacks.
  const router::RouteEntry* route();
  void clearRouteCache() { route_cached_ = false; }
  void sendLocalReply(uint32_t status, std::string_view body,
                      const std::function<void(HeaderMap&)>& modify_headers, std::string_view details);
  void encode1xx(HeaderMap&& headers);
  void encodeHeadersFromFilter(HeaderMap&& headers, bool end_stream, std::string_view details);
  void encodeDataFromFilter(Buffer& data, bool end_stream);
  void encodeTrailersFromFilter(HeaderMap&& trailers);
  // Ends the stream without a (complete) response; the connection closes.
  void resetStream(uint32_t flag = 0);
  void onDownstreamWatermark(bool above);
  void readDisableDownstream(bool disable);

  StreamInfo info_;
  HeaderMap request_headers_;
  HeaderMap request_trailers_;
  HeaderMap response_headers_;
  HeaderMap response_trailers_;
  bool has_request_trailers_ = false;
  bool has_response_trailers_ = false;
  // The per-stream lists below (filters, watermark callbacks, log handlers) take their
  // storage from this inline arena, not from malloc: a typical chain needs ~150 bytes; longer
  // ones spill to the heap. Declared before the lists, so it outlives them.
  alignas(std::max_align_t) std::byte list_storage_[256];
  std::pmr::monotonic_buffer_resource list_arena_{list_storage_, sizeof(list_storage_),
                                                  std::pmr::new_delete_resource()};
  std::pmr::vector<std::unique_ptr<ActiveDecoderFilter>> decoder_filters_{&list_arena_};
  std::pmr::vector<std::unique_ptr<ActiveEncoderFilter>> encoder_filters_{&list_arena_}; // in encode order
  std::pmr::vector<DownstreamWatermarkCallbacks*> watermark_callbacks_{&list_arena_};
  ConnectionManager& cm_;
  uint64_t id_;

  struct DecodeAdapter {
    ActiveStream& s;
    size_t size() const { return s.decoder_filters_.size(); }
    FilterHeadersStatus headers(size_t i, HeaderMap& h, bool end) {
      return s.decoder_filters_[i]->filter().decodeHeaders(h, end);
    }
    FilterDataStatus data(size_t i, Buffer& d, bool end) {
      return s.decoder_filters_[i]->filter().decodeData(d, end);
    }
    FilterTrailersStatus trailers(size_t i, HeaderMap& t) {
      return s.decoder_filters_[i]->filter().decodeTrailers(t);
    }
    // Past the last decoder filter nothing consumes the request (the router is terminal).
    void sinkHeaders(HeaderMap&, bool) {}
    void sinkData(Buffer& d, bool) { d.clear(); }
    void sinkTrailers(HeaderMap&) {}
    bool stopped() const { return s.decode_done_; }
    void onBufferOverflow();
    void onBufferWatermark(bool above) { s.readDisableDownstream(above); }
    size_t bufferLimit() const { return s.decoder_buffer_limit_; }
  };
  struct EncodeAdapter {
    ActiveStream& s;
    size_t size() const { return s.encoder_filters_.size(); }
    FilterHeadersStatus headers(size_t i, HeaderMap& h, bool end) {
      return s.encoder_filters_[i]->filter().encodeHeaders(h, end);
    }
    FilterDataStatus data(size_t i, Buffer& d, bool end) {
      return s.encoder_filters_[i]->filter().encodeData(d, end);
    }
    FilterTrailersStatus trailers(size_t i, HeaderMap& t) {
      return s.encoder_filters_[i]->filter().encodeTrailers(t);
    }
    void sinkHeaders(HeaderMap& h, bool end) { s.writeHeaders(h, end); }
    void sinkData(Buffer& d, bool end) { s.writeData(d, end); }
    void sinkTrailers(HeaderMap& t) { s.writeTrailers(t); }
    bool stopped() const { return s.reset_ || s.encode_done_; }
    void onBufferOverflow();
    void onBufferWatermark(bool above) { s.onEncodeBufferWatermark(above); }
    size_t bufferLimit() const { return s.cm_.config_->buffer_limit; }
  };

  DecodeAdapter decode_adapter_{*this};
  EncodeAdapter encode_adapter_{*this};
  FilterIterator<DecodeAdapter> decode_iter_{decode_adapter_};
  FilterIterator<EncodeAdapter> encode_iter_{encode_adapter_};

  void finish(); // access log, stats, filter onDestroy

private:
  friend class ConnectionManager;
  friend class ActiveDecoderFilter;
  friend class ActiveEncoderFilter;
  void writeHeaders(HeaderMap& headers, bool end_stream);
  void writeData(Buffer& data, bool end_stream);
  void writeTrailers(HeaderMap& trailers);
  void onResponseComplete();
  void onEncodeBufferWatermark(bool above);
  void mutateRequestHeaders();
  void resetIdleTimer();
  void onIdleTimeout();
  void onRequestTimeout();

  ResponseEncoder& encoder_;
  std::pmr::vector<AccessLogHandlerSharedPtr> log_handlers_{&list_arena_};
  const router::RouteEntry* cached_route_ = nullptr;
  bool route_cached_ = false;
  bool decode_done_ = false;   // a response decision ended request processing
  bool encode_started_ = false;
  bool encode_done_ = false;
  bool codec_headers_sent_ = false;
  bool reset_ = false;
  bool finished_ = false;
  bool request_complete_ = false;
  bool expect_continue_ = false;
  bool read_disabled_by_filter_ = false;
  bool read_disabled_by_encode_ = false;
  // Embedded (not heap-allocated) timers: one fewer allocation each per request.
  std::optional<event::Timer> idle_timer_;
  std::optional<event::Timer> request_timer_;
  event::MonotonicTime last_activity_;
  uint32_t decoder_buffer_limit_;
};

} // namespace wasmgate::http
