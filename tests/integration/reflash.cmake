# Doing less device work (station/unit/flash_plan.c): unchanged regions and blocks skipped,
# retries resuming, 0xFF sectors erased and never programmed; whole flash compared.
st_test_program(test_reflash LIBS st_unit DEPENDS esp32sim demo_images)
st_case_tests(test_reflash reflash CASES unchanged block all retry erased erase_mid
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 90 LABELS integration)
