// Shared helpers of the dltheory addon: the tensor table and argument conversion.
//
// JavaScript never holds an at::Tensor. It holds an integer slot in a table owned here, so a call
// crosses N-API with plain numbers (cheap) and freeing is explicit (`free(id)`), which is what lets
// the TypeScript side release native memory deterministically instead of waiting for the GC.
#pragma once
#define NAPI_CPP_EXCEPTIONS 1
#include <napi.h>
#include <ATen/ATen.h>
#include <string>
#include <vector>

namespace dl {

// Slot table. `put` stores a tensor and reports its bytes to V8 so that the GC backstop
// (FinalizationRegistry on the JS side) sees the real memory pressure.
int32_t put(Napi::Env env, at::Tensor t);
at::Tensor& get(int32_t id);
void release(Napi::Env env, int32_t id);
int64_t live();

inline at::Tensor& T(const Napi::CallbackInfo& info, size_t i) {
  return get(info[i].As<Napi::Number>().Int32Value());
}
inline c10::optional<at::Tensor> optT(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) return c10::nullopt;
  int32_t id = info[i].As<Napi::Number>().Int32Value();
  if (id < 0) return c10::nullopt;
  return get(id);
}
inline double num(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().DoubleValue(); }
inline int64_t i64(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::Number>().Int64Value(); }
inline bool flag(const Napi::CallbackInfo& info, size_t i) { return i < info.Length() && info[i].ToBoolean().Value(); }
inline std::string str(const Napi::CallbackInfo& info, size_t i) { return info[i].As<Napi::String>().Utf8Value(); }

std::vector<int64_t> ints(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<int64_t>> optInts(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> tensors(const Napi::CallbackInfo& info, size_t i);
at::ScalarType dtypeOf(const std::string& name);
std::string dtypeName(at::ScalarType t);
at::TensorOptions options(const Napi::CallbackInfo& info, size_t dtypeArg);

inline Napi::Value ret(const Napi::CallbackInfo& info, at::Tensor t) {
  return Napi::Number::New(info.Env(), put(info.Env(), std::move(t)));
}
Napi::Value retList(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts);

// Every exported function goes through `guard`, so a libtorch exception becomes a JS Error with
// libtorch's one-line message and never unwinds into Node.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guard(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

#define DL_EXPORT(exports, name, fn) \
  exports.Set(name, Napi::Function::New<dl::guard<fn>>(exports.Env(), name))

void registerCore(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
void registerNN(Napi::Env env, Napi::Object exports);
// Replaces libtorch's CPU allocator by the caching one (allocator.cc) unless DLTHEORY_CPU_CACHE_MB=0.
void installCpuAllocator();

}  // namespace dl
