# Flash write protection: detected at detect, refused as write_protected before writing,
# cleared with --unprotect (volatile), a locked-down register refused with the reason.
add_executable(test_protect ${CMAKE_CURRENT_LIST_DIR}/test_protect.c)
target_link_libraries(test_protect PRIVATE st_unit)
target_include_directories(test_protect PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_protect esp32sim demo_images)
foreach(case refused unprotect locked rom)
  add_test(NAME protect_${case}
    COMMAND test_protect ${case} $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR})
  set_tests_properties(protect_${case} PROPERTIES TIMEOUT 90 LABELS integration)
endforeach()
