# Serial port layer (station/port/): backends, buffering, locking, vanished devices.
add_executable(test_port ${CMAKE_CURRENT_LIST_DIR}/test_port.c)
target_link_libraries(test_port PRIVATE st_loader)
target_include_directories(test_port PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
add_test(NAME unit_port COMMAND test_port)
set_tests_properties(unit_port PROPERTIES TIMEOUT 60 LABELS unit)
