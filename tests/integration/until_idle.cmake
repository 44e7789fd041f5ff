# `station run --until-idle S` stops a scripted batch by itself; exit 0 all passed, 4 a
# unit failed for good, 2 usage (tests/integration/until_idle.sh).
add_test(NAME run_until_idle
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/until_idle.sh $<TARGET_FILE:station>
    $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE})
set_tests_properties(run_until_idle PROPERTIES TIMEOUT 200 LABELS "integration")
