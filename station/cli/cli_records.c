/* cli_records.c - helpers shared by the record commands (cli_records.h). */
#include "cli_records.h"
#include "text.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Two decimal digits at s into *v. */
static bool two_digits(const char *s, int *v)
{
    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]))
        return false;
    *v = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

int st_cli_parse_time(const char *s, int64_t *out_ms, st_err *err)
{
    int64_t now = st_db_now_ms();
    if (!s || !*s)
        return st_err_set(err, ST_E_ARG, ST_PH_NONE, "empty time");
    if (strcmp(s, "now") == 0) {
        *out_ms = now;
        return 0;
    }
    char *end;
    double v = strtod(s, &end);
    if (end != s && *end && !end[1] && strchr("smhd", *end) && v >= 0 && isdigit((unsigned char)*s)) {
        double unit = *end == 's' ? 1e3 : *end == 'm' ? 60e3 : *end == 'h' ? 3600e3 : 86400e3;
        *out_ms = now - (int64_t)(v * unit);
        return 0;
    }
    struct tm tm = {0};
    int y, mo, d, h = 0, mi = 0, n = 0, off_min = 0;
    double sec = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n != 10)
        goto bad;
    const char *p = s + n;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        if (!two_digits(p + 1, &h) || p[3] != ':' || !two_digits(p + 4, &mi))
            goto bad;
        p += 6;
        if (*p == ':') {
            char *end2;
            if (!isdigit((unsigned char)p[1]) || !isdigit((unsigned char)p[2]))
                goto bad;
            sec = strtod(p + 1, &end2);
            p = end2;
        }
        /* the offset from UTC: Z, +hh:mm, +hhmm or +hh (-hh... west of Greenwich) */
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int sign = *p == '-' ? -1 : 1, oh, om = 0;
            if (!two_digits(p + 1, &oh))
                goto bad;
            p += 3;
            if (*p == ':')
                p++;
            if (isdigit((unsigned char)*p)) {
                if (!two_digits(p, &om))
                    goto bad;
                p += 2;
            }
            if (oh > 23 || om > 59)
                goto bad;
            off_min = sign * (oh * 60 + om);
        }
    } else if (*p == 'Z' || *p == 'z') {
        p++;
    }
    if (*p || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec < 0 || sec >= 61)
        goto bad;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    *out_ms = ((int64_t)timegm(&tm) - (int64_t)off_min * 60) * 1000 + (int64_t)(sec * 1000 + 0.5);
    return 0;
bad:
    st_err_set(err, ST_E_ARG, ST_PH_NONE, "cannot read the time \"%s\"", s);
    return st_err_hint(err, "use ISO-8601 (2026-12-03, 2026-12-03T07:28, 2026-12-03T07:28:15Z, "
                            "2026-12-03T07:28+01:00; no offset = UTC), \"now\", or an age such as "
                            "90m, 24h, 7d");
}

int st_cli_parse(const char *prog, int argc, char **argv, const struct option *longopts, int nargs,
                 st_cli_opts *o, int (*usage)(FILE *out))
{
    char shortopts[8] = "h";
    for (const struct option *l = longopts; l->name; l++)
        if (l->val == 'o')
            strcat(shortopts, "o:");
    memset(o, 0, sizeof *o);
    st_err err;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        switch (ch) {
        case 'D': o->db_path = optarg; break;
        case 'j': o->json = true; break;
        case 'c': o->csv = true; break;
        case 'a': o->all = true; break;
        case 'o': o->output = optarg; break;
        case 'C': o->central = optarg; break;
        case 'l': o->local = true; break;
        case 'B': o->by = optarg; break;
        case 'S': o->serial = optarg; break;
        case 's':
        case 'u':
            if (st_cli_parse_time(optarg, ch == 's' ? &o->since_ms : &o->until_ms, &err) < 0) {
                st_cli_print_err(prog, &err);
                return 2;
            }
            break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    o->nargs = argc - optind;
    if (nargs >= 0 ? o->nargs != nargs : o->nargs > -nargs)
        return usage(stderr);
    /* a range that ends before it starts holds nothing: say so rather than answer empty */
    if (o->since_ms && o->until_ms && o->since_ms >= o->until_ms) {
        char a[32], b[32];
        st_db_format_time(o->since_ms, a, sizeof a);
        st_db_format_time(o->until_ms, b, sizeof b);
        st_err_set(&err, ST_E_ARG, ST_PH_NONE, "--until %s is not after --since %s: the range is empty",
                   b, a);
        st_err_hint(&err, "swap the two times, or widen the range (times without an offset are UTC)");
        st_cli_print_err(prog, &err);
        return 2;
    }
    o->args = argv + optind;
    return -1;
}

void st_cli_put_json(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (s)
        puts(s);
    free(s);
    json_decref(o);
}

void st_cli_print_err(const char *prog, const st_err *e)
{
    char line[800];
    if (e->phase == ST_PH_NONE && !e->cmd && !e->nstatus)
        snprintf(line, sizeof line, "%s", e->msg); /* an argument: no phase to name */
    else
        st_err_format(e, line, sizeof line);
    fprintf(stderr, "%s: %s\n", prog, line);
    if (*e->hint)
        fprintf(stderr, "  hint: %s\n", e->hint);
}

int st_cli_open_reader(const char *prog, const char *path, st_db **out)
{
    st_db_opts o = {.read_only = true};
    st_err err;
    if (st_db_open(path, &o, out, &err) < 0) {
        st_cli_print_err(prog, &err);
        return 3;
    }
    return 0;
}

int st_cli_open_central(const char *prog, const st_cli_opts *o, st_central **out)
{
    *out = NULL;
    if (o->local && !o->central)
        return 0;
    const char *env = getenv("STATION_CENTRAL");
    if (!o->central && !(env && *env))
        return 0;
    char conn[ST_CENTRAL_MAX];
    st_central_src src;
    st_err err;
    if (st_central_conninfo(o->central, conn, sizeof conn, &src, &err) < 0 ||
        st_central_open(conn, out, &err) < 0) {
        st_cli_print_err(prog, &err);
        return 3;
    }
    return 0;
}

void st_cli_status_hex(const uint8_t *status, int n, char *buf, size_t cap)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < n && used + 4 <= cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%02x", i ? " " : "", status[i]);
}

static void attempt_line(const st_db_attempt *a, char *buf, size_t cap)
{
    char t[32], st[16];
    st_db_format_time(a->started_ms, t, sizeof t);
    st_cli_status_hex(a->status, a->nstatus, st, sizeof st);
    size_t n = 0;
#define ADD(...) \
    do { \
        if (n < cap) \
            n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__); \
    } while (0)
    ADD("%s  attempt #%lld  %-11s try %d  slot %s %s", t, (long long)a->id,
        st_db_outcome_name(a->outcome), a->try_no, a->slot_name, a->port);
    if (a->vid || *a->bridge)
        ADD("  %s %04x:%04x", *a->bridge ? a->bridge : "bridge", a->vid, a->pid);
    if (*a->bridge_serial)
        ADD("  usb serial %s", a->bridge_serial);
    if (*a->description)
        ADD("  %s", a->description);
    if (a->flash_id)
        ADD("  flash 0x%06x", a->flash_id);
    if (*a->action) /* a repair-bench action, not a flash: what it did */
        ADD("  %s%s%s", a->action, *a->action_detail ? ": " : "", a->action_detail);
    if (*a->profile || !*a->action)
        ADD("  profile %s  %d baud", a->profile, a->baud);
    if (a->outcome == ST_DB_PASS && !*a->action)
        ADD("  %llu bytes in %.2f s", (unsigned long long)a->bytes_raw, a->total_ms / 1000.0);
    if (a->blocks_repaired > 0)
        ADD("  %d block%s repaired on the link", a->blocks_repaired, a->blocks_repaired == 1 ? "" : "s");
    if (a->mac_crc_bad)
        ADD("  WARNING: eFuse MAC CRC wrong (the MAC may be misread)");
    if (*a->serial)
        ADD("  serial %s", a->serial);
    if (!strcmp(a->boot, "pass"))
        ADD("  booted%s%s", *a->boot_captured ? " " : "", a->boot_captured);
    if (*a->provision)
        ADD("  provisioned: %s", a->provision);
    if (a->fclass != ST_FC_NONE) {
        ADD("  [%s at %s%s%s]", st_fclass_name(a->fclass), st_phase_name(a->phase), *st ? ", status " : "", st);
        if (*a->detail)
            ADD(" %s", a->detail);
        if (*a->hint)
            ADD("; hint: %s", a->hint);
    }
    if (*a->operator_name || *a->host)
        ADD("  by %s@%s", *a->operator_name ? a->operator_name : "-", a->host);
    if (*a->station_version)
        ADD("  station %s", a->station_version);
    if (*a->hook.result) {
        ADD("  ON-RESULT FAILED: ");
        if (!strcmp(a->hook.result, "exit"))
            ADD("exited with status %d", a->hook.exit_code);
        else if (!strcmp(a->hook.result, "signal"))
            ADD("killed by signal %d", a->hook.signal);
        else if (!strcmp(a->hook.result, "timeout"))
            ADD("timed out");
        else
            ADD("could not be started");
        ADD(" after %.1f s (%s)", a->hook.duration_ms / 1000.0, a->hook.command);
        if (*a->hook.stderr_head)
            ADD("; stderr: %s", a->hook.stderr_head);
    }
}

static void bin_line(const st_db_bin_entry *b, char *buf, size_t cap)
{
    char t[32], r[32], st[16];
    st_db_format_time(b->resolved_ms ? b->resolved_ms : b->last_fail_ms, t, sizeof t);
    st_db_format_time(b->resolved_ms, r, sizeof r);
    st_cli_status_hex(b->status, b->nstatus, st, sizeof st);
    size_t n = 0;
    ADD("%s  retry-bin #%lld  ", t, (long long)b->id);
    if (b->closed_reason[0])
        ADD("closed by %s@%s: %s", b->closed_by[0] ? b->closed_by : "-", b->closed_host[0] ? b->closed_host : "-",
            b->closed_reason);
    else if (b->resolved_ms && b->resolved_by)
        ADD("resolved by attempt #%lld", (long long)b->resolved_by);
    else if (b->resolved_ms)
        ADD("resolved by hand");
    else
        ADD("open");
    ADD("  %s at %s%s%s, %d failed attempt%s, slot %s %s", st_fclass_name(b->fclass),
        st_phase_name(b->phase), *st ? ", status " : "", st, b->attempts, b->attempts == 1 ? "" : "s",
        b->slot_name, b->port);
    if (b->vid)
        ADD(", bridge %04x:%04x", b->vid, b->pid);
    if (*b->hint)
        ADD("; hint: %s", b->hint);
#undef ADD
}

void st_cli_history_line(const st_db_attempt *a, const st_db_bin_entry *b, char *buf, size_t cap)
{
    if (a)
        attempt_line(a, buf, cap);
    else
        bin_line(b, buf, cap);
    st_text_clean(buf); /* device strings reach a terminal */
}
