# Auditors at the command line (test_audit.c): `station audit` by the end of a MAC, by
# serial, in a time range with ISO-8601 offsets; reversed ranges refused by audit,
# export and stats; the station version, host and operator in audit and export; stats
# per unit; device strings with escape codes cleaned in every text output.
add_executable(test_audit ${CMAKE_CURRENT_LIST_DIR}/test_audit.c)
target_link_libraries(test_audit PRIVATE test_db_support stationdb PkgConfig::JANSSON m)
target_include_directories(test_audit PRIVATE ${CMAKE_CURRENT_LIST_DIR} ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_audit station)
foreach(case select times who stats escapes)
  add_test(NAME audit_${case} COMMAND test_audit ${case} $<TARGET_FILE:station>)
  set_tests_properties(audit_${case} PROPERTIES TIMEOUT 60 LABELS integration)
endforeach()
