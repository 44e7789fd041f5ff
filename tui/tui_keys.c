/* tui_keys.c - what each key does in each mode. Actions on the line go through the
 * engine's callbacks; the locked mode and "units in flight" refuse with a message rather
 * than silently ignoring the key. */
#include "tui_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define KEY_ESC 27
#define MSG_SECONDS 5.0

void tui_message(tui *t, bool bad, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->msg_bad = bad;
    t->msg_until = t->now + MSG_SECONDS;
}

static bool is_locked(const tui *t) { return t->cfg->locked || t->view->locked; }

/* Move the selection d cells (±1 a column, ±cols a row) through the grid's cells,
 * passing over holes (fixture positions without a place) in the direction of travel. */
static void move_sel(tui *t, int d)
{
    int n = t->view->nslots;
    if (n <= 0)
        return;
    int cells = t->ncells > 0 ? t->ncells : n;
    int cols = t->grid_ok ? t->grid.cols : 1;
    int from = t->sel < n && t->sel < ST_MAX_SLOTS && t->cell_of[t->sel] >= 0 ? t->cell_of[t->sel] : 0;
    int c = from + d;
    if (c < 0)
        c = d < -1 ? from % cols : 0;
    if (c >= cells) {
        /* Down from the row above a short last row lands on its last cell. */
        if (d > 1)
            c = from / cols < (cells - 1) / cols ? cells - 1 : from;
        else
            c = cells - 1;
    }
    int step = d > 0 ? 1 : -1;
    while (c >= 0 && c < cells && t->slot_at[c] < 0)
        c += step;
    if (c >= 0 && c < cells)
        t->sel = t->slot_at[c];
}

static void toggle_pause(tui *t)
{
    if (!t->cfg->ops.set_paused) {
        tui_message(t, true, "pause is not available on this line");
        return;
    }
    bool pause = !t->view->paused;
    t->cfg->ops.set_paused(t->cfg->ops.user, pause);
    t->view->paused = pause; /* show it now; the next snapshot confirms */
    if (!pause)
        t->quit_when_idle = false;
    tui_message(t, false, pause ? "PAUSED: no new unit starts; units in flight finish (p resumes)"
                                : "resumed: new units start again");
}

static void open_profile(tui *t)
{
    if (is_locked(t)) {
        tui_message(t, true, "line is LOCKED: the profile cannot be changed here");
        return;
    }
    if (!t->cfg->ops.set_profile) {
        tui_message(t, true, "profile change is not available on this line");
        return;
    }
    if (t->view->in_flight > 0) {
        tui_message(t, true, "%llu unit(s) in flight: wait for them (p pauses new units) before "
                    "changing the profile", (unsigned long long)t->view->in_flight);
        return;
    }
    t->nprofiles = 0;
    t->prof_sel = 0;
    t->typed[0] = '\0';
    t->profiles[0] = '\0';
    if (t->cfg->ops.list_profiles) {
        int n = t->cfg->ops.list_profiles(t->cfg->ops.user, t->profiles, TUI_PROF_CAP);
        t->profiles[TUI_PROF_CAP - 1] = '\0';
        t->nprofiles = n > 0 ? n : 0;
    }
    t->mode = TM_PROFILE;
}

static void apply_profile(tui *t)
{
    char name[256];
    bool typed;
    tui_profile_name(t, name, sizeof name, &typed);
    t->mode = TM_GRID;
    if (!name[0])
        return;
    /* Only what the line offers, unless it was started to take any file: a profile typed
     * by hand could flash anything onto the units. */
    if (typed && !t->cfg->allow_profile_path && !tui_profile_listed(t, name)) {
        tui_message(t, true, "refused (pick a listed profile; a typed path needs the station started "
                    "with --allow-profile-path): %s", name);
        return;
    }
    /* Units may have started while the picker was open. */
    if (t->view->in_flight > 0) {
        tui_message(t, true, "units started meanwhile: profile not changed");
        return;
    }
    st_err err;
    st_err_clear(&err);
    if (t->cfg->ops.set_profile(t->cfg->ops.user, name, &err) != 0)
        tui_message(t, true, "profile %s not loaded: %s", name, err.msg[0] ? err.msg : "error");
    else
        tui_message(t, false, "profile is now %s", name);
}

static void key_grid(tui *t, int key)
{
    int cols = t->grid_ok ? t->grid.cols : 1;
    switch (key) {
    case KEY_LEFT: case 'h': move_sel(t, -1); break;
    case KEY_RIGHT: case 'l': move_sel(t, 1); break;
    case KEY_UP: case 'k': move_sel(t, -cols); break;
    case KEY_DOWN: case 'j': move_sel(t, cols); break;
    case KEY_HOME: t->sel = 0; break;
    case KEY_END: t->sel = t->view->nslots > 0 ? t->view->nslots - 1 : 0; break;
    case '\n': case '\r': case KEY_ENTER:
        if (t->view->nslots > 0) {
            t->mode = TM_DETAIL;
            t->detail_slot = t->sel;
            t->detail_scroll = 0;
            tui_detail_load(t);
        }
        break;
    case 'p': toggle_pause(t); break;
    case 'P': open_profile(t); break;
    case '?': t->mode = TM_HELP; break;
    case 'q': case 'Q':
        if (t->view->in_flight > 0)
            t->mode = TM_CONFIRM_QUIT;
        else
            t->done = true;
        break;
    default: break;
    }
}

static void key_detail(tui *t, int key)
{
    int n = t->view->nslots;
    switch (key) {
    case KEY_UP: case 'k': if (t->detail_scroll > 0) t->detail_scroll--; break;
    case KEY_DOWN: case 'j': t->detail_scroll++; break;
    case KEY_PPAGE: t->detail_scroll = t->detail_scroll > 10 ? t->detail_scroll - 10 : 0; break;
    case KEY_NPAGE: case ' ': t->detail_scroll += 10; break;
    case KEY_LEFT: case 'h': case KEY_RIGHT: case 'l':
        /* Step through the slots without leaving the detail view. */
        if (n > 0) {
            int d = (key == KEY_LEFT || key == 'h') ? -1 : 1;
            t->detail_slot = (t->detail_slot + d + n) % n;
            t->sel = t->detail_slot;
            t->detail_scroll = 0;
            tui_detail_load(t);
        }
        break;
    case 'r': tui_detail_load(t); break;
    case 'p': toggle_pause(t); break;
    case '?': t->mode = TM_HELP; break;
    case KEY_ESC: case 'q': case '\n': case '\r': case KEY_ENTER: case KEY_BACKSPACE:
        t->mode = TM_GRID;
        break;
    default: break;
    }
}

static void key_confirm(tui *t, int key)
{
    t->mode = TM_GRID;
    switch (key) {
    case 'y': case 'Y': t->done = true; break;
    case 'w': case 'W':
        if (!t->cfg->ops.set_paused) {
            tui_message(t, true, "cannot pause this line: quit cancelled");
            break;
        }
        if (!t->view->paused)
            toggle_pause(t);
        t->quit_when_idle = true;
        tui_message(t, false, "paused: quitting when the units in flight are done (p cancels)");
        break;
    default: tui_message(t, false, "quit cancelled"); break;
    }
}

static void key_profile(tui *t, int key)
{
    size_t len = strlen(t->typed);
    switch (key) {
    case KEY_ESC: t->mode = TM_GRID; return;
    case '\n': case '\r': case KEY_ENTER: apply_profile(t); return;
    case KEY_UP: if (t->prof_sel > 0) t->prof_sel--; return;
    case KEY_DOWN: if (t->prof_sel + 1 < t->nprofiles) t->prof_sel++; return;
    default: break;
    }
    /* j/k move through the list until something has been typed */
    if (t->nprofiles > 0 && len == 0 && (key == 'j' || key == 'k')) {
        if (key == 'k' && t->prof_sel > 0)
            t->prof_sel--;
        else if (key == 'j' && t->prof_sel + 1 < t->nprofiles)
            t->prof_sel++;
        return;
    }
    if ((key == KEY_BACKSPACE || key == 127 || key == 8) && len > 0)
        t->typed[len - 1] = '\0';
    else if (key >= 0x20 && key < 0x7f && len + 1 < sizeof t->typed)
        t->typed[len] = (char)key, t->typed[len + 1] = '\0';
}

void tui_handle_key(tui *t, int key)
{
    switch (t->mode) {
    case TM_GRID: key_grid(t, key); break;
    case TM_DETAIL: key_detail(t, key); break;
    case TM_HELP: t->mode = TM_GRID; break;
    case TM_SUMMARY:
        t->summary_dismissed = true;
        t->mode = TM_GRID;
        if (key == 'q' || key == 'Q')
            t->done = true; /* nothing is in flight: no need to ask */
        break;
    case TM_CONFIRM_QUIT: key_confirm(t, key); break;
    case TM_PROFILE: key_profile(t, key); break;
    }
}
