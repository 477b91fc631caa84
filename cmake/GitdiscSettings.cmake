# gitdisc_cxx_settings: the one INTERFACE target that carries the language
# standard, warnings and sanitizer options for gitdisc's own code.
add_library(gitdisc_cxx_settings INTERFACE)
target_compile_features(gitdisc_cxx_settings INTERFACE cxx_std_20)
target_compile_options(gitdisc_cxx_settings INTERFACE -Wall -Wextra)
if(GITDISC_WERROR)
  target_compile_options(gitdisc_cxx_settings INTERFACE -Werror)
endif()
target_include_directories(gitdisc_cxx_settings INTERFACE ${PROJECT_SOURCE_DIR})
if(GITDISC_SANITIZE)
  target_compile_options(gitdisc_cxx_settings INTERFACE
    -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(gitdisc_cxx_settings INTERFACE -fsanitize=address,undefined)
endif()

# gitdisc_add_library(NAME): a library of every *.cc in the calling folder
# except tests (*_test.cc), fuzzers (*_fuzzer.cc) and mains (*_main.cc), and
# one test binary of every *_test.cc, registered with CTest.
function(gitdisc_add_library name)
  file(GLOB srcs CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  list(FILTER srcs EXCLUDE REGEX "(_test|_fuzzer|_main)\\.cc$")
  if(NOT srcs)  # a library whose first source has not landed yet
    set(srcs ${CMAKE_CURRENT_BINARY_DIR}/${name}_empty.cc)
    file(WRITE ${srcs} "")
  endif()
  add_library(${name} STATIC ${srcs})
  target_link_libraries(${name} PUBLIC gitdisc_cxx_settings)
endfunction()

function(gitdisc_add_tests name)
  if(NOT GITDISC_BUILD_TESTS)
    return()
  endif()
  file(GLOB tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*_test.cc)
  if(NOT tests)
    return()
  endif()
  add_executable(${name}_test ${tests})
  target_link_libraries(${name}_test PRIVATE ${name} ${ARGN} GTest::gmock GTest::gtest_main)
  target_compile_definitions(${name}_test PRIVATE
    GITDISC_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    GITDISC_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name}_test DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS unit)
  gitdisc_unit_test_target(${name}_test)
endfunction()

# gitdisc_unit_test_target(TARGET): TARGET runs tests labelled `unit`; the
# target `unit_tests` (defined at the end of the top-level CMakeLists.txt)
# builds every such target, which is all scripts/sanitize.sh needs to build.
function(gitdisc_unit_test_target target)
  set_property(GLOBAL APPEND PROPERTY GITDISC_UNIT_TEST_TARGETS ${target})
endfunction()

# A script that drives the real gitdisc binary against real libvirtd and QEMU
# guests (tests/e2e, tests/faults): called as SCRIPT GITDISC GUEST_DIR SOURCE,
# labelled `vm` and run alone. Registered only where such guests can boot: a
# test build without sanitizers (the guest image needs the static agent) on a
# machine with a Debian kernel in /boot.
function(gitdisc_add_vm_script_test name script timeout)
  file(GLOB kernels /boot/vmlinuz-*)
  if(NOT GITDISC_BUILD_TESTS OR GITDISC_SANITIZE OR NOT kernels)
    return()
  endif()
  add_test(NAME ${name}
    COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/${script} $<TARGET_FILE:gitdisc>
            ${PROJECT_BINARY_DIR}/guest ${PROJECT_SOURCE_DIR} ${ARGN})
  set_tests_properties(${name} PROPERTIES LABELS vm RUN_SERIAL TRUE TIMEOUT ${timeout})
endfunction()
