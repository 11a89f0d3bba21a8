// local_response (gcore): no configuration.
//  * onRequestHeaders: if `:path` starts with `/deny`, sends a local reply 403, body `denied by gcore`,
//    extra header `x-denied-by: gcore`, no gRPC status (send_http_response passes -1), and returns
//    StopIteration; otherwise Continue.
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_http_response, makeHeaderPair, Headers,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";

class LocalResponseRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new LocalResponse(context_id, this);
  }
}

class LocalResponse extends Context {
  constructor(context_id: u32, root_context: LocalResponseRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let path = stream_context.headers.request.get(":path");
    if (path.startsWith("/deny")) {
      let extra: Headers = [];
      extra.push(makeHeaderPair("x-denied-by", "gcore"));
      send_http_response(403, "denied_by_gcore", String.UTF8.encode("denied by gcore"), extra);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new LocalResponseRoot(context_id); }, "local_response");
