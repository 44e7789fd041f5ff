/* layout_learn.c - the walk of `station layout learn` (layout_learn.h): positions to ask
 * for, and the layout they make. */
#include "layout_learn.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

/* "A..D", "A-D" or "A" (letters), "1..8", "1-8" or "3" (digits) into lo..hi (0-based). */
static int range(const char *s, bool letters, int *lo, int *hi)
{
    char a, b;
    int n = 0;
    char tail;
    if (!s)
        return -1;
    while (isspace((unsigned char)*s))
        s++;
    if (sscanf(s, "%c..%c%n", &a, &b, &n) == 2 || sscanf(s, "%c-%c%n", &a, &b, &n) == 2) {
        s += n;
    } else if (sscanf(s, "%c%n", &a, &n) == 1) {
        b = a;
        s += n;
    } else {
        return -1;
    }
    while (isspace((unsigned char)*s))
        s++;
    if (sscanf(s, "%c", &tail) == 1)
        return -1;
    int base = letters ? 'A' : '1', max = letters ? ST_LAYOUT_ROWS : ST_LAYOUT_COLS;
    *lo = (letters ? toupper((unsigned char)a) : a) - base;
    *hi = (letters ? toupper((unsigned char)b) : b) - base;
    return *lo < 0 || *hi < *lo || *hi >= max ? -1 : 0;
}

int st_learn_grid(const char *rows, const char *cols, st_learn_pos *out, int *n, st_err *err)
{
    int r0, r1, c0, c1;
    if (range(rows, true, &r0, &r1) < 0)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--rows '%s' is not a range of rows A..D (e.g. A..D, A-B or C)",
                          rows ? rows : "");
    if (range(cols, false, &c0, &c1) < 0)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE,
                          "--cols '%s' is not a range of columns 1..8 (e.g. 1..8, 1-4 or 3)", cols ? cols : "");
    *n = 0;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++)
            out[(*n)++] = (st_learn_pos){r, c};
    return 0;
}

int st_learn_list(const char *list, st_learn_pos *out, int *n, st_err *err)
{
    bool seen[ST_LAYOUT_ROWS][ST_LAYOUT_COLS] = {{false}};
    *n = 0;
    const char *p = list ? list : "";
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (!*p)
            break;
        size_t len = strcspn(p, ", ");
        char pos[8];
        int r, c;
        snprintf(pos, sizeof pos, "%.*s", (int)(len < sizeof pos ? len : sizeof pos - 1), p);
        if (len >= sizeof pos || st_layout_parse_pos(pos, &r, &c) < 0)
            return st_err_set(err, ST_E_ARG, ST_PH_NONE,
                              "--positions: '%.*s' is not a position (rows A..D, columns 1..8: A1..D8)", (int)len, p);
        if (seen[r][c])
            return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--positions: %s is given twice", pos);
        seen[r][c] = true;
        out[(*n)++] = (st_learn_pos){r, c};
        p += len;
    }
    if (*n == 0)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "--positions names no position (e.g. A1,A2,B1)");
    return 0;
}

int st_learn_of_layout(const st_layout *L, st_learn_pos *out)
{
    int n = 0;
    for (int r = 0; r < ST_LAYOUT_ROWS; r++)
        for (int c = 0; c < ST_LAYOUT_COLS; c++)
            if (st_layout_at(L, r, c))
                out[n++] = (st_learn_pos){r, c};
    return n;
}

void st_learn_start(st_learn *l, const st_layout *old, const st_learn_pos *pos, int n)
{
    memset(l, 0, sizeof *l);
    if (old) {
        l->L = *old;
        for (int i = 0; i < old->n; i++)
            snprintf(l->label[old->p[i].row][old->p[i].col], ST_LAYOUT_LABEL, "%s", old->p[i].label);
    }
    for (int i = 0; i < n && i < ST_LAYOUT_MAX; i++) {
        l->walk[l->n_walk++] = pos[i];
        l->walked[pos[i].row][pos[i].col] = true;
    }
    for (int r = 0; r < ST_LAYOUT_ROWS; r++)
        for (int c = 0; c < ST_LAYOUT_COLS; c++)
            if (!*l->label[r][c])
                st_layout_pos_name(r, c, l->label[r][c]);
}

bool st_learn_done(const st_learn *l)
{
    return l->cur >= l->n_walk;
}

void st_learn_current(const st_learn *l, char *out)
{
    if (st_learn_done(l)) {
        out[0] = '\0';
        return;
    }
    st_layout_pos_name(l->walk[l->cur].row, l->walk[l->cur].col, out);
}

const char *st_learn_current_label(const st_learn *l)
{
    return st_learn_done(l) ? "" : l->label[l->walk[l->cur].row][l->walk[l->cur].col];
}

/* Is position (r, c) still to be asked for (after the current one)? */
static bool pending(const st_learn *l, int r, int c)
{
    for (int i = l->cur + 1; i < l->n_walk; i++)
        if (l->walk[i].row == r && l->walk[i].col == c)
            return true;
    return false;
}

int st_learn_assign(st_learn *l, const char *place, char *taken)
{
    if (st_learn_done(l))
        return -1;
    st_learn_pos me = l->walk[l->cur];
    const st_layout_place *q = st_layout_find(&l->L, place);
    if (q && !(q->row == me.row && q->col == me.col)) {
        if (!pending(l, q->row, q->col)) {
            st_layout_pos_name(q->row, q->col, taken);
            return -1;
        }
        /* the old place of a position still to come: it goes here, that one needs its own */
        int qr = q->row, qc = q->col;
        st_layout_pos_name(me.row, me.col, l->stolen[qr][qc]);
        st_layout_remove_place(&l->L, place);
    }
    if (st_layout_set(&l->L, me.row, me.col, place, l->label[me.row][me.col]) < 0) {
        st_layout_pos_name(me.row, me.col, taken);
        return -1;
    }
    l->learned[me.row][me.col] = true;
    l->n_learned++;
    l->cur++;
    return 0;
}

void st_learn_skip(st_learn *l, char *note, size_t cap)
{
    if (st_learn_done(l))
        return;
    st_learn_pos me = l->walk[l->cur];
    const st_layout_place *p = st_layout_at(&l->L, me.row, me.col);
    if (note && p)
        snprintf(note, cap, "keeps %s from the file", p->place);
    else if (note && *l->stolen[me.row][me.col])
        snprintf(note, cap, "left out (its place in the file went to %s)", l->stolen[me.row][me.col]);
    else if (note)
        snprintf(note, cap, "left out");
    l->cur++;
}

void st_learn_finish(st_learn *l)
{
    l->cur = l->n_walk;
}
