# The line's thread code under ThreadSanitizer and AddressSanitizer (with leak checks).
# At test time a second build tree per sanitizer is configured inside this one
# (san-thread, san-address) and only what the engine tests run is built there: the
# station, test_engine_parts and test_engine_lib. The engine tests then run against those
# binaries; the simulator and the test_engine driver come from this tree. Any sanitizer
# report fails the test: test_engine scans the station's stderr, and the instrumented test
# programs exit with 66 (TSAN_OPTIONS / ASAN_OPTIONS below).
# Run only these: ctest -L sanitizer. The build steps hold a lock so two never share
# the cores.
foreach(san thread address)
  set(tree ${CMAKE_BINARY_DIR}/san-${san})
  add_test(NAME engine_san_${san}_build
    COMMAND ${CMAKE_COMMAND} -DSRC=${CMAKE_SOURCE_DIR} -DBIN=${tree} -DSAN=${san}
            -DCC=${CMAKE_C_COMPILER} -P ${CMAKE_CURRENT_LIST_DIR}/sanitize/build_tree.cmake)
  set_tests_properties(engine_san_${san}_build PROPERTIES
    TIMEOUT 600 FIXTURES_SETUP san_${san} RESOURCE_LOCK san_build LABELS sanitizer)

  foreach(case batch16 hotplug watchdog kill sigterm2)
    add_test(NAME engine_san_${san}_${case}
      COMMAND test_engine ${case} ${tree}/station/station $<TARGET_FILE:esp32sim>
              ${ST_DEMO_PROFILE_DIR})
    set_tests_properties(engine_san_${san}_${case} PROPERTIES
      TIMEOUT 120 FIXTURES_REQUIRED san_${san} LABELS sanitizer)
  endforeach()

  set(san_env "TSAN_OPTIONS=halt_on_error=1 exitcode=66 second_deadlock_stack=1"
              "ASAN_OPTIONS=detect_leaks=1 exitcode=66")
  add_test(NAME engine_san_${san}_parts COMMAND ${tree}/tests/unit/test_engine_parts)
  foreach(case begin_fail controls)
    add_test(NAME engine_san_${san}_lib_${case}
      COMMAND ${tree}/tests/integration/test_engine_lib ${case} $<TARGET_FILE:esp32sim>
              ${ST_DEMO_PROFILE_DIR})
  endforeach()
  set_tests_properties(engine_san_${san}_parts engine_san_${san}_lib_begin_fail
                       engine_san_${san}_lib_controls PROPERTIES
    TIMEOUT 120 FIXTURES_REQUIRED san_${san} ENVIRONMENT "${san_env}" LABELS sanitizer)
endforeach()
