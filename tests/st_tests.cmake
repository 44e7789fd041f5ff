# Helpers for the <area>.cmake files that register test programs made of named cases
# (check.h CHECK_RUN_CASE): one program, one CTest test per case.

# st_test_program(NAME LIBS lib... [DEPENDS target...] [INCLUDES dir...])
# NAME built from NAME.c in the calling file's folder, linked to LIBS, seeing that folder,
# tests/unit (check.h) and INCLUDES, built after DEPENDS (the simulator, demo images...).
function(st_test_program name)
  cmake_parse_arguments(P "" "" "LIBS;DEPENDS;INCLUDES" ${ARGN})
  add_executable(${name} ${CMAKE_CURRENT_LIST_DIR}/${name}.c)
  target_link_libraries(${name} PRIVATE ${P_LIBS})
  target_include_directories(${name} PRIVATE ${CMAKE_CURRENT_LIST_DIR}
    ${CMAKE_SOURCE_DIR}/tests/unit ${P_INCLUDES})
  if(P_DEPENDS)
    add_dependencies(${name} ${P_DEPENDS})
  endif()
endfunction()

# st_case_tests(PROGRAM PREFIX CASES case... [ARGS arg...] TIMEOUT s LABELS label...
#               [FIXTURES fixture...])
# One test PREFIX_<case> per case, running `PROGRAM <case> ARGS...`.
function(st_case_tests program prefix)
  cmake_parse_arguments(P "" "TIMEOUT" "CASES;ARGS;LABELS;FIXTURES" ${ARGN})
  foreach(case ${P_CASES})
    add_test(NAME ${prefix}_${case} COMMAND ${program} ${case} ${P_ARGS})
    set_tests_properties(${prefix}_${case} PROPERTIES TIMEOUT ${P_TIMEOUT} LABELS "${P_LABELS}")
    if(P_FIXTURES)
      set_tests_properties(${prefix}_${case} PROPERTIES FIXTURES_REQUIRED "${P_FIXTURES}")
    endif()
  endforeach()
endfunction()
