/* tui_main.c - st_tui_run: terminal setup and the frame loop. One snapshot per frame
 * (at most cfg->fps a second); keys are handled between frames and redraw the current
 * snapshot at once, so the dashboard answers keys even while the line is idle. */
#include "tui_priv.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void draw(tui *t)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    tui_regions_layout(w, h, &t->reg);
    erase();
    if (t->reg.too_small) {
        tui_fill(0, 0, w, t->th.attr[TR_TITLE]);
        tui_put(0, 0, w, t->th.attr[TR_TITLE], t->cfg->title ? t->cfg->title : "FLASH STATION");
        tui_putf(h > 2 ? 2 : h - 1, 0, w, t->th.attr[TR_WARN],
                 "terminal too small (%dx%d): need %dx%d", w, h, TUI_MIN_W, TUI_MIN_H);
        refresh();
        return;
    }
    int n = t->view->nslots < ST_MAX_SLOTS ? t->view->nslots : ST_MAX_SLOTS;
    /* A fixture (layout file) keeps its columns whatever the width, while they fit. */
    t->ncells = tui_grid_cells(t->view, true, t->cell_of, t->slot_at);
    t->grid_ok = n > 0 && t->view->grid_cols > 0 &&
                 tui_grid_layout_fixed(t->ncells, t->view->grid_cols, w, t->reg.grid_h, &t->grid) == 0;
    if (!t->grid_ok) {
        t->ncells = tui_grid_cells(t->view, false, t->cell_of, t->slot_at);
        t->grid_ok = n > 0 && tui_grid_layout(n, w, t->reg.grid_h, &t->grid) == 0;
    }
    if (t->grid_ok)
        tui_regions_fit(&t->reg, t->grid.visible_rows * t->grid.cell_h);
    tui_draw_header(t);
    tui_draw_slots(t);
    tui_draw_bin(t);
    tui_draw_log(t);
    tui_draw_footer(t);
    switch (t->mode) {
    case TM_DETAIL: tui_draw_detail(t); break;
    case TM_HELP: tui_draw_help(t); break;
    case TM_CONFIRM_QUIT: tui_draw_confirm(t); break;
    case TM_PROFILE: tui_draw_profile(t); break;
    case TM_SUMMARY: tui_draw_summary(t); break;
    default: break;
    }
    refresh();
}

static bool quit_requested(const tui *t)
{
    return t->cfg->quit && atomic_load(t->cfg->quit) != 0;
}

/* Frames until done. Workers never wait for this loop: it only calls ops.snapshot. */
static void loop(tui *t)
{
    const st_tui_ops *ops = &t->cfg->ops;
    double period = 1.0 / (t->cfg->fps > 0 ? t->cfg->fps : 10);
    double next = 0;
    while (!t->done && !quit_requested(t)) {
        t->now = mono();
        if (t->now >= next) {
            ops->snapshot(ops->user, t->view);
            t->frame++;
            next = t->now + period;
            if (t->quit_when_idle && t->view->in_flight == 0)
                break;
            if (t->mode == TM_GRID && tui_summary_due(t))
                t->mode = TM_SUMMARY;
            draw(t);
        }
        int ms = (int)((next - mono()) * 1000.0);
        timeout(ms < 1 ? 1 : ms);
        int key = getch();
        if (key == ERR)
            continue;
        /* Take every key already typed before redrawing (held arrow keys). */
        do {
            if (key != KEY_RESIZE)
                tui_handle_key(t, key);
            timeout(0);
        } while (!t->done && (key = getch()) != ERR);
        if (!t->done)
            draw(t);
    }
}

int st_tui_run(const st_tui_config *cfg, st_err *err)
{
    if (!cfg || !cfg->ops.snapshot)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "dashboard needs a snapshot source");
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        st_err_set(err, ST_E_ARG, ST_PH_NONE, "the dashboard needs a terminal");
        return st_err_hint(err, "run in a terminal, or use --headless for plain log lines");
    }
    tui t;
    memset(&t, 0, sizeof t);
    t.cfg = cfg;
    t.view = calloc(1, sizeof *t.view);
    t.hist = calloc(1, TUI_HIST_CAP);
    t.profiles = calloc(1, TUI_PROF_CAP);
    if (!t.view || !t.hist || !t.profiles) {
        free(t.view);
        free(t.hist);
        free(t.profiles);
        return st_err_set(err, ST_E_NOMEM, ST_PH_NONE, "out of memory for the dashboard");
    }
    bool utf8 = tui_locale_utf8();
    /* newterm, unlike initscr, reports an unusable terminal instead of exiting. */
    SCREEN *scr = newterm(NULL, stdout, stdin);
    int rc = 0;
    if (!scr) {
        const char *term = getenv("TERM");
        st_err_set(err, ST_E_IO, ST_PH_NONE, "cannot start the dashboard on terminal type '%s'",
                   term ? term : "(unset)");
        st_err_hint(err, "set TERM to your terminal (e.g. xterm-256color), or use --headless");
        rc = -1;
    } else {
        set_term(scr);
        cbreak();
        noecho();
        nonl();
        keypad(stdscr, TRUE);
        curs_set(0);
        set_escdelay(25);
        tui_theme_init(&t.th, !tui_no_color_env(), utf8);
        loop(&t);
        endwin();
        delscreen(scr);
    }
    free(t.view);
    free(t.hist);
    free(t.profiles);
    return rc;
}
