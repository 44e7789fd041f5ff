/* test_tui_layout.c - the dashboard's slot grid for 1..64 slots on many terminal sizes,
 * the screen split, and the short formats used in cells. */
#include <string.h>

#include "check.h"
#include "line_view.h"
#include "tui_layout.h"

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

/* Rows a level would need for n slots in width w (fewest rows the width allows). */
static int rows_needed(int n, int w, tui_cell_level l)
{
    int cols = w / tui_cell_min_w(l);
    if (cols < 1)
        cols = 1;
    if (cols > n)
        cols = n;
    return ceil_div(n, cols);
}

/* Every property the layout promises, for one case; returns false on the first miss
 * (so a broken rule reports one line per case, not hundreds). */
static bool grid_ok(int n, int w, int h)
{
    tui_grid g;
    if (!CHECK_EQ_INT(tui_grid_layout(n, w, h, &g), 0))
        return false;
    bool ok = CHECK_EQ_INT(g.n, n) && CHECK(g.cols >= 1 && g.cols <= n) &&
              CHECK_EQ_INT(g.rows, ceil_div(n, g.cols)) &&
              CHECK_EQ_INT(g.cols, ceil_div(n, g.rows)) && /* balanced: no empty column */
              CHECK(g.cols * g.cell_w <= w) && CHECK(g.cell_w <= TUI_CELL_MAX_W) &&
              CHECK(g.cell_w >= tui_cell_min_w(g.level)) &&
              CHECK_EQ_INT(g.cell_h, tui_cell_h(g.level)) &&
              CHECK(g.visible_rows >= 1 && g.visible_rows <= g.rows) &&
              CHECK(g.visible_rows * g.cell_h <= h) &&
              CHECK_EQ_INT(g.rows, rows_needed(n, w, g.level));
    if (!ok) {
        fprintf(stderr, "  case n=%d w=%d h=%d\n", n, w, h);
        return false;
    }
    if (g.visible_rows < g.rows) {
        /* Scrolling only when even one-line cells do not fit, and then as many as fit. */
        ok = CHECK_EQ_INT(g.level, TUI_CELL_LINE) && CHECK(g.rows * tui_cell_h(TUI_CELL_LINE) > h) &&
             CHECK_EQ_INT(g.visible_rows, h / tui_cell_h(TUI_CELL_LINE));
    } else {
        /* Not scrolling: the chosen level fits and no richer level would have. */
        ok = CHECK(g.rows * g.cell_h <= h);
        for (int l = g.level + 1; ok && l < TUI_CELL_LEVELS; l++)
            ok = CHECK(rows_needed(n, w, (tui_cell_level)l) * tui_cell_h((tui_cell_level)l) > h ||
                       w < tui_cell_min_w((tui_cell_level)l));
    }
    if (!ok)
        fprintf(stderr, "  case n=%d w=%d h=%d level=%d\n", n, w, h, g.level);
    return ok;
}

static void expect(int n, int w, int h, tui_cell_level level, int cols, int rows, int cell_w,
                   int visible)
{
    tui_grid g;
    memset(&g, 0, sizeof g);
    CHECK_EQ_INT(tui_grid_layout(n, w, h, &g), 0);
    if (!(CHECK_EQ_INT(g.level, level) && CHECK_EQ_INT(g.cols, cols) &&
          CHECK_EQ_INT(g.rows, rows) && CHECK_EQ_INT(g.cell_w, cell_w) &&
          CHECK_EQ_INT(g.visible_rows, visible)))
        fprintf(stderr, "  expected case n=%d w=%d h=%d\n", n, w, h);
}

static void test_grid(void)
{
    static const int ws[] = {18, 30, 47, 80, 100, 120, 160, 203, 250};
    static const int hs[] = {1, 2, 3, 5, 6, 9, 10, 15, 18, 20, 27, 33, 40, 60};
    int bad = 0;
    for (int n = 1; n <= ST_MAX_SLOTS; n++)
        for (unsigned i = 0; i < sizeof ws / sizeof ws[0]; i++)
            for (unsigned j = 0; j < sizeof hs / sizeof hs[0]; j++)
                if (!grid_ok(n, ws[i], hs[j]) && ++bad > 20)
                    return;

    /* What an operator sees on common terminals (grid area = terminal minus header and
     * panels). */
    expect(1, 160, 33, TUI_CELL_FULL, 1, 1, TUI_CELL_MAX_W, 1);   /* one big cell */
    expect(5, 160, 33, TUI_CELL_FULL, 5, 1, 32, 1);               /* one row of five */
    expect(8, 160, 32, TUI_CELL_FULL, 4, 2, 40, 2);               /* 4 x 2, not 5 + 3 */
    expect(6, 80, 20, TUI_CELL_MEDIUM, 3, 2, 26, 2);              /* 80x24 terminal */
    expect(8, 80, 15, TUI_CELL_SMALL, 3, 3, 26, 3);
    expect(64, 160, 32, TUI_CELL_SMALL, 7, 10, 22, 10);           /* a full 64-port hub */
    expect(64, 250, 60, TUI_CELL_MEDIUM, 10, 7, 25, 7);
    expect(64, 80, 15, TUI_CELL_LINE, 4, 16, 20, 15);             /* scrolls by one row */
    expect(64, 18, 10, TUI_CELL_LINE, 1, 64, 18, 10);

    /* Refused: no slots, too many, no room for one cell. */
    tui_grid g;
    CHECK_EQ_INT(tui_grid_layout(0, 80, 20, &g), -1);
    CHECK_EQ_INT(tui_grid_layout(ST_MAX_SLOTS + 1, 80, 20, &g), -1);
    CHECK_EQ_INT(tui_grid_layout(4, 17, 20, &g), -1);
    CHECK_EQ_INT(tui_grid_layout(4, 80, 0, &g), -1);
}

static void test_scroll(void)
{
    tui_grid g;
    CHECK_EQ_INT(tui_grid_layout(64, 80, 5, &g), 0); /* 16 rows, 5 visible */
    CHECK_EQ_INT(g.visible_rows, 5);
    CHECK_EQ_INT(tui_grid_scroll(&g, 0, 0), 0);
    CHECK_EQ_INT(tui_grid_scroll(&g, 0, 4), 0);
    CHECK_EQ_INT(tui_grid_scroll(&g, 0, 5), 1);   /* one past the bottom: scroll by one */
    CHECK_EQ_INT(tui_grid_scroll(&g, 0, 15), 11); /* last row at the bottom */
    CHECK_EQ_INT(tui_grid_scroll(&g, 11, 3), 3);  /* back up: row at the top */
    CHECK_EQ_INT(tui_grid_scroll(&g, 14, 14), 11);/* never past the end (after a resize) */
    CHECK_EQ_INT(tui_grid_layout(8, 160, 30, &g), 0);
    CHECK_EQ_INT(tui_grid_scroll(&g, 3, 1), 0);   /* everything fits: no scroll */
}

static void test_regions(void)
{
    static const int sz[][2] = {{160, 48}, {80, 24}, {120, 40}, {100, 30}, {60, 16},
                                {40, 12},  {30, 8},  {250, 70}, {200, 20}};
    for (unsigned i = 0; i < sizeof sz / sizeof sz[0]; i++) {
        tui_regions r;
        int w = sz[i][0], h = sz[i][1];
        tui_regions_layout(w, h, &r);
        bool ok = CHECK(!r.too_small) && CHECK_EQ_INT(r.header_y, 0) &&
                  CHECK_EQ_INT(r.header_h, 2) && CHECK(r.grid_y >= r.header_h) &&
                  CHECK(r.grid_h >= 1) && CHECK_EQ_INT(r.panel_y, r.grid_y + r.grid_h) &&
                  CHECK_EQ_INT(r.footer_y, h - 1) && CHECK_EQ_INT(r.panel_y + r.panel_h, r.footer_y) &&
                  CHECK(r.bin_w > 0 && r.bin_w < w);
        if (!ok)
            fprintf(stderr, "  regions %dx%d\n", w, h);
        /* Rows the grid does not use go to the panels; the grid keeps what it uses. */
        int grid_h = r.grid_h, panel_h = r.panel_h;
        tui_regions_fit(&r, 2);
        if (grid_h > 2 && panel_h >= 3)
            CHECK_EQ_INT(r.grid_h, 2);
        else
            CHECK_EQ_INT(r.grid_h, grid_h);
        CHECK_EQ_INT(r.grid_h + r.panel_h, grid_h + panel_h);
        CHECK_EQ_INT(r.panel_y, r.grid_y + r.grid_h);
        CHECK_EQ_INT(r.panel_y + r.panel_h, r.footer_y);
        tui_regions_fit(&r, grid_h + 5); /* a grid that needs more (it scrolls): no change */
        CHECK_EQ_INT(r.grid_h, grid_h > 2 && panel_h >= 3 ? 2 : grid_h);
    }
    tui_regions r;
    tui_regions_layout(160, 48, &r);
    CHECK(r.panel_h >= 8); /* room for the retry bin and the log on a big terminal */
    tui_regions_layout(29, 24, &r);
    CHECK(r.too_small);
    tui_regions_layout(80, 7, &r);
    CHECK(r.too_small);
}

/* Each formatter's output for one input. */
static void check_rate(double bps, const char *want)
{
    char b[64];
    tui_fmt_rate(bps, b, sizeof b);
    CHECK_STR(b, want);
}

static void check_dur(double s, const char *want)
{
    char b[64];
    tui_fmt_dur(s, b, sizeof b);
    CHECK_STR(b, want);
}

static void check_chip(const char *chip, const char *want)
{
    char b[64];
    tui_fmt_chip(chip, b, sizeof b);
    CHECK_STR(b, want);
}

static void test_formats(void)
{
    check_rate(0, "-");
    check_rate(512, "512 B/s");
    check_rate(421888, "412 KiB/s");
    check_rate(1.5 * 1024 * 1024, "1.5 MiB/s");
    check_dur(-1, "-");
    check_dur(7.2, "0:07");
    check_dur(725, "12:05");
    check_dur(3723, "1:02:03");
    check_chip("ESP32-D0WD-V3 (revision v3.0)", "D0WD-V3 rev v3.0");
    check_chip("ESP32-D0WDQ6 (revision v1.0)", "D0WDQ6 rev v1.0");
    check_chip("ESP32-PICO-D4", "PICO-D4");
    check_chip("", "");

    unsigned char st[4] = {0};
    CHECK_EQ_INT(tui_parse_status("stub_upload, MEM_DATA: block 0, status 01 07 00 00 (checksum "
                                  "error)", st), 4);
    CHECK(st[0] == 0x01 && st[1] == 0x07 && st[2] == 0x00 && st[3] == 0x00);
    CHECK_EQ_INT(tui_parse_status("write, FLASH_DEFL_DATA: failed, status 01 c4", st), 2);
    CHECK(st[0] == 0x01 && st[1] == 0xc4);
    CHECK_EQ_INT(tui_parse_status("sync: no answer after 7 attempts", st), 0);
    CHECK_EQ_INT(tui_parse_status(NULL, st), 0);

    CHECK_EQ_INT(tui_str_cols("slot1"), 5);
}

static void check_paths(const char *in, const char *want)
{
    char b[512];
    tui_fmt_paths(in, 24, ".../", b, sizeof b);
    CHECK_STR(b, want);
}

/* Event lines keep the useful end of a long path: what tells the unit's place. */
static void test_paths(void)
{
    check_paths("unit in /tmp/station-demo.Ab12Cd/sim/slot4 (CP2104 10c4:ea60)",
                "unit in .../sim/slot4 (CP2104 10c4:ea60)");
    check_paths("unplugged from /dev/serial/by-path/pci-0000:00:14.0-usb-0:1.3:1.0-port0",
                "unplugged from .../usb-0:1.3:1.0-port0");
    check_paths("short /dev/ttyUSB0 stays", "short /dev/ttyUSB0 stays");
    check_paths("no paths at all, text kept", "no paths at all, text kept");
    check_paths("opened /tmp/a-rather-long-folder-name/x/slot12: ok",
                "opened .../x/slot12: ok");
}

/* A fixture (layout file): its columns whatever the width, holes where it names no
 * position, the places it does not name in the rows below. */
static void test_fixture(void)
{
    tui_grid g;
    /* 8 columns at 80: narrow one-line cells rather than another column count */
    CHECK_EQ_INT(tui_grid_layout_fixed(32, 8, 80, 15, &g), 0);
    CHECK(g.cols == 8 && g.rows == 4 && g.cell_w == 10 && g.level == TUI_CELL_LINE &&
          g.visible_rows == 4);
    /* 4 columns on a big screen: full cells */
    CHECK_EQ_INT(tui_grid_layout_fixed(12, 4, 200, 40, &g), 0);
    CHECK(g.cols == 4 && g.rows == 3 && g.level == TUI_CELL_FULL && g.cell_w == 50);
    /* too narrow for the fixture's columns: refused (the caller falls back) */
    CHECK_EQ_INT(tui_grid_layout_fixed(32, 8, 40, 20, &g), -1);
    /* rows that do not fit scroll */
    CHECK_EQ_INT(tui_grid_layout_fixed(32, 8, 160, 2, &g), 0);
    CHECK(g.level == TUI_CELL_LINE && g.visible_rows == 2 && g.rows == 4);

    static st_line_view v;
    memset(&v, 0, sizeof v);
    v.grid_rows = 2;
    v.grid_cols = 3;
    v.nslots = 4;
    /* B3, A1 placed; two places the layout does not name */
    v.slots[0] = (st_slot_view){.placed = true, .row = 0, .col = 0};
    v.slots[1] = (st_slot_view){.placed = true, .row = 1, .col = 2};
    v.slots[2] = (st_slot_view){.placed = false};
    v.slots[3] = (st_slot_view){.placed = false};
    int cell_of[ST_MAX_SLOTS], slot_at[TUI_MAX_CELLS];
    CHECK_EQ_INT(tui_grid_cells(&v, true, cell_of, slot_at), 8);
    CHECK(cell_of[0] == 0 && cell_of[1] == 5 && cell_of[2] == 6 && cell_of[3] == 7);
    CHECK(slot_at[0] == 0 && slot_at[1] == -1 && slot_at[4] == -1 && slot_at[5] == 1);
    /* without the fixture: slot i in cell i */
    CHECK_EQ_INT(tui_grid_cells(&v, false, cell_of, slot_at), 4);
    CHECK(cell_of[1] == 1 && slot_at[3] == 3 && slot_at[4] == -1);
}

int main(void)
{
    test_grid();
    test_scroll();
    test_regions();
    test_formats();
    test_paths();
    test_fixture();
    return check_summary("test_tui_layout");
}
