# Per-unit NVS provisioning through the station program (station/firmware/provision.c).
add_test(NAME provision_preview
  COMMAND sh ${CMAKE_CURRENT_LIST_DIR}/provision_preview.sh $<TARGET_FILE:station>)
set_tests_properties(provision_preview PROPERTIES TIMEOUT 60 LABELS integration)
