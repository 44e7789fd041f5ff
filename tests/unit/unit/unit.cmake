# One unit's attempt (station/unit/) without a unit: the boot check's listener on a
# pseudo-terminal the test drives, and its diagnosis of console text.
add_executable(test_boot_check ${CMAKE_CURRENT_LIST_DIR}/test_boot_check.c)
target_link_libraries(test_boot_check PRIVATE st_unit st_line)
target_include_directories(test_boot_check PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
add_test(NAME unit_boot_check COMMAND test_boot_check)
set_tests_properties(unit_boot_check PROPERTIES TIMEOUT 60 LABELS unit)
