# The station with Espressif's esp-flasher-stub (esptool-js 0.7.0's ESP32 stub JSON, from the
# interop fixture) beside the legacy one: profile stub_kind, flash over PTY and RFC 2217, and
# a stub built for another chip refused.
include(${CMAKE_SOURCE_DIR}/tests/interop/esptooljs_paths.cmake)
add_executable(test_newstub ${CMAKE_CURRENT_LIST_DIR}/test_newstub.c)
target_link_libraries(test_newstub PRIVATE st_unit)
target_include_directories(test_newstub PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_newstub esp32sim demo_images)
foreach(case pty rfc2217 foreign)
  add_test(NAME newstub_${case}
    COMMAND test_newstub ${case} $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
            ${ST_ESPTOOLJS070_STUB_JSON} ${ST_ESPTOOLJS070_STUB_DIR}/esp32s3.json)
  set_tests_properties(newstub_${case} PROPERTIES TIMEOUT 90 LABELS "integration;interop"
    FIXTURES_REQUIRED ${ST_ESPTOOLJS_FIXTURE})
endforeach()
