# cmake -DBUILD_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -DGENERATOR=...
#       -DCXX_COMPILER=... -DBUILD_TYPE=... [-DCXX_FLAGS=...] -P check_install.cmake
#
# Installs the built tree into WORK_DIR, moves the installed tree elsewhere
# (so nothing in it may point back at the build or source tree, nor at the
# prefix it was installed to), builds tests/install/app against it with
# find_package(convkit), runs it, and checks that it blurs an image exactly
# as the installed `convkit blur` does and gives the shapes, parameters and
# MACs of `convkit shape --format json`.
cmake_minimum_required(VERSION 3.20)

foreach(var BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "check_install.cmake: -D${var}=... is required")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(run_out "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")
set(staged "${WORK_DIR}/staged")
set(prefix "${WORK_DIR}/moved")
run("cmake --install" "${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${staged}")
file(RENAME "${staged}" "${prefix}")

# The pieces a user needs are in place.
foreach(f bin/convkit include/convkit/filtering.hpp include/convkit/io/image.hpp
          include/convkit/arch.hpp share/man/man1/convkit.1 share/man/man1/convkit-blur.1)
  if(NOT EXISTS "${prefix}/${f}")
    message(FATAL_ERROR "not installed: ${f}")
  endif()
endforeach()
file(GLOB_RECURSE package_files "${prefix}/*/cmake/convkit/*.cmake")
file(GLOB_RECURSE libraries "${prefix}/*/libconvkit.*")
if(NOT package_files OR NOT libraries)
  message(FATAL_ERROR "no CMake package or no libconvkit under ${prefix}")
endif()
# Every header an installed header includes by quotes is installed too, and
# the package names no tree-specific path.
file(GLOB_RECURSE headers "${prefix}/include/convkit/*")
foreach(f IN LISTS headers)
  file(STRINGS "${f}" includes REGEX "^ *# *include +\"")
  foreach(line IN LISTS includes)
    string(REGEX REPLACE "^[^\"]*\"([^\"]*)\".*" "\\1" inc "${line}")
    if(NOT EXISTS "${prefix}/include/${inc}")
      message(FATAL_ERROR "${f} includes \"${inc}\", which is not installed")
    endif()
  endforeach()
endforeach()
foreach(f IN LISTS package_files)
  file(READ "${f}" text)
  foreach(path "${SOURCE_DIR}" "${BUILD_DIR}" "${staged}")
    string(FIND "${text}" "${path}" at)
    if(NOT at EQUAL -1)
      message(FATAL_ERROR "${f} names the path ${path}")
    endif()
  endforeach()
endforeach()

# A user's program, configured and built against the moved tree only.
set(app_build "${WORK_DIR}/app-build")
run("configuring the user program" "${CMAKE_COMMAND}" -S "${SOURCE_DIR}/tests/install/app"
    -B "${app_build}" -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${CXX_FLAGS}" "-DCMAKE_PREFIX_PATH=${prefix}"
    -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
file(STRINGS "${app_build}/CMakeCache.txt" found_dir REGEX "^convkit_DIR:")
string(FIND "${found_dir}" "${prefix}/" at)
if(NOT at GREATER -1)
  message(FATAL_ERROR "find_package(convkit) did not use the installed tree: ${found_dir}")
endif()
run("building the user program" "${CMAKE_COMMAND}" --build "${app_build}")

set(spec "CONV3-10 POOL2 CONV3-10/s2 AVGPOOL2 FLATTEN FC-3")
set(input "28x28x1")
set(image "${SOURCE_DIR}/data/sample.png")
run("the user program" "${app_build}/convkit_user" "${image}" "${WORK_DIR}/user.png" 1.5
    "${spec}" "${input}")
set(user_table "${run_out}")

# The same work through the installed tool.
set(convkit "${prefix}/bin/convkit")
run("convkit blur" "${convkit}" blur "${image}" --sigma 1.5 -o "${WORK_DIR}/tool.png")
execute_process(COMMAND "${CMAKE_COMMAND}" -E compare_files "${WORK_DIR}/user.png"
                        "${WORK_DIR}/tool.png" RESULT_VARIABLE differ)
if(NOT differ EQUAL 0)
  message(FATAL_ERROR "the user program's blur differs from convkit blur's")
endif()
run("convkit shape" "${convkit}" shape "${spec}" --input "${input}" --format json)
set(json "${run_out}")
string(JSON n LENGTH "${json}" layers)
if(n EQUAL 0)
  message(FATAL_ERROR "convkit shape listed no layers:\n${json}")
endif()
set(expected "")
math(EXPR last "${n} - 1")
foreach(i RANGE ${last})
  string(JSON token GET "${json}" layers ${i} spec)
  string(JSON w GET "${json}" layers ${i} output 0)
  string(JSON h GET "${json}" layers ${i} output 1)
  string(JSON c GET "${json}" layers ${i} output 2)
  string(JSON params GET "${json}" layers ${i} params)
  string(JSON macs GET "${json}" layers ${i} macs)
  string(APPEND expected "${token} ${w}x${h}x${c} ${params} ${macs}\n")
endforeach()
string(JSON params GET "${json}" total_params)
string(JSON macs GET "${json}" total_macs)
string(APPEND expected "total ${params} ${macs}\n")
if(NOT user_table STREQUAL expected)
  message(FATAL_ERROR "the user program's shape table:\n${user_table}\nconvkit shape's:\n${expected}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
message(STATUS "installed convkit: find_package, link and results checked")
