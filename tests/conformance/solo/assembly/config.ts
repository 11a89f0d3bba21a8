// Shared helpers for the solo (@solo-io/proxy-runtime 0.1.8, AssemblyScript 0.14) conformance plugins.
//
// NOTE: the SDK's own RootContext.onConfigure() passes `configuration_size` as the *pointer* argument
// `ret_size_ptr` of proxy_get_buffer_bytes (a bug in 0.1.8): the host then writes the u32 size into guest
// memory at address == configuration size, and the SDK reads a stale length. These plugins therefore
// never call super.onConfigure(); they read the buffers with the SDK's get_buffer_bytes() helper, which
// passes proper out-pointers.
import { get_buffer_bytes, BufferTypeValues } from "@solo-io/proxy-runtime/runtime";

/** Reads PLUGIN_CONFIGURATION (buffer type 7) as UTF-8. Only valid inside onConfigure. */
export function readPluginConfiguration(size: u32): string {
  if (size == 0) return "";
  return String.UTF8.decode(get_buffer_bytes(BufferTypeValues.PluginConfiguration, 0, size));
}

/** Reads VM_CONFIGURATION (buffer type 6) as UTF-8. */
export function readVmConfiguration(size: u32): string {
  if (size == 0) return "";
  return String.UTF8.decode(get_buffer_bytes(BufferTypeValues.VmConfiguration, 0, size));
}

/** A header parsed from a `name=value` plugin configuration string. */
export class HeaderConfig {
  name: string = "";
  value: string = "";
  valid: bool = false;
}

/**
 * Parses `name=value` (split at the first '=', surrounding whitespace trimmed, name lower-cased).
 * Invalid when there is no '=' or the name is empty.
 */
export function parseHeaderConfig(config: string): HeaderConfig {
  let result = new HeaderConfig();
  let eq = config.indexOf("=");
  if (eq <= 0) return result;
  let name = config.substring(0, eq).trim().toLowerCase();
  let value = config.substring(eq + 1).trim();
  if (name.length == 0) return result;
  result.name = name;
  result.value = value;
  result.valid = true;
  return result;
}
