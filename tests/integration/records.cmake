# Records that hold on every path (test_records.c): the station killed after each
# durable commit, a full disk under the end of a pass, the repair bench. The disk faults
# come from io_shim.c, an LD_PRELOAD library built here.
add_library(st_io_shim MODULE ${CMAKE_CURRENT_LIST_DIR}/io_shim.c)
target_link_libraries(st_io_shim PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(st_io_shim PROPERTIES PREFIX "" OUTPUT_NAME io_shim)

add_executable(test_records ${CMAKE_CURRENT_LIST_DIR}/test_records.c)
target_link_libraries(test_records PRIVATE stationdb PkgConfig::JANSSON m)
target_include_directories(test_records PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_records esp32sim demo_images station st_io_shim)

set(ST_RECORDS_CASES retry_kill pass_unrecorded bench)
foreach(case ${ST_RECORDS_CASES})
  add_test(NAME records_${case}
    COMMAND test_records ${case} $<TARGET_FILE:station> $<TARGET_FILE:esp32sim>
            ${ST_DEMO_PROFILE_DIR} $<TARGET_FILE:st_io_shim>)
  set_tests_properties(records_${case} PROPERTIES TIMEOUT 300 LABELS integration)
endforeach()
