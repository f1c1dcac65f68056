// Tensor table, creation, data transfer, metadata, autograd, seeds, threads and devices.
#include "dl.h"
#include <ATen/Parallel.h>
#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/autograd/autograd.h>
#include <cstdlib>
#include <cstring>
#include <mutex>

namespace dl {

static std::vector<at::Tensor> slots;
static std::vector<int64_t> slotBytes;
static std::vector<int32_t> freeSlots;
static int64_t liveCount = 0;
static at::Device defaultDevice = at::kCPU;

// Native bytes are reported to V8 so that tensors a user forgot to dispose still push it to collect
// their handles (and run their finalizers). Reporting every allocation and free made V8 start a
// full collection more than once per batch of a margins pass (395 in six passes over 10,000 points):
// V8 reacts to external growth since its last collection, and a batch allocates and frees ~100 MB.
// Those collections' helper threads took the cores from libtorch's OpenMP threads (margins
// benchmark 0.77–0.92× PyTorch). So the figure moves in steps: V8 hears of a change once the native
// total has drifted kReportStep from what it was last told, which deterministic scope/dispose use
// rarely does (4 collections in the same six passes; the benchmark 1.20×).
static constexpr int64_t kReportStep = int64_t(256) << 20;
static int64_t nativeBytes = 0, reportedBytes = 0;
static void account(Napi::Env env, int64_t delta) {
  nativeBytes += delta;
  if (std::llabs(nativeBytes - reportedBytes) < kReportStep) return;
  Napi::MemoryManagement::AdjustExternalMemory(env, nativeBytes - reportedBytes);
  reportedBytes = nativeBytes;
}

int32_t put(Napi::Env env, at::Tensor t) {
  int32_t id;
  if (!freeSlots.empty()) {
    id = freeSlots.back();
    freeSlots.pop_back();
  } else {
    id = static_cast<int32_t>(slots.size());
    slots.emplace_back();
    slotBytes.push_back(0);
  }
  int64_t bytes = t.defined() && t.device().is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0;
  slots[id] = std::move(t);
  slotBytes[id] = bytes;
  ++liveCount;
  if (bytes > 0) account(env, bytes);
  return id;
}

at::Tensor& get(int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(slots.size()) || !slots[id].defined())
    throw std::runtime_error("tensor used after dispose (slot " + std::to_string(id) + ")");
  return slots[id];
}

void release(Napi::Env env, int32_t id) {
  if (id < 0 || id >= static_cast<int32_t>(slots.size()) || !slots[id].defined()) return;
  slots[id].reset();
  if (slotBytes[id] > 0) account(env, -slotBytes[id]);
  slotBytes[id] = 0;
  freeSlots.push_back(id);
  --liveCount;
}

int64_t live() { return liveCount; }

// Re-reads a slot's byte count after its data changed size (setData), keeping V8's figure right.
static void resize(Napi::Env env, int32_t id) {
  const auto& t = slots[id];
  int64_t bytes = t.device().is_cpu() ? static_cast<int64_t>(t.nbytes()) : 0;
  if (bytes != slotBytes[id]) account(env, bytes - slotBytes[id]);
  slotBytes[id] = bytes;
}

std::vector<int64_t> ints(const Napi::CallbackInfo& info, size_t i) {
  auto a = info[i].As<Napi::Array>();
  std::vector<int64_t> out(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) out[k] = a.Get(k).As<Napi::Number>().Int64Value();
  return out;
}

c10::optional<std::vector<int64_t>> optInts(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsArray()) return c10::nullopt;
  return ints(info, i);
}

std::vector<at::Tensor> tensors(const Napi::CallbackInfo& info, size_t i) {
  auto a = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(a.Length());
  for (uint32_t k = 0; k < a.Length(); ++k) out.push_back(get(a.Get(k).As<Napi::Number>().Int32Value()));
  return out;
}

at::ScalarType dtypeOf(const std::string& name) {
  if (name == "float32") return at::kFloat;
  if (name == "float64") return at::kDouble;
  if (name == "int64") return at::kLong;
  if (name == "bool") return at::kBool;
  throw std::invalid_argument("unknown dtype '" + name + "' (float32, float64, int64, bool)");
}

std::string dtypeName(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kLong: return "int64";
    case at::kBool: return "bool";
    default: return c10::toString(t);
  }
}

at::TensorOptions options(const Napi::CallbackInfo& info, size_t dtypeArg) {
  return at::TensorOptions().dtype(dtypeOf(str(info, dtypeArg))).device(defaultDevice);
}

Napi::Value retList(const Napi::CallbackInfo& info, const std::vector<at::Tensor>& ts) {
  auto a = Napi::Array::New(info.Env(), ts.size());
  for (size_t k = 0; k < ts.size(); ++k)
    a.Set(static_cast<uint32_t>(k), ts[k].defined() ? ret(info, ts[k]) : Napi::Number::New(info.Env(), -1));
  return a;
}

// ---- memory ----
static Napi::Value free_(const Napi::CallbackInfo& info) {
  release(info.Env(), info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}
static Napi::Value liveTensors(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), double(liveCount)); }

// ---- data transfer ----
// fromBuffer(typedArray, shape, dtype): copies, so JS may reuse its array afterwards.
static Napi::Value fromBuffer(const Napi::CallbackInfo& info) {
  auto view = info[0].As<Napi::TypedArray>();
  auto shape = ints(info, 1);
  auto dtype = dtypeOf(str(info, 2));
  int64_t n = 1;
  for (auto d : shape) {
    if (d < 0) throw std::invalid_argument("negative dimension in shape");
    n *= d;
  }
  size_t item = c10::elementSize(dtype);
  if (view.ByteLength() != static_cast<size_t>(n) * item)
    throw std::invalid_argument("data has " + std::to_string(view.ByteLength() / item) + " elements but shape " +
                                c10::str(c10::IntArrayRef(shape)) + " needs " + std::to_string(n));
  auto t = at::empty(shape, at::TensorOptions().dtype(dtype));
  auto bytes = static_cast<uint8_t*>(view.ArrayBuffer().Data()) + view.ByteOffset();
  if (n > 0) std::memcpy(t.data_ptr(), bytes, n * item);
  if (defaultDevice != at::kCPU) t = t.to(defaultDevice);
  return ret(info, t);
}

static Napi::Value toArray(const Napi::CallbackInfo& info) {
  auto t = T(info, 0).detach().to(at::kCPU).contiguous();
  auto env = info.Env();
  size_t n = t.numel();
  auto buf = Napi::ArrayBuffer::New(env, t.nbytes());
  if (n > 0) std::memcpy(buf.Data(), t.data_ptr(), t.nbytes());
  switch (t.scalar_type()) {
    case at::kFloat: return Napi::Float32Array::New(env, n, buf, 0);
    case at::kDouble: return Napi::Float64Array::New(env, n, buf, 0);
    case at::kLong: return Napi::BigInt64Array::New(env, n, buf, 0);
    case at::kBool: return Napi::Uint8Array::New(env, n, buf, 0);
    default: throw std::invalid_argument("toArray: unsupported dtype " + dtypeName(t.scalar_type()));
  }
}

static Napi::Value item(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), T(info, 0).item<double>());
}

// ---- creation ----
static Napi::Value zeros(const Napi::CallbackInfo& info) { return ret(info, at::zeros(ints(info, 0), options(info, 1))); }
static Napi::Value ones(const Napi::CallbackInfo& info) { return ret(info, at::ones(ints(info, 0), options(info, 1))); }
static Napi::Value full(const Napi::CallbackInfo& info) {
  return ret(info, at::full(ints(info, 0), num(info, 1), options(info, 2)));
}
static Napi::Value arange(const Napi::CallbackInfo& info) {
  return ret(info, at::arange(num(info, 0), num(info, 1), num(info, 2), options(info, 3)));
}
static Napi::Value linspace(const Napi::CallbackInfo& info) {
  return ret(info, at::linspace(num(info, 0), num(info, 1), i64(info, 2), options(info, 3)));
}
static Napi::Value eye(const Napi::CallbackInfo& info) { return ret(info, at::eye(i64(info, 0), options(info, 1))); }
static Napi::Value randn(const Napi::CallbackInfo& info) { return ret(info, at::randn(ints(info, 0), options(info, 1))); }
static Napi::Value rand(const Napi::CallbackInfo& info) { return ret(info, at::rand(ints(info, 0), options(info, 1))); }
static Napi::Value randint(const Napi::CallbackInfo& info) {
  return ret(info, at::randint(i64(info, 0), i64(info, 1), ints(info, 2), options(info, 3)));
}
static Napi::Value randperm(const Napi::CallbackInfo& info) { return ret(info, at::randperm(i64(info, 0), options(info, 1))); }
static Napi::Value zerosLike(const Napi::CallbackInfo& info) { return ret(info, at::zeros_like(T(info, 0))); }
static Napi::Value onesLike(const Napi::CallbackInfo& info) { return ret(info, at::ones_like(T(info, 0))); }
static Napi::Value randnLike(const Napi::CallbackInfo& info) { return ret(info, at::randn_like(T(info, 0))); }

// ---- metadata ----
static Napi::Value shape(const Napi::CallbackInfo& info) {
  auto s = T(info, 0).sizes();
  auto a = Napi::Array::New(info.Env(), s.size());
  for (size_t k = 0; k < s.size(); ++k) a.Set(static_cast<uint32_t>(k), Napi::Number::New(info.Env(), double(s[k])));
  return a;
}
static Napi::Value dtype(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), dtypeName(T(info, 0).scalar_type())); }
static Napi::Value device(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), T(info, 0).device().str()); }

// ---- autograd ----
static Napi::Value setRequiresGrad(const Napi::CallbackInfo& info) {
  T(info, 0).set_requires_grad(flag(info, 1));
  return info.Env().Undefined();
}
static Napi::Value requiresGrad(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T(info, 0).requires_grad()); }
static Napi::Value isLeaf(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), T(info, 0).is_leaf()); }
static Napi::Value retainGrad(const Napi::CallbackInfo& info) {
  T(info, 0).retain_grad();
  return info.Env().Undefined();
}
static Napi::Value grad(const Napi::CallbackInfo& info) {
  const auto& g = T(info, 0).grad();
  return g.defined() ? ret(info, g) : Napi::Number::New(info.Env(), -1);
}
static Napi::Value setGrad(const Napi::CallbackInfo& info) {
  auto g = optT(info, 1);
  T(info, 0).mutable_grad() = g ? *g : at::Tensor();
  return info.Env().Undefined();
}
static Napi::Value backward(const Napi::CallbackInfo& info) {
  auto g = optT(info, 1);
  T(info, 0).backward(g ? *g : at::Tensor(), flag(info, 2), flag(info, 3));
  return info.Env().Undefined();
}
// autogradGrad(outputs, inputs, gradOutputs, retainGraph, createGraph, allowUnused): torch::autograd::grad.
static Napi::Value autogradGrad(const Napi::CallbackInfo& info) {
  auto outs = tensors(info, 0);
  auto ins = tensors(info, 1);
  auto gouts = tensors(info, 2);
  c10::optional<bool> retain;
  if (info[3].IsBoolean()) retain = info[3].As<Napi::Boolean>().Value();
  return retList(info, torch::autograd::grad(outs, ins, gouts, retain, flag(info, 4), flag(info, 5)));
}
static Napi::Value setGradEnabled(const Napi::CallbackInfo& info) {
  bool prev = at::GradMode::is_enabled();
  at::GradMode::set_enabled(flag(info, 0));
  return Napi::Boolean::New(info.Env(), prev);
}
static Napi::Value detach(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).detach()); }
// setData(t, src): t takes src's storage, dtype and device but keeps its identity (and its
// autograd leaf status), as `param.data = …` in PyTorch; how Module.to(dtype) converts in place.
static Napi::Value setData(const Napi::CallbackInfo& info) {
  int32_t id = info[0].As<Napi::Number>().Int32Value();
  get(id).set_data(T(info, 1));
  resize(info.Env(), id);
  return info.Env().Undefined();
}

// ---- seeds, threads, devices ----
static Napi::Value manualSeed(const Napi::CallbackInfo& info) {
  uint64_t seed = static_cast<uint64_t>(i64(info, 0));
  auto gen = at::detail::getDefaultCPUGenerator();
  {
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  }
  if (at::hasCUDA()) {
    for (int i = 0; i < at::detail::getCUDAHooks().getNumGPUs(); ++i) {
      auto g = at::detail::getCUDAHooks().getDefaultCUDAGenerator(i);
      std::lock_guard<std::mutex> lock(g.mutex());
      g.set_current_seed(seed);
    }
  }
  return info.Env().Undefined();
}
static Napi::Value setNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(static_cast<int>(i64(info, 0)));
  return info.Env().Undefined();
}
static Napi::Value getNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }
static Napi::Value cudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::hasCUDA()); }
static Napi::Value setDefaultDevice(const Napi::CallbackInfo& info) {
  at::Device d(str(info, 0));
  if (d.is_cuda() && !at::hasCUDA()) throw std::invalid_argument("CUDA is not available in this libtorch build or machine");
  defaultDevice = d;
  return info.Env().Undefined();
}
static Napi::Value to(const Napi::CallbackInfo& info) {
  std::string target = str(info, 1);
  if (target == "float32" || target == "float64" || target == "int64" || target == "bool")
    return ret(info, T(info, 0).to(dtypeOf(target)));
  return ret(info, T(info, 0).to(at::Device(target)));
}

void registerCore(Napi::Env env, Napi::Object e) {
  DL_EXPORT(e, "free", free_);
  DL_EXPORT(e, "liveTensors", liveTensors);
  DL_EXPORT(e, "fromBuffer", fromBuffer);
  DL_EXPORT(e, "toArray", toArray);
  DL_EXPORT(e, "item", item);
  DL_EXPORT(e, "zeros", zeros);
  DL_EXPORT(e, "ones", ones);
  DL_EXPORT(e, "full", full);
  DL_EXPORT(e, "arange", arange);
  DL_EXPORT(e, "linspace", linspace);
  DL_EXPORT(e, "eye", eye);
  DL_EXPORT(e, "randn", randn);
  DL_EXPORT(e, "rand", rand);
  DL_EXPORT(e, "randint", randint);
  DL_EXPORT(e, "randperm", randperm);
  DL_EXPORT(e, "zerosLike", zerosLike);
  DL_EXPORT(e, "onesLike", onesLike);
  DL_EXPORT(e, "randnLike", randnLike);
  DL_EXPORT(e, "shape", shape);
  DL_EXPORT(e, "dtype", dtype);
  DL_EXPORT(e, "device", device);
  DL_EXPORT(e, "setRequiresGrad", setRequiresGrad);
  DL_EXPORT(e, "requiresGrad", requiresGrad);
  DL_EXPORT(e, "isLeaf", isLeaf);
  DL_EXPORT(e, "retainGrad", retainGrad);
  DL_EXPORT(e, "grad", grad);
  DL_EXPORT(e, "setGrad", setGrad);
  DL_EXPORT(e, "backward", backward);
  DL_EXPORT(e, "autogradGrad", autogradGrad);
  DL_EXPORT(e, "setGradEnabled", setGradEnabled);
  DL_EXPORT(e, "detach", detach);
  DL_EXPORT(e, "setData", setData);
  DL_EXPORT(e, "manualSeed", manualSeed);
  DL_EXPORT(e, "setNumThreads", setNumThreads);
  DL_EXPORT(e, "getNumThreads", getNumThreads);
  DL_EXPORT(e, "cudaAvailable", cudaAvailable);
  DL_EXPORT(e, "setDefaultDevice", setDefaultDevice);
  DL_EXPORT(e, "to", to);
}

}  // namespace dl

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  dl::installCpuAllocator();
  dl::registerCore(env, exports);
  dl::registerOps(env, exports);
  dl::registerNN(env, exports);
  return exports;
}

NODE_API_MODULE(dltheory, Init)
