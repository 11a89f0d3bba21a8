// local_response (solo): no configuration.
//  * onRequestHeaders: if `:path` starts with `/deny`, sends a local reply 403, body `denied by solo`,
//    extra header `x-denied-by: solo`, no gRPC status (-1), and returns StopIteration; otherwise Continue.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  send_local_response, GrpcStatusValues, HeaderPair, Headers,
} from "@solo-io/proxy-runtime";

class LocalResponseRoot extends RootContext {
  createContext(context_id: u32): Context {
    return new LocalResponse(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    return true; // configuration ignored (the SDK's default onConfigure is not used, see config.ts)
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
      extra.push(new HeaderPair(String.UTF8.encode("x-denied-by"), String.UTF8.encode("solo")));
      send_local_response(403, "denied_by_solo", String.UTF8.encode("denied by solo"), extra,
        GrpcStatusValues.InvalidCode);
      return FilterHeadersStatusValues.StopIteration;
    }
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new LocalResponseRoot(context_id); }, "local_response");
