# bench_train_step: one NN training step, convkit against PyTorch (the script
# torch_train_step.py is run by the benchmark when python3-torch is installed).
add_executable(convkit_bench_train_step ${CMAKE_CURRENT_LIST_DIR}/bench_train_step.cpp)
target_compile_options(convkit_bench_train_step PRIVATE ${CONVKIT_WARNINGS})
# src/ for engine/gemm_kernel.hpp (pinning the GEMM kernel).
target_include_directories(convkit_bench_train_step PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_compile_definitions(convkit_bench_train_step PRIVATE
  CONVKIT_BENCH_DIR="${CMAKE_CURRENT_LIST_DIR}")
target_link_libraries(convkit_bench_train_step PRIVATE convkit_lib)
