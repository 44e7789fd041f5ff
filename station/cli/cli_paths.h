/* cli_paths.h - where the station program finds its files when it runs from an install
 * (bin/station beside share/station) or from the build tree. */
#ifndef ST_CLI_PATHS_H
#define ST_CLI_PATHS_H

#include <stddef.h>

/* Folder of the running station executable into out; "" when unknown. */
void st_cli_exe_dir(char *out, size_t cap);

/* The ':'-separated profile search path: `given` when non-empty, else $STATION_PROFILES
 * when set, else /etc/flashstation/profiles, <exe>/../share/station/profiles, then the
 * build tree's folders. Returns out. */
const char *st_cli_profile_dirs(const char *given, char *out, size_t cap);

#endif
