// fuzz/fuzz_target.hpp — one definition of a fuzz target, two uses:
//  * built with -DCONVKIT_LIBFUZZER (scripts/fuzz.sh, clang -fsanitize=fuzzer):
//    the target becomes LLVMFuzzerTestOneInput of its own binary;
//  * built into the test suite: the target registers itself, and
//    tests/fuzz/test_corpus_replay.cpp feeds it every file of fuzz/corpus/NAME/.
// A target calls a parser and lets convkit::Error (a clean rejection) pass;
// any other exception, a crash, a leak or a sanitizer report is a bug.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace convkit::fuzz {

using TargetFn = void (*)(const std::uint8_t* data, std::size_t size);

struct Target {
  const char* name;
  TargetFn fn;
};

std::vector<Target>& targets();

struct Registrar {
  Registrar(const char* name, TargetFn fn) { targets().push_back({name, fn}); }
};

/// Run fn on the input; convkit::Error is an accepted outcome.
void run_guarded(TargetFn fn, const std::uint8_t* data, std::size_t size);

/// For parsers that read a path: write the input to a fresh temporary file,
/// call read(path), remove the file.  Does nothing if the file cannot be made.
void with_temp_file(const std::uint8_t* data, std::size_t size,
                    const std::function<void(const std::string&)>& read);

}  // namespace convkit::fuzz

#ifdef CONVKIT_LIBFUZZER
#define CONVKIT_FUZZ_TARGET(NAME)                                                     \
  static void convkit_fuzz_##NAME(const std::uint8_t* data, std::size_t size);        \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) { \
    ::convkit::fuzz::run_guarded(convkit_fuzz_##NAME, data, size);                    \
    return 0;                                                                         \
  }                                                                                   \
  static void convkit_fuzz_##NAME(const std::uint8_t* data, std::size_t size)
#else
#define CONVKIT_FUZZ_TARGET(NAME)                                                             \
  static void convkit_fuzz_##NAME(const std::uint8_t* data, std::size_t size);                \
  static const ::convkit::fuzz::Registrar convkit_fuzz_registrar_##NAME{#NAME,                \
                                                                        convkit_fuzz_##NAME}; \
  static void convkit_fuzz_##NAME(const std::uint8_t* data, std::size_t size)
#endif
