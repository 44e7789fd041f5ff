/* who.h - who and what is recorded with an attempt: the operator named on the command
 * line, else the login name, never an empty string; and the station's version, the one
 * number project() carries (the Debian package takes it too). */
#ifndef ST_WHO_H
#define ST_WHO_H

#include <stddef.h>

/* given when non-empty, else the login name (getlogin_r, $LOGNAME, $USER, the passwd
 * entry of the effective uid), else "uid<N>"; into out. Returns out. */
const char *st_who_operator(const char *given, char *out, size_t cap);
/* The station software's version ("0.9.0"), as `station --version` prints it. */
const char *st_who_version(void);

#endif
