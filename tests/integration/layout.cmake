# The line layout file (station/line/layout.h): refusals with file:line, labels in the
# --json events and in the records, the default location
# (tests/integration/layout.sh).
add_test(NAME line_layout
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/layout.sh $<TARGET_FILE:station>
    $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE})
set_tests_properties(line_layout PROPERTIES TIMEOUT 200 LABELS "integration")

# `station layout learn` with simulator units appearing one by one, keys through a pipe
# (tests/integration/layout_learn.sh).
add_test(NAME line_layout_learn
  COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/layout_learn.sh $<TARGET_FILE:station>
    $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE})
set_tests_properties(line_layout_learn PROPERTIES TIMEOUT 200 LABELS "integration")
