/* cli_paths.h - where the station program finds its files. The binary carries no
 * build-tree path: an installed station looks only relative to its own folder
 * (<exe>/../share/station, <exe>/../libexec/station) and at /etc/flashstation. A station
 * run from its build tree finds the build-tree folders in the file BUILD_PATHS_FILE beside
 * the executable, which CMake writes into the build tree and installation never carries. */
#ifndef ST_CLI_PATHS_H
#define ST_CLI_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define ST_BUILD_PATHS_FILE "station-build-tree.ini"
#define ST_SITE_PROFILE_DIR "/etc/flashstation/profiles"

/* Folder of the running station executable into out; "" when unknown. */
void st_cli_exe_dir(char *out, size_t cap);

/* The build-tree location named key ("sim", "scenario", "demo_profiles", "profiles")
 * from <exe>/ST_BUILD_PATHS_FILE into out; false (out "") when the station does not run
 * from a build tree or the key is absent. */
bool st_cli_build_path(const char *key, char *out, size_t cap);

/* The ':'-separated profile search path: `given` when non-empty, else $STATION_PROFILES
 * when set, else ST_SITE_PROFILE_DIR, <exe>/../share/station/profiles, then (build tree
 * only) the build tree's folders. Returns out. */
const char *st_cli_profile_dirs(const char *given, char *out, size_t cap);

#endif
