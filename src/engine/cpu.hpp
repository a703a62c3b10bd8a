// Internal: what this processor can run, read once, for every run-time
// choice of a vector kernel (engine schedules, GEMM tiles, median, fixed
// point).  Nothing outside src/ and tests/ should include it.
#pragma once

namespace convkit::detail {

/// The instruction sets the kernels are chosen by.  All false off x86-64 or
/// with a compiler that cannot ask.
struct CpuFeatures {
  bool avx2 = false;
  bool fma = false;
  bool avx512f = false;
  bool avx512bw = false;    ///< with avx512f
  bool avx512vbmi = false;  ///< with avx512bw
  bool avx512bf16 = false;  ///< with avx512bw
};

/// This processor's features (asked of the CPU on the first call).
const CpuFeatures& cpu_features();

}  // namespace convkit::detail
