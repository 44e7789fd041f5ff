/* tui_log.c - the event log panel: the newest events at the bottom, stamped with the
 * wall-clock time an operator can match against a unit on the bench. */
#include "tui_priv.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Events mentioning a failure or a pass get the matching text colour. */
static tui_role event_role(const char *text)
{
    if (strcasestr(text, "fail") || strcasestr(text, "interrupted"))
        return TR_FAIL_TXT;
    if (strcasestr(text, "pass"))
        return TR_PASS_TXT;
    return TR_NORMAL;
}

/* "write", "verify": a bare phase change. The cell already shows the phase; in the log it
 * would bury the events an operator acts on. */
static bool phase_only(const char *text)
{
    for (int p = ST_PH_NONE + 1; p < ST_PH_COUNT; p++)
        if (strcmp(text, st_phase_name((st_phase)p)) == 0)
            return true;
    return false;
}

void tui_draw_log(tui *t)
{
    const tui_regions *r = &t->reg;
    const st_line_view *v = t->view;
    const tui_theme *th = &t->th;
    if (r->panel_h < 3)
        return;
    int y = r->panel_y, x = r->bin_w, w = r->w - r->bin_w, h = r->panel_h;
    tui_box(th, y, x, h, w, false, A_NORMAL);
    tui_put(y, x + 2, w - 4, th->attr[TR_VALUE], " EVENTS ");
    int rows = h - 2, iw = w - 3;
    int ne = v->nevents < ST_VIEW_EVENTS ? v->nevents : ST_VIEW_EVENTS;
    /* The newest `rows` events worth showing, oldest of them at the top. */
    int first = ne, shown = 0;
    while (first > 0 && shown < rows)
        if (!phase_only(v->events[--first].text))
            shown++;
    int ly = y + 1;
    for (int i = first; i < ne; i++) {
        const st_event_view *e = &v->events[i];
        if (phase_only(e->text))
            continue;
        /* The wall-clock time the event happened, kept with it: the same on every redraw
         * (deriving it from "now" would make it drift across a second boundary). */
        time_t when = (time_t)e->wall;
        struct tm tm;
        localtime_r(&when, &tm);
        int u = tui_putf(ly, x + 2, iw, th->attr[TR_LABEL], "%02d:%02d:%02d ", tm.tm_hour,
                         tm.tm_min, tm.tm_sec);
        if (e->label[0]) /* the fixture's name for the slot, as on the grid */
            u += tui_putf(ly, x + 2 + u, iw - u, th->attr[TR_VALUE], "%-6s ", e->label);
        else if (e->slot[0]) { /* a long by-path slot name: its end tells the hub port */
            int sl = (int)strlen(e->slot);
            u += tui_putf(ly, x + 2 + u, iw - u, th->attr[TR_VALUE], "%s%-6s ",
                          sl > 14 ? (th->utf8 ? "\u2026" : "~") : "", sl > 14 ? e->slot + sl - 13 : e->slot);
        }
        char text[512];
        tui_fmt_paths(e->text, 24, th->utf8 ? "\u2026/" : ".../", text, sizeof text);
        tui_put(ly, x + 2 + u, iw - u, th->attr[event_role(e->text)], text);
        ly++;
    }
    if (ne == 0)
        tui_put(y + 1, x + 2, iw, th->attr[TR_EMPTY], "no events yet");
}
