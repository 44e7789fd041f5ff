# The repair-bench commands besides flash (test_repair.c): station identify, read, erase
# and unprotect on the simulator, each recorded and shown by station audit.
st_test_program(test_repair LIBS st_unit stationdb PkgConfig::JANSSON m DEPENDS station esp32sim demo_images)
st_case_tests(test_repair repair CASES identify identify_security read read_mismatch erase erase_refused
  unprotect
  ARGS $<TARGET_FILE:station> $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 90 LABELS integration)
