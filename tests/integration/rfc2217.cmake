# The rfc2217:// port backend and the DTR/RTS reset sequences against esp32sim --rfc2217
# (units behind the two-transistor auto-reset circuit; opening the port resets nothing).
add_executable(test_rfc2217 ${CMAKE_CURRENT_LIST_DIR}/test_rfc2217.c)
target_link_libraries(test_rfc2217 PRIVATE st_unit)
target_include_directories(test_rfc2217 PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_rfc2217 esp32sim demo_images)
foreach(case resets flash wrong_boot no_reset stub_left)
  add_test(NAME rfc2217_${case}
    COMMAND test_rfc2217 ${case} $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR})
  set_tests_properties(rfc2217_${case} PROPERTIES TIMEOUT 90 LABELS integration)
endforeach()
