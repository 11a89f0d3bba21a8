#include "extensions/common/wasm/shared_data.h"

namespace wasmgate::extensions::wasm {

SharedData& SharedData::global() {
  static SharedData data;
  return data;
}

uint32_t SharedData::nextCas() {
  const uint32_t cas = next_cas_++;
  if (next_cas_ == 0) // 0 means "no CAS" to the guest: skip it on wrap-around
    next_cas_ = 1;
  return cas;
}

SharedData::WasmResult SharedData::get(std::string_view vm_id, std::string_view key,
                                       std::string& value, uint32_t& cas) const {
  std::lock_guard lock(mu_);
  auto vm = data_.find(std::string(vm_id));
  if (vm == data_.end())
    return WasmResult::NotFound;
  auto it = vm->second.find(std::string(key));
  if (it == vm->second.end())
    return WasmResult::NotFound;
  value = it->second.value;
  cas = it->second.cas;
  return WasmResult::Ok;
}

SharedData::WasmResult SharedData::set(std::string_view vm_id, std::string_view key,
                                       std::string_view value, uint32_t cas) {
  std::lock_guard lock(mu_);
  if (value.size() > limits_.max_value_bytes)
    return WasmResult::BadArgument;
  auto& entries = data_[std::string(vm_id)];
  auto it = entries.find(std::string(key));
  if (it != entries.end()) {
    if (cas != 0 && cas != it->second.cas)
      return WasmResult::CasMismatch;
    it->second.value.assign(value);
    it->second.cas = nextCas();
    return WasmResult::Ok;
  }
  if (entries.size() >= limits_.max_keys_per_vm_id)
    return WasmResult::InternalFailure;
  entries.emplace(std::string(key), Entry{std::string(value), nextCas()});
  return WasmResult::Ok;
}

void SharedData::setLimits(SharedDataLimits limits) {
  std::lock_guard lock(mu_);
  limits_ = limits;
}

SharedDataLimits SharedData::limits() const {
  std::lock_guard lock(mu_);
  return limits_;
}

size_t SharedData::size(std::string_view vm_id) const {
  std::lock_guard lock(mu_);
  auto vm = data_.find(std::string(vm_id));
  return vm == data_.end() ? 0 : vm->second.size();
}

} // namespace wasmgate::extensions::wasm
