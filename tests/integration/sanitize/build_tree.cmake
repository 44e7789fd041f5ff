# build_tree.cmake - configure (first time) and build a sanitizer tree of the project with
# only the targets the engine tests need. Run as:
#   cmake -DSRC=<source> -DBIN=<tree> -DSAN=thread|address -DCC=<compiler> -P build_tree.cmake
foreach(v SRC BIN SAN CC)
  if(NOT DEFINED ${v})
    message(FATAL_ERROR "build_tree.cmake: -D${v}=... is required")
  endif()
endforeach()
if(NOT EXISTS ${BIN}/CMakeCache.txt)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${BIN} -DST_SANITIZE=${SAN}
            -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=${CC}
    RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuring the ${SAN} sanitizer tree in ${BIN} failed (${rc})")
  endif()
endif()
# -j2: the machine's two cores are shared.
execute_process(
  COMMAND ${CMAKE_COMMAND} --build ${BIN} -j2 --target station test_engine_parts test_engine_lib
  RESULT_VARIABLE rc)
if(rc)
  message(FATAL_ERROR "building the ${SAN} sanitizer tree in ${BIN} failed (${rc})")
endif()
