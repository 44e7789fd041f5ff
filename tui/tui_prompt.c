/* tui_prompt.c - the two small dialogs: quit confirmation while units are in flight, and
 * the profile picker. */
#include "tui_priv.h"

#include <stdio.h>
#include <string.h>

void tui_draw_confirm(tui *t)
{
    const tui_theme *th = &t->th;
    int iy, ix, ih, iw;
    tui_overlay(th, 8, 64, "Quit?", &iy, &ix, &ih, &iw);
    tui_putf(iy, ix, iw, th->attr[TR_WARN], " %llu unit(s) in flight ",
             (unsigned long long)t->view->in_flight);
    tui_put(iy + 2, ix, iw, A_NORMAL, "y  quit now: no new units; those in flight finish");
    tui_put(iy + 3, ix, iw, A_NORMAL, "w  pause here, watch them finish, then quit");
    tui_put(iy + 4, ix, iw, A_NORMAL, "n  (or any other key) keep running");
}

/* Name number i of the '\n'-separated list into buf. */
static void nth_name(const char *list, int i, char *buf, size_t cap)
{
    const char *p = list;
    for (; i > 0 && p; i--) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    buf[0] = '\0';
    if (!p)
        return;
    size_t n = strcspn(p, "\n");
    snprintf(buf, cap, "%.*s", (int)n, p);
}

void tui_draw_profile(tui *t)
{
    const tui_theme *th = &t->th;
    int rows = t->nprofiles > 0 ? t->nprofiles : 1;
    int iy, ix, ih, iw;
    tui_overlay(th, rows + 5 < 20 ? rows + 5 : 20, 60, "Change profile", &iy, &ix, &ih, &iw);
    tui_putf(iy, ix, iw, th->attr[TR_LABEL], "current: %s",
             t->view->profile[0] ? t->view->profile : "(none)");
    if (t->nprofiles <= 0) {
        tui_put(iy + 1, ix, iw, A_NORMAL, "type a profile name or path, Enter to load, Esc cancel:");
        tui_putf(iy + 2, ix, iw, th->attr[TR_SELECT], "%s_", t->typed);
        return;
    }
    tui_put(iy + 1, ix, iw, A_NORMAL, "Up/Down choose, Enter load, Esc cancel");
    int vis = ih - 2;
    int top = t->prof_sel >= vis ? t->prof_sel - vis + 1 : 0;
    char name[256];
    for (int i = top; i < t->nprofiles && i - top < vis; i++) {
        nth_name(t->profiles, i, name, sizeof name);
        bool cur = strcmp(name, t->view->profile) == 0;
        tui_putf(iy + 2 + i - top, ix, iw, i == t->prof_sel ? th->attr[TR_SELECT] : A_NORMAL,
                 "%s %s%s", i == t->prof_sel ? th->g.sel : " ", name, cur ? "  (current)" : "");
    }
}

void tui_profile_name(const tui *t, char *buf, size_t cap)
{
    if (t->nprofiles > 0)
        nth_name(t->profiles, t->prof_sel, buf, cap);
    else
        snprintf(buf, cap, "%s", t->typed);
}
