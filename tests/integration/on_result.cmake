# `station run --on-result CMD`: environment, failures as hook events, timeout, never
# holding up the line (tests/integration/on_result.sh).
add_test(NAME run_on_result
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/on_result.sh $<TARGET_FILE:station>
    $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE})
set_tests_properties(run_on_result PROPERTIES TIMEOUT 300 LABELS "integration")
