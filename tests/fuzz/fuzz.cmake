# tests/fuzz/fuzz.cmake: fuzzing, corpus replay, robustness and valgrind
# tests (included once from the top-level CMakeLists.txt; uses its
# dg_core_library(), DG_TEST_ENV and DG_SAN_ENV).
#
#   fuzz_replay_<target>   every file of tests/fuzz/corpus/<target>/ fed to
#                          the fuzz target once, built with gcc (+ ASan and
#                          UBSan with DG_SANITIZE_TESTS) and replay_main.c,
#                          so ctest needs no clang                 (label fuzz)
#   robust_*               bad inputs end to end (tests/robust/)   (label robust)
#   valgrind_*             the CLI's predict / eval / train under memcheck
#                                                                  (label valgrind)
#
# With -DDG_LIBFUZZER=ON and clang as the compiler (what `./build.sh fuzz`
# configures in build-fuzz/), the same targets are built as libFuzzer
# programs fuzz_<target> against a core compiled with
# -fsanitize=fuzzer-no-link,address,undefined.

set(DG_FUZZ_TARGETS model idx image preprocess onnx)
set(DG_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)

option(DG_LIBFUZZER "build the libFuzzer targets (needs clang)" OFF)
if(DG_LIBFUZZER)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "DG_LIBFUZZER needs clang (cmake -DCMAKE_C_COMPILER=clang)")
  endif()
  set(DG_FUZZ_FLAGS -g -fno-omit-frame-pointer -fsanitize=address,undefined
      -fno-sanitize-recover=all)
  # The kernels are built here with ASan but without UBSan and debug info:
  # clang 14 with both sanitizers, coverage and -fno-sanitize-recover spends
  # over 25 minutes on kernels.c's inlined register tiles (60 s with ASan
  # alone). The fuzzers aim at the parsers; the ctest runs (gcc, ASan +
  # UBSan) still check the kernels under both.
  file(GLOB dg_kernel_sources ${CMAKE_SOURCE_DIR}/src/kernels/*.c)
  set_source_files_properties(${dg_kernel_sources} PROPERTIES
                              COMPILE_OPTIONS "-g0;-fno-sanitize=undefined")
  dg_core_library(digitscore_fuzz)
  target_compile_options(digitscore_fuzz PUBLIC ${DG_FUZZ_FLAGS}
                         -fsanitize=fuzzer-no-link)
  target_link_options(digitscore_fuzz PUBLIC -fsanitize=address,undefined)
  foreach(t ${DG_FUZZ_TARGETS})
    add_executable(fuzz_${t} ${DG_FUZZ_DIR}/fuzz_${t}.c)
    target_link_libraries(fuzz_${t} PRIVATE digitscore_fuzz)
    target_link_options(fuzz_${t} PRIVATE -fsanitize=fuzzer)
  endforeach()
  return()  # a fuzzing build only: no tests from this folder
endif()

# ---- corpus replay ------------------------------------------------------------
if(DG_SANITIZE_TESTS)
  set(DG_REPLAY_CORE digitscore_asan)
  set(DG_REPLAY_ENV ${DG_TEST_ENV} ${DG_SAN_ENV})
else()
  set(DG_REPLAY_CORE digitscore)
  set(DG_REPLAY_ENV ${DG_TEST_ENV})
endif()
foreach(t ${DG_FUZZ_TARGETS})
  add_executable(fuzz_replay_${t} ${DG_FUZZ_DIR}/fuzz_${t}.c
                 ${DG_FUZZ_DIR}/replay_main.c)
  target_link_libraries(fuzz_replay_${t} PRIVATE ${DG_REPLAY_CORE})
  add_test(NAME fuzz_replay_${t}
           COMMAND fuzz_replay_${t} ${DG_FUZZ_DIR}/corpus/${t})
  set_tests_properties(fuzz_replay_${t} PROPERTIES
    ENVIRONMENT "${DG_REPLAY_ENV}" LABELS "fuzz" TIMEOUT 120)
endforeach()

# ---- robustness: generated bad inputs --------------------------------------------
# robust_gen writes the inputs the shell tests need (tests/robust/gen.c);
# robust_sweep flips every bit and cuts every length of small files;
# robust_diverge makes training go NaN mid-epoch (tests/robust/*.c).
set(DG_ROBUST_DIR ${CMAKE_SOURCE_DIR}/tests/robust)
add_executable(robust_gen ${DG_ROBUST_DIR}/gen.c ${DG_ROBUST_DIR}/gen_lib.c)
target_include_directories(robust_gen PRIVATE ${DG_ROBUST_DIR})
target_link_libraries(robust_gen PRIVATE digitscore)
set(DG_ROBUST_CORES digitscore)
if(DG_SANITIZE_TESTS)
  list(APPEND DG_ROBUST_CORES digitscore_asan)
endif()
foreach(core ${DG_ROBUST_CORES})
  set(sfx "")
  set(env ${DG_TEST_ENV})
  set(label robust)
  if(core STREQUAL "digitscore_asan")
    set(sfx _asan)
    set(env ${DG_TEST_ENV} ${DG_SAN_ENV})
    set(label sanitize)
  endif()
  foreach(t sweep diverge)
    add_executable(robust_${t}${sfx} ${DG_ROBUST_DIR}/${t}.c
                   ${DG_ROBUST_DIR}/gen_lib.c ${CMAKE_SOURCE_DIR}/tests/harness.c)
    target_include_directories(robust_${t}${sfx} PRIVATE
                               ${CMAKE_SOURCE_DIR}/tests ${DG_ROBUST_DIR})
    target_link_libraries(robust_${t}${sfx} PRIVATE ${core})
    add_test(NAME robust_${t}${sfx} COMMAND robust_${t}${sfx})
    set_tests_properties(robust_${t}${sfx} PROPERTIES ENVIRONMENT "${env}"
                         LABELS "${label}" TIMEOUT 300)
  endforeach()
endforeach()

# The shell tests of tests/robust/: never_lose.sh trains and interrupts
# (plain build only: timing matters); inputs.sh feeds bad files to every
# command, also under ASan + UBSan.
add_test(NAME robust_never_lose COMMAND bash ${DG_ROBUST_DIR}/never_lose.sh)
set_tests_properties(robust_never_lose PROPERTIES ENVIRONMENT
  "${DG_TEST_ENV};DIGITS=$<TARGET_FILE:digits>" LABELS "robust" TIMEOUT 300)

set(DG_INPUTS_ENV ${DG_TEST_ENV} ROBUST_GEN=$<TARGET_FILE:robust_gen>)
add_test(NAME robust_inputs COMMAND bash ${DG_ROBUST_DIR}/inputs.sh)
set_tests_properties(robust_inputs PROPERTIES ENVIRONMENT
  "${DG_INPUTS_ENV};DIGITS=$<TARGET_FILE:digits>" LABELS "robust" TIMEOUT 300)
if(DG_SANITIZE_TESTS)
  add_test(NAME robust_inputs_asan COMMAND bash ${DG_ROBUST_DIR}/inputs.sh)
  set_tests_properties(robust_inputs_asan PROPERTIES ENVIRONMENT
    "${DG_INPUTS_ENV};${DG_SAN_ENV};DIGITS=$<TARGET_FILE:digits_asan>"
    LABELS "sanitize" TIMEOUT 300)
endif()

# ---- valgrind ---------------------------------------------------------------------
# memcheck on the CLI's predict, eval and a one-epoch training run. valgrind
# 3.19 cannot execute AVX-512, which -march=native turns on here (Zen 4),
# so these run a build of the same sources with AVX-512 off (the AVX2/FMA
# kernels of simd.h; everything else the same code as build/digits).
find_program(DG_VALGRIND valgrind)
if(DG_VALGRIND AND DG_CLI_SOURCES)
  dg_core_library(digitscore_vg)
  target_compile_options(digitscore_vg PUBLIC -g)
  if(DG_NATIVE_ARCH AND CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|AMD64")
    target_compile_options(digitscore_vg PUBLIC -mno-avx512f)
  endif()
  add_executable(digits_vg ${DG_CLI_SOURCES})
  target_link_libraries(digits_vg PRIVATE digitscore_vg)
  foreach(mode predict eval train)
    add_test(NAME valgrind_${mode}
             COMMAND bash ${DG_ROBUST_DIR}/valgrind.sh ${mode})
    set_tests_properties(valgrind_${mode} PROPERTIES ENVIRONMENT
      "${DG_TEST_ENV};DIGITS=$<TARGET_FILE:digits_vg>;VALGRIND=${DG_VALGRIND};DIGITS_SUPP=${DG_ROBUST_DIR}/valgrind.supp"
      LABELS "valgrind" TIMEOUT 600)
  endforeach()
endif()
