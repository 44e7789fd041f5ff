/* tui_theme.c - colours and their no-colour stand-ins, UTF-8 or ASCII glyphs.
 * Every state an operator acts on is told apart by words, glyphs and attributes (bold,
 * reverse, heavy border) first; colour only adds to that, so NO_COLOR terminals and
 * colour-blind operators see the same information. */
#include "tui_priv.h"

#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

bool tui_locale_utf8(void)
{
    setlocale(LC_ALL, "");
    const char *cs = nl_langinfo(CODESET);
    return cs && (strcmp(cs, "UTF-8") == 0 || strcmp(cs, "utf8") == 0);
}

bool tui_no_color_env(void)
{
    const char *v = getenv("NO_COLOR"); /* no-color.org: set and not empty */
    return v && *v;
}

static const char *const utf8_parts[8] = {"", "\u258f", "\u258e", "\u258d",
                                          "\u258c", "\u258b", "\u258a", "\u2589"};
static const char *const utf8_spin[] = {"\u280b", "\u2819", "\u2839", "\u2838", "\u283c",
                                        "\u2834", "\u2826", "\u2827", "\u2807", "\u280f"};
static const char *const ascii_spin[] = {"|", "/", "-", "\\"};

static const tui_glyphs glyphs_utf8 = {
    .h = "\u2500", .v = "\u2502", .tl = "\u250c", .tr = "\u2510", .bl = "\u2514", .br = "\u2518",
    .hh = "\u2501", .hv = "\u2503", .htl = "\u250f", .htr = "\u2513", .hbl = "\u2517",
    .hbr = "\u251b",
    .bar_full = "\u2588", .bar_empty = "\u2591", .bar_part = utf8_parts,
    .pass = "\u2714", .fail = "\u2718", .retry = "\u21bb", .pause = "\u2016",
    .empty = "\u00b7", .busy = "\u25cf",
    .sel = "\u25b6", .spin = utf8_spin, .nspin = 10,
    .more_up = "\u25b2", .more_down = "\u25bc", .sep = " \u2502 ",
};

static const tui_glyphs glyphs_ascii = {
    .h = "-", .v = "|", .tl = "+", .tr = "+", .bl = "+", .br = "+",
    .hh = "=", .hv = "#", .htl = "#", .htr = "#", .hbl = "#", .hbr = "#",
    .bar_full = "#", .bar_empty = ".", .bar_part = NULL,
    .pass = "+", .fail = "X", .retry = "~", .pause = "=", .empty = ".", .busy = "*",
    .sel = ">", .spin = ascii_spin, .nspin = 4,
    .more_up = "^", .more_down = "v", .sep = " | ",
};

enum { P_TITLE = 1, P_PASS, P_FAIL, P_RETRY, P_BUSY, P_PAUSED, P_BAR, P_SELECT, P_WARN,
       P_PASS_TXT, P_FAIL_TXT, P_LABEL };

void tui_theme_init(tui_theme *th, bool want_color, bool utf8)
{
    memset(th, 0, sizeof *th);
    th->utf8 = utf8;
    th->g = utf8 ? glyphs_utf8 : glyphs_ascii;

    /* Attributes that carry the meaning on their own (no colour). */
    attr_t *a = th->attr;
    a[TR_NORMAL] = A_NORMAL;
    a[TR_TITLE] = A_REVERSE | A_BOLD;
    a[TR_LABEL] = A_NORMAL;
    a[TR_VALUE] = A_BOLD;
    a[TR_PASS] = A_REVERSE | A_BOLD;
    a[TR_FAIL] = A_REVERSE | A_BOLD;
    a[TR_RETRY] = A_BOLD | A_UNDERLINE;
    a[TR_BUSY] = A_BOLD;
    a[TR_PAUSED] = A_UNDERLINE;
    a[TR_EMPTY] = A_DIM;
    a[TR_BAR_DONE] = A_BOLD;
    a[TR_BAR_TODO] = A_DIM;
    a[TR_SELECT] = A_REVERSE;
    a[TR_WARN] = A_REVERSE | A_BOLD;
    a[TR_PASS_TXT] = A_BOLD;
    a[TR_FAIL_TXT] = A_BOLD | A_UNDERLINE;

    th->color = want_color && has_colors() && start_color() == OK;
    if (!th->color)
        return;
    /* Default background where the terminal allows it, so the dashboard suits its theme. */
    short bg = use_default_colors() == OK ? -1 : COLOR_BLACK;
    init_pair(P_TITLE, COLOR_WHITE, COLOR_BLUE);
    init_pair(P_PASS, COLOR_BLACK, COLOR_GREEN);
    init_pair(P_FAIL, COLOR_WHITE, COLOR_RED);
    init_pair(P_RETRY, COLOR_BLACK, COLOR_YELLOW);
    init_pair(P_BUSY, COLOR_CYAN, bg);
    init_pair(P_PAUSED, COLOR_MAGENTA, bg);
    init_pair(P_BAR, COLOR_GREEN, bg);
    init_pair(P_SELECT, COLOR_YELLOW, bg);
    init_pair(P_WARN, COLOR_BLACK, COLOR_YELLOW);
    init_pair(P_PASS_TXT, COLOR_GREEN, bg);
    init_pair(P_FAIL_TXT, COLOR_RED, bg);
    init_pair(P_LABEL, COLOR_CYAN, bg);
    /* Colour pairs replace reverse video where they already give a solid block. */
    a[TR_TITLE] = COLOR_PAIR(P_TITLE) | A_BOLD;
    a[TR_LABEL] = COLOR_PAIR(P_LABEL);
    a[TR_PASS] = COLOR_PAIR(P_PASS) | A_BOLD;
    a[TR_FAIL] = COLOR_PAIR(P_FAIL) | A_BOLD;
    a[TR_RETRY] = COLOR_PAIR(P_RETRY) | A_BOLD;
    a[TR_BUSY] = COLOR_PAIR(P_BUSY) | A_BOLD;
    a[TR_PAUSED] = COLOR_PAIR(P_PAUSED) | A_BOLD;
    a[TR_BAR_DONE] = COLOR_PAIR(P_BAR) | A_BOLD;
    a[TR_SELECT] = COLOR_PAIR(P_SELECT) | A_BOLD | A_REVERSE;
    a[TR_WARN] = COLOR_PAIR(P_WARN) | A_BOLD;
    a[TR_PASS_TXT] = COLOR_PAIR(P_PASS_TXT) | A_BOLD;
    a[TR_FAIL_TXT] = COLOR_PAIR(P_FAIL_TXT) | A_BOLD;
}
