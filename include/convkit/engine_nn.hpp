// convkit/engine_nn.hpp — the engine's multi-channel schedules, for the
// neural-network layers (nn/).  Same convolution as engine.hpp, summed over
// input channels, for a batch; plus its two backward products and the
// pooling windows.  Geometry and borders come from plan() / border_index().
//
// Layout: tensors are N x C x H x W, row-major, contiguous (float or double).
//
// Multi-channel convolution (the NN layer; g.correlate selects correlation,
// which is what deep-learning frameworks call "convolution"):
//   y[n,f,m,k] = b[f] + sum_{c,i,j} xe_c[m*Sy+i, k*Sx+j] * w'[f,c,i,j]
// with xe_c channel c of x[n] extended by g.border and w' = w (correlation) or
// w flipped in both spatial axes (true convolution).  That is, for every
// (n, f): y[n,f] = b[f] + sum_c conv2d_reference(x[n,c], w[f,c], g).
//
// Schedule: im2col + GEMM.  For each sample, the extended input patches form
// a (C*KH*KW) x (OH*OW) matrix `col`; then y[n] = W (F x C*KH*KW) * col.
// Backward:  dW += dy[n] * col^T,   db += row sums of dy[n],
//            dcol = W^T * dy[n],    dx[n] += col2im(dcol)  (each patch entry
//            added back to the input sample it came from, through the border
//            rule — a circular border wraps the gradient around).
// Samples are split across convkit::parallel_for; the weight gradient is
// reduced over fixed groups of samples in a fixed order, so results do not
// depend on the thread count.  BLAS runs single-threaded inside.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "convkit/engine.hpp"

namespace convkit {

/// C = alpha * op(A) * op(B) + beta * C, row-major; op = transpose when ta/tb.
/// A is M x K (after op), B is K x N, C is M x N; lda/ldb/ldc are row strides.
/// Single-threaded (BLAS threading is switched off once, on first use).  The
/// float version runs the widest of convkit's AVX-512, AVX2+FMA or the CBLAS
/// kernels this CPU has (bit-identical results).
template <class T>
void gemm(bool ta, bool tb, int M, int N, int K, T alpha, const T* A, int lda, const T* B, int ldb,
          T beta, T* C, int ldc);

/// How gemm<float> multiplies: a setting for the whole process (its worker
/// threads included), float32 unless set.
///   fp32  float products and sums: the default, bit-reproducible.
///   bf16  both operands rounded to bfloat16 (round to nearest even); each
///         product of two bfloat16 is exact in float, and the products are
///         summed in float, in a fixed order (pairs of k in increasing order)
///         with the AVX512_BF16 instruction vdpbf16ps; C stays float.  Same
///         results for a given CPU at any thread count.  Calls with
///         alpha != 1 or beta other than 0 and 1 stay fp32 (the NN layers
///         make none).
/// The double GEMM is not affected.
enum class MatmulPrecision { fp32, bf16 };
/// True when this CPU and build can compute in p: fp32 always, bf16 with
/// AVX512_BF16.  The environment variable CONVKIT_DISABLE_BF16 (set, not empty
/// and not "0") makes bf16 unavailable, as on a CPU without the instructions.
bool matmul_precision_available(MatmulPrecision p);
/// Throws UsageError when p is not available.
void set_matmul_precision(MatmulPrecision p);
MatmulPrecision matmul_precision();
/// "fp32" or "bf16"; anything else throws UsageError naming `what`.
MatmulPrecision parse_matmul_precision(const std::string& name, const std::string& what);
const char* precision_name(MatmulPrecision p);

/// set_matmul_precision(p) for a scope; restores the previous setting.
class MatmulPrecisionScope {
 public:
  explicit MatmulPrecisionScope(MatmulPrecision p) : prev_(matmul_precision()) {
    set_matmul_precision(p);
  }
  ~MatmulPrecisionScope() { set_matmul_precision(prev_); }
  MatmulPrecisionScope(const MatmulPrecisionScope&) = delete;
  MatmulPrecisionScope& operator=(const MatmulPrecisionScope&) = delete;

 private:
  MatmulPrecision prev_;
};

/// The shape of a batched multi-channel convolution.
struct ConvBatchShape {
  int batch = 0;     ///< N
  int channels = 0;  ///< C (input)
  int filters = 0;   ///< F (output channels)
  ConvGeometry g;    ///< from plan() for one H x W plane and a KH x KW kernel
  std::int64_t col_rows() const { return static_cast<std::int64_t>(channels) * g.k_h * g.k_w; }
  std::int64_t col_cols() const { return static_cast<std::int64_t>(g.out_h) * g.out_w; }
};

/// Patches of one sample x (C x H x W) into col ((C*KH*KW) x (OH*OW)).
/// Samples outside the input follow g.border (zero -> its value, 0 unless given).
template <class T>
void im2col(const T* x, int channels, const ConvGeometry& g, T* col);

/// The adjoint of im2col: dx (C x H x W) += scatter of col.
template <class T>
void col2im_add(const T* col, int channels, const ConvGeometry& g, T* dx);

/// Forward.  x: N x C x H x W; w: F x C x KH x KW; bias: F (or nullptr);
/// y: N x F x OH x OW (overwritten).
template <class T>
void conv_multichannel_forward(const ConvBatchShape& s, const T* x, const T* w, const T* bias,
                               T* y);

/// Backward.  dy: N x F x OH x OW.  Adds into dw (F x C x KH x KW), db (F) and
/// dx (N x C x H x W); any of dw, db, dx may be nullptr (not wanted).
template <class T>
void conv_multichannel_backward(const ConvBatchShape& s, const T* x, const T* w, const T* dy, T* dw,
                                T* db, T* dx);

/// Pooling over windows given by a ConvGeometry (kernel = window, stride,
/// padding; padded samples never win a max and are not counted in an average
/// — the average divides by the number of input samples in the window).
/// planes = N*C independent H x W planes.
/// max: y = window maximum, argmax (if not nullptr) = flat in-plane index of the winner
/// (first one on ties); avg: y = window mean.
template <class T>
void maxpool_forward(std::int64_t planes, const ConvGeometry& g, const T* x, T* y,
                     std::int32_t* argmax);
template <class T>
void avgpool_forward(std::int64_t planes, const ConvGeometry& g, const T* x, T* y);
/// dx += routed dy: max -> to the recorded winner; avg -> spread evenly.
template <class T>
void maxpool_backward(std::int64_t planes, const ConvGeometry& g, const T* dy,
                      const std::int32_t* argmax, T* dx);
template <class T>
void avgpool_backward(std::int64_t planes, const ConvGeometry& g, const T* dy, T* dx);

}  // namespace convkit
