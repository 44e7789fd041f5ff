# After the flash (test_after_flash.c): the boot check against every boot fault of the
# simulator and a wrong image; per-unit NVS provisioning on 16 parallel units (serials,
# partitions read back from the flash files), and a unit the CSV does not know.
st_test_program(test_after_flash LIBS stationdb PkgConfig::JANSSON m ZLIB::ZLIB
  DEPENDS esp32sim demo_images station INCLUDES ${CMAKE_SOURCE_DIR}/tests/unit/firmware)
st_case_tests(test_after_flash after_flash
  CASES boot_faults wrong_image provision16 csv_missing bench provision_kill rfc2217
  ARGS $<TARGET_FILE:station> $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
  TIMEOUT 150 LABELS integration)
