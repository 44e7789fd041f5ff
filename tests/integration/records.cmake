# Records that hold on every path (test_records.c): the station killed after each
# durable commit, a full disk under the end of a pass, the repair bench. The disk faults
# come from io_shim.c, an LD_PRELOAD library built here.
add_library(st_io_shim MODULE ${CMAKE_CURRENT_LIST_DIR}/io_shim.c)
target_link_libraries(st_io_shim PRIVATE ${CMAKE_DL_LIBS})
set_target_properties(st_io_shim PROPERTIES PREFIX "" OUTPUT_NAME io_shim)

st_test_program(test_records LIBS stationdb PkgConfig::JANSSON m
  DEPENDS esp32sim demo_images station st_io_shim)
st_case_tests(test_records records CASES retry_kill pass_unrecorded bench disk_low escapes bin_close
  unrecorded_halt
  ARGS $<TARGET_FILE:station> $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
       $<TARGET_FILE:st_io_shim>
  TIMEOUT 300 LABELS integration)

# The record store on a 2 MB disk (the shim's disk model): bounded WAL, free-space
# estimate, a full disk that loses nothing and can be checkpointed.
add_executable(test_small_disk ${CMAKE_CURRENT_LIST_DIR}/test_small_disk.c)
target_link_libraries(test_small_disk PRIVATE stationdb)
target_include_directories(test_small_disk PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_small_disk st_io_shim)
add_test(NAME records_small_disk COMMAND test_small_disk)
set_tests_properties(records_small_disk PROPERTIES TIMEOUT 120 LABELS integration
  ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:st_io_shim>;SHIM_PATH=/small.db")

# Auditors: `station --version` names the version (the one from project()).
add_test(NAME station_version COMMAND station --version)
set_tests_properties(station_version PROPERTIES TIMEOUT 10 LABELS unit
  PASS_REGULAR_EXPRESSION "^station ${PROJECT_VERSION} \\(flashstation; record schema v[0-9]+\\)")

# The 200-run randomized kill test (about an hour on 2 cores): never in the default run.
# Registered only when configured with -DST_SOAK=ON, then run with: ctest -L soak
option(ST_SOAK "register the randomized kill soak test (label soak)" OFF)
if(ST_SOAK)
  st_case_tests(test_records records CASES soak
    ARGS $<TARGET_FILE:station> $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
         $<TARGET_FILE:st_io_shim>
    TIMEOUT 7200 LABELS soak)
endif()
