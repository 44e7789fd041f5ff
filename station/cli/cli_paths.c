/* cli_paths.c - install-relative locations of the station's files, and the build tree's
 * through the file CMake leaves beside the build-tree executable (cli_paths.h). */
#include "cli_paths.h"

#include <ini.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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

typedef struct {
    const char *key;
    char *out;
    size_t cap;
    bool found;
} lookup;

static int on_kv(void *user, const char *section, const char *name, const char *value)
{
    lookup *l = user;
    if (!strcmp(section, "build-tree") && !strcmp(name, l->key)) {
        snprintf(l->out, l->cap, "%s", value);
        l->found = true;
    }
    return 1;
}

bool st_cli_build_path(const char *key, char *out, size_t cap)
{
    char exe[PATH_MAX], file[PATH_MAX + 64];
    out[0] = '\0';
    st_cli_exe_dir(exe, sizeof exe);
    if (!*exe)
        return false;
    snprintf(file, sizeof file, "%s/%s", exe, ST_BUILD_PATHS_FILE);
    if (access(file, R_OK) != 0)
        return false;
    lookup l = {key, out, cap, false};
    if (ini_parse(file, on_kv, &l) != 0 || !l.found) {
        out[0] = '\0';
        return false;
    }
    return *out != '\0';
}

const char *st_cli_profile_dirs(const char *given, char *out, size_t cap)
{
    const char *env = getenv("STATION_PROFILES");
    if (given && *given)
        snprintf(out, cap, "%s", given);
    else if (env && *env)
        snprintf(out, cap, "%s", env);
    else {
        char exe[PATH_MAX], built[PATH_MAX * 2];
        st_cli_exe_dir(exe, sizeof exe);
        bool in_build = st_cli_build_path("profiles", built, sizeof built);
        snprintf(out, cap, ST_SITE_PROFILE_DIR ":%s/../share/station/profiles%s%s", exe,
                 in_build ? ":" : "", in_build ? built : "");
    }
    return out;
}
