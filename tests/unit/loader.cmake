# Bootloader client (station/loader*.c, detect.c, spiflash.c, stub_upload.c, flash_write.c):
# pure reply parsing / classification / chip description, and the packet and command
# layers against a scripted device on a pseudo-terminal.
foreach(t test_loader test_loader_link)
  add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE stationcore)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR})
endforeach()
add_test(NAME unit_loader COMMAND test_loader)
add_test(NAME unit_loader_link COMMAND test_loader_link)
set_tests_properties(unit_loader unit_loader_link PROPERTIES TIMEOUT 60 LABELS unit)
