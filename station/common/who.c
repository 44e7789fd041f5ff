/* who.c - the operator and the station version recorded with every attempt (who.h). */
#include "who.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char *nonempty(const char *s)
{
    return s && *s ? s : NULL;
}

const char *st_who_operator(const char *given, char *out, size_t cap)
{
    char login[256];
    const char *name = nonempty(given);
    if (!name && getlogin_r(login, sizeof login) == 0)
        name = nonempty(login);
    if (!name)
        name = nonempty(getenv("LOGNAME"));
    if (!name)
        name = nonempty(getenv("USER"));
    if (!name) {
        struct passwd *pw = getpwuid(geteuid());
        name = pw ? nonempty(pw->pw_name) : NULL;
    }
    if (name)
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "uid%u", (unsigned)geteuid());
    return out;
}

const char *st_who_version(void)
{
    return ST_VERSION;
}
