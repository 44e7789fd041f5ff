# Auditors at the command line (test_audit.c): `station audit` by the end of a MAC, by
# serial, in a time range with ISO-8601 offsets; reversed ranges refused by audit,
# export and stats; the station version, host and operator in audit and export; stats
# per unit; device strings with escape codes cleaned in every text output.
st_test_program(test_audit LIBS test_db_support stationdb PkgConfig::JANSSON m DEPENDS station)
st_case_tests(test_audit audit CASES select times who stats escapes ARGS $<TARGET_FILE:station>
  TIMEOUT 60 LABELS integration)
