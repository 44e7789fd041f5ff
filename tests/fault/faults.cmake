# One test per injected simulator fault: the exact classified error of one flash
# attempt (class, phase, command, status bytes), or a verified flash when the fault must
# be survived. Decisions are documented at the top of test_fault.c.
add_executable(test_fault ${CMAKE_CURRENT_LIST_DIR}/test_fault.c)
target_link_libraries(test_fault PRIVATE st_unit)
target_include_directories(test_fault PRIVATE ${CMAKE_SOURCE_DIR}/tests/unit)
add_dependencies(test_fault esp32sim demo_images)
foreach(case ram_checksum_1 ram_checksum_many ram_checksum_many_stub_required
             flash_write_error flash_write_error_rom inflate_error inflate_error_rom
             bitflip blank no_sync disconnect noise slow wrong_chip flash_too_small
             flash_size_profile mac_crc bridge_ftdi baud_max)
  add_test(NAME fault_${case}
    COMMAND test_fault ${case} $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR})
  set_tests_properties(fault_${case} PROPERTIES TIMEOUT 60 LABELS fault)
endforeach()
