# Helpers shared by every stage's CMakeLists.txt.

# steper_add_test(NAME name SOURCES a.cpp b.cpp LIBS lib1 lib2)
# A GoogleTest binary registered with CTest; runs with the tests/fixtures folder as STEPER_FIXTURES, and
# includes tests/common (common/error_of.h, common/toy_llama.h).
function(steper_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS" ${ARGN})
  if(NOT STEPER_BUILD_TESTS)
    return()
  endif()
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} steper_test_common GTest::gtest GTest::gtest_main Threads::Threads)
  target_compile_definitions(${T_NAME} PRIVATE
    STEPER_FIXTURES="${PROJECT_SOURCE_DIR}/tests/fixtures"
    STEPER_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    STEPER_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES ENVIRONMENT "OPENBLAS_NUM_THREADS=1")
endfunction()

# Targets that include <torch/torch.h> share one precompiled header (built once by steper_model).
function(steper_use_torch_pch target)
  if(TARGET steper_model AND NOT "${target}" STREQUAL "steper_model")
    target_precompile_headers(${target} REUSE_FROM steper_model)
  endif()
endfunction()
