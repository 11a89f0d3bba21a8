// Shared helpers for the gcore (@gcoredev/proxy-wasm-sdk-as 1.2.3, AssemblyScript 0.28) conformance plugins.
import { get_buffer_bytes, BufferTypeValues } from "@gcoredev/proxy-wasm-sdk-as/assembly";

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
