/* sim_scenario.c - scenario file parser (see sim_scenario.h and README.md). */
#include "sim_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim_opts.h"

#define MAX_SLOTS 64

static const sim_leave LEAVE_NEVER = {-1, -1, -1, -1};
static const sim_leave LEAVE_DEFAULT = {2, -1, -1, -1};

static int parse_secs(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end == v || *end || d < 0 || d > 1e6)
        return -1;
    *out = d;
    return 0;
}

int scenario_parse_leave(sim_leave *l, const char *spec)
{
    char buf[256];
    if (strlen(spec) >= sizeof buf)
        return -1;
    strcpy(buf, spec);
    *l = LEAVE_NEVER;
    if (!strcmp(buf, "never"))
        return 0;
    for (char *save = NULL, *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *plus = strchr(t, '+');
        double v;
        if (!plus || parse_secs(plus + 1, &v))
            return -1;
        *plus = 0;
        if (!strcmp(t, "reset"))
            l->reset = v;
        else if (!strcmp(t, "close"))
            l->close = v;
        else if (!strcmp(t, "stay"))
            l->stay = v;
        else if (!strcmp(t, "at"))
            l->at = v;
        else
            return -1;
    }
    return 0;
}

static int append(char *dst, size_t cap, const char *tok)
{
    size_t l = strlen(dst);
    if (l + 1 + strlen(tok) + 1 > cap)
        return -1;
    snprintf(dst + l, cap - l, "%s%s", l ? " " : "", tok);
    return 0;
}

static int grow(sim_scenario *s)
{
    sim_arrival *na = realloc(s->a, sizeof *na * (size_t)(s->n + 1));
    if (!na)
        return -1;
    s->a = na;
    return 0;
}

/* Validate an option string the way the simulator will apply it. */
static int check_opts(const char *opts, char *err, size_t errlen)
{
    sim_unit_opts o;
    char buf[SIM_OPTS_TEXT];
    opts_default(&o, 1, 1);
    strcpy(buf, opts);
    for (char *save = NULL, *t = strtok_r(buf, " ", &save); t; t = strtok_r(NULL, " ", &save))
        if (opts_apply(&o, t, err, errlen) != 0)
            return -1;
    return 0;
}

int scenario_load(sim_scenario *s, const char *path, char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    static char slot_defaults[MAX_SLOTS + 1][SIM_OPTS_TEXT];
    memset(slot_defaults, 0, sizeof slot_defaults);
    char line[2048], e2[200];
    int ln = 0;
    while (fgets(line, sizeof line, f)) {
        ln++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = 0;
        char *save = NULL, *kw = strtok_r(line, " \t\r\n", &save);
        if (!kw)
            continue;
        if (!strcmp(kw, "seed")) {
            char *v = strtok_r(NULL, " \t\r\n", &save);
            if (!v)
                goto bad;
            s->seed = strtoull(v, NULL, 0);
            s->has_seed = true;
            continue;
        }
        if (strcmp(kw, "slot") && strcmp(kw, "unit"))
            goto bad;
        char *sv = strtok_r(NULL, " \t\r\n", &save);
        int k = sv ? atoi(sv) : 0;
        if (k < 1 || k > MAX_SLOTS)
            goto bad;
        if (k > s->nslots)
            s->nslots = k;
        if (!strcmp(kw, "slot")) {
            for (char *t; (t = strtok_r(NULL, " \t\r\n", &save));)
                if (append(slot_defaults[k], SIM_OPTS_TEXT, t))
                    goto bad;
            if (check_opts(slot_defaults[k], e2, sizeof e2))
                goto bad_opt;
            continue;
        }
        if (grow(s))
            goto bad;
        sim_arrival *a = &s->a[s->n];
        memset(a, 0, sizeof *a);
        a->slot = k;
        a->at = -1;
        a->after = 0;
        a->leave = LEAVE_DEFAULT;
        a->line = ln;
        strcpy(a->opts, slot_defaults[k]);
        for (char *t; (t = strtok_r(NULL, " \t\r\n", &save));) {
            if (!strncmp(t, "at=", 3)) {
                if (parse_secs(t + 3, &a->at))
                    goto bad;
            } else if (!strncmp(t, "after=", 6)) {
                if (parse_secs(t + 6, &a->after))
                    goto bad;
            } else if (!strncmp(t, "leave=", 6)) {
                if (scenario_parse_leave(&a->leave, t + 6))
                    goto bad;
            } else if (append(a->opts, SIM_OPTS_TEXT, t)) {
                goto bad;
            }
        }
        if (check_opts(a->opts, e2, sizeof e2))
            goto bad_opt;
        s->n++;
    }
    fclose(f);
    if (s->n == 0) {
        snprintf(err, errlen, "%s: no units", path);
        scenario_free(s);
        return -1;
    }
    return 0;
bad_opt:
    snprintf(err, errlen, "%s:%d: %s", path, ln, e2);
    goto out;
bad:
    snprintf(err, errlen, "%s:%d: cannot parse this line", path, ln);
out:
    fclose(f);
    scenario_free(s);
    return -1;
}

int scenario_plain(sim_scenario *s, int n)
{
    memset(s, 0, sizeof *s);
    s->a = calloc((size_t)n, sizeof *s->a);
    if (!s->a)
        return -1;
    for (int i = 0; i < n; i++) {
        s->a[i].slot = i + 1;
        s->a[i].at = 0;
        s->a[i].leave = LEAVE_NEVER;
    }
    s->n = s->nslots = n;
    return 0;
}

void scenario_free(sim_scenario *s)
{
    free(s->a);
    memset(s, 0, sizeof *s);
}
