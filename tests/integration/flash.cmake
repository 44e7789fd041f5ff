# Single-unit flash flow against the simulator (station/unit/flash_unit.c and the loader):
# stub and ROM mode over a pseudo-terminal, stub mode over TCP, and `station flash`.
st_test_program(test_flash_sim LIBS st_unit DEPENDS esp32sim demo_images station)
st_case_tests(test_flash_sim flash CASES stub rom nostub tcp cli
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} $<TARGET_FILE:station>
  TIMEOUT 60 LABELS integration)

# The same flow with the real ESP32 stub image from the esptool-js package (installed by the
# interop fixture): the station's stub loader reads Espressif's stub JSON format.
include(${CMAKE_SOURCE_DIR}/tests/interop/esptooljs_paths.cmake)
add_test(NAME flash_realstub
  COMMAND test_flash_sim realstub $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
          $<TARGET_FILE:station>)
set_tests_properties(flash_realstub PROPERTIES TIMEOUT 60 LABELS "integration;interop"
  ENVIRONMENT "ST_REAL_STUB_JSON=${ST_ESPTOOLJS_STUB_JSON}"
  FIXTURES_REQUIRED ${ST_ESPTOOLJS_FIXTURE})
