# The dashboard's pure parts: slot-grid layout, screen regions, short formats (tui area).
add_executable(test_tui_layout ${CMAKE_CURRENT_LIST_DIR}/test_tui_layout.c)
target_link_libraries(test_tui_layout PRIVATE stationtui)
target_include_directories(test_tui_layout PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
add_test(NAME unit_tui_layout COMMAND test_tui_layout)
set_tests_properties(unit_tui_layout PROPERTIES TIMEOUT 60 LABELS unit)
