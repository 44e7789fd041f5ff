/* profile.h - firmware profiles: an INI text file (format in profiles/README.md)
 * naming the chip, flash parameters, baud ladder, optional stub and the images. */
#ifndef ST_PROFILE_H
#define ST_PROFILE_H

#include <regex.h>
#include <stdbool.h>
#include <stdint.h>

#include "err.h"
#include "stub.h"
#include "provision.h"

#define ST_MAX_IMAGES 16
#define ST_MAX_BAUDS 8
#define ST_PATH_MAX 512

/* reflash = changed | all: how much of a region is written to a unit. */
typedef enum st_reflash {
    ST_REFLASH_DEFAULT = 0, /* key absent: the caller's default (repair bench and retries:
                             * changed; the line's first try: all) */
    ST_REFLASH_CHANGED,     /* ask the unit first (MD5), write only the 64 KiB blocks that differ */
    ST_REFLASH_ALL,         /* write every block (0xFF sectors are still only erased) */
} st_reflash;

/* "default" / "changed" / "all". */
const char *st_reflash_name(st_reflash r);

typedef struct st_profile_image {
    uint32_t offset;
    char path[ST_PATH_MAX];  /* resolved relative to the profile file's folder */
    uint8_t sha256[32];      /* expected digest of the file */
    int line;                /* line of the profile that declared it */
} st_profile_image;

#define ST_BOOT_MAX_CAPTURE 4

/* [boot_check]: after the reset the station listens on the app's console and passes the
 * unit only when `expect` matches a line within timeout_ms. */
typedef struct st_boot_check {
    bool enabled;
    int baud;                        /* the app's console rate (default 115200) */
    char expect[192];                /* POSIX ERE, with \d \s \w accepted as shorthands */
    int timeout_ms;                  /* default 10000 */
    char capture[ST_BOOT_MAX_CAPTURE][32]; /* names of groups 1..n, recorded */
    int n_capture;
    int line;                        /* line of [boot_check] */
} st_boot_check;

typedef struct st_profile {
    char name[64];
    char description[128];
    char chip[16];           /* "esp32" */
    char flash_mode[8];      /* qio, qout, dio, dout, keep */
    char flash_freq[8];      /* 80m, 40m, 26m, 20m, keep */
    uint32_t flash_size;     /* bytes */
    int bauds[ST_MAX_BAUDS]; /* bauds[0] is the target; the rest the fall-back ladder */
    int n_bauds;
    char stub_path[ST_PATH_MAX]; /* "" = flash through the ROM loader */
    st_reflash reflash;      /* key reflash; ST_REFLASH_DEFAULT when absent */
    st_stub_kind stub_kind;  /* stub_kind = legacy | esp-flasher-stub (default legacy) */
    st_profile_image images[ST_MAX_IMAGES];
    int n_images;
    st_provision prov;       /* [provision]: per-unit NVS partition (prov.enabled) */
    st_boot_check boot;      /* [boot_check] (boot.enabled) */
    char path[ST_PATH_MAX];  /* the profile file itself */
} st_profile;

/* Parse and validate a profile file completely (keys, images exist and match their
 * SHA-256, regions aligned/non-overlapping/inside flash, chip known) before any unit is
 * touched. Errors name the file and line and say what to do. */
int st_profile_load(const char *path, st_profile *out, st_err *err);

/* Compile a [boot_check] expect pattern (POSIX extended; \d \s \w outside brackets are
 * rewritten to [0-9] [[:space:]] [[:alnum:]_]). 0, or -1 with why. regfree() it. */
int st_boot_regcomp(const char *expect, regex_t *re, char *why, size_t cap);

/* Resolve NAME to a profile path: an existing path is used as is; otherwise
 * "<dir>/NAME.ini" for each dir of the ':'-separated search path. */
int st_profile_resolve(const char *name, const char *search_path, char *out, int cap, st_err *err);
/* Find profile NAME on the search path only: NAME must be a plain name (no '/', not
 * starting with '.'), found as "<dir>/NAME.ini" in one of the ':'-separated folders; a
 * path, or a file elsewhere, is refused. For choices an operator makes at the line. */
int st_profile_find(const char *name, const char *search_path, char *out, int cap, st_err *err);

#endif
