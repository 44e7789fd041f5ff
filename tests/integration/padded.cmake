# A mostly-padding image: block timeouts must follow what each block inflates to.
add_executable(test_padded ${CMAKE_CURRENT_LIST_DIR}/test_padded.c)
target_link_libraries(test_padded PRIVATE st_unit)
target_include_directories(test_padded PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_padded esp32sim demo_images)
add_test(NAME flash_padded_image
  COMMAND test_padded $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}/demo/stub.json)
set_tests_properties(flash_padded_image PROPERTIES TIMEOUT 90 LABELS integration)
