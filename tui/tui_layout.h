/* tui_layout.h - pure geometry and text formatting for the dashboard (no curses), so
 * the layout rules can be unit-tested without a terminal. */
#ifndef ST_TUI_LAYOUT_H
#define ST_TUI_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

/* How much a slot cell shows, poorest to richest. */
typedef enum {
    TUI_CELL_LINE = 0, /* one line, no border: name, state, percent */
    TUI_CELL_SMALL,    /* two lines + spacing, no border: adds MAC / failure class */
    TUI_CELL_MEDIUM,   /* bordered, four lines: bar, MAC, rate/ETA or result */
    TUI_CELL_FULL,     /* bordered, seven lines: every field of the slot */
    TUI_CELL_LEVELS
} tui_cell_level;

/* Smallest cell (width, height in character cells) a level can be drawn in. */
int tui_cell_min_w(tui_cell_level l);
int tui_cell_h(tui_cell_level l);
#define TUI_CELL_MAX_W 60 /* cells are never stretched wider than this */

typedef struct tui_grid {
    int n;              /* slots laid out */
    int cols, rows;     /* rows = ceil(n / cols), cols = ceil(n / rows): no empty column */
    int cell_w, cell_h; /* one cell, in character cells */
    int visible_rows;   /* rows shown at once; < rows means the grid scrolls */
    tui_cell_level level;
} tui_grid;

/* Lay out n slots (1..64) in a w x h area: the richest level whose grid fits without
 * scrolling, with as few rows as the width allows and columns balanced across rows. When
 * not even one-line cells fit, one-line cells scroll (visible_rows < rows). Returns 0, or
 * -1 when n is out of range or the area cannot hold a single one-line cell. */
int tui_grid_layout(int n, int w, int h, tui_grid *out);

/* The same for a fixture's grid of n cells in exactly `cols` columns (a line layout
 * file): the richest level that fits; when even one-line cells of their minimum width do
 * not fit across, one-line cells as narrow as w / cols (at least TUI_CELL_TINY_W), and
 * the grid scrolls when its rows do not fit. -1 when n is out of range or cells would be
 * narrower than TUI_CELL_TINY_W. */
#define TUI_MAX_CELLS 128
#define TUI_CELL_TINY_W 6
int tui_grid_layout_fixed(int n, int cols, int w, int h, tui_grid *out);

struct st_line_view;
/* Where each slot of v goes in the grid. Without a layout (v->grid_cols 0, or fixture
 * false: the terminal cannot hold its columns) slot i is cell i. With one, a placed slot is at row * grid_cols + col, and the slots the layout
 * does not name follow in the rows below the fixture. cell_of[i] gets slot i's cell,
 * slot_at[c] the slot in cell c (-1: a hole, no position there). Returns the number of
 * cells (at most TUI_MAX_CELLS; slots beyond get cell -1). */
int tui_grid_cells(const struct st_line_view *v, bool fixture, int *cell_of, int *slot_at);

/* First grid row to show so that row `sel_row` stays visible, given the current top. */
int tui_grid_scroll(const tui_grid *g, int top, int sel_row);

/* The screen split into header, slot grid, bottom panels (retry bin | event log), footer. */
typedef struct tui_regions {
    int w, h;
    int header_y, header_h;
    int grid_y, grid_h;
    int panel_y, panel_h; /* panel_h 0: panels hidden (tiny terminal) */
    int bin_w;            /* retry-bin panel width; the event log takes the rest */
    int footer_y;
    int too_small;        /* 1: only a "terminal too small" notice fits */
} tui_regions;

#define TUI_MIN_W 30
#define TUI_MIN_H 8
void tui_regions_layout(int w, int h, tui_regions *r);
/* Give the rows the grid does not use (it uses grid_used_h of r->grid_h) to the bottom
 * panels, so a small line shows a longer event log and retry bin. */
void tui_regions_fit(tui_regions *r, int grid_used_h);

/* Formatting into caller buffers (always NUL-terminated, truncated to cap). */
void tui_fmt_rate(double bps, char *buf, size_t cap);   /* "412 KiB/s", "1.2 MiB/s", "-" */
void tui_fmt_dur(double s, char *buf, size_t cap);      /* "0:07", "12:05", "1:02:03", "-" */
void tui_fmt_chip(const char *chip, char *buf, size_t cap); /* "D0WD-V3 rev v3.0" */
/* Parse "status 01 07 00 00" out of a formatted error; returns the count of bytes (0..4). */
int tui_parse_status(const char *error, unsigned char out[4]);
/* in with every path (a token holding '/') longer than keep columns cut to its useful
 * end - the last component or two, "…/sim/slot4" - behind `ellipsis`. */
void tui_fmt_paths(const char *in, int keep, const char *ellipsis, char *out, size_t cap);
/* Number of display columns of a UTF-8 string (invalid bytes count as one). */
int tui_str_cols(const char *s);

#endif
