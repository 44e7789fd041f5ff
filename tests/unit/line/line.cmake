# The production line's parts (station/line/: retry_policy.c, discovery.c, events.c) without
# units: the policy table, USB filter, slot naming and plug/unplug diffing, the event ring,
# snapshot counters and the record queue handshake between threads.
add_executable(test_engine_parts ${CMAKE_CURRENT_LIST_DIR}/test_engine_parts.c)
target_link_libraries(test_engine_parts PRIVATE st_line)
target_include_directories(test_engine_parts PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
add_test(NAME unit_engine_parts COMMAND test_engine_parts)
set_tests_properties(unit_engine_parts PROPERTIES TIMEOUT 60 LABELS unit)
