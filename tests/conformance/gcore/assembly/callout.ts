// callout (gcore): HTTP callouts, metrics and shared data. Plugin configuration: the cluster.
//  * onConfigure: defines the counter `gcore_callout_requests_total`.
//  * onRequestHeaders: increments the counter, calls `GET /echo/callout` on the configured
//    cluster (:authority `callout`) and pauses the request (StopIteration).
//  * the callout's callback (the request's context effective): adds request header
//    `x-callout-status: <:status of the callout response>`, increments the shared-data key
//    `gcore_callout_count` with a CAS update, adds `x-shared-count: <new value>`, continues.
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, FilterHeadersStatusValues,
  stream_context, continue_request, Counter, makeHeaderPair, Headers, get_shared_data,
  set_shared_data, WasmResultValues,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { readPluginConfiguration } from "./config";

class CalloutRoot extends RootContext {
  cluster: string = "";
  requests: Counter | null = null;

  createContext(context_id: u32): Context {
    return new Callout(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    this.cluster = readPluginConfiguration(configuration_size);
    this.requests = new Counter("gcore_callout_requests_total");
    return true;
  }
}

// Read, add one, write back with the token read; retry when another writer got in between.
function incrementShared(key: string): u32 {
  for (let attempt = 0; attempt < 16; attempt++) {
    let current = get_shared_data(key);
    let n: u32 = 0;
    let cas: u32 = 0;
    if (current.result == WasmResultValues.Ok && current.value != null) {
      n = <u32>parseInt(String.UTF8.decode(current.value as ArrayBuffer));
      cas = current.cas;
    }
    if (set_shared_data(key, String.UTF8.encode((n + 1).toString()), cas) == WasmResultValues.Ok) {
      return n + 1;
    }
  }
  return 0;
}

function onCalloutResponse(origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32): void {
  let status = stream_context.headers.http_callback.get(":status");
  stream_context.headers.request.add("x-callout-status", status);
  stream_context.headers.request.add("x-shared-count", incrementShared("gcore_callout_count").toString());
  continue_request();
}

class Callout extends Context {
  constructor(context_id: u32, root_context: CalloutRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as CalloutRoot;
    (root.requests as Counter).increment(1);
    let request: Headers = [];
    request.push(makeHeaderPair(":method", "GET"));
    request.push(makeHeaderPair(":path", "/echo/callout"));
    request.push(makeHeaderPair(":authority", "callout"));
    root.httpCall(root.cluster, request, new ArrayBuffer(0), [], 5000, this, onCalloutResponse);
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new CalloutRoot(context_id); }, "callout");
