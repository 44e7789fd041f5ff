# The production line (station/line/: engine.c, worker.c, discovery.c, events.c, recorder.c and
# `station run`) end to end against the simulator: test_engine.c runs the station as a
# child process and checks its JSON events, the record store and the flash files.
st_test_program(test_engine LIBS stationdb PkgConfig::JANSSON m
  DEPENDS esp32sim demo_images station)
st_case_tests(test_engine engine CASES batch16 hotplug watchdog kill sigterm sigterm2 refuse commands
  ARGS $<TARGET_FILE:station> $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR}
  TIMEOUT 60 LABELS integration)

# The wall clock stepped by +1 h, then back 2 h, under a running line: clockshift.c, an
# LD_PRELOAD library, shifts the station's CLOCK_REALTIME, gettimeofday and time().
add_library(st_clockshift MODULE ${CMAKE_CURRENT_LIST_DIR}/clockshift.c)
target_link_libraries(st_clockshift PRIVATE ${CMAKE_DL_LIBS})
add_dependencies(test_engine st_clockshift)
add_test(NAME engine_clockstep
  COMMAND test_engine clockstep $<TARGET_FILE:station> $<TARGET_FILE:esp32sim>
          ${ST_DEMO_PROFILE_DIR})
set_tests_properties(engine_clockstep PROPERTIES TIMEOUT 90 LABELS integration
  ENVIRONMENT "ST_CLOCKSHIFT_LIB=$<TARGET_FILE:st_clockshift>")

# The engine with the real recorder, driven as a library: a begin record that cannot be
# written keeps the unit untouched; pause, profile change and resume.
st_test_program(test_engine_lib LIBS st_line PkgConfig::JANSSON m DEPENDS esp32sim demo_images)
st_case_tests(test_engine_lib engine CASES begin_fail controls
  ARGS $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR} TIMEOUT 60 LABELS integration)

# The same waits with the wall clock stepped under the test program itself.
add_dependencies(test_engine_lib st_clockshift)
add_test(NAME engine_wait_clockstep
  COMMAND test_engine_lib wait_clockstep $<TARGET_FILE:esp32sim> ${ST_DEMO_PROFILE_DIR})
set_tests_properties(engine_wait_clockstep PROPERTIES TIMEOUT 60 LABELS integration
  ENVIRONMENT "LD_PRELOAD=$<TARGET_FILE:st_clockshift>;ST_CLOCKSHIFT_FILE=${CMAKE_CURRENT_BINARY_DIR}/engine_wait_clockstep.shift")
