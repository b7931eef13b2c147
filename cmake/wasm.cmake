# cmake/wasm.cmake: the WebAssembly builds, included by CMakeLists.txt when
# it is configured with Emscripten (`emcmake cmake -S . -B build/wasm`, what
# ./build.sh build does). From the same library sources as the native build
# (DG_LIB_SOURCES) plus src/wasm/*.c, it writes:
#
#   web/build/digits-{relaxed,simd,plain}.wasm   standalone modules (no
#       Emscripten JS glue: web/lib/digits.js instantiates them itself),
#       chosen at run time by web/lib/digits.js: relaxed (-mrelaxed-simd:
#       simd128 plus relaxed SIMD's fused multiply-add), simd (-msimd128),
#       plain (phones without SIMD, Safari 16.4-16.x);
#   web/lib/constants.js   the C values digits.js needs (cmake/constants.c);
#   <native build>/wasm-tests{,-relaxed}/   tests/test_kernels.c and
#       tests/test_infer.c linked from the simd and relaxed builds' library
#       objects, for tests/wasm/kernels.mjs and infer.mjs; and the
#       constants generator, for tests/wasm/constants.mjs.
#
# Every file is compiled by cmake/wasm-cc.sh (unoptimized bitcode, LLVM's
# opt, code generation without optimizing again) when Emscripten's opt is
# found, else by plain emcc -c.

set(DG_WASM_OUT ${CMAKE_SOURCE_DIR}/web/build CACHE PATH
    "folder of digits-{relaxed,simd,plain}.wasm")
get_filename_component(dg_parent ${CMAKE_BINARY_DIR} DIRECTORY)
set(DG_WASM_TESTS_DIR ${dg_parent} CACHE PATH
    "the native build folder (its wasm-tests/ and wasm-tests-relaxed/)")
set(DG_CONSTANTS_JS ${CMAKE_SOURCE_DIR}/web/lib/constants.js)

set(CMAKE_C_FLAGS_RELEASE "-O3")
add_compile_options(-Wall -Wextra -Wno-unused-parameter)
# image.c (stb_image files) compiles to nothing, idx.c parses raw idx
# without zlib; the file code is linked out (nothing exported reaches it),
# and the training loop reads no clock (fit.c).
add_compile_definitions(DG_NO_STB_IMAGE DG_NO_ZLIB)

# -I flags on the command line (not in a response file): cmake/wasm-cc.sh
# leaves them out of the code generation step.
set(CMAKE_C_USE_RESPONSE_FILE_FOR_INCLUDES OFF)
execute_process(COMMAND em-config LLVM_ROOT OUTPUT_VARIABLE dg_llvm_root
                OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(EXISTS "${dg_llvm_root}/opt")
  set(CMAKE_C_COMPILER_LAUNCHER ${CMAKE_SOURCE_DIR}/cmake/wasm-cc.sh
      ${dg_llvm_root}/opt)
else()
  message(STATUS "no LLVM opt beside emcc: plain emcc -c")
endif()

# emcc does not search /usr/include (and -I/usr/include breaks its libc):
# the header-only jsmn is copied beside the build instead.
set(DG_JSMN_HEADER /usr/include/jsmn.h CACHE FILEPATH "jsmn.h (libjsmn-dev)")
configure_file(${DG_JSMN_HEADER} ${CMAKE_BINARY_DIR}/include/jsmn.h COPYONLY)

# The export list: src/wasm/exports.txt, one name a line, # comments.
set(dg_exports_file ${CMAKE_SOURCE_DIR}/src/wasm/exports.txt)
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${dg_exports_file})
file(STRINGS ${dg_exports_file} dg_lines)
set(dg_exports "")
foreach(line ${dg_lines})
  string(REGEX REPLACE "#.*" "" line "${line}")
  string(STRIP "${line}" line)
  if(line)
    list(APPEND dg_exports "_${line}")
  endif()
endforeach()
string(JOIN "," dg_exports ${dg_exports})

# wasm-opt inlines every function that has one caller, whatever its size:
# train_batch absorbed the whole backward pass and optimizer step, and V8
# runs a function in its baseline tier until its optimized code is
# compiled, which for one that size took most of a first mlp epoch in the
# browser. Capped, hot functions stay small enough to tier up quickly.
set(DG_WASM_LDFLAGS -sSTANDALONE_WASM=1 --no-entry -sALLOW_MEMORY_GROWTH=1
    -sMAXIMUM_MEMORY=2147483648 -sINITIAL_MEMORY=16777216
    -sBINARYEN_EXTRA_PASSES=--one-caller-inline-max-function-size=400
    -sEXPORTED_FUNCTIONS=${dg_exports})
# What a test program under Node needs (emcc's JS glue, synchronous start).
set(DG_WASM_TEST_LDFLAGS -sENVIRONMENT=node -sWASM_ASYNC_COMPILATION=0
    -sALLOW_MEMORY_GROWTH=1)

file(GLOB DG_WASM_API_SOURCES CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/wasm/*.c)
set(dg_post ${CMAKE_SOURCE_DIR}/cmake/wasm-post.sh)
# constants.js (which validate-wasm.mjs reads) comes by a target-level
# dependency on constants_js: listed as a file here, its rule ran once per
# module target in parallel builds, racing on its .tmp file
set(dg_post_deps ${dg_post} ${CMAKE_SOURCE_DIR}/web/tools/relax-wasm.mjs
    ${CMAKE_SOURCE_DIR}/web/tools/validate-wasm.mjs)

# dg_deliver(TARGET OUT.wasm [--relaxed]): TARGET's .wasm to OUT through
# cmake/wasm-post.sh, as part of `all`; a .js glue beside it comes along.
function(dg_deliver target out)
  get_filename_component(dir ${out} DIRECTORY)
  get_filename_component(base ${out} NAME_WE)
  set(wasm $<TARGET_FILE_DIR:${target}>/$<TARGET_FILE_BASE_NAME:${target}>.wasm)
  set(outs ${out})
  set(js_copy "")
  get_target_property(suffix ${target} SUFFIX)
  if(NOT suffix STREQUAL ".wasm")
    list(APPEND outs ${dir}/${base}.js)
    set(js_copy COMMAND ${CMAKE_COMMAND} -E copy $<TARGET_FILE:${target}> ${dir}/${base}.js)
  endif()
  add_custom_command(OUTPUT ${outs}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${dir}
    COMMAND bash ${dg_post} ${wasm} ${out} ${ARGN}
    ${js_copy}
    DEPENDS ${target} ${dg_post_deps} VERBATIM)
  add_custom_target(${target}_out ALL DEPENDS ${outs})
  add_dependencies(${target}_out constants_js)
endfunction()

# the number reader's segmentation and windows: for size (its time is the
# networks' kernels), which keeps the first load under 300 KB gzip
set_source_files_properties(${CMAKE_SOURCE_DIR}/src/preprocess/number.c
                            PROPERTIES COMPILE_OPTIONS -Os)
foreach(variant relaxed simd plain)
  set(flags "")
  if(NOT variant STREQUAL "plain")
    list(APPEND flags -msimd128)
  endif()
  set(post "")
  if(variant STREQUAL "relaxed")
    list(APPEND flags -mrelaxed-simd)
    set(post --relaxed)
  endif()
  # the library's objects, shared by the module and the test programs
  add_library(dg_core_${variant} OBJECT ${DG_LIB_SOURCES})
  target_include_directories(dg_core_${variant} PUBLIC ${CMAKE_SOURCE_DIR}/src
                             ${CMAKE_BINARY_DIR}/include)
  target_compile_options(dg_core_${variant} PUBLIC ${flags})
  target_link_options(dg_core_${variant} INTERFACE ${flags})

  add_executable(digits-${variant} ${DG_WASM_API_SOURCES})
  target_link_libraries(digits-${variant} PRIVATE dg_core_${variant})
  target_link_options(digits-${variant} PRIVATE ${DG_WASM_LDFLAGS})
  set_target_properties(digits-${variant} PROPERTIES SUFFIX ".wasm"
                        LINK_DEPENDS ${dg_exports_file})
  dg_deliver(digits-${variant} ${DG_WASM_OUT}/digits-${variant}.wasm ${post})

  if(variant STREQUAL "plain")
    continue()
  endif()
  set(tdir ${DG_WASM_TESTS_DIR}/wasm-tests)
  if(variant STREQUAL "relaxed")
    set(tdir ${DG_WASM_TESTS_DIR}/wasm-tests-relaxed)
  endif()
  file(MAKE_DIRECTORY ${tdir})
  file(WRITE ${tdir}/package.json "{ \"type\": \"commonjs\" }\n")  # emcc's glue
  foreach(t test_kernels test_infer)
    add_executable(${t}-${variant} ${CMAKE_SOURCE_DIR}/tests/${t}.c
                   ${CMAKE_SOURCE_DIR}/tests/harness.c)
    target_include_directories(${t}-${variant} PRIVATE ${CMAKE_SOURCE_DIR}/tests)
    target_link_libraries(${t}-${variant} PRIVATE dg_core_${variant})
    target_link_options(${t}-${variant} PRIVATE ${DG_WASM_TEST_LDFLAGS})
    set_target_properties(${t}-${variant} PROPERTIES OUTPUT_NAME ${t}
                          RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/${variant})
    dg_deliver(${t}-${variant} ${tdir}/${t}.wasm ${post})
  endforeach()
endforeach()

# web/lib/constants.js from cmake/constants.c, compiled for wasm32 (the
# module's struct layouts) and run under Node; the program itself goes to
# wasm-tests/ for tests/wasm/constants.mjs.
add_executable(gen_constants ${CMAKE_SOURCE_DIR}/cmake/constants.c)
target_link_libraries(gen_constants PRIVATE dg_core_plain)
target_link_options(gen_constants PRIVATE ${DG_WASM_TEST_LDFLAGS})
set_target_properties(gen_constants PROPERTIES
                      RUNTIME_OUTPUT_DIRECTORY ${DG_WASM_TESTS_DIR}/wasm-tests)
add_custom_command(OUTPUT ${DG_CONSTANTS_JS}
  COMMAND sh -c "node \"$1\" > \"$2.tmp\" && mv \"$2.tmp\" \"$2\""
          sh $<TARGET_FILE:gen_constants> ${DG_CONSTANTS_JS}
  DEPENDS gen_constants VERBATIM)
add_custom_target(constants_js ALL DEPENDS ${DG_CONSTANTS_JS})
