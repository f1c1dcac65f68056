// Elementwise maths, comparisons, reductions, shape and indexing ops, and the in-place updates
// that optimisers use. Each binding follows the ATen op of the same name.
#include "dl.h"
#include <cmath>

namespace dl {

// A JS number is integral or not; keep integers as integer Scalars so int64 tensors stay int64.
static at::Scalar scalar(const Napi::CallbackInfo& info, size_t i) {
  double v = num(info, i);
  if (std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e15) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}
static c10::optional<at::Scalar> optScalar(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) return c10::nullopt;
  return scalar(info, i);
}

#define UNARY_OPS(X) \
  X(neg) X(abs) X(exp) X(log) X(sqrt) X(rsqrt) X(sin) X(cos) X(tanh) X(sigmoid) X(relu) X(sign) X(square) \
  X(reciprocal) X(log1p) X(expm1) X(floor) X(ceil) X(round) X(erf) X(logical_not) X(isnan) X(isfinite) \
  X(clone) X(contiguous)
#define BINARY_OPS(X) \
  X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(eq) X(ne) X(lt) X(le) X(gt) X(ge) \
  X(logical_and) X(logical_or) X(remainder) X(atan2) X(matmul) X(mm) X(bmm) X(outer)
#define SCALAR_OPS(X) X(add) X(sub) X(mul) X(div) X(pow) X(eq) X(ne) X(lt) X(le) X(gt) X(ge) X(remainder) X(fmod)

#define DEF_UNARY(name) \
  static Napi::Value u_##name(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).name()); }
#define DEF_BINARY(name) \
  static Napi::Value b_##name(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).name(T(info, 1))); }
#define DEF_SCALAR(name) \
  static Napi::Value s_##name(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).name(scalar(info, 1))); }
UNARY_OPS(DEF_UNARY)
BINARY_OPS(DEF_BINARY)
SCALAR_OPS(DEF_SCALAR)

static Napi::Value rsubScalar(const Napi::CallbackInfo& info) { return ret(info, at::rsub(T(info, 0), scalar(info, 1))); }
static Napi::Value rdivScalar(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).reciprocal().mul(scalar(info, 1))); }
static Napi::Value rpowScalar(const Napi::CallbackInfo& info) { return ret(info, at::pow(scalar(info, 1), T(info, 0))); }
static Napi::Value clamp(const Napi::CallbackInfo& info) {
  return ret(info, at::clamp(T(info, 0), optScalar(info, 1), optScalar(info, 2)));
}
static Napi::Value where(const Napi::CallbackInfo& info) { return ret(info, at::where(T(info, 0), T(info, 1), T(info, 2))); }
static Napi::Value maskedFill(const Napi::CallbackInfo& info) {
  return ret(info, T(info, 0).masked_fill(T(info, 1), scalar(info, 2)));
}

// ---- reductions: dims === null reduces over everything ----
static Napi::Value sum(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, dims ? at::sum(T(info, 0), *dims, flag(info, 2)) : T(info, 0).sum());
}
static Napi::Value mean(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, dims ? at::mean(T(info, 0), *dims, flag(info, 2)) : T(info, 0).mean());
}
static Napi::Value prod(const Napi::CallbackInfo& info) {
  if (info[1].IsNumber()) return ret(info, at::prod(T(info, 0), i64(info, 1), flag(info, 2)));
  return ret(info, T(info, 0).prod());
}
static Napi::Value amax(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, dims ? at::amax(T(info, 0), *dims, flag(info, 2)) : T(info, 0).max());
}
static Napi::Value amin(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, dims ? at::amin(T(info, 0), *dims, flag(info, 2)) : T(info, 0).min());
}
static Napi::Value maxDim(const Napi::CallbackInfo& info) {
  auto r = at::max(T(info, 0), i64(info, 1), flag(info, 2));
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}
static Napi::Value minDim(const Napi::CallbackInfo& info) {
  auto r = at::min(T(info, 0), i64(info, 1), flag(info, 2));
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}
static c10::optional<int64_t> optDim(const Napi::CallbackInfo& info, size_t i) {
  if (i >= info.Length() || !info[i].IsNumber()) return c10::nullopt;
  return i64(info, i);
}
static Napi::Value argmax(const Napi::CallbackInfo& info) { return ret(info, at::argmax(T(info, 0), optDim(info, 1), flag(info, 2))); }
static Napi::Value argmin(const Napi::CallbackInfo& info) { return ret(info, at::argmin(T(info, 0), optDim(info, 1), flag(info, 2))); }
// var/std(x, dims|null, correction, keepdim): correction 0 is the population variance, 1 Bessel's.
static at::OptionalIntArrayRef dimsRef(const c10::optional<std::vector<int64_t>>& d) {
  return d ? at::OptionalIntArrayRef(*d) : at::OptionalIntArrayRef(c10::nullopt);
}
static Napi::Value var(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, at::var(T(info, 0), dimsRef(dims), c10::optional<int64_t>(i64(info, 2)), flag(info, 3)));
}
static Napi::Value std_(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 1);
  return ret(info, at::std(T(info, 0), dimsRef(dims), c10::optional<int64_t>(i64(info, 2)), flag(info, 3)));
}
static Napi::Value norm(const Napi::CallbackInfo& info) {
  auto dims = optInts(info, 2);
  return ret(info, at::linalg_vector_norm(T(info, 0), scalar(info, 1), dimsRef(dims), flag(info, 3), c10::nullopt));
}
static Napi::Value logsumexp(const Napi::CallbackInfo& info) { return ret(info, at::logsumexp(T(info, 0), ints(info, 1), flag(info, 2))); }
static Napi::Value all(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).all()); }
static Napi::Value any(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).any()); }
static Napi::Value cumsum(const Napi::CallbackInfo& info) { return ret(info, at::cumsum(T(info, 0), i64(info, 1))); }

// ---- shape and indexing ----
static Napi::Value reshape(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).reshape(ints(info, 1))); }
static Napi::Value view(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).view(ints(info, 1))); }
static Napi::Value transpose(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).transpose(i64(info, 1), i64(info, 2))); }
static Napi::Value permute(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).permute(ints(info, 1))); }
static Napi::Value narrow(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).narrow(i64(info, 1), i64(info, 2), i64(info, 3))); }
static Napi::Value slice(const Napi::CallbackInfo& info) {
  return ret(info, T(info, 0).slice(i64(info, 1), i64(info, 2), i64(info, 3), i64(info, 4)));
}
static Napi::Value select(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).select(i64(info, 1), i64(info, 2))); }
static Napi::Value cat(const Napi::CallbackInfo& info) { return ret(info, at::cat(tensors(info, 0), i64(info, 1))); }
static Napi::Value stack(const Napi::CallbackInfo& info) { return ret(info, at::stack(tensors(info, 0), i64(info, 1))); }
static Napi::Value split(const Napi::CallbackInfo& info) { return retList(info, at::split_with_sizes(T(info, 0), ints(info, 1), i64(info, 2))); }
static Napi::Value indexSelect(const Napi::CallbackInfo& info) { return ret(info, at::index_select(T(info, 0), i64(info, 1), T(info, 2))); }
static Napi::Value gather(const Napi::CallbackInfo& info) { return ret(info, at::gather(T(info, 0), i64(info, 1), T(info, 2))); }
static Napi::Value scatter(const Napi::CallbackInfo& info) { return ret(info, at::scatter(T(info, 0), i64(info, 1), T(info, 2), T(info, 3))); }
static Napi::Value scatterAdd(const Napi::CallbackInfo& info) {
  return ret(info, at::scatter_add(T(info, 0), i64(info, 1), T(info, 2), T(info, 3)));
}
static Napi::Value maskedSelect(const Napi::CallbackInfo& info) { return ret(info, at::masked_select(T(info, 0), T(info, 1))); }
static Napi::Value squeeze(const Napi::CallbackInfo& info) {
  return ret(info, info[1].IsNumber() ? T(info, 0).squeeze(i64(info, 1)) : T(info, 0).squeeze());
}
static Napi::Value unsqueeze(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).unsqueeze(i64(info, 1))); }
static Napi::Value flatten(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).flatten(i64(info, 1), i64(info, 2))); }
static Napi::Value expand(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).expand(ints(info, 1))); }
static Napi::Value repeat(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).repeat(ints(info, 1))); }
static Napi::Value flip(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).flip(ints(info, 1))); }
static Napi::Value tril(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).tril(i64(info, 1))); }
static Napi::Value triu(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).triu(i64(info, 1))); }
static Napi::Value diag(const Napi::CallbackInfo& info) { return ret(info, T(info, 0).diag(i64(info, 1))); }
static Napi::Value diagonal(const Napi::CallbackInfo& info) {
  return ret(info, T(info, 0).diagonal(i64(info, 1), i64(info, 2), i64(info, 3)));
}
static Napi::Value oneHot(const Napi::CallbackInfo& info) { return ret(info, at::one_hot(T(info, 0), i64(info, 1))); }
static Napi::Value sort(const Napi::CallbackInfo& info) {
  auto r = at::sort(T(info, 0), i64(info, 1), flag(info, 2));
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}
static Napi::Value topk(const Napi::CallbackInfo& info) {
  auto r = at::topk(T(info, 0), i64(info, 1), i64(info, 2), flag(info, 3), flag(info, 4));
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}
// quantile(x, q tensor, dim|null, keepdim, interpolation)
static Napi::Value quantile(const Napi::CallbackInfo& info) {
  return ret(info, at::quantile(T(info, 0), T(info, 1), optDim(info, 2), flag(info, 3), str(info, 4)));
}

// ---- in-place updates (optimisers, buffers); they return nothing ----
static Napi::Value copy_(const Napi::CallbackInfo& info) { T(info, 0).copy_(T(info, 1)); return info.Env().Undefined(); }
static Napi::Value zero_(const Napi::CallbackInfo& info) { T(info, 0).zero_(); return info.Env().Undefined(); }
static Napi::Value fill_(const Napi::CallbackInfo& info) { T(info, 0).fill_(scalar(info, 1)); return info.Env().Undefined(); }
// add_(x, y, alpha): x += alpha·y
static Napi::Value add_(const Napi::CallbackInfo& info) { T(info, 0).add_(T(info, 1), scalar(info, 2)); return info.Env().Undefined(); }
static Napi::Value mul_(const Napi::CallbackInfo& info) { T(info, 0).mul_(T(info, 1)); return info.Env().Undefined(); }
static Napi::Value mulScalar_(const Napi::CallbackInfo& info) { T(info, 0).mul_(scalar(info, 1)); return info.Env().Undefined(); }
static Napi::Value addcmul_(const Napi::CallbackInfo& info) {
  T(info, 0).addcmul_(T(info, 1), T(info, 2), scalar(info, 3));
  return info.Env().Undefined();
}
static Napi::Value addcdiv_(const Napi::CallbackInfo& info) {
  T(info, 0).addcdiv_(T(info, 1), T(info, 2), scalar(info, 3));
  return info.Env().Undefined();
}

void registerOps(Napi::Env env, Napi::Object e) {
#define REG_UNARY(name) DL_EXPORT(e, #name, u_##name);
#define REG_BINARY(name) DL_EXPORT(e, #name, b_##name);
#define REG_SCALAR(name) DL_EXPORT(e, #name "Scalar", s_##name);
  UNARY_OPS(REG_UNARY)
  BINARY_OPS(REG_BINARY)
  SCALAR_OPS(REG_SCALAR)
  DL_EXPORT(e, "rsubScalar", rsubScalar);
  DL_EXPORT(e, "rdivScalar", rdivScalar);
  DL_EXPORT(e, "rpowScalar", rpowScalar);
  DL_EXPORT(e, "clamp", clamp);
  DL_EXPORT(e, "where", where);
  DL_EXPORT(e, "maskedFill", maskedFill);
  DL_EXPORT(e, "sum", sum);
  DL_EXPORT(e, "mean", mean);
  DL_EXPORT(e, "prod", prod);
  DL_EXPORT(e, "amax", amax);
  DL_EXPORT(e, "amin", amin);
  DL_EXPORT(e, "maxDim", maxDim);
  DL_EXPORT(e, "minDim", minDim);
  DL_EXPORT(e, "argmax", argmax);
  DL_EXPORT(e, "argmin", argmin);
  DL_EXPORT(e, "var", var);
  DL_EXPORT(e, "std", std_);
  DL_EXPORT(e, "norm", norm);
  DL_EXPORT(e, "logsumexp", logsumexp);
  DL_EXPORT(e, "all", all);
  DL_EXPORT(e, "any", any);
  DL_EXPORT(e, "cumsum", cumsum);
  DL_EXPORT(e, "reshape", reshape);
  DL_EXPORT(e, "view", view);
  DL_EXPORT(e, "transpose", transpose);
  DL_EXPORT(e, "permute", permute);
  DL_EXPORT(e, "narrow", narrow);
  DL_EXPORT(e, "slice", slice);
  DL_EXPORT(e, "select", select);
  DL_EXPORT(e, "cat", cat);
  DL_EXPORT(e, "stack", stack);
  DL_EXPORT(e, "split", split);
  DL_EXPORT(e, "indexSelect", indexSelect);
  DL_EXPORT(e, "gather", gather);
  DL_EXPORT(e, "scatter", scatter);
  DL_EXPORT(e, "scatterAdd", scatterAdd);
  DL_EXPORT(e, "maskedSelect", maskedSelect);
  DL_EXPORT(e, "squeeze", squeeze);
  DL_EXPORT(e, "unsqueeze", unsqueeze);
  DL_EXPORT(e, "flatten", flatten);
  DL_EXPORT(e, "expand", expand);
  DL_EXPORT(e, "repeat", repeat);
  DL_EXPORT(e, "flip", flip);
  DL_EXPORT(e, "tril", tril);
  DL_EXPORT(e, "triu", triu);
  DL_EXPORT(e, "diag", diag);
  DL_EXPORT(e, "diagonal", diagonal);
  DL_EXPORT(e, "oneHot", oneHot);
  DL_EXPORT(e, "sort", sort);
  DL_EXPORT(e, "topk", topk);
  DL_EXPORT(e, "quantile", quantile);
  DL_EXPORT(e, "copy_", copy_);
  DL_EXPORT(e, "zero_", zero_);
  DL_EXPORT(e, "fill_", fill_);
  DL_EXPORT(e, "add_", add_);
  DL_EXPORT(e, "mul_", mul_);
  DL_EXPORT(e, "mulScalar_", mulScalar_);
  DL_EXPORT(e, "addcmul_", addcmul_);
  DL_EXPORT(e, "addcdiv_", addcdiv_);
}

}  // namespace dl
