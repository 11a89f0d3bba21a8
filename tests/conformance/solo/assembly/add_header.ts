// add_header (solo): plugin configuration `name=value`, e.g. `x-conformance=solo`.
//  * onConfigure: parses the configuration; returns false (configure failure) if it is malformed.
//  * onRequestHeaders: adds request header `x-conformance-request: <value>`.
//  * onResponseHeaders: adds response header `<name>: <value>`.
export * from "@solo-io/proxy-runtime/proxy"; // the proxy_on_* exports, malloc/free, proxy_abi_version_0_2_0
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  log, LogLevelValues,
} from "@solo-io/proxy-runtime";
import { readPluginConfiguration, parseHeaderConfig } from "./config";

class AddHeaderRoot extends RootContext {
  header_name: string = "";
  header_value: string = "";

  createContext(context_id: u32): Context {
    return new AddHeader(context_id, this);
  }

  onConfigure(configuration_size: u32): bool {
    let config = readPluginConfiguration(configuration_size);
    let parsed = parseHeaderConfig(config);
    if (!parsed.valid) {
      log(LogLevelValues.error, "add_header: invalid configuration '" + config + "', expected name=value");
      return false;
    }
    this.header_name = parsed.name;
    this.header_value = parsed.value;
    log(LogLevelValues.info, "add_header: configured " + parsed.name + "=" + parsed.value);
    return true;
  }
}

class AddHeader extends Context {
  constructor(context_id: u32, root_context: AddHeaderRoot) {
    super(context_id, root_context);
  }

  onRequestHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as AddHeaderRoot;
    stream_context.headers.request.add("x-conformance-request", root.header_value);
    return FilterHeadersStatusValues.Continue;
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as AddHeaderRoot;
    stream_context.headers.response.add(root.header_name, root.header_value);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new AddHeaderRoot(context_id); }, "add_header");
