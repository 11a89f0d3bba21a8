// callout (solo): HTTP callouts and metrics. Plugin configuration: the cluster to call.
//  * onConfigure: defines the counter `solo_callout_requests_total`.
//  * onRequestHeaders: increments the counter, then calls `GET /echo/callout` on the configured
//    cluster (:authority `callout`) and pauses the request (StopIteration).
//  * the callout's callback (run by the SDK with the request's context effective): adds request
//    header `x-callout-status: <:status of the callout response>` and continues the request.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, BaseContext, registerRootContext, FilterHeadersStatusValues,
  stream_context, continue_request, Counter, HeaderPair, Headers, log, LogLevelValues,
} from "@solo-io/proxy-runtime";
import { readPluginConfiguration } from "./config";

class CalloutRoot extends RootContext {
  cluster: string = "";
  requests: Counter | null = null;

  createContext(context_id: u32): Context {
    return new Callout(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    this.cluster = readPluginConfiguration(configuration_size);
    this.requests = new Counter("solo_callout_requests_total");
    log(LogLevelValues.info, "callout: calling cluster " + this.cluster);
    return true;
  }
}

function header(name: string, value: string): HeaderPair {
  return new HeaderPair(String.UTF8.encode(name), String.UTF8.encode(value));
}

class Callout extends Context {
  constructor(context_id: u32, root_context: CalloutRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as CalloutRoot;
    (root.requests as Counter).increment(1);
    let request: Headers = [];
    request.push(header(":method", "GET"));
    request.push(header(":path", "/echo/callout"));
    request.push(header(":authority", "callout"));
    root.httpCall(root.cluster, request, new ArrayBuffer(0), [], 5000, this,
      (origin_context: BaseContext, headers: u32, body_size: usize, trailers: u32): void => {
        let status = stream_context.headers.http_callback.get(":status");
        stream_context.headers.request.add("x-callout-status", status);
        continue_request();
      });
    return FilterHeadersStatusValues.StopIteration;
  }
}

registerRootContext((context_id: u32) => { return new CalloutRoot(context_id); }, "callout");
