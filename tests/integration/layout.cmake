# The line layout file (station/line/layout.h): refusals with file:line, labels in the
# --json events and in the records, the default location, `station layout learn`
# (tests/integration/layout.sh).
add_test(NAME line_layout
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/layout.sh $<TARGET_FILE:station>
    $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE})
set_tests_properties(line_layout PROPERTIES TIMEOUT 200 LABELS "integration")
