# The station with Espressif's esp-flasher-stub (esptool-js 0.7.0's ESP32 stub JSON, from the
# interop fixture) beside the legacy one: profile stub_kind, flash over PTY and RFC 2217, and
# a stub built for another chip refused.
include(${CMAKE_SOURCE_DIR}/tests/interop/esptooljs_paths.cmake)
st_test_program(test_newstub LIBS st_unit DEPENDS esp32sim demo_images)
st_case_tests(test_newstub newstub CASES pty rfc2217 foreign
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} ${ST_ESPTOOLJS070_STUB_JSON}
       ${ST_ESPTOOLJS070_STUB_DIR}/esp32s3.json
  TIMEOUT 90 LABELS integration interop FIXTURES ${ST_ESPTOOLJS_FIXTURE})
