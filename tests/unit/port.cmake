# Serial port layer, SLIP framing, protocol tables and error values.
foreach(t slip proto port)
  add_executable(test_${t} ${CMAKE_CURRENT_LIST_DIR}/test_${t}.c)
  target_link_libraries(test_${t} PRIVATE stationcore)
  target_include_directories(test_${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
  add_test(NAME unit_${t} COMMAND test_${t})
  set_tests_properties(unit_${t} PROPERTIES TIMEOUT 60 LABELS unit)
endforeach()
