/* cli_paths.c - install-relative and build-tree locations of the station's files. */
#include "cli_paths.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef ST_DEFAULT_PROFILE_PATH
#define ST_DEFAULT_PROFILE_PATH "profiles"
#endif

void st_cli_exe_dir(char *out, size_t cap)
{
    char p[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", p, sizeof p - 1);
    out[0] = '\0';
    if (n <= 0)
        return;
    p[n] = '\0';
    char *slash = strrchr(p, '/');
    if (slash) {
        *slash = '\0';
        snprintf(out, cap, "%s", p);
    }
}

const char *st_cli_profile_dirs(const char *given, char *out, size_t cap)
{
    const char *env = getenv("STATION_PROFILES");
    if (given && *given)
        snprintf(out, cap, "%s", given);
    else if (env && *env)
        snprintf(out, cap, "%s", env);
    else {
        char exe[PATH_MAX];
        st_cli_exe_dir(exe, sizeof exe);
        snprintf(out, cap, "/etc/flashstation/profiles:%s/../share/station/profiles:%s", exe,
                 ST_DEFAULT_PROFILE_PATH);
    }
    return out;
}
