# esptooljs_paths.cmake - where the interop tests install the pinned esptool-js, for any CMake
# code that needs it (safe to include from any folder, in any order, more than once):
#   ST_ESPTOOLJS_VERSION     pinned release (must match package.json / package-lock.json here)
#   ST_ESPTOOLJS_PREFIX      npm prefix (holds package.json, package-lock.json, node_modules)
#   ST_ESPTOOLJS_DIR         installed package folder
#   ST_ESPTOOLJS_STUB_JSON   esptool-js's ESP32 flasher stub (esptool stub JSON format)
#   ST_ESPTOOLJS_FIXTURE     CTest fixture that installs it: FIXTURES_REQUIRED ${ST_ESPTOOLJS_FIXTURE}
#   ST_ESPTOOLJS070_VERSION / _DIR / _STUB_JSON   the second pinned release (npm alias
#                            esptool-js-0.7.0), which ships Espressif's esp-flasher-stub;
#                            installed by the same fixture
# The files exist only once the fixture's setup test (interop.esptooljs_install) has run.
set(ST_ESPTOOLJS_VERSION 0.5.7)
set(ST_ESPTOOLJS_PREFIX ${CMAKE_BINARY_DIR}/tests/interop)
set(ST_ESPTOOLJS_DIR ${ST_ESPTOOLJS_PREFIX}/node_modules/esptool-js)
set(ST_ESPTOOLJS_STUB_JSON ${ST_ESPTOOLJS_DIR}/lib/targets/stub_flasher/stub_flasher_32.json)
set(ST_ESPTOOLJS_FIXTURE esptooljs_installed)
set(ST_ESPTOOLJS070_VERSION 0.7.0)
set(ST_ESPTOOLJS070_DIR ${ST_ESPTOOLJS_PREFIX}/node_modules/esptool-js-0.7.0)
set(ST_ESPTOOLJS070_STUB_JSON ${ST_ESPTOOLJS070_DIR}/lib/targets/stub_flasher/esp32.json)
set(ST_ESPTOOLJS070_STUB_DIR ${ST_ESPTOOLJS070_DIR}/lib/targets/stub_flasher)
