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
    tui_overlay(th, rows + 6 < 20 ? rows + 6 : 20, 64, "Change profile", &iy, &ix, &ih, &iw);
    tui_putf(iy, ix, iw, th->attr[TR_LABEL], "current: %s",
             t->view->profile[0] ? t->view->profile : "(none)");
    /* the typed text's end: a long path keeps the part that names the file */
    const char *typed_label = t->cfg->allow_profile_path ? "or type a path:" : "typed paths refused:";
    size_t len = strlen(t->typed);
    int room = iw - (int)strlen(typed_label) - 6; /* " ...", "_" and a margin */
    if (room < 8)
        room = 8;
    const char *tail = len > (size_t)room ? t->typed + len - room : t->typed;
    int ty = iy + ih - 1; /* the typed line: last */
    if (t->nprofiles <= 0) {
        tui_put(iy + 1, ix, iw, A_NORMAL, "no profile in the profile folders; Esc closes");
        ty = iy + 2;
    } else {
        tui_put(iy + 1, ix, iw, A_NORMAL, "Up/Down choose, Enter load, Esc cancel");
        int vis = ih - 3;
        int top = t->prof_sel >= vis ? t->prof_sel - vis + 1 : 0;
        char name[256];
        for (int i = top; i < t->nprofiles && i - top < vis; i++) {
            nth_name(t->profiles, i, name, sizeof name);
            bool cur = strcmp(name, t->view->profile) == 0;
            bool sel = i == t->prof_sel && !t->typed[0];
            tui_putf(iy + 2 + i - top, ix, iw, sel ? th->attr[TR_SELECT] : A_NORMAL,
                     "%s %s%s", sel ? th->g.sel : " ", name, cur ? "  (current)" : "");
        }
    }
    tui_putf(ty, ix, iw, t->typed[0] ? th->attr[TR_SELECT] : A_NORMAL, "%s %s%s%s", typed_label,
             tail == t->typed ? "" : "...", tail, t->typed[0] ? "_" : "");
}

void tui_profile_name(const tui *t, char *buf, size_t cap, bool *typed)
{
    *typed = t->typed[0] != '\0';
    if (*typed)
        snprintf(buf, cap, "%s", t->typed);
    else if (t->nprofiles > 0)
        nth_name(t->profiles, t->prof_sel, buf, cap);
    else
        buf[0] = '\0';
}

bool tui_profile_listed(const tui *t, const char *name)
{
    char n[256];
    for (int i = 0; i < t->nprofiles; i++) {
        nth_name(t->profiles, i, n, sizeof n);
        if (!strcmp(n, name))
            return true;
    }
    return false;
}
