#include "engine/cpu.hpp"

namespace convkit::detail {

const CpuFeatures& cpu_features() {
  static const CpuFeatures features = [] {
    CpuFeatures c;
#if defined(__x86_64__) && defined(__GNUC__)
    __builtin_cpu_init();
    c.avx2 = __builtin_cpu_supports("avx2");
    c.fma = __builtin_cpu_supports("fma");
    c.avx512f = __builtin_cpu_supports("avx512f");
    c.avx512bw = c.avx512f && __builtin_cpu_supports("avx512bw");
    c.avx512vbmi = c.avx512bw && __builtin_cpu_supports("avx512vbmi");
    c.avx512bf16 = c.avx512bw && __builtin_cpu_supports("avx512bf16");
#endif
    return c;
  }();
  return features;
}

}  // namespace convkit::detail
