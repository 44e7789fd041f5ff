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

void tui_draw_help(tui *t)
{
    const tui_theme *th = &t->th;
    const tui_glyphs *g = &th->g;
    int iy, ix, ih, iw;
    tui_overlay(th, 26, 76, "Help   (any key closes)", &iy, &ix, &ih, &iw);
    attr_t la = th->attr[TR_VALUE];
    int y = iy;
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
    for (unsigned i = 0; i < sizeof keys / sizeof keys[0] && y < iy + ih; i++, y++) {
        tui_put(y, ix, 18, la, keys[i].k);
        tui_put(y, ix + 18, iw - 18, A_NORMAL, keys[i].d);
    }
    y++;
    if (y < iy + ih)
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
    for (unsigned i = 0; i < sizeof st / sizeof st[0] && y < iy + ih; i++, y++) {
        snprintf(buf, sizeof buf, " %s %-6s ", st[i].glyph, st[i].word);
        int u = tui_put(y, ix, iw, th->attr[st[i].role], buf);
        tui_put(y, ix + u + 1, iw - u - 1, A_NORMAL, st[i].d);
    }
    y++;
    if (y < iy + ih && (t->cfg->locked || t->view->locked))
        tui_put(y++, ix, iw, th->attr[TR_WARN],
                " LOCKED line: profile and settings cannot be changed here ");
    if (y < iy + ih)
        tui_putf(y++, ix, iw, th->attr[TR_LABEL], "Display: %s glyphs, %s",
                 th->utf8 ? "UTF-8" : "ASCII", th->color ? "colour" : "no colour");
}
