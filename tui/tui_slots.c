/* tui_slots.c - the slot grid: lays the slots out for the terminal and draws each cell at
 * the richest level that fits (see tui_layout.h). A unit that needs hands stands out by
 * words and glyphs (PASS/FAIL), reverse video, and for FAIL a heavy border. */
#include "tui_priv.h"

#include <stdio.h>
#include <string.h>

static const char *phase_word(st_phase p)
{
    switch (p) {
    case ST_PH_OPEN: return "OPEN";
    case ST_PH_CONNECT: return "CONNECT";
    case ST_PH_SYNC: return "SYNC";
    case ST_PH_DETECT: return "DETECT";
    case ST_PH_STUB: return "STUB";
    case ST_PH_BAUD: return "BAUD";
    case ST_PH_ATTACH: return "ATTACH";
    case ST_PH_WRITE: return "WRITE";
    case ST_PH_VERIFY: return "VERIFY";
    case ST_PH_RESET: return "RESET";
    case ST_PH_BOOT: return "BOOT";
    case ST_PH_DONE: return "DONE";
    default: return "START";
    }
}

const char *tui_slot_word(const st_slot_view *s)
{
    switch (s->state) {
    case ST_SLOT_EMPTY: return "EMPTY";
    case ST_SLOT_BUSY: return phase_word(s->phase);
    case ST_SLOT_RETRYING: return "RETRY";
    case ST_SLOT_PASS: return "PASS";
    case ST_SLOT_FAIL: return "FAIL";
    case ST_SLOT_PAUSED: return "PAUSED";
    case ST_SLOT_UNRECORDED: return "PASS — NOT RECORDED";
    }
    return "?";
}

tui_role tui_slot_role(const st_slot_view *s)
{
    switch (s->state) {
    case ST_SLOT_EMPTY: return TR_EMPTY;
    case ST_SLOT_BUSY: return TR_BUSY;
    case ST_SLOT_RETRYING: return TR_RETRY;
    case ST_SLOT_PASS: return TR_PASS;
    case ST_SLOT_FAIL: return TR_FAIL;
    case ST_SLOT_PAUSED: return TR_PAUSED;
    case ST_SLOT_UNRECORDED: return TR_FAIL; /* the alarm colour: this is not a PASS */
    }
    return TR_NORMAL;
}

/* What every level draws from, computed once per cell. */
typedef struct cell {
    const st_slot_view *s;
    const tui_theme *th;
    bool sel;
    double frac;      /* progress 0..1, <0 when unknown */
    char pct[8];      /* "57%" or "" */
    char rate[24], eta[24], chip[64];
    const char *word;
    attr_t ra;        /* the state's attribute */
    const char *glyph;/* state glyph */
    unsigned long frame; /* animates the spinner: the dashboard is alive */
} cell;

static void cell_prep(cell *c, const tui *t, const st_slot_view *s, bool sel)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->th = &t->th;
    c->sel = sel;
    c->frame = t->frame;
    c->word = tui_slot_word(s);
    c->ra = t->th.attr[tui_slot_role(s)];
    const tui_glyphs *g = &t->th.g;
    switch (s->state) {
    case ST_SLOT_PASS: c->glyph = g->pass; break;
    case ST_SLOT_FAIL:
    case ST_SLOT_UNRECORDED: c->glyph = g->fail; break;
    case ST_SLOT_RETRYING: c->glyph = g->retry; break;
    case ST_SLOT_PAUSED: c->glyph = g->pause; break;
    case ST_SLOT_EMPTY: c->glyph = g->empty; break;
    case ST_SLOT_BUSY: c->glyph = g->busy; break;
    }
    c->frac = -1;
    if (s->state == ST_SLOT_PASS)
        c->frac = 1;
    else if (s->total > 0 && s->state != ST_SLOT_EMPTY)
        c->frac = (double)s->done / (double)s->total;
    if (c->frac > 1)
        c->frac = 1;
    if (c->frac >= 0)
        snprintf(c->pct, sizeof c->pct, "%3d%%", (int)(c->frac * 100.0 + 1e-9));
    tui_fmt_rate(s->rate_bps, c->rate, sizeof c->rate);
    tui_fmt_dur(s->eta_s, c->eta, sizeof c->eta);
    tui_fmt_chip(s->chip, c->chip, sizeof c->chip);
}

static bool finished(const st_slot_view *s)
{
    return s->state == ST_SLOT_PASS || s->state == ST_SLOT_FAIL || s->state == ST_SLOT_UNRECORDED;
}

/* The result block: the line an operator reads from a metre away. */
static void result_line(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    const tui_theme *th = c->th;
    char buf[160];
    switch (s->state) {
    case ST_SLOT_PASS:
        tui_fill(y, x, w, c->ra);
        snprintf(buf, sizeof buf, " %s PASS %s", c->glyph, c->glyph);
        tui_put(y, x, w, c->ra, buf);
        break;
    case ST_SLOT_FAIL:
        tui_fill(y, x, w, c->ra);
        snprintf(buf, sizeof buf, " %s FAIL %s", c->glyph, st_fclass_name(s->fclass));
        tui_put(y, x, w, c->ra, buf);
        break;
    case ST_SLOT_UNRECORDED:
        tui_fill(y, x, w, c->ra);
        snprintf(buf, sizeof buf, " %s PASS — NOT RECORDED %s", c->glyph, c->glyph);
        tui_put(y, x, w, c->ra, buf);
        break;
    case ST_SLOT_RETRYING:
        snprintf(buf, sizeof buf, " %s RETRY %d: %s", c->glyph, s->attempt + 1,
                 st_fclass_name(s->fclass));
        tui_put(y, x, w, c->ra, buf);
        break;
    case ST_SLOT_BUSY:
        snprintf(buf, sizeof buf, "%s flashing", th->g.spin[c->frame % (unsigned long)th->g.nspin]);
        tui_put(y, x, w, th->attr[TR_BUSY], buf);
        break;
    case ST_SLOT_PAUSED:
        snprintf(buf, sizeof buf, "%s paused: unit waits", c->glyph);
        tui_put(y, x, w, c->ra, buf);
        break;
    case ST_SLOT_EMPTY:
        snprintf(buf, sizeof buf, "%s plug in a unit", c->glyph);
        tui_put(y, x, w, c->ra, buf);
        break;
    }
}

/* What the cell is called: its layout label (the fixture's), else the slot name. */
static const char *cell_name(const st_slot_view *s)
{
    return s->label[0] ? s->label : s->name;
}

/* Columns of the name field in one-line and small cells: 8 for slot names, the label's
 * width for a fixture (labels are short; fixture cells can be narrow). */
static int name_cols(const cell *c, int dflt)
{
    return c->s->label[0] ? tui_str_cols(c->s->label) + 2 : dflt; /* marker, label, space */
}

/* Name (with the selection marker) at the start of a line; returns columns used. */
static int name_at(const cell *c, int y, int x, int w)
{
    const tui_theme *th = c->th;
    char buf[80];
    snprintf(buf, sizeof buf, "%s%s", c->sel ? th->g.sel : " ", cell_name(c->s));
    return tui_put(y, x, w, c->sel ? th->attr[TR_SELECT] : th->attr[TR_VALUE], buf);
}

static void bar_line(const cell *c, int y, int x, int w)
{
    if (c->frac < 0) {
        tui_put(y, x, w, c->th->attr[TR_EMPTY], c->s->state == ST_SLOT_EMPTY ? "" : "-");
        return;
    }
    int bw = w - 5;
    if (bw > 0)
        tui_bar(c->th, y, x, bw, c->frac);
    tui_put(y, x + (bw > 0 ? bw : 0), w - (bw > 0 ? bw : 0), c->th->attr[TR_VALUE], " ");
    tui_put(y, x + (bw > 0 ? bw + 1 : 0), 4, c->th->attr[TR_VALUE], c->pct);
}

static void right(int y, int x, int w, attr_t a, const char *s)
{
    int n = tui_str_cols(s);
    if (n <= w)
        tui_put(y, x + w - n, n, a, s);
}

/* The cell's box, with its title in the top border: name left, bridge chip right. */
static void frame(const cell *c, int y, int x, int w, int h)
{
    const tui_theme *th = c->th;
    tui_box(th, y, x, h, w, c->s->state == ST_SLOT_FAIL, c->sel ? th->attr[TR_VALUE] : A_NORMAL);
    int iw = w - 2;
    int used = name_at(c, y, x + 1, iw - 1);
    tui_put(y, x + 1 + used, 1, A_NORMAL, " ");
    if (c->s->bridge[0]) {
        char buf[80];
        snprintf(buf, sizeof buf, " %s ", c->s->bridge);
        if (tui_str_cols(buf) + used + 2 < iw)
            right(y, x + 1, iw - 1, th->attr[TR_LABEL], buf);
    }
}

/* The state word in its colour, then what comes next for the unit (unplug it, it goes to
 * the retry bin, or the try it is on). */
static void state_line(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    const tui_theme *th = c->th;
    char buf[64];
    snprintf(buf, sizeof buf, " %s ", c->word);
    int u = tui_put(y, x, w, c->ra, buf);
    if (s->state == ST_SLOT_PASS)
        tui_put(y, x + u, w - u, th->attr[TR_VALUE], " unplug");
    else if (s->state == ST_SLOT_FAIL)
        tui_put(y, x + u, w - u, th->attr[TR_VALUE], " to retry bin");
    else if (s->attempt > 0 && s->state != ST_SLOT_EMPTY)
        tui_putf(y, x + u, w - u, th->attr[TR_LABEL], " try %d", s->attempt);
}

/* "MAC " and the unit's MAC ("-" before it is known). */
static void mac_line(const cell *c, int y, int x, int w)
{
    int u = tui_put(y, x, w, c->th->attr[TR_LABEL], "MAC ");
    tui_put(y, x + u, w - u, c->th->attr[TR_VALUE], c->s->mac[0] ? c->s->mac : "-");
}

/* Throughput left, time left right. */
static void rate_line(const cell *c, int y, int x, int w)
{
    attr_t va = c->th->attr[TR_VALUE];
    char buf[40];
    tui_put(y, x, w, va, c->rate);
    snprintf(buf, sizeof buf, "ETA %s", c->eta);
    right(y, x, w, va, buf);
}

static bool in_flight(const st_slot_view *s)
{
    return s->state == ST_SLOT_BUSY || s->state == ST_SLOT_RETRYING;
}

/* The inside (x, w) of a full cell, from its top border at y. */
static void draw_full(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    attr_t la = c->th->attr[TR_LABEL];
    char buf[40];
    /* 1: state, try, elapsed */
    state_line(c, y + 1, x, w);
    if (s->state != ST_SLOT_EMPTY) {
        tui_fmt_dur(s->elapsed_s, buf, sizeof buf);
        right(y + 1, x, w, la, buf);
    }
    /* 2: bar */
    bar_line(c, y + 2, x, w);
    /* 3: throughput and time left, or where it failed */
    if (in_flight(s))
        rate_line(c, y + 3, x, w);
    else if (s->state == ST_SLOT_FAIL && !strncmp(s->boot, "no_boot", 7))
        tui_put(y + 3, x, w, la, s->boot); /* "no_boot (brownout)" */
    else if (s->state == ST_SLOT_FAIL)
        tui_putf(y + 3, x, w, la, "failed in %s", st_phase_name(s->phase));
    else if (s->state == ST_SLOT_PASS && !strncmp(s->boot, "pass ", 5))
        tui_putf(y + 3, x, w, la, "booted %s", s->boot + 5); /* the captured version */
    else if (s->state == ST_SLOT_PASS && s->rate_bps > 0)
        tui_putf(y + 3, x, w, la, "avg %s", c->rate);
    /* 4: MAC (of an empty slot: the unit that left, dimmed, so it is not taken for one
     * still plugged in) */
    if (s->state == ST_SLOT_EMPTY) {
        if (s->mac[0])
            tui_putf(y + 4, x, w, c->th->attr[TR_EMPTY], "last %s", s->mac);
    } else {
        mac_line(c, y + 4, x, w);
        /* 5: chip package and revision */
        int u = tui_put(y + 5, x, w, la, "chip ");
        tui_put(y + 5, x + u, w - u, A_NORMAL,
                s->chip[0] ? (tui_str_cols(s->chip) <= w - u ? s->chip : c->chip) : "-");
    }
    /* 6: baud, units done here */
    if (s->baud > 0 && s->state != ST_SLOT_EMPTY)
        tui_putf(y + 6, x, w, la, "baud %d", s->baud);
    snprintf(buf, sizeof buf, "units %llu", (unsigned long long)s->units_done);
    right(y + 6, x, w, la, buf);
    /* 7: result */
    result_line(c, y + 7, x, w);
}

/* The inside (x, w) of a medium cell, from its top border at y. */
static void draw_medium(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    const tui_theme *th = c->th;
    /* 1: result block when finished, else state + try */
    if (finished(s)) {
        result_line(c, y + 1, x, w);
    } else {
        state_line(c, y + 1, x, w);
        if (s->state == ST_SLOT_BUSY)
            right(y + 1, x, w, th->attr[TR_BUSY], c->glyph);
    }
    bar_line(c, y + 2, x, w);
    if (s->state != ST_SLOT_EMPTY)
        mac_line(c, y + 3, x, w);
    if (in_flight(s))
        rate_line(c, y + 4, x, w);
    else if (s->state == ST_SLOT_FAIL)
        tui_put(y + 4, x, w, th->attr[TR_FAIL_TXT], st_fclass_name(s->fclass));
    else if (s->state == ST_SLOT_EMPTY)
        tui_put(y + 4, x, w, th->attr[TR_EMPTY], "plug in a unit");
    else
        tui_put(y + 4, x, w, A_NORMAL, c->chip);
}

/* One-line summary after the name: result block, or state + percent. */
static void summary(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    char buf[160];
    if (finished(s)) {
        snprintf(buf, sizeof buf, "%s %s", c->glyph, c->word);
        tui_fill(y, x, w, c->ra);
        tui_put(y, x, w, c->ra, buf);
        return;
    }
    snprintf(buf, sizeof buf, "%s %s", c->glyph, c->word);
    int u = tui_put(y, x, w, c->ra, buf);
    if (c->pct[0] && w - u >= 4)
        right(y, x, w, c->th->attr[TR_VALUE], c->pct);
}

static void draw_small(const cell *c, int y, int x, int w)
{
    const st_slot_view *s = c->s;
    int cw = w - 1; /* one column between neighbours */
    int nw = name_cols(c, 9);
    int used = name_at(c, y, x, cw < nw ? cw : nw);
    if (used < nw)
        used = nw;
    summary(c, y, x + used + 1, cw - used - 1);
    if (s->state == ST_SLOT_FAIL || s->state == ST_SLOT_RETRYING) {
        /* The class first: it says what to do; the MAC is in the bin panel and details. */
        int u = tui_put(y + 1, x + 1, cw - 1, c->th->attr[TR_FAIL_TXT], st_fclass_name(s->fclass));
        if (s->mac[0] && cw - 1 - u >= 18)
            tui_put(y + 1, x + 2 + u, cw - 2 - u, c->th->attr[TR_VALUE], s->mac);
        return;
    }
    if (s->state == ST_SLOT_EMPTY)
        return;
    int u = tui_put(y + 1, x + 1, cw - 1, c->th->attr[TR_VALUE], s->mac[0] ? s->mac : "-");
    u += 2;
    if (s->state == ST_SLOT_BUSY && c->frac >= 0 && cw - 1 - u >= 4)
        tui_bar(c->th, y + 1, x + 1 + u, cw - 1 - u, c->frac);
}

static void draw_line(const cell *c, int y, int x, int w)
{
    int cw = w - 1;
    int nw = name_cols(c, 8);
    int used = name_at(c, y, x, cw < nw ? cw : nw);
    if (used < nw)
        used = nw;
    summary(c, y, x + used, cw - used);
}

void tui_draw_slots(tui *t)
{
    const st_line_view *v = t->view;
    const tui_regions *r = &t->reg;
    int n = v->nslots;
    if (n > ST_MAX_SLOTS)
        n = ST_MAX_SLOTS;
    if (n < 1) {
        tui_put(r->grid_y + 1, 2, r->w - 4, t->th.attr[TR_LABEL],
                "No slots yet: waiting for ports to appear...");
        return;
    }
    if (!t->grid_ok) /* laid out by the frame (tui_main.c) */
        return;
    const tui_grid *g = &t->grid;
    if (t->sel >= n)
        t->sel = n - 1;
    int sel_cell = t->sel < ST_MAX_SLOTS && t->cell_of[t->sel] >= 0 ? t->cell_of[t->sel] : 0;
    t->grid_top = tui_grid_scroll(g, t->grid_top, sel_cell / g->cols);
    for (int k = 0; k < t->ncells && k < TUI_MAX_CELLS; k++) {
        int i = t->slot_at[k];
        if (i < 0 || i >= n)
            continue; /* a hole in the fixture: nothing there */
        int row = k / g->cols, col = k % g->cols;
        if (row < t->grid_top || row >= t->grid_top + g->visible_rows)
            continue;
        int y = r->grid_y + (row - t->grid_top) * g->cell_h, x = col * g->cell_w;
        cell c;
        cell_prep(&c, t, &v->slots[i], i == t->sel);
        switch (g->level) {
        case TUI_CELL_FULL:
            frame(&c, y, x, g->cell_w, g->cell_h);
            draw_full(&c, y, x + 1, g->cell_w - 2);
            break;
        case TUI_CELL_MEDIUM:
            frame(&c, y, x, g->cell_w, g->cell_h);
            draw_medium(&c, y, x + 1, g->cell_w - 2);
            break;
        case TUI_CELL_SMALL: draw_small(&c, y, x, g->cell_w); break;
        default: draw_line(&c, y, x, g->cell_w); break;
        }
    }
    if (g->visible_rows < g->rows) {
        attr_t a = t->th.attr[TR_WARN];
        if (t->grid_top > 0)
            tui_putf(r->grid_y, r->w - 10, 10, a, "%s more %s", t->th.g.more_up, t->th.g.more_up);
        if (t->grid_top + g->visible_rows < g->rows)
            tui_putf(r->grid_y + r->grid_h - 1, r->w - 10, 10, a, "%s more %s",
                     t->th.g.more_down, t->th.g.more_down);
    }
}
