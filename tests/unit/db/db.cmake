# owned by the db area
# Record store tests: each test_db_<name>.c is one program, registered as db_<name>.
add_library(test_db_support STATIC ${CMAKE_CURRENT_LIST_DIR}/test_db_support.c)
target_link_libraries(test_db_support PUBLIC stationdb)
target_include_directories(test_db_support PUBLIC ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_CURRENT_LIST_DIR}/..)
foreach(t schema attempt recover bin audit export stats full retry serial)
  add_executable(test_db_${t} ${CMAKE_CURRENT_LIST_DIR}/test_db_${t}.c)
  target_link_libraries(test_db_${t} PRIVATE test_db_support PkgConfig::JANSSON m)
  add_test(NAME db_${t} COMMAND test_db_${t})
  set_tests_properties(db_${t} PROPERTIES TIMEOUT 60 LABELS unit)
endforeach()
