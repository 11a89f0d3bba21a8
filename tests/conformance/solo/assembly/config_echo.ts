// config_echo (solo): echoes the configurations it was given.
//  * onStart (proxy_on_vm_start): reads VM_CONFIGURATION (buffer 6).
//  * onConfigure (proxy_on_configure): reads PLUGIN_CONFIGURATION (buffer 7).
//  * onResponseHeaders: adds `x-plugin-config: <plugin config>` and `x-vm-config: <vm config>`
//    (values verbatim; an empty configuration gives an empty header value).
export * from "@solo-io/proxy-runtime/proxy";
import {
  RootContext, Context, registerRootContext, FilterHeadersStatusValues, stream_context,
  log, LogLevelValues,
} from "@solo-io/proxy-runtime";
import { readPluginConfiguration, readVmConfiguration } from "./config";

class ConfigEchoRoot extends RootContext {
  plugin_config: string = "";
  vm_config: string = "";

  createContext(context_id: u32): Context {
    return new ConfigEcho(context_id, this);
  }

  onStart(vm_configuration_size: usize): bool {
    this.vm_config = readVmConfiguration(vm_configuration_size as u32);
    log(LogLevelValues.info, "config_echo: vm configuration '" + this.vm_config + "'");
    return true;
  }

  onConfigure(configuration_size: u32): bool {
    this.plugin_config = readPluginConfiguration(configuration_size);
    log(LogLevelValues.info, "config_echo: plugin configuration '" + this.plugin_config + "'");
    return true;
  }
}

class ConfigEcho extends Context {
  constructor(context_id: u32, root_context: ConfigEchoRoot) {
    super(context_id, root_context);
  }

  onResponseHeaders(headers: u32, end_of_stream: bool): FilterHeadersStatusValues {
    let root = this.root_context as ConfigEchoRoot;
    stream_context.headers.response.add("x-plugin-config", root.plugin_config);
    stream_context.headers.response.add("x-vm-config", root.vm_config);
    return FilterHeadersStatusValues.Continue;
  }
}

registerRootContext((context_id: u32) => { return new ConfigEchoRoot(context_id); }, "config_echo");
