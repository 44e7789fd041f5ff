/* tui_layout.c - slot grid geometry and screen regions (pure arithmetic). */
#include "tui_layout.h"

#include "line_view.h"

static const struct {
    int min_w, h;
} cell_dims[TUI_CELL_LEVELS] = {
    [TUI_CELL_LINE] = {18, 1},
    [TUI_CELL_SMALL] = {22, 3},
    [TUI_CELL_MEDIUM] = {24, 6},
    [TUI_CELL_FULL] = {30, 9},
};

int tui_cell_min_w(tui_cell_level l) { return cell_dims[l].min_w; }
int tui_cell_h(tui_cell_level l) { return cell_dims[l].h; }

/* Shape n cells for an area `w` wide at a given level: as few rows as the width allows,
 * then the fewest columns that keep that row count (so rows are evenly filled). */
static void shape(int n, int w, tui_cell_level l, tui_grid *g)
{
    int max_cols = w / cell_dims[l].min_w;
    if (max_cols < 1)
        max_cols = 1;
    if (max_cols > n)
        max_cols = n;
    g->n = n;
    g->rows = (n + max_cols - 1) / max_cols;
    g->cols = (n + g->rows - 1) / g->rows;
    g->cell_w = w / g->cols;
    if (g->cell_w > TUI_CELL_MAX_W)
        g->cell_w = TUI_CELL_MAX_W;
    g->cell_h = cell_dims[l].h;
    g->level = l;
    g->visible_rows = g->rows;
}

int tui_grid_layout(int n, int w, int h, tui_grid *out)
{
    if (n < 1 || n > ST_MAX_SLOTS || w < cell_dims[TUI_CELL_LINE].min_w || h < 1)
        return -1;
    for (int l = TUI_CELL_FULL; l >= TUI_CELL_LINE; l--) {
        tui_grid g;
        shape(n, w, (tui_cell_level)l, &g);
        if (g.cell_w >= cell_dims[l].min_w && g.rows * g.cell_h <= h) {
            *out = g;
            return 0;
        }
    }
    /* Nothing fits: one-line cells, as many columns as fit, and the grid scrolls. */
    shape(n, w, TUI_CELL_LINE, out);
    out->visible_rows = h / out->cell_h;
    return 0;
}

int tui_grid_layout_fixed(int n, int cols, int w, int h, tui_grid *out)
{
    if (n < 1 || n > TUI_MAX_CELLS || cols < 1 || cols > n || h < 1 || w / cols < TUI_CELL_TINY_W)
        return -1;
    tui_grid g = {.n = n, .cols = cols, .rows = (n + cols - 1) / cols};
    g.cell_w = w / cols;
    if (g.cell_w > TUI_CELL_MAX_W)
        g.cell_w = TUI_CELL_MAX_W;
    for (int l = TUI_CELL_FULL; l >= TUI_CELL_LINE; l--) {
        g.level = (tui_cell_level)l;
        g.cell_h = cell_dims[l].h;
        g.visible_rows = g.rows;
        if (g.cell_w >= cell_dims[l].min_w && g.rows * g.cell_h <= h) {
            *out = g;
            return 0;
        }
    }
    g.level = TUI_CELL_LINE;
    g.cell_h = cell_dims[TUI_CELL_LINE].h;
    g.visible_rows = h / g.cell_h < g.rows ? h / g.cell_h : g.rows;
    *out = g;
    return 0;
}

int tui_grid_cells(const st_line_view *v, bool fixture, int *cell_of, int *slot_at)
{
    int n = v->nslots < ST_MAX_SLOTS ? v->nslots : ST_MAX_SLOTS;
    for (int c = 0; c < TUI_MAX_CELLS; c++)
        slot_at[c] = -1;
    if (v->grid_cols <= 0 || !fixture) {
        for (int i = 0; i < n; i++) {
            cell_of[i] = i;
            slot_at[i] = i;
        }
        return n;
    }
    int cols = v->grid_cols, next = v->grid_rows * cols;
    for (int i = 0; i < n; i++) {
        const st_slot_view *s = &v->slots[i];
        int c = -1;
        if (s->placed && s->row < v->grid_rows && s->col < cols && slot_at[s->row * cols + s->col] < 0)
            c = s->row * cols + s->col;
        else if (next < TUI_MAX_CELLS)
            c = next++;
        cell_of[i] = c;
        if (c >= 0)
            slot_at[c] = i;
    }
    return next;
}

int tui_grid_scroll(const tui_grid *g, int top, int sel_row)
{
    int vis = g->visible_rows > 0 ? g->visible_rows : 1;
    if (sel_row < top)
        top = sel_row;
    if (sel_row >= top + vis)
        top = sel_row - vis + 1;
    if (top > g->rows - vis)
        top = g->rows - vis;
    return top < 0 ? 0 : top;
}

void tui_regions_layout(int w, int h, tui_regions *r)
{
    r->w = w;
    r->h = h;
    r->too_small = (w < TUI_MIN_W || h < TUI_MIN_H);
    r->header_y = 0;
    r->header_h = h >= 2 ? 2 : h;
    r->footer_y = h - 1;
    /* The bottom panels shrink before the grid does: the grid is what operators watch. */
    if (h >= 44)
        r->panel_h = 12;
    else if (h >= 34)
        r->panel_h = 9;
    else if (h >= 20)
        r->panel_h = 6;
    else if (h >= 14)
        r->panel_h = 4;
    else
        r->panel_h = 0;
    r->panel_y = r->footer_y - r->panel_h;
    r->grid_y = r->header_y + r->header_h + (h >= 30 ? 1 : 0);
    r->grid_h = r->panel_y - r->grid_y;
    if (r->grid_h < 1) {
        r->grid_h = 0;
        r->too_small = 1;
    }
    r->bin_w = w >= 100 ? w / 2 : w * 11 / 20;
}

void tui_regions_fit(tui_regions *r, int grid_used_h)
{
    if (r->too_small || r->panel_h < 3 || grid_used_h >= r->grid_h)
        return;
    int spare = r->grid_h - grid_used_h;
    r->panel_h += spare;
    r->panel_y -= spare;
    r->grid_h -= spare;
}
