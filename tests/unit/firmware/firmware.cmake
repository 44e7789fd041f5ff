# Profiles, prepared images and the stub JSON loader (station/firmware/).
foreach(t test_profile test_image test_stub)
  add_executable(${t} ${CMAKE_CURRENT_LIST_DIR}/${t}.c)
  target_link_libraries(${t} PRIVATE st_firmware)
  target_include_directories(${t} PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
endforeach()
# test_profile checks the shipped core2/fire profiles.
target_compile_definitions(test_profile PRIVATE ST_PROFILES_SRC="${CMAKE_SOURCE_DIR}/profiles")
# test_image also prepares the generated demo profiles.
add_dependencies(test_image demo_images)
target_compile_definitions(test_image PRIVATE
  ST_DEMO_PROFILE="${ST_DEMO_PROFILE}" ST_DEMO_ROM_PROFILE="${ST_DEMO_ROM_PROFILE}")

add_test(NAME unit_profile COMMAND test_profile)
add_test(NAME unit_image COMMAND test_image)
add_test(NAME unit_stub COMMAND test_stub)
set_tests_properties(unit_profile unit_image unit_stub PROPERTIES TIMEOUT 60 LABELS unit)

# NVS partition writer: known answers from nvs_partition_gen.py (nvs_vectors/PROVENANCE.md)
# and a decoder of the test's own.
add_executable(test_nvs ${CMAKE_CURRENT_LIST_DIR}/test_nvs.c)
target_link_libraries(test_nvs PRIVATE st_firmware)
target_include_directories(test_nvs PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
target_compile_definitions(test_nvs PRIVATE NVS_VECTORS="${CMAKE_CURRENT_LIST_DIR}/nvs_vectors")
add_test(NAME unit_nvs COMMAND test_nvs)
set_tests_properties(unit_nvs PROPERTIES TIMEOUT 60 LABELS unit)

# [provision]: profile section, CSV, templates, rendering (read back with nvs_decode.h).
add_executable(test_provision ${CMAKE_CURRENT_LIST_DIR}/test_provision.c)
target_link_libraries(test_provision PRIVATE st_firmware)
target_include_directories(test_provision PRIVATE ${CMAKE_CURRENT_LIST_DIR}/..)
add_test(NAME unit_provision COMMAND test_provision)
set_tests_properties(unit_provision PROPERTIES TIMEOUT 60 LABELS unit)
