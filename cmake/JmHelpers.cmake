# JmHelpers.cmake - the flags every target shares, and test registration.

# Every target in the tree links jm_build_flags (warnings + sanitizers).
# Generated protobuf code does not: it is not ours to fix.
add_library(jm_build_flags INTERFACE)
target_compile_options(jm_build_flags INTERFACE
  -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
  -Wformat=2 -Wno-unused-parameter
  $<$<BOOL:${JM_WERROR}>:-Werror>)
# C11 without GNU extensions hides POSIX: <uv.h> then fails on
# pthread_rwlock_t.
target_compile_definitions(jm_build_flags INTERFACE _POSIX_C_SOURCE=200809L)
if(NOT JM_SANITIZE STREQUAL "none")
  set(_jm_san -fsanitize=${JM_SANITIZE} -fno-omit-frame-pointer
              -fno-sanitize-recover=undefined)
  target_compile_options(jm_build_flags INTERFACE $<$<CONFIG:Debug>:${_jm_san}>)
  target_link_options(jm_build_flags INTERFACE $<$<CONFIG:Debug>:${_jm_san}>)
endif()

# jm_add_test(<name> SOURCES <files...> LIBS <targets...>
#             [LABEL unit|component|integration|smoke] [TIMEOUT seconds]
#             [ARGS <arguments...>])
# ARGS go on the test's command line, e.g. $<TARGET_FILE:svc> for tests
# that run a real service binary.
function(jm_add_test name)
  cmake_parse_arguments(T "" "LABEL;TIMEOUT" "SOURCES;LIBS;ARGS" ${ARGN})
  if(NOT T_LABEL)
    set(T_LABEL unit)
  endif()
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  add_executable(${name} ${T_SOURCES})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA jm_build_flags)
  add_test(NAME ${name} COMMAND ${name} ${T_ARGS})
  set_tests_properties(${name} PROPERTIES LABELS ${T_LABEL} TIMEOUT ${T_TIMEOUT})
endfunction()
