# The rfc2217:// port backend and the DTR/RTS reset sequences against esp32sim --rfc2217
# (units behind the two-transistor auto-reset circuit; opening the port resets nothing).
st_test_program(test_rfc2217 LIBS st_unit DEPENDS esp32sim demo_images)
st_case_tests(test_rfc2217 rfc2217 CASES resets flash wrong_boot no_reset stub_left
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 90 LABELS integration)
