/* layout_learn.h - `station layout learn` without the terminal: the positions to walk, and
 * what plugging a unit in while a position is asked for does to the layout being written.
 * Plain data, no I/O; the command (station/cli/cli_layout.c) feeds it the places the
 * line's discovery reports.
 *
 * Rules: each walked position gets the place learned for it, its label kept (from the
 * file the walk started from, else the position's name). A place already given to
 * another position in this walk, or belonging to a position of the old file that is not
 * walked or was already skipped, is refused; the old place of a position still to come
 * may be taken (that position then needs one of its own). Skipping a position keeps the
 * place the old file had there, unless the walk gave that place to another position
 * (then the position is left out). */
#ifndef ST_LAYOUT_LEARN_H
#define ST_LAYOUT_LEARN_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "layout.h"

typedef struct st_learn_pos {
    int row, col;
} st_learn_pos;

typedef struct st_learn {
    st_layout L;                       /* the layout as it will be written */
    st_learn_pos walk[ST_LAYOUT_MAX];  /* positions in the order they are asked for */
    int n_walk, cur;                   /* cur: index in walk of the position asked now */
    bool walked[ST_LAYOUT_ROWS][ST_LAYOUT_COLS];
    bool learned[ST_LAYOUT_ROWS][ST_LAYOUT_COLS]; /* given a place in this walk */
    char label[ST_LAYOUT_ROWS][ST_LAYOUT_COLS][ST_LAYOUT_LABEL]; /* kept from the old file */
    char stolen[ST_LAYOUT_ROWS][ST_LAYOUT_COLS][4]; /* whose place went to another position */
    int n_learned;
} st_learn;

/* Positions from a row range and a column range: rows "A..D" (or "A-D", or one row "B"),
 * cols "1..8" (or "1-8", or "3"); row by row. -1 (ST_E_ARG, naming the bad text) when a
 * range is not one. */
int st_learn_grid(const char *rows, const char *cols, st_learn_pos *out, int *n, st_err *err);
/* Positions from a list "A1,A2,B1" (spaces allowed), in that order; -1 on a bad or
 * repeated position. */
int st_learn_list(const char *list, st_learn_pos *out, int *n, st_err *err);
/* The positions of a layout, in position order (row by row). */
int st_learn_of_layout(const st_layout *L, st_learn_pos *out);

/* Start a walk over pos[0..n) (n >= 1) from old (NULL: none; its entries are kept, its
 * labels used). */
void st_learn_start(st_learn *l, const st_layout *old, const st_learn_pos *pos, int n);
/* True when every position has been asked for (or the walk was finished early). */
bool st_learn_done(const st_learn *l);
/* The position asked for now ("A1"), into out (>= 4 bytes). */
void st_learn_current(const st_learn *l, char *out);
/* The label the current position will have. */
const char *st_learn_current_label(const st_learn *l);

/* A unit appeared at place (a by-path link name or a path ending in one) while the current
 * position was asked for: 0 when it is now that position's place (the walk moves on); -1
 * when it is refused because another position has it (its name into taken, >= 4 bytes). */
int st_learn_assign(st_learn *l, const char *place, char *taken);
/* Enter: skip the current position (the walk moves on). note (may be NULL) says what it
 * keeps: "keeps slot3 from the file", "left out", ... */
void st_learn_skip(st_learn *l, char *note, size_t cap);
/* q: end the walk here; the positions not asked for keep what the old file had. */
void st_learn_finish(st_learn *l);

#endif
