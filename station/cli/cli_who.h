/* cli_who.h - who is recorded with an attempt: the operator named on the command line,
 * else the login name, never an empty string. */
#ifndef ST_CLI_WHO_H
#define ST_CLI_WHO_H

#include <stddef.h>

/* given when non-empty, else the login name (getlogin_r, $LOGNAME, $USER, the passwd
 * entry of the effective uid), else "uid<N>"; into out. Returns out. */
const char *st_cli_operator(const char *given, char *out, size_t cap);

#endif
