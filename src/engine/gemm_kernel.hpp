// Internal to the engine: which kernel gemm<float> (convkit/engine_nn.hpp)
// runs.  Tests and benches include this header to pin a kernel; the library's
// users get the best one this CPU runs.
#pragma once

namespace convkit {

/// The kernels behind gemm<float>: the CBLAS, or convkit's own AVX2+FMA
/// (6x16 tiles) or AVX-512 (12x32 tiles) kernels, which give bit-identical
/// results.  By default the widest one this CPU runs.
enum class GemmKernel { blas, avx2, avx512 };
/// True when this CPU (and build) can run kernel k.
bool gemm_kernel_available(GemmKernel k);
/// The kernel gemm<float> uses now.
GemmKernel gemm_kernel();
/// Pin the kernel (tests, benches); ignored when the CPU cannot run it.
/// Passing automatic=true goes back to the best available.
void force_gemm_kernel(GemmKernel k, bool automatic = false);

}  // namespace convkit
