# Doing less device work (station/unit/flash_plan.c): unchanged regions and blocks skipped,
# retries resuming, 0xFF sectors erased and never programmed; whole flash compared.
add_executable(test_reflash ${CMAKE_CURRENT_LIST_DIR}/test_reflash.c)
target_link_libraries(test_reflash PRIVATE st_unit)
target_include_directories(test_reflash PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_reflash esp32sim demo_images)
foreach(case unchanged block all retry erased)
  add_test(NAME reflash_${case}
    COMMAND test_reflash ${case} $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR})
  set_tests_properties(reflash_${case} PROPERTIES TIMEOUT 90 LABELS integration)
endforeach()
