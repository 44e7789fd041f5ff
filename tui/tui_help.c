/* tui_help.c - the key-hint footer (or the latest operator message) and the help page
 * with the keys and the meaning of each slot state. */
#include "tui_priv.h"

#include <stdio.h>

void tui_draw_footer(tui *t)
{
    const tui_theme *th = &t->th;
    int y = t->reg.footer_y, w = t->reg.w;
    if (t->msg[0] && t->now < t->msg_until) {
        attr_t a = t->msg_bad ? th->attr[TR_WARN] : th->attr[TR_VALUE];
        tui_fill(y, 0, w, a);
        tui_putf(y, 1, w - 1, a, "%s", t->msg);
        return;
    }
    bool locked = t->cfg->locked || t->view->locked;
    const char *sel = th->utf8 ? "\u2190\u2191\u2193\u2192/hjkl" : "arrows/hjkl";
    struct {
        const char *key, *what;
    } k[] = {{sel, "select"},
             {"Enter", "details"},
             {"p", t->view->paused ? "resume" : "pause"},
             {"P", locked ? "profile (locked)" : "profile"},
             {"?", "help"},
             {"q", "quit"}};
    int x = 1;
    for (unsigned i = 0; i < sizeof k / sizeof k[0] && x < w; i++) {
        x += tui_put(y, x, w - x, th->attr[TR_TITLE], k[i].key);
        x += tui_putf(y, x, w - x, A_NORMAL, " %s  ", k[i].what);
    }
}

/* Wrapped text into the overlay, from row *y, column x, width w, not past row ymax. */
typedef struct {
    int *y, x, w, ymax;
    attr_t a;
} wrap_ctx;

static void emit_line(void *ctx, const char *line, int len)
{
    wrap_ctx *c = ctx;
    if (*c->y < c->ymax) {
        char buf[512];
        snprintf(buf, sizeof buf, "%.*s", len, line);
        tui_put(*c->y, c->x, c->w, c->a, buf);
    }
    (*c->y)++;
}

/* A term and its description: the description wraps at word boundaries under itself. */
static void term(int *y, int ymax, int x, int w, int tw, attr_t ta, const char *t, attr_t da,
                 const char *d)
{
    if (*y >= ymax)
        return;
    int u = tui_put(*y, x, w, ta, t);
    if (w - tw < 12) { /* too narrow for two columns: the description below the term */
        (*y)++;
        tw = 2;
    } else if (u > tw - 1) {
        tw = u + 1;
    }
    wrap_ctx c = {y, x + tw, w - tw, ymax, da};
    tui_wrap(d, w - tw, emit_line, &c);
}

void tui_draw_help(tui *t)
{
    const tui_theme *th = &t->th;
    const tui_glyphs *g = &th->g;
    int iy, ix, ih, iw;
    tui_overlay(th, 30, 80, "Help   (any key closes)", &iy, &ix, &ih, &iw);
    attr_t la = th->attr[TR_VALUE];
    int y = iy, ymax = iy + ih;
    int tw = iw >= 60 ? 18 : 11;
    struct {
        const char *k, *d;
    } keys[] = {
        {"arrows, h j k l", "select a slot"},
        {"Enter", "details of the selected slot: whole error, hint, history"},
        {"p", "pause / resume: no new unit starts; units in flight finish"},
        {"P", "change profile (only when no unit is in flight; not when locked)"},
        {"?", "this help"},
        {"q", "quit (asks first while units are in flight)"},
    };
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0]; i++)
        term(&y, ymax, ix, iw, tw, la, keys[i].k, A_NORMAL, keys[i].d);
    y++;
    if (y < ymax)
        tui_put(y++, ix, iw, th->attr[TR_LABEL], "Slot states");
    struct {
        const char *glyph, *word;
        tui_role role;
        const char *d;
    } st[] = {
        {g->pass, "PASS", TR_PASS, "flashed and verified: unplug, put it with the good units"},
        {g->fail, "FAIL", TR_FAIL, "failed for good (heavy border): unplug, put it in the retry bin"},
        {g->retry, "RETRY", TR_RETRY, "a try failed; the station tries again by itself"},
        {g->busy, "WRITE", TR_BUSY, "flashing: phase, progress, speed, time left"},
        {g->pause, "PAUSED", TR_PAUSED, "unit waits: the line is paused"},
        {g->empty, "EMPTY", TR_EMPTY, "nothing plugged in"},
    };
    char buf[64];
    for (unsigned i = 0; i < sizeof st / sizeof st[0]; i++) {
        snprintf(buf, sizeof buf, " %s %-6s ", st[i].glyph, st[i].word);
        term(&y, ymax, ix, iw, tui_str_cols(buf) + 1, th->attr[st[i].role], buf, A_NORMAL, st[i].d);
    }
    y++;
    if (y < ymax && (t->cfg->locked || t->view->locked)) {
        wrap_ctx c = {&y, ix, iw, ymax, th->attr[TR_WARN]};
        tui_wrap("LOCKED line: profile and settings cannot be changed here", iw, emit_line, &c);
    }
    if (y < ymax)
        tui_putf(y++, ix, iw, th->attr[TR_LABEL], "Display: %s glyphs, %s",
                 th->utf8 ? "UTF-8" : "ASCII", th->color ? "colour" : "no colour");
}

bool tui_summary_due(const tui *t)
{
    const st_line_view *v = t->view;
    return t->cfg->finish_after > 0 && !t->summary_dismissed && v->in_flight == 0 &&
           v->passed + v->failed >= (uint64_t)t->cfg->finish_after;
}

void tui_draw_summary(tui *t)
{
    const tui_theme *th = &t->th;
    const st_line_view *v = t->view;
    int iy, ix, ih, iw;
    tui_overlay(th, 14, 72, t->cfg->finish_title ? t->cfg->finish_title : "Done", &iy, &ix, &ih, &iw);
    int y = iy, ymax = iy + ih;
    char line[1024];
    snprintf(line, sizeof line, "%llu passed, %llu failed, %llu in the retry bin, yield %.1f %%",
             (unsigned long long)v->passed, (unsigned long long)v->failed,
             (unsigned long long)v->in_bin, v->yield * 100);
    wrap_ctx c = {&y, ix, iw, ymax, th->attr[TR_VALUE]};
    tui_wrap(line, iw, emit_line, &c);
    y++;
    if (t->cfg->records) {
        snprintf(line, sizeof line, "Records: %s%s", t->cfg->records,
                 t->cfg->records_temporary
                     ? " (temporary: removed when you leave; run with --db PATH to keep them)"
                     : "");
        c.a = A_NORMAL;
        tui_wrap(line, iw, emit_line, &c);
        y++;
    }
    c.a = th->attr[TR_TITLE];
    tui_wrap("Press q to leave, any other key to look around first.", iw, emit_line, &c);
}
