/* layout.h - the line layout file: which physical place (the /dev/serial/by-path link
 * name, or a simulator slot) sits at which position of the fixture (A1..D8: row letter,
 * column number) and the label an operator reads there. INI, one section per position:
 *
 *     [A1]
 *     place = pci-0000:00:14.0-usb-0:1.1:1.0-port0   ; or /dev/serial/by-path/...
 *     label = A1                                      ; optional, default the position
 *
 * Read with libinih, as profiles are; a malformed file is refused with file:line. */
#ifndef ST_LAYOUT_H
#define ST_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

#define ST_LAYOUT_ROWS 4   /* A..D */
#define ST_LAYOUT_COLS 8   /* 1..8 */
#define ST_LAYOUT_MAX (ST_LAYOUT_ROWS * ST_LAYOUT_COLS)
#define ST_LAYOUT_LABEL 16 /* label buffer: 15 characters */

typedef struct st_layout_place {
    char place[64];              /* slot name: by-path link name or simulator slot */
    char label[ST_LAYOUT_LABEL]; /* what the screen, events and records call it */
    int row, col;                /* 0-based: A1 is 0,0 and D8 is 3,7 */
    int line;                    /* line of its section in the file (0: not from a file) */
} st_layout_place;

typedef struct st_layout {
    char path[512];              /* where it was read from ("" built in memory) */
    int n;
    st_layout_place p[ST_LAYOUT_MAX]; /* in file order */
    int rows, cols;              /* the grid's extent: 1 + the highest row / column used */
} st_layout;

/* Read and check a layout file into out. Refused (ST_E_ARG, class config, "file:line: what") on an
 * unreadable file, a section that is not a position A1..D8 or is given twice, an unknown
 * key, a position without its place, one place at two positions, a bad label, or a file
 * naming no position. */
int st_layout_load(const char *path, st_layout *out, st_err *err);
/* Write L to path (through a temporary file renamed over it: a reader never sees half). */
int st_layout_save(const st_layout *L, const char *path, st_err *err);

/* "A1".."D8" (case-insensitive) to a 0-based row and column; -1 when it is not one. */
int st_layout_parse_pos(const char *s, int *row, int *col);
/* The position's name ("C7") into out (>= 4 bytes). */
void st_layout_pos_name(int row, int col, char *out);

/* The entry for a place (a by-path link name; a path is reduced to its last component),
 * or NULL. */
const st_layout_place *st_layout_find(const st_layout *L, const char *place);
/* The entry at a position, or NULL. */
const st_layout_place *st_layout_at(const st_layout *L, int row, int col);
/* Add (or, when the position is taken, replace) an entry; recomputes the extent.
 * -1 when the position is out of range or the place is empty. */
int st_layout_set(st_layout *L, int row, int col, const char *place, const char *label);
/* Remove the entry for a place, if any. */
void st_layout_remove_place(st_layout *L, const char *place);

/* The layout file used when none is named: the first that exists of
 * $XDG_CONFIG_HOME/flashstation/layout.ini (else ~/.config/flashstation/layout.ini) and
 * /etc/flashstation/layout.ini. Returns 0 with the path in out, -1 when none exists. */
int st_layout_default_path(char *out, size_t cap);

#endif
