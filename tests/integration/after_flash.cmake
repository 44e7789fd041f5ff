# After the flash (test_after_flash.c): the boot check against every boot fault of the
# simulator and a wrong image; per-unit NVS provisioning on 16 parallel units (serials,
# partitions read back from the flash files), and a unit the CSV does not know.
add_executable(test_after_flash ${CMAKE_CURRENT_LIST_DIR}/test_after_flash.c)
target_link_libraries(test_after_flash PRIVATE stationdb PkgConfig::JANSSON m ZLIB::ZLIB)
target_include_directories(test_after_flash PRIVATE ${CMAKE_CURRENT_LIST_DIR}
  ${CMAKE_SOURCE_DIR}/tests/unit ${CMAKE_SOURCE_DIR}/tests/unit/firmware)
add_dependencies(test_after_flash esp32sim demo_images station)
foreach(case boot_faults wrong_image provision16 csv_missing bench provision_kill rfc2217)
  add_test(NAME after_flash_${case}
    COMMAND test_after_flash ${case} $<TARGET_FILE:station> $<TARGET_FILE:esp32sim>
            ${ST_DEMO_PROFILE_DIR})
  set_tests_properties(after_flash_${case} PROPERTIES TIMEOUT 150 LABELS integration)
endforeach()
