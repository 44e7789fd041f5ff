# Flash write protection: detected at detect, refused as write_protected before writing,
# cleared with --unprotect (volatile), a locked-down register refused with the reason.
st_test_program(test_protect LIBS st_unit DEPENDS esp32sim demo_images)
st_case_tests(test_protect protect CASES refused unprotect locked rom
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 90 LABELS integration)
