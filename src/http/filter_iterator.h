#pragma once

// Filter iteration for one direction of a stream (request: decoder filters in order;
// response: encoder filters in reverse), following Envoy's status semantics:
//  - headers StopIteration at filter i: later filters wait; body chunks still reach 0..i, and
//    when i returns Continue from its data callback, headers then data continue from i+1.
//  - headers StopAllIteration*: nothing reaches i or later until continue; body is buffered and
//    handed to i first when iteration resumes.
//  - data StopIterationAndBuffer/Watermark at i: body accumulates; i sees the whole buffer on
//    each new chunk; Continue (or continue*()) passes the buffer on to i+1.
//  - data StopIterationNoBuffer: i keeps the chunk; nothing is passed on.
// The Sink receives what passes the last filter (the codec, for responses).

#include <cstddef>
#include <optional>

#include "common/buffer.h"
#include "http/filter.h"
#include "http/header_map.h"

namespace wasmgate::http {

// Adapter requirements (checked at compile time by use):
//   size_t size();
//   FilterHeadersStatus headers(size_t i, HeaderMap&, bool end);
//   FilterDataStatus data(size_t i, Buffer&, bool end);
//   FilterTrailersStatus trailers(size_t i, HeaderMap&);
//   void sinkHeaders(HeaderMap&, bool end); void sinkData(Buffer&, bool end);
//   void sinkTrailers(HeaderMap&);
//   bool stopped();            // the stream ended (local reply, reset): stop everything
//   void onBufferOverflow();   // buffered body exceeded the limit
//   void onBufferWatermark(bool above); // watermark-mode buffering back-pressure
//   size_t bufferLimit();
template <class Adapter> class FilterIterator {
public:
  explicit FilterIterator(Adapter& a) : a_(a) {}

  void setHeaders(HeaderMap* h) { headers_ = h; }
  void setTrailers(HeaderMap* t) { trailers_ = t; }
  bool headersSent() const { return headers_pos_ > a_.size(); }
  Buffer* bufferedBody() { return stop_ ? &buffered_ : nullptr; }
  bool isStopped() const { return stop_.has_value(); }

  // Entry points from the producer (codec or upstream).
  void onHeaders(bool end_stream) {
    end_in_ = end_stream;
    runHeaders(0);
  }

  void onData(Buffer& data, bool end_stream) {
    if (end_stream)
      end_in_ = true;
    if (!stop_) {
      runData(0, data, end_stream && !trailers_);
      return;
    }
    if (stop_->mode == Mode::All) {
      buffer(data);
      return;
    }
    size_t s = stop_->index;
    // Filters before the stop point already continued: they see each chunk.
    bool pass_end = end_stream && !trailers_;
    for (size_t i = 0; i < s; ++i) {
      auto st = a_.data(i, data, pass_end);
      if (a_.stopped())
        return;
      if (st != FilterDataStatus::Continue) {
        // An earlier filter now holds the body; it becomes the stop point.
        stop_ = Stop{i, st == FilterDataStatus::StopIterationNoBuffer ? Mode::DataNoBuffer : Mode::DataBuffer,
                     st == FilterDataStatus::StopIterationAndWatermark};
        if (st != FilterDataStatus::StopIterationNoBuffer)
          buffer(data);
        return;
      }
    }
    FilterDataStatus st;
    if (stop_->mode == Mode::DataBuffer) {
      buffered_.move(data);
      st = a_.data(s, buffered_, pass_end);
      if (a_.stopped())
        return;
      if (st == FilterDataStatus::Continue) {
        stop_.reset();
        Buffer pass;
        pass.move(buffered_);
        continueAfter(s, pass, pass_end);
      } else {
        stop_->watermark = st == FilterDataStatus::StopIterationAndWatermark;
        checkLimit(stop_->watermark);
      }
      return;
    }
    // HeadersSingle or DataNoBuffer: the stopped filter sees the chunk.
    st = a_.data(s, data, pass_end);
    if (a_.stopped())
      return;
    if (st == FilterDataStatus::Continue) {
      stop_.reset();
      continueAfter(s, data, pass_end);
    } else if (st != FilterDataStatus::StopIterationNoBuffer) {
      stop_->mode = Mode::DataBuffer;
      stop_->watermark = st == FilterDataStatus::StopIterationAndWatermark;
      buffer(data);
    }
  }

  void onTrailers(HeaderMap& trailers) {
    trailers_ = &trailers;
    end_in_ = true;
    if (!stop_) {
      runTrailers(0);
      return;
    }
    if (stop_->mode == Mode::All)
      return;
    size_t s = stop_->index;
    for (size_t i = 0; i <= s; ++i) {
      auto st = a_.trailers(i, trailers);
      if (a_.stopped())
        return;
      if (st != FilterTrailersStatus::Continue)
        return;
    }
    // The stopped filter accepted the end of the message: resume from it.
    resume(s);
  }

  // A filter at `index` called continueDecoding()/continueEncoding().
  void resume(size_t index) {
    if (!stop_ || stop_->index != index)
      return;
    Stop s = *stop_;
    stop_.reset();
    Buffer pass;
    pass.move(buffered_);
    if (watermark_above_) {
      watermark_above_ = false;
      a_.onBufferWatermark(false);
    }
    bool end = end_in_ && !trailers_;
    if (headers_pos_ <= s.index + 1 && headers_pos_ <= a_.size()) {
      // Headers have not passed the stop point yet.
      bool more = !pass.empty() || !end_in_ || trailers_;
      if (!runHeaders(s.index + 1, !more))
        {
          // Stopped again on headers: keep what is pending.
          if (!pass.empty())
            buffered_.move(pass);
          return;
        }
      if (!more)
        return;
    }
    size_t from = s.mode == Mode::All ? s.index : s.index + 1;
    if (!pass.empty() || (end && !end_delivered_)) {
      if (!runData(from, pass, end))
        return;
    }
    if (trailers_ && !stop_)
      runTrailers(from);
  }

private:
  enum class Mode { HeadersSingle, All, DataBuffer, DataNoBuffer };
  struct Stop {
    size_t index;
    Mode mode;
    bool watermark = false; // back-pressure instead of an overflow error at the limit
  };

  // Returns true if headers passed every filter (and reached the sink).
  bool runHeaders(size_t from, std::optional<bool> end_override = std::nullopt) {
    bool end = end_override.value_or(end_in_ && !trailers_);
    for (size_t i = from; i < a_.size(); ++i) {
      auto st = a_.headers(i, *headers_, end);
      headers_pos_ = i + 1;
      if (a_.stopped())
        return false;
      if (st == FilterHeadersStatus::Continue)
        continue;
      stop_ = Stop{i, st == FilterHeadersStatus::StopIteration ? Mode::HeadersSingle : Mode::All,
                   st == FilterHeadersStatus::StopAllIterationAndWatermark};
      return false;
    }
    headers_pos_ = a_.size() + 1;
    if (end)
      end_delivered_ = true;
    a_.sinkHeaders(*headers_, end);
    return true;
  }

  // Passes `data` from filter `from` on; returns true if it reached the sink.
  bool runData(size_t from, Buffer& data, bool end) {
    for (size_t i = from; i < a_.size(); ++i) {
      auto st = a_.data(i, data, end);
      if (a_.stopped())
        return false;
      if (st == FilterDataStatus::Continue)
        continue;
      if (st == FilterDataStatus::StopIterationNoBuffer) {
        stop_ = Stop{i, Mode::DataNoBuffer};
      } else {
        stop_ = Stop{i, Mode::DataBuffer, st == FilterDataStatus::StopIterationAndWatermark};
        buffer(data);
      }
      return false;
    }
    if (end)
      end_delivered_ = true;
    a_.sinkData(data, end);
    return true;
  }

  void runTrailers(size_t from) {
    for (size_t i = from; i < a_.size(); ++i) {
      auto st = a_.trailers(i, *trailers_);
      if (a_.stopped())
        return;
      if (st != FilterTrailersStatus::Continue) {
        stop_ = Stop{i, Mode::HeadersSingle};
        return;
      }
    }
    end_delivered_ = true;
    a_.sinkTrailers(*trailers_);
  }

  // After the filter at `s` continued from a data callback.
  void continueAfter(size_t s, Buffer& data, bool end) {
    if (headers_pos_ <= s + 1 && headers_pos_ <= a_.size()) {
      if (!runHeaders(s + 1, false)) {
        if (!data.empty())
          buffered_.move(data);
        return;
      }
    }
    if (runData(s + 1, data, end) && trailers_ && end_in_)
      runTrailers(s + 1);
  }

  void buffer(Buffer& data) {
    buffered_.move(data);
    checkLimit(stop_ && stop_->watermark);
  }

  void checkLimit(bool watermark) {
    if (buffered_.size() <= a_.bufferLimit())
      return;
    if (watermark) {
      if (!watermark_above_) {
        watermark_above_ = true;
        a_.onBufferWatermark(true);
      }
      return;
    }
    a_.onBufferOverflow();
  }

  Adapter& a_;
  HeaderMap* headers_ = nullptr;
  HeaderMap* trailers_ = nullptr;
  std::optional<Stop> stop_;
  Buffer buffered_;
  size_t headers_pos_ = 0; // filters that have seen headers; size()+1 once the sink has them
  bool end_in_ = false;
  bool end_delivered_ = false;
  bool watermark_above_ = false;
};

} // namespace wasmgate::http
