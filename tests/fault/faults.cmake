# One test per injected simulator fault: the exact classified error of one flash
# attempt (class, phase, command, status bytes), or a verified flash when the fault must
# be survived. Decisions are documented at the top of test_fault.c.
st_test_program(test_fault LIBS st_unit DEPENDS esp32sim demo_images)
st_case_tests(test_fault fault
  CASES ram_checksum_1 ram_checksum_many ram_checksum_many_stub_required
        flash_write_error flash_write_error_rom inflate_error inflate_error_rom
        bitflip blank no_sync disconnect noise slow wrong_chip flash_too_small
        flash_size_profile mac_crc bridge_ftdi baud_max rx_drop_rom rx_drop_always
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 60 LABELS fault)
