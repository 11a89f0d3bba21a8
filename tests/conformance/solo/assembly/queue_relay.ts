// queue_relay (solo): shared queues. Plugin configuration: the queue name (e.g. `relay`).
//  * onConfigure: registers the queue (proxy_register_shared_queue) and reads `plugin_vm_id`; an
//    empty configuration -> error log, returns false.
//  * onRequestHeaders: resolves the queue by vm_id + name (proxy_resolve_shared_queue), enqueues
//    the request's :path (proxy_enqueue_shared_queue), remembers the stream in the root context
//    (FIFO) and holds the request (StopIteration).
//  * onQueueReady (root context, proxy_on_queue_ready): dequeues one item
//    (proxy_dequeue_shared_queue), makes the oldest held stream effective, adds request header
//    `x-dequeued: <item>` and continues the request.
//  * onResponseHeaders: adds response header `x-queue-relay: solo`.
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  continue_request, proxy_set_effective_context, log, LogLevelValues, WasmResultValues,
} from "@solo-io/proxy-runtime";
// The queue functions are not re-exported by the package index in 0.1.8.
import {
  Reference, register_shared_queue, resolve_shared_queue, enqueue_shared_queue, get_property,
} from "@solo-io/proxy-runtime/runtime";
import { proxy_dequeue_shared_queue } from "@solo-io/proxy-runtime/imports";
import { free } from "@solo-io/proxy-runtime/malloc";
import { readPluginConfiguration } from "./config";

// solo 0.1.8 declares the token of register/resolve_shared_queue as `token: u32` but passes it to
// the host unchanged as the `ret_token_ptr` out-pointer, so the caller must pass the address of a
// u32 (usize == u32 on wasm32) and read the token from there.
function tokenOut(ref: Reference<u32>): u32 {
  return <u32>ref.ptr();
}

// solo 0.1.8's dequeue_shared_queue does not compile with its own compiler (AS 0.14.13: TS2564,
// DequeueSharedQueueResult.data has no initializer), so this calls the SDK's exported import the
// way runtime.ts does: the host returns a buffer from our malloc, which we take over and free.
// Returns null when the queue is empty (or the call fails).
function dequeue(token: u32): string | null {
  let ptr = new Reference<usize>();
  let size = new Reference<usize>();
  if (proxy_dequeue_shared_queue(token, ptr.ptr(), size.ptr()) != WasmResultValues.Ok) return null;
  if (size.data == 0) return "";
  let buffer = changetype<ArrayBuffer>(ptr.data); // retained here; free() drops malloc's reference
  free(ptr.data);
  return String.UTF8.decode(buffer);
}

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
    let token = new Reference<u32>();
    let r = register_shared_queue(this.queue, tokenOut(token));
    if (r != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_relay: register_shared_queue failed: " + r.toString());
      return false;
    }
    this.token = token.data;
    this.vm_id = String.UTF8.decode(get_property("plugin_vm_id"));
    log(LogLevelValues.info, "queue_relay: registered queue '" + this.queue + "' of vm '" + this.vm_id +
      "', token " + this.token.toString());
    return true;
  }

  onQueueReady(token: u32): void {
    let item = dequeue(token);
    // Empty: another consumer got it. No held stream: nothing to release.
    if (item === null || this.held.length == 0) return;
    let id = this.held.shift();
    // The stream may be gone (client reset); the SDK logs that at critical level.
    if (proxy_set_effective_context(id) != WasmResultValues.Ok) return;
    stream_context.headers.request.add("x-dequeued", item as string);
    continue_request();
  }
}

class QueueRelay extends Context {
  constructor(context_id: u32, root_context: QueueRelayRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as QueueRelayRoot;
    let token = new Reference<u32>();
    let r = resolve_shared_queue(root.vm_id, root.queue, tokenOut(token));
    if (r == WasmResultValues.Ok)
      r = enqueue_shared_queue(token.data, String.UTF8.encode(stream_context.headers.request.get(":path")));
    if (r != WasmResultValues.Ok) {
      log(LogLevelValues.error, "queue_relay: cannot enqueue: " + r.toString());
      return FilterHeadersStatusValues.Continue;
    }
    root.held.push(this.context_id); // proxy_on_queue_ready comes later, never inside this call
    return FilterHeadersStatusValues.StopIteration;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    stream_context.headers.response.add("x-queue-relay", "solo");
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new QueueRelayRoot(context_id); }, "queue_relay");
