#pragma once

// Filter iteration for one direction of a stream (request: decoder filters in order;
// response: encoder filters in reverse), following Envoy's status semantics:
//  - headers StopIteration at filter i: later filters wait; body chunks still reach 0..i, and
//    when i returns Continue from its data callback, headers then data continue from i+1.
//  - headers StopAllIteration*: nothing reaches i or later until continue; body is buffered and
//    handed to i first when iteration resumes (filters before i still see every chunk).
//  - data StopIterationAndBuffer/Watermark at i: body accumulates; i sees the whole buffer on
//    each new chunk; Continue (or continue*()) passes the buffer on to i+1.
//  - data StopIterationNoBuffer: i keeps the chunk; nothing is passed on.
//  - trailers reach every filter up to the first stopped one; Continue from that filter's
//    trailers callback resumes it.
// The Sink receives what passes the last filter (the codec, for responses).
//
// Model: the message is a queue of pending items (headers, body segments, trailers), each at a
// position (the next filter to see it). Items never overtake one another, so a filter always
// sees headers, then body in order, then trailers. A filter "holds" the items it stopped on;
// resume(i) releases what filter i holds. Streaming with nothing held takes a direct path that
// neither copies nor allocates.

#include <cstddef>
#include <iterator>
#include <list>
#include <vector>

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
  FilterIterator(const FilterIterator&) = delete;
  FilterIterator& operator=(const FilterIterator&) = delete;

  void setHeaders(HeaderMap* h) { headers_ = h; }
  // From a data callback that carries end_stream (addDecodedTrailers()): that data goes on
  // without end_stream and these trailers follow it from the next filter. Otherwise it only
  // records where the trailers live.
  void setTrailers(HeaderMap* t) {
    trailers_ = t;
    if (t != nullptr && in_end_data_call_ && !trl_pending_)
      trailers_added_ = true;
  }
  bool headersSent() const { return hdr_sent_; }
  // The oldest body held back by a stopped filter (nullptr if none).
  Buffer* bufferedBody() { return segs_.empty() ? nullptr : &segs_.front().body; }
  bool isStopped() const { return (hdr_started_ && !hdr_sent_) || !segs_.empty() || trl_pending_; }

  // Entry points from the producer (codec or upstream).
  void onHeaders(bool end_stream) {
    if (a_.stopped() || hdr_started_)
      return;
    hdr_started_ = true;
    hdr_end_ = end_stream;
    pump();
  }

  void onData(Buffer& data, bool end_stream) {
    if (a_.stopped())
      return;
    if (!busy_ && hdr_sent_ && segs_.empty() && !trl_pending_) {
      streamDirect(data, end_stream);
      return;
    }
    Segment& s = newSegment(segs_.end());
    s.end = end_stream;
    s.body.move(data);
    pump();
  }

  void onTrailers(HeaderMap& trailers) {
    if (a_.stopped() || trl_pending_)
      return;
    trailers_ = &trailers;
    trl_pending_ = true;
    trl_pos_ = 0;
    trl_held_ = false;
    pump();
  }

  // A filter at `index` called continueDecoding()/continueEncoding(). Ignored unless that
  // filter holds something; from inside a callback it takes effect once the callback returns.
  void resume(size_t index) {
    if (a_.stopped())
      return;
    if (busy_) {
      deferred_.push_back(index);
      return;
    }
    if (release(index))
      pump();
  }

private:
  enum class Hold : uint8_t { None, Single, All, AllWatermark };
  // Parked: stays where it is; Moved: passed a filter and may go on; Done: consumed or merged;
  // Restart: something older may move now, sweep again from the front; Abort: stream ended.
  enum class Flow { Parked, Moved, Done, Restart, Abort };

  struct Segment {
    size_t pos = 0;         // next filter to see this body
    bool held = false;      // filter pos-1 stopped on it (else it waits to enter pos)
    bool end = false;       // carries end_stream
    bool watermark = false; // buffered with back-pressure rather than an overflow error
    Buffer body;
  };
  using SegIt = typename std::list<Segment>::iterator;

  // What sits directly ahead of an item in the message.
  struct Ahead {
    enum Kind { None, Headers, Data } kind = None;
    size_t pos = 0;
    bool held = false;
    Segment* seg = nullptr;
  };
  // What an item at filter p may do given what is ahead of it.
  enum class Gate { Enter, MergeHeld, MergeWaiting, BlockAll, Wait, Sink };

  size_t n() const { return a_.size(); }

  Ahead aheadOfHeaders() const {
    Ahead a;
    if (!hdr_sent_) {
      a.kind = Ahead::Headers;
      a.pos = hdr_started_ ? hdr_pos_ : 0;
      a.held = hdr_hold_ != Hold::None;
    }
    return a;
  }
  Ahead aheadOf(SegIt it) {
    if (it == segs_.begin())
      return aheadOfHeaders();
    Segment& y = *std::prev(it);
    return Ahead{Ahead::Data, y.pos, y.held, &y};
  }

  Gate gate(const Ahead& y, size_t p, bool is_data) const {
    if (y.kind == Ahead::None)
      return p == n() ? Gate::Sink : Gate::Enter;
    if (y.pos > p + 1)
      return Gate::Enter;
    if (y.pos == p + 1) {
      if (!y.held)
        return Gate::Enter;
      if (y.kind == Ahead::Headers)
        return hdr_hold_ == Hold::Single ? Gate::Enter : Gate::BlockAll;
      // Filter p holds body: more body joins it; trailers go to p as well.
      return is_data ? Gate::MergeHeld : Gate::Enter;
    }
    if (y.pos == p && is_data && y.kind == Ahead::Data && !y.held)
      return Gate::MergeWaiting;
    return Gate::Wait;
  }

  // Filter `p` returned Continue: what it held (headers, body) may move on first.
  bool releaseHeadersAt(size_t p) {
    if (hdr_hold_ != Hold::None && hdr_pos_ == p + 1) {
      hdr_hold_ = Hold::None;
      return true;
    }
    return false;
  }

  // Releases the headers and body held by filter q.
  bool releaseMessage(size_t q) {
    bool any = releaseHeadersAt(q);
    for (auto& s : segs_) {
      if (s.held && s.pos == q + 1) {
        s.held = false;
        any = true;
      }
    }
    return any;
  }

  bool release(size_t q) {
    bool any = releaseMessage(q);
    if (trl_pending_ && trl_held_ && trl_pos_ == q + 1) {
      trl_held_ = false;
      any = true;
    }
    return any;
  }

  // Runs until nothing can move (or the stream ended). Re-entrant calls only ask for another
  // pass, so callbacks never see the iterator half-way through a step.
  void pump() {
    if (busy_) {
      again_ = true;
      return;
    }
    busy_ = true;
    for (;;) {
      again_ = false;
      if (!deferred_.empty()) {
        for (size_t i = 0; i < deferred_.size(); ++i)
          release(deferred_[i]);
        deferred_.clear();
      }
      if (pass() == Flow::Abort)
        break;
      if (!again_ && deferred_.empty())
        break;
    }
    busy_ = false;
    if (!a_.stopped())
      updateWatermark();
  }

  // One sweep over the pending items, oldest first.
  Flow pass() {
    if (a_.stopped())
      return Flow::Abort;
    Flow f = advanceHeaders();
    if (f == Flow::Restart)
      again_ = true;
    if (f == Flow::Abort || f == Flow::Restart)
      return f;
    for (auto it = segs_.begin(); it != segs_.end();) {
      auto next = std::next(it);
      f = advanceSegment(it);
      if (f == Flow::Abort)
        return f;
      if (f == Flow::Restart) {
        again_ = true;
        return f;
      }
      it = next;
    }
    f = advanceTrailers();
    if (f == Flow::Restart)
      again_ = true;
    return f;
  }

  // After a callback: the stream may have ended, or the filter may have continued someone.
  Flow afterCall() {
    if (a_.stopped())
      return Flow::Abort;
    return deferred_.empty() ? Flow::Parked : Flow::Restart;
  }

  Flow advanceHeaders() {
    if (!hdr_started_ || hdr_sent_ || hdr_hold_ != Hold::None || headers_ == nullptr)
      return Flow::Parked;
    while (hdr_pos_ < n()) {
      size_t p = hdr_pos_;
      FilterHeadersStatus st = a_.headers(p, *headers_, hdr_end_);
      hdr_pos_ = p + 1;
      if (a_.stopped())
        return Flow::Abort;
      if (st != FilterHeadersStatus::Continue) {
        hdr_hold_ = st == FilterHeadersStatus::StopIteration              ? Hold::Single
                    : st == FilterHeadersStatus::StopAllIterationAndBuffer ? Hold::All
                                                                          : Hold::AllWatermark;
        return afterCall();
      }
      if (afterCall() == Flow::Restart)
        return Flow::Restart;
    }
    hdr_sent_ = true;
    a_.sinkHeaders(*headers_, hdr_end_);
    return a_.stopped() ? Flow::Abort : Flow::Parked;
  }

  Flow advanceSegment(SegIt it) {
    Segment& x = *it;
    while (!x.held) {
      size_t p = x.pos;
      Ahead y = aheadOf(it);
      switch (gate(y, p, true)) {
      case Gate::Wait:
        return Flow::Parked;
      case Gate::BlockAll:
        // Waiting in front of a StopAll filter: this is buffering, so the limit applies.
        x.watermark = hdr_hold_ == Hold::AllWatermark;
        return checkLimit(x.watermark) ? Flow::Parked : Flow::Abort;
      case Gate::MergeWaiting: {
        Segment& w = *y.seg;
        w.body.move(x.body);
        w.end = x.end;
        dropSegment(it);
        return checkLimit(w.watermark) ? Flow::Done : Flow::Abort;
      }
      case Gate::MergeHeld: {
        // The holder sees its whole buffer, old and new, each time.
        SegIt h = std::prev(it);
        h->body.move(x.body);
        h->end = x.end;
        dropSegment(it);
        h->held = false;
        // The older segment may move on now: sweep again from the front.
        return callData(h, p) == Flow::Abort ? Flow::Abort : Flow::Restart;
      }
      case Gate::Sink: {
        a_.sinkData(x.body, x.end);
        dropSegment(it);
        return a_.stopped() ? Flow::Abort : Flow::Done;
      }
      case Gate::Enter: {
        Flow f = callData(it, p);
        if (f != Flow::Moved)
          return f;
        break;
      }
      }
    }
    return Flow::Parked;
  }

  // Gives segment `it` to filter p and applies the returned status.
  Flow callData(SegIt it, size_t p) {
    Segment& x = *it;
    FilterDataStatus st = dataCall(p, x.body, x.end);
    if (a_.stopped())
      return Flow::Abort;
    x.pos = p + 1;
    x.held = st != FilterDataStatus::Continue;
    Flow next = Flow::Parked;
    if (st == FilterDataStatus::Continue) {
      // Continue from the filter holding the headers releases them; they go first.
      if (releaseHeadersAt(p))
        return Flow::Restart;
      next = Flow::Moved;
    } else if (st == FilterDataStatus::StopIterationNoBuffer) {
      // The filter keeps the chunk; only the end of the stream (if here) must still follow.
      x.body.clear();
      if (!x.end) {
        dropSegment(it);
        next = Flow::Done;
      }
    } else {
      x.watermark = st == FilterDataStatus::StopIterationAndWatermark;
      if (!checkLimit(x.watermark))
        return Flow::Abort;
    }
    Flow f = afterCall();
    return f == Flow::Parked ? next : f;
  }

  FilterDataStatus dataCall(size_t p, Buffer& body, bool& end) {
    in_end_data_call_ = end;
    FilterDataStatus st = a_.data(p, body, end);
    in_end_data_call_ = false;
    if (trailers_added_) {
      trailers_added_ = false;
      end = false;
      trl_pending_ = true;
      trl_pos_ = p + 1;
      trl_held_ = false;
    }
    return st;
  }

  Flow advanceTrailers() {
    while (trl_pending_ && !trl_held_) {
      size_t p = trl_pos_;
      Ahead y = segs_.empty() ? aheadOfHeaders() : Ahead{Ahead::Data, segs_.back().pos, segs_.back().held,
                                                         &segs_.back()};
      Gate g = gate(y, p, false);
      if (g == Gate::Sink) {
        trl_pending_ = false;
        a_.sinkTrailers(*trailers_);
        return a_.stopped() ? Flow::Abort : Flow::Done;
      }
      if (g != Gate::Enter)
        return Flow::Parked;
      FilterTrailersStatus st = a_.trailers(p, *trailers_);
      if (a_.stopped())
        return Flow::Abort;
      trl_pos_ = p + 1;
      if (st != FilterTrailersStatus::Continue) {
        trl_held_ = true;
        return afterCall();
      }
      // Continue from a stopped filter's trailers callback resumes that filter.
      if (releaseMessage(p))
        return Flow::Restart;
      if (afterCall() == Flow::Restart)
        return Flow::Restart;
    }
    return Flow::Parked;
  }

  // Streaming with nothing held: the caller's buffer goes straight through.
  void streamDirect(Buffer& data, bool end) {
    busy_ = true;
    size_t p = 0;
    FilterDataStatus st = FilterDataStatus::Continue;
    for (; p < n(); ++p) {
      st = dataCall(p, data, end);
      if (a_.stopped()) {
        busy_ = false;
        return;
      }
      if (st != FilterDataStatus::Continue)
        break;
    }
    bool ok = true;
    if (p == n()) {
      a_.sinkData(data, end);
    } else if (st != FilterDataStatus::StopIterationNoBuffer || end) {
      // Held: it is older than anything queued by re-entrant calls, so it goes first.
      Segment& s = newSegment(segs_.begin());
      s.pos = p + 1;
      s.held = true;
      s.end = end;
      if (st == FilterDataStatus::StopIterationNoBuffer) {
        data.clear();
      } else {
        s.watermark = st == FilterDataStatus::StopIterationAndWatermark;
        s.body.move(data);
        ok = checkLimit(s.watermark);
      }
    } else {
      data.clear();
    }
    busy_ = false;
    if (!ok || a_.stopped())
      return;
    if (again_ || !deferred_.empty() || trl_pending_ || !segs_.empty())
      pump();
  }

  // Returns false if the stream ended because of an overflow.
  bool checkLimit(bool watermark) {
    size_t total = bufferedBytes();
    if (total <= a_.bufferLimit())
      return true;
    if (watermark) {
      if (!watermark_above_) {
        watermark_above_ = true;
        a_.onBufferWatermark(true);
      }
      return !a_.stopped();
    }
    if (!overflowed_) {
      overflowed_ = true;
      a_.onBufferOverflow();
    }
    return !a_.stopped();
  }

  void updateWatermark() {
    if (watermark_above_ && bufferedBytes() <= a_.bufferLimit() / 2) {
      watermark_above_ = false;
      a_.onBufferWatermark(false);
    }
  }

  size_t bufferedBytes() const {
    size_t total = 0;
    for (const auto& s : segs_)
      total += s.body.size();
    return total;
  }

  // Segments are recycled so a stream that buffers allocates list nodes only once.
  Segment& newSegment(SegIt before) {
    if (spare_.empty())
      spare_.emplace_back();
    auto node = spare_.begin();
    segs_.splice(before, spare_, node);
    node->pos = 0;
    node->held = node->end = node->watermark = false;
    node->body.clear();
    return *node;
  }
  void dropSegment(SegIt it) {
    it->body.clear();
    it->body.shrinkIfIdle();
    spare_.splice(spare_.end(), segs_, it);
  }

  Adapter& a_;
  HeaderMap* headers_ = nullptr;
  HeaderMap* trailers_ = nullptr;
  // Headers: next filter to see them; the filter before it holds them unless hdr_hold_ is None.
  size_t hdr_pos_ = 0;
  Hold hdr_hold_ = Hold::None;
  bool hdr_started_ = false;
  bool hdr_end_ = false;
  bool hdr_sent_ = false;
  std::list<Segment> segs_; // pending body, oldest first
  std::list<Segment> spare_;
  bool trl_pending_ = false;
  size_t trl_pos_ = 0;
  bool trl_held_ = false;
  bool busy_ = false;  // inside a filter or sink callback
  bool again_ = false; // a re-entrant call queued work
  bool in_end_data_call_ = false;
  bool trailers_added_ = false;
  std::vector<size_t> deferred_; // resume() calls made from inside callbacks
  bool watermark_above_ = false;
  bool overflowed_ = false;
};

} // namespace wasmgate::http
