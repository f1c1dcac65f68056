// Neural-network ops (convolution, pooling, normalisation, activations, losses, sampling) and
// float64 linear algebra. Each binding follows the ATen op of the same name.
#include "dl.h"
#include <ATen/core/Reduction.h>

namespace dl {

static int64_t reduction(const std::string& r) {
  if (r == "mean") return at::Reduction::Mean;
  if (r == "sum") return at::Reduction::Sum;
  if (r == "none") return at::Reduction::None;
  throw std::invalid_argument("unknown reduction '" + r + "' (mean, sum, none)");
}

// ---- layers ----
static Napi::Value linear(const Napi::CallbackInfo& info) { return ret(info, at::linear(T(info, 0), T(info, 1), optT(info, 2))); }
// conv{2,3}d(x, w, b, stride, padding, dilation, groups)
static Napi::Value conv2d(const Napi::CallbackInfo& info) {
  return ret(info, at::conv2d(T(info, 0), T(info, 1), optT(info, 2), ints(info, 3), ints(info, 4), ints(info, 5), i64(info, 6)));
}
static Napi::Value conv3d(const Napi::CallbackInfo& info) {
  return ret(info, at::conv3d(T(info, 0), T(info, 1), optT(info, 2), ints(info, 3), ints(info, 4), ints(info, 5), i64(info, 6)));
}
// convTranspose{2,3}d(x, w, b, stride, padding, outputPadding, groups, dilation)
static Napi::Value convTranspose2d(const Napi::CallbackInfo& info) {
  return ret(info, at::conv_transpose2d(T(info, 0), T(info, 1), optT(info, 2), ints(info, 3), ints(info, 4), ints(info, 5),
                                        i64(info, 6), ints(info, 7)));
}
static Napi::Value convTranspose3d(const Napi::CallbackInfo& info) {
  return ret(info, at::conv_transpose3d(T(info, 0), T(info, 1), optT(info, 2), ints(info, 3), ints(info, 4), ints(info, 5),
                                        i64(info, 6), ints(info, 7)));
}
// maxPool{2,3}d(x, kernel, stride, padding, dilation, ceilMode)
static Napi::Value maxPool2d(const Napi::CallbackInfo& info) {
  return ret(info, at::max_pool2d(T(info, 0), ints(info, 1), ints(info, 2), ints(info, 3), ints(info, 4), flag(info, 5)));
}
static Napi::Value maxPool3d(const Napi::CallbackInfo& info) {
  return ret(info, at::max_pool3d(T(info, 0), ints(info, 1), ints(info, 2), ints(info, 3), ints(info, 4), flag(info, 5)));
}
// avgPool{2,3}d(x, kernel, stride, padding, ceilMode, countIncludePad)
static Napi::Value avgPool2d(const Napi::CallbackInfo& info) {
  return ret(info, at::avg_pool2d(T(info, 0), ints(info, 1), ints(info, 2), ints(info, 3), flag(info, 4), flag(info, 5)));
}
static Napi::Value avgPool3d(const Napi::CallbackInfo& info) {
  return ret(info, at::avg_pool3d(T(info, 0), ints(info, 1), ints(info, 2), ints(info, 3), flag(info, 4), flag(info, 5)));
}
static Napi::Value adaptiveAvgPool2d(const Napi::CallbackInfo& info) { return ret(info, at::adaptive_avg_pool2d(T(info, 0), ints(info, 1))); }
static Napi::Value adaptiveAvgPool3d(const Napi::CallbackInfo& info) { return ret(info, at::adaptive_avg_pool3d(T(info, 0), ints(info, 1))); }
// batchNorm(x, weight, bias, runningMean, runningVar, training, momentum, eps)
static Napi::Value batchNorm(const Napi::CallbackInfo& info) {
  return ret(info, at::batch_norm(T(info, 0), optT(info, 1), optT(info, 2), optT(info, 3), optT(info, 4), flag(info, 5),
                                  num(info, 6), num(info, 7), true));
}
// instanceNorm(x, weight, bias, runningMean, runningVar, useInputStats, momentum, eps)
static Napi::Value instanceNorm(const Napi::CallbackInfo& info) {
  return ret(info, at::instance_norm(T(info, 0), optT(info, 1), optT(info, 2), optT(info, 3), optT(info, 4), flag(info, 5),
                                     num(info, 6), num(info, 7), true));
}
// groupNorm(x, groups, weight, bias, eps)
static Napi::Value groupNorm(const Napi::CallbackInfo& info) {
  return ret(info, at::group_norm(T(info, 0), i64(info, 1), optT(info, 2), optT(info, 3), num(info, 4), true));
}
static Napi::Value layerNorm(const Napi::CallbackInfo& info) {
  return ret(info, at::layer_norm(T(info, 0), ints(info, 1), optT(info, 2), optT(info, 3), num(info, 4), true));
}
static Napi::Value dropout(const Napi::CallbackInfo& info) { return ret(info, at::dropout(T(info, 0), num(info, 1), flag(info, 2))); }
static Napi::Value pad(const Napi::CallbackInfo& info) { return ret(info, at::constant_pad_nd(T(info, 0), ints(info, 1), num(info, 2))); }

// ---- activations ----
static Napi::Value leakyRelu(const Napi::CallbackInfo& info) { return ret(info, at::leaky_relu(T(info, 0), num(info, 1))); }
static Napi::Value softplus(const Napi::CallbackInfo& info) { return ret(info, at::softplus(T(info, 0), num(info, 1), num(info, 2))); }
static Napi::Value elu(const Napi::CallbackInfo& info) { return ret(info, at::elu(T(info, 0), num(info, 1))); }
static Napi::Value gelu(const Napi::CallbackInfo& info) { return ret(info, at::gelu(T(info, 0))); }
static Napi::Value softmax(const Napi::CallbackInfo& info) { return ret(info, at::softmax(T(info, 0), i64(info, 1))); }
static Napi::Value logSoftmax(const Napi::CallbackInfo& info) { return ret(info, at::log_softmax(T(info, 0), i64(info, 1))); }

// ---- losses ----
// crossEntropy(logits, target, reduction, labelSmoothing): target holds class indices (int64).
static Napi::Value crossEntropy(const Napi::CallbackInfo& info) {
  return ret(info, at::cross_entropy_loss(T(info, 0), T(info, 1), c10::nullopt, reduction(str(info, 2)), -100, num(info, 3)));
}
static Napi::Value nllLoss(const Napi::CallbackInfo& info) {
  return ret(info, at::nll_loss(T(info, 0), T(info, 1), c10::nullopt, reduction(str(info, 2)), -100));
}
static Napi::Value mseLoss(const Napi::CallbackInfo& info) { return ret(info, at::mse_loss(T(info, 0), T(info, 1), reduction(str(info, 2)))); }
static Napi::Value binaryCrossEntropy(const Napi::CallbackInfo& info) {
  return ret(info, at::binary_cross_entropy(T(info, 0), T(info, 1), c10::nullopt, reduction(str(info, 2))));
}
static Napi::Value binaryCrossEntropyWithLogits(const Napi::CallbackInfo& info) {
  return ret(info, at::binary_cross_entropy_with_logits(T(info, 0), T(info, 1), c10::nullopt, c10::nullopt, reduction(str(info, 2))));
}

// ---- spatial sampling (the shape lab's alignment front end) ----
static Napi::Value affineGrid(const Napi::CallbackInfo& info) { return ret(info, at::affine_grid_generator(T(info, 0), ints(info, 1), flag(info, 2))); }
// gridSample(x, grid, mode 0 bilinear | 1 nearest, padding 0 zeros | 1 border | 2 reflection, alignCorners)
static Napi::Value gridSample(const Napi::CallbackInfo& info) {
  return ret(info, at::grid_sampler(T(info, 0), T(info, 1), i64(info, 2), i64(info, 3), flag(info, 4)));
}
static Napi::Value upsampleTrilinear(const Napi::CallbackInfo& info) {
  return ret(info, at::upsample_trilinear3d(T(info, 0), ints(info, 1), flag(info, 2), c10::nullopt, c10::nullopt, c10::nullopt));
}

// ---- linear algebra ----
static Napi::Value eigvalsh(const Napi::CallbackInfo& info) { return ret(info, at::linalg_eigvalsh(T(info, 0), "L")); }
static Napi::Value eigh(const Napi::CallbackInfo& info) {
  auto r = at::linalg_eigh(T(info, 0), "L");
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}
static Napi::Value svd(const Napi::CallbackInfo& info) {
  auto r = at::linalg_svd(T(info, 0), flag(info, 1));
  return retList(info, {std::get<0>(r), std::get<1>(r), std::get<2>(r)});
}
static Napi::Value svdvals(const Napi::CallbackInfo& info) { return ret(info, at::linalg_svdvals(T(info, 0))); }
// matrixNorm(A, ord): ord a number (2, -2, 1, inf…) or "fro" / "nuc".
static Napi::Value matrixNorm(const Napi::CallbackInfo& info) {
  std::vector<int64_t> dims = {-2, -1};
  if (info[1].IsString()) return ret(info, at::linalg_matrix_norm(T(info, 0), str(info, 1), dims, false, c10::nullopt));
  return ret(info, at::linalg_matrix_norm(T(info, 0), at::Scalar(num(info, 1)), dims, false, c10::nullopt));
}
static Napi::Value solve(const Napi::CallbackInfo& info) { return ret(info, at::linalg_solve(T(info, 0), T(info, 1))); }
// lstsq(A, B) → [solution, residuals, rank, singularValues]; the gelsd driver works for rank-deficient A.
static Napi::Value lstsq(const Napi::CallbackInfo& info) {
  auto r = at::linalg_lstsq(T(info, 0), T(info, 1), c10::nullopt, c10::string_view("gelsd"));
  return retList(info, {std::get<0>(r), std::get<1>(r), std::get<2>(r), std::get<3>(r)});
}
static Napi::Value inv(const Napi::CallbackInfo& info) { return ret(info, at::linalg_inv(T(info, 0))); }
static Napi::Value cholesky(const Napi::CallbackInfo& info) { return ret(info, at::linalg_cholesky(T(info, 0))); }
static Napi::Value det(const Napi::CallbackInfo& info) { return ret(info, at::linalg_det(T(info, 0))); }
// Both tolerances unset: libtorch's default rtol = eps·max(m, n). (Passing `false` as a third argument
// would bind to the optional<double> rtol overload as rtol = 0 and count round-off as rank.)
static Napi::Value matrixRank(const Napi::CallbackInfo& info) {
  return ret(info, at::linalg_matrix_rank(T(info, 0), c10::optional<double>(), c10::optional<double>(), false));
}
static Napi::Value qr(const Napi::CallbackInfo& info) {
  auto r = at::linalg_qr(T(info, 0), "reduced");
  return retList(info, {std::get<0>(r), std::get<1>(r)});
}

void registerNN(Napi::Env env, Napi::Object e) {
  DL_EXPORT(e, "linear", linear);
  DL_EXPORT(e, "conv2d", conv2d);
  DL_EXPORT(e, "conv3d", conv3d);
  DL_EXPORT(e, "convTranspose2d", convTranspose2d);
  DL_EXPORT(e, "convTranspose3d", convTranspose3d);
  DL_EXPORT(e, "maxPool2d", maxPool2d);
  DL_EXPORT(e, "maxPool3d", maxPool3d);
  DL_EXPORT(e, "avgPool2d", avgPool2d);
  DL_EXPORT(e, "avgPool3d", avgPool3d);
  DL_EXPORT(e, "adaptiveAvgPool2d", adaptiveAvgPool2d);
  DL_EXPORT(e, "adaptiveAvgPool3d", adaptiveAvgPool3d);
  DL_EXPORT(e, "batchNorm", batchNorm);
  DL_EXPORT(e, "instanceNorm", instanceNorm);
  DL_EXPORT(e, "groupNorm", groupNorm);
  DL_EXPORT(e, "layerNorm", layerNorm);
  DL_EXPORT(e, "dropout", dropout);
  DL_EXPORT(e, "pad", pad);
  DL_EXPORT(e, "leakyRelu", leakyRelu);
  DL_EXPORT(e, "softplus", softplus);
  DL_EXPORT(e, "elu", elu);
  DL_EXPORT(e, "gelu", gelu);
  DL_EXPORT(e, "softmax", softmax);
  DL_EXPORT(e, "logSoftmax", logSoftmax);
  DL_EXPORT(e, "crossEntropy", crossEntropy);
  DL_EXPORT(e, "nllLoss", nllLoss);
  DL_EXPORT(e, "mseLoss", mseLoss);
  DL_EXPORT(e, "binaryCrossEntropy", binaryCrossEntropy);
  DL_EXPORT(e, "binaryCrossEntropyWithLogits", binaryCrossEntropyWithLogits);
  DL_EXPORT(e, "affineGrid", affineGrid);
  DL_EXPORT(e, "gridSample", gridSample);
  DL_EXPORT(e, "upsampleTrilinear", upsampleTrilinear);
  DL_EXPORT(e, "eigvalsh", eigvalsh);
  DL_EXPORT(e, "eigh", eigh);
  DL_EXPORT(e, "svd", svd);
  DL_EXPORT(e, "svdvals", svdvals);
  DL_EXPORT(e, "matrixNorm", matrixNorm);
  DL_EXPORT(e, "solve", solve);
  DL_EXPORT(e, "lstsq", lstsq);
  DL_EXPORT(e, "inv", inv);
  DL_EXPORT(e, "cholesky", cholesky);
  DL_EXPORT(e, "det", det);
  DL_EXPORT(e, "matrixRank", matrixRank);
  DL_EXPORT(e, "qr", qr);
}

}  // namespace dl
