/* tui_priv.h - the dashboard's internal state, shared by its panel files. Only the UI
 * thread touches any of it. */
#ifndef ST_TUI_PRIV_H
#define ST_TUI_PRIV_H

#include <curses.h>
#include <stdbool.h>

#include "line_view.h"
#include "tui.h"
#include "tui_layout.h"

/* Visual roles; tui_theme maps each to colour + attributes, or attributes alone. */
typedef enum {
    TR_NORMAL = 0,
    TR_TITLE,    /* header title bar */
    TR_LABEL,    /* field labels, dim text */
    TR_VALUE,    /* important numbers */
    TR_PASS,     /* final PASS */
    TR_FAIL,     /* final FAIL */
    TR_RETRY,    /* between tries */
    TR_BUSY,     /* flashing */
    TR_PAUSED,
    TR_EMPTY,
    TR_BAR_DONE,
    TR_BAR_TODO,
    TR_SELECT,   /* the selected cell's border/name */
    TR_WARN,     /* messages, LOCKED/PAUSED flags */
    TR_PASS_TXT, /* PASS words in running text (log) */
    TR_FAIL_TXT, /* FAIL words in running text (log, bin) */
    TR_COUNT
} tui_role;

/* Glyphs: UTF-8 where the locale's codeset is UTF-8, plain ASCII otherwise. */
typedef struct tui_glyphs {
    const char *h, *v, *tl, *tr, *bl, *br;         /* normal border */
    const char *hh, *hv, *htl, *htr, *hbl, *hbr;   /* heavy border: a unit needing hands */
    const char *bar_full, *bar_empty;
    const char *const *bar_part;                   /* 8 partial cells (UTF-8 only), else NULL */
    const char *pass, *fail, *retry, *pause, *empty, *busy, *sel;
    const char *const *spin;                       /* spinner frames */
    int nspin;
    const char *more_up, *more_down;
    const char *sep;                               /* header field separator */
} tui_glyphs;

typedef struct tui_theme {
    bool color;            /* colours in use (terminal has them and NO_COLOR unset) */
    bool utf8;
    attr_t attr[TR_COUNT]; /* includes COLOR_PAIR when color */
    tui_glyphs g;
} tui_theme;

typedef enum {
    TM_GRID = 0, /* the dashboard */
    TM_DETAIL,   /* one slot, whole error and history */
    TM_HELP,
    TM_CONFIRM_QUIT,
    TM_PROFILE,  /* profile picker */
    TM_SUMMARY,  /* the closing summary (cfg->finish_after units finished) */
} tui_mode;

#define TUI_HIST_CAP 16384
#define TUI_PROF_CAP 4096

typedef struct tui {
    const st_tui_config *cfg;
    st_line_view *view; /* this frame's snapshot (heap: ~100 KiB) */
    tui_theme th;
    tui_mode mode;
    tui_regions reg;
    tui_grid grid;
    bool grid_ok;
    int ncells;         /* cells of the grid (tui_grid_cells): slots, or fixture positions */
    int cell_of[ST_MAX_SLOTS];  /* slot -> cell, -1 none */
    int slot_at[TUI_MAX_CELLS]; /* cell -> slot, -1 a hole */
    int sel;            /* selected slot index */
    int grid_top;       /* first visible grid row */
    double now;         /* monotonic seconds */
    unsigned long frame;
    char msg[256];      /* operator message in the footer */
    bool msg_bad;
    double msg_until;
    bool quit_when_idle;/* 'w' at the quit prompt: paused, leave when nothing is in flight */
    bool done;
    bool summary_dismissed; /* the operator closed the closing summary */
    /* detail view */
    int detail_slot;
    int detail_scroll;
    char hist_mac[18];
    char *hist;         /* TUI_HIST_CAP bytes: history text of hist_mac */
    bool hist_ok;
    /* profile picker */
    char *profiles;     /* TUI_PROF_CAP bytes: '\n'-separated names */
    int nprofiles;
    int prof_sel;
    char typed[256];    /* what the operator typed (a name or path); "" = the list's choice */
} tui;

/* tui_theme.c */
void tui_theme_init(tui_theme *th, bool want_color, bool utf8);
bool tui_locale_utf8(void);          /* setlocale(LC_ALL, "") then codeset check */
bool tui_no_color_env(void);         /* NO_COLOR set and non-empty */

/* tui_draw.c: low-level helpers (all clip to the given width in display columns) */
/* Put s at (y,x), at most w columns; returns the columns written. */
int tui_put(int y, int x, int w, attr_t a, const char *s);
int tui_putf(int y, int x, int w, attr_t a, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
void tui_fill(int y, int x, int w, attr_t a);
/* Box with corners at (y,x) size h x w; heavy for units that need hands. */
void tui_box(const tui_theme *th, int y, int x, int h, int w, bool heavy, attr_t a);
/* Progress bar w columns wide for frac 0..1. */
void tui_bar(const tui_theme *th, int y, int x, int w, double frac);
/* Window-sized overlay box with a title; returns the inner area. */
void tui_overlay(const tui_theme *th, int h, int w, const char *title, int *iy, int *ix,
                 int *ih, int *iw);
/* Word-wrap s into lines of at most w columns; calls emit for each; returns the count. */
int tui_wrap(const char *s, int w, void (*emit)(void *ctx, const char *line, int len), void *ctx);

/* the panels */
void tui_draw_header(tui *t);
void tui_draw_slots(tui *t);
void tui_draw_bin(tui *t);
void tui_draw_log(tui *t);
void tui_draw_footer(tui *t);
void tui_draw_detail(tui *t);
void tui_draw_help(tui *t);
void tui_draw_confirm(tui *t);
void tui_draw_profile(tui *t);
/* tui_help.c: the closing summary, once cfg->finish_after units finished and none is in
 * flight (until the operator closes it). */
bool tui_summary_due(const tui *t);
void tui_draw_summary(tui *t);
/* The profile the picker points at: the typed text when there is some, else the list's
 * selected name. *typed says which. */
void tui_profile_name(const tui *t, char *buf, size_t cap, bool *typed);
/* name is one of the listed profiles. */
bool tui_profile_listed(const tui *t, const char *name);

/* tui_slots.c: state word and role of a slot */
const char *tui_slot_word(const st_slot_view *s);
tui_role tui_slot_role(const st_slot_view *s);

/* tui_keys.c */
void tui_handle_key(tui *t, int key);
void tui_message(tui *t, bool bad, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Fetch the history of the detail slot's MAC through the engine's callback. */
void tui_detail_load(tui *t);

#endif
