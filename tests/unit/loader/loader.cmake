# Bootloader client: SLIP framing, protocol tables and error values (station/loader/,
# station/common/), reply parsing, classification and chip description, and the packet,
# command and flow layers (station/unit/) against a scripted device on a pseudo-terminal.
foreach(t test_slip test_proto test_loader test_loader_link)
  add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE st_unit)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
endforeach()
add_test(NAME unit_slip COMMAND test_slip)
add_test(NAME unit_proto COMMAND test_proto)
add_test(NAME unit_loader COMMAND test_loader)
add_test(NAME unit_loader_link COMMAND test_loader_link)
set_tests_properties(unit_slip unit_proto unit_loader unit_loader_link PROPERTIES
  TIMEOUT 60 LABELS unit)
