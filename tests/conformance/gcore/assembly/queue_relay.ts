// queue_relay (gcore): shared queues. Plugin configuration: the queue name (e.g. `relay`).
//  * onConfigure: registers the queue (proxy_register_shared_queue) and reads `plugin_vm_id`; an
//    empty configuration -> error log, returns false.
//  * onRequestHeaders: resolves the queue by vm_id + name (proxy_resolve_shared_queue), enqueues
//    the request's :path (proxy_enqueue_shared_queue), remembers the stream in the root context
//    (FIFO) and holds the request (StopIteration).
//  * onQueueReady (root context, proxy_on_queue_ready): dequeues one item
//    (proxy_dequeue_shared_queue), makes the oldest held stream effective, adds request header
//    `x-dequeued: <item>` and continues the request.
//  * onResponseHeaders: adds response header `x-queue-relay: gcore`.
export * from "@gcoredev/proxy-wasm-sdk-as/assembly/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  continue_request, proxy_set_effective_context, log, LogLevelValues, WasmResultValues,
  register_shared_queue, resolve_shared_queue, enqueue_shared_queue, dequeue_shared_queue,
  get_property,
} from "@gcoredev/proxy-wasm-sdk-as/assembly";
import { readPluginConfiguration } from "./config";

class QueueRelayRoot extends RootContext {
  queue: string = "";
  vm_id: string = "";
  token: u32 = 0;
  held: Array<u32> = [];

  createContext(context_id: u32): Context {
    return new QueueRelay(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    this.queue = readPluginConfiguration(configuration_size);
    if (this.queue.length == 0) {
      log(LogLevelValues.error, "queue_relay: empty configuration, expected a queue name");
      return false;
    }
    let registered = register_shared_queue(this.queue);
    if (registered.result != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_relay: register_shared_queue failed: " + registered.result.toString());
      return false;
    }
    this.token = registered.token;
    this.vm_id = String.UTF8.decode(get_property("plugin_vm_id"));
    log(LogLevelValues.info, "queue_relay: registered queue '" + this.queue + "' of vm '" + this.vm_id +
      "', token " + this.token.toString());
    return true;
  }

  onQueueReady(token: u32): void {
    let item = dequeue_shared_queue(token);
    // Empty: another consumer got it. No held stream: nothing to release.
    if (item.result != WasmResultValues.Ok || this.held.length == 0) return;
    let id = this.held.shift();
    // The stream may be gone (client reset); the SDK logs that at critical level (to stdout).
    if (proxy_set_effective_context(id) != WasmResultValues.Ok) return;
    stream_context.headers.request.add("x-dequeued", String.UTF8.decode(item.data as ArrayBuffer));
    continue_request();
  }
}

class QueueRelay extends Context {
  constructor(context_id: u32, root_context: QueueRelayRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as QueueRelayRoot;
    let resolved = resolve_shared_queue(root.vm_id, root.queue);
    let r = resolved.result;
    if (r == WasmResultValues.Ok)
      r = enqueue_shared_queue(resolved.token, String.UTF8.encode(stream_context.headers.request.get(":path")));
    if (r != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_relay: cannot enqueue: " + r.toString());
      return FilterHeadersStatusValues.Continue;
    }
    root.held.push(this.context_id); // proxy_on_queue_ready comes later, never inside this call
    return FilterHeadersStatusValues.StopIteration;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-queue-relay", "gcore");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new QueueRelayRoot(context_id); }, "queue_relay");
