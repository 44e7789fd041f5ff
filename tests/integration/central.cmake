# The factory's central store (db/central_*.c, station/line/shipper.c, the --central
# readers) against a real PostgreSQL server that the test suite starts itself: a private
# server in a temp folder on a Unix socket (tests/central/pg_server.sh; as user nobody
# when run as root), shared by the tests below through the central_pg fixture and
# stopped by central_pg_stop whatever they did. Tests that reset the shared store hold
# the central_pg lock; the outage and TLS tests run servers of their own (tls.sh: ssl=on on
# TCP 127.0.0.1, `pg_server.sh start STATE --tls CERT KEY`).
set(ST_CENTRAL_DIR ${CMAKE_SOURCE_DIR}/tests/central)
set(ST_PG_STATE ${CMAKE_BINARY_DIR}/central_pg.state)
add_test(NAME central_pg_start COMMAND sh ${ST_CENTRAL_DIR}/pg_server.sh start ${ST_PG_STATE})
set_tests_properties(central_pg_start PROPERTIES FIXTURES_SETUP central_pg TIMEOUT 120 LABELS integration)
add_test(NAME central_pg_stop COMMAND sh ${ST_CENTRAL_DIR}/pg_server.sh stop ${ST_PG_STATE})
set_tests_properties(central_pg_stop PROPERTIES FIXTURES_CLEANUP central_pg TIMEOUT 60 LABELS integration)

# st_central_script_tests(OUT PREFIX STATION entry...): for each entry "name:script args",
# a test PREFIX<name> running `bash script args STATION ESP32SIM PROFILE_DIR PGSTATE`;
# OUT gets the test names (for their properties).
function(st_central_script_tests out prefix station)
  set(names "")
  foreach(entry ${ARGN})
    string(REPLACE ":" ";" parts "${entry}")
    list(GET parts 0 name)
    list(GET parts 1 cmdline)
    separate_arguments(cmd UNIX_COMMAND "${cmdline}")
    list(GET cmd 0 script)
    list(REMOVE_AT cmd 0)
    add_test(NAME ${prefix}${name}
      COMMAND bash ${ST_CENTRAL_DIR}/${script} ${cmd} ${station} $<TARGET_FILE:esp32sim>
              ${ST_DEMO_PROFILE_DIR} ${ST_PG_STATE})
    list(APPEND names ${prefix}${name})
  endforeach()
  set(${out} ${names} PARENT_SCOPE)
endfunction()

st_central_script_tests(st_central_names central_ $<TARGET_FILE:station> "three_stations:three_stations.sh"
  "security:security.sh" "tls:tls.sh" "kill:faults.sh kill" "outage:faults.sh outage"
  "diskfull:faults.sh diskfull" "bench:bench.sh"
  "binview_dashboard:binview.sh dashboard" "binview_json:binview.sh json")
set_tests_properties(${st_central_names} PROPERTIES FIXTURES_REQUIRED central_pg RESOURCE_LOCK central_pg
  TIMEOUT 300 LABELS integration)

# The shipping thread under ThreadSanitizer and AddressSanitizer: the station of the
# sanitizer trees (engine_sanitize.cmake builds them) through three stations and the
# SIGKILL/restart case; a report makes the station exit 66, which fails the script.
foreach(san thread address)
  st_central_script_tests(st_central_names central_san_${san}_ ${CMAKE_BINARY_DIR}/san-${san}/station/station
    "three_stations:three_stations.sh" "kill:faults.sh kill" "binview_json:binview.sh json")
  set_tests_properties(${st_central_names} PROPERTIES
    FIXTURES_REQUIRED "central_pg;san_${san}" RESOURCE_LOCK central_pg TIMEOUT 300 LABELS sanitizer
    ENVIRONMENT "TSAN_OPTIONS=halt_on_error=0 exitcode=66 second_deadlock_stack=1;ASAN_OPTIONS=detect_leaks=1 exitcode=66")
endforeach()
