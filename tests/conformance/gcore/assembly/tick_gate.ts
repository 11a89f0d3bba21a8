// tick_gate (gcore): timers. Plugin configuration: the tick period in milliseconds (decimal, e.g. `20`).
//  * onConfigure: parses the period (empty/invalid -> error log, returns false), defines the counter
//    `gcore_ticks_total` and calls set_tick_period_milliseconds (proxy_set_tick_period_milliseconds).
//  * onRequestHeaders: remembers the stream's context id in the root context and holds the request
//    (StopIteration).
//  * onTick (root context): counts the tick; for every held stream makes it the effective context
//    (proxy_set_effective_context), adds request header `x-released-by: tick` and continues the
//    request (proxy_continue_stream); then forgets them all.
//  * onResponseHeaders: adds response header `x-tick-gate: gcore`.
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  continue_request, proxy_set_effective_context, Counter, log, LogLevelValues, WasmResultValues,
  set_tick_period_milliseconds,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { readPluginConfiguration } from "./config";

/** A positive decimal number of at most 9 digits (no sign, no spaces); -1 otherwise. */
function parsePeriod(config: string): i32 {
  if (config.length == 0 || config.length > 9) return -1;
  let n: i32 = 0;
  for (let i = 0; i < config.length; i++) {
    let c = config.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n > 0 ? n : -1; // 0 would switch the timer off and hold every request forever
}

class TickGateRoot extends RootContext {
  held: Array<u32> = [];
  ticks: Counter | null = null;

  createContext(context_id: u32): Context {
    return new TickGate(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    let config = readPluginConfiguration(configuration_size);
    let period = parsePeriod(config);
    if (period < 0) {
      log(LogLevelValues.error, "tick_gate: invalid configuration '" + config + "', expected milliseconds");
      return false;
    }
    this.ticks = new Counter("gcore_ticks_total");
    set_tick_period_milliseconds(<u32>period);
    log(LogLevelValues.info, "tick_gate: tick period " + period.toString() + " ms");
    return true;
  }

  onTick(): void {
    (this.ticks as Counter).increment(1);
    for (let i = 0; i < this.held.length; i++) {
      // The stream may be gone (client reset); the SDK logs that at critical level (to stdout), skip it.
      if (proxy_set_effective_context(this.held[i]) != WasmResultValues.Ok) continue;
      stream_context.headers.request.add("x-released-by", "tick");
      continue_request();
    }
    this.held = [];
  }
}

class TickGate extends Context {
  constructor(context_id: u32, root_context: TickGateRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    (this.root_context as TickGateRoot).held.push(this.context_id);
    return FilterHeadersStatusValues.StopIteration;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-tick-gate", "gcore");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new TickGateRoot(context_id); }, "tick_gate");
