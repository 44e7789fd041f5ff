/* cli_audit.c - `station audit MAC`: a unit's whole history, newest first: every attempt
 * and every retry-bin entry. Exit status 0 with history, 1 when the MAC was never seen,
 * 2 usage, 3 database unusable. */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_records.h"

#define PROG "station audit"

static int usage(FILE *out)
{
    fprintf(out, "usage: station audit MAC [--db PATH] [--json]\n"
                 "  MAC      aa:bb:cc:dd:ee:ff (also upper case, '-' separated or 12 hex digits)\n"
                 "  --db     record store (default $STATION_DB or the per-user default)\n"
                 "  --json   one JSON object per line: kind \"attempt\" or \"bin\", the other\n"
                 "           keys as in station export --json / station retry-bin --json\n");
    return out == stdout ? 0 : 2;
}

typedef struct {
    bool json;
    int rows;
} audit_ctx;

/* The JSON keys and null conventions are those of `station export --json` and
 * `station retry-bin --json` (db_export.c), plus "kind", so scripts read all three alike. */
static void set_str(json_t *o, const char *k, const char *v)
{
    json_t *s = v && *v ? json_string(v) : json_null();
    json_object_set_new(o, k, s ? s : json_string("(not UTF-8)"));
}

static void set_int_nz(json_t *o, const char *k, int64_t v)
{
    json_object_set_new(o, k, v ? json_integer(v) : json_null());
}

static void set_time(json_t *o, const char *k, int64_t ms)
{
    char t[32];
    st_db_format_time(ms, t, sizeof t);
    set_str(o, k, t);
}

static void set_vidpid(json_t *o, uint16_t vid, uint16_t pid)
{
    char vp[16] = "";
    if (vid || pid)
        snprintf(vp, sizeof vp, "%04x:%04x", vid, pid);
    set_str(o, "vid_pid", vp);
}

static void set_failure(json_t *o, st_fclass fc, st_phase ph, const uint8_t *status, int n,
                        const char *detail, const char *hint)
{
    char st[16];
    st_cli_status_hex(status, n, st, sizeof st);
    for (char *p = st, *q = st;; p++) /* export form: "01070000" */
        if (*p != ' ' && !(*q++ = *p))
            break;
    set_str(o, "fclass", fc ? st_fclass_name(fc) : "");
    set_str(o, "phase", ph ? st_phase_name(ph) : "");
    set_str(o, "status", st);
    set_str(o, "detail", detail);
    set_str(o, "hint", hint);
}

static json_t *attempt_json(const st_db_attempt *a)
{
    json_t *o = json_object();
    char rev[16] = "", fid[16] = "";
    if (a->chip[0])
        snprintf(rev, sizeof rev, "v%d.%d", a->rev_major, a->rev_minor);
    if (a->flash_id)
        snprintf(fid, sizeof fid, "0x%06x", a->flash_id);
    set_str(o, "kind", "attempt");
    json_object_set_new(o, "id", json_integer(a->id));
    set_str(o, "mac", a->mac);
    json_object_set_new(o, "slot", json_integer(a->slot));
    set_str(o, "port", a->port);
    set_str(o, "bridge", a->bridge);
    set_vidpid(o, a->vid, a->pid);
    set_str(o, "bridge_serial", a->bridge_serial);
    set_str(o, "chip", a->chip);
    set_str(o, "package", a->package);
    set_str(o, "description", a->description);
    set_str(o, "revision", rev);
    set_str(o, "flash_id", fid);
    set_int_nz(o, "flash_size", a->flash_size);
    set_str(o, "profile", a->profile);
    json_t *imgs = json_array();
    for (int i = 0; i < a->nimages; i++)
        json_array_append_new(imgs, json_pack("{s:I,s:s}", "offset", (json_int_t)a->images[i].offset,
                                              "sha256", a->images[i].sha256));
    json_object_set_new(o, "images", imgs);
    set_int_nz(o, "baud", a->baud);
    json_object_set_new(o, "bytes_raw", json_integer((json_int_t)a->bytes_raw));
    json_object_set_new(o, "bytes_compressed", json_integer((json_int_t)a->bytes_compressed));
    json_object_set_new(o, "connect_ms", json_integer(a->connect_ms));
    json_object_set_new(o, "stub_ms", json_integer(a->stub_ms));
    json_object_set_new(o, "write_ms", json_integer(a->write_ms));
    json_object_set_new(o, "verify_ms", json_integer(a->verify_ms));
    json_object_set_new(o, "total_ms", json_integer(a->total_ms));
    json_object_set_new(o, "try_no", json_integer(a->try_no));
    set_str(o, "outcome", st_db_outcome_name(a->outcome));
    set_failure(o, a->fclass, a->phase, a->status, a->nstatus, a->detail, a->hint);
    set_str(o, "host", a->host);
    set_str(o, "operator", a->operator_name);
    set_time(o, "started", a->started_ms);
    set_time(o, "ended", a->ended_ms);
    return o;
}

static json_t *bin_json(const st_db_bin_entry *b)
{
    json_t *o = json_object();
    set_str(o, "kind", "bin");
    json_object_set_new(o, "id", json_integer(b->id));
    set_str(o, "mac", b->mac);
    json_object_set_new(o, "slot", json_integer(b->slot));
    set_str(o, "port", b->port);
    set_failure(o, b->fclass, b->phase, b->status, b->nstatus, b->detail, b->hint);
    set_vidpid(o, b->vid, b->pid);
    json_object_set_new(o, "attempts", json_integer(b->attempts));
    set_time(o, "first_fail", b->first_fail_ms);
    set_time(o, "last_fail", b->last_fail_ms);
    set_int_nz(o, "last_attempt_id", b->last_attempt_id);
    set_time(o, "resolved", b->resolved_ms);
    set_int_nz(o, "resolved_by", b->resolved_by);
    return o;
}

static int on_row(void *user, const st_db_attempt *a, const st_db_bin_entry *b)
{
    audit_ctx *c = user;
    c->rows++;
    if (c->json) {
        json_t *o = a ? attempt_json(a) : bin_json(b);
        char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
        if (s)
            puts(s);
        free(s);
        json_decref(o);
    } else {
        char line[1400];
        st_cli_history_line(a, b, line, sizeof line);
        puts(line);
    }
    return 0;
}

int st_cli_audit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"db", required_argument, 0, 'D'}, {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},     {0, 0, 0, 0},
    };
    const char *dbpath = NULL;
    audit_ctx c = {0};
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'D': dbpath = optarg; break;
        case 'j': c.json = true; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (optind != argc - 1)
        return usage(stderr);
    st_err err;
    char mac[18];
    if (st_db_mac_normalize(argv[optind], mac, &err) < 0) {
        st_cli_print_err(PROG, &err);
        return 2;
    }
    st_db *db;
    int rc = st_cli_open_reader(PROG, dbpath, &db);
    if (rc)
        return rc;
    if (st_db_audit(db, mac, on_row, &c, &err) < 0) {
        st_cli_print_err(PROG, &err);
        st_db_close(db);
        return 3;
    }
    st_db_close(db);
    if (c.rows == 0) {
        fprintf(stderr, PROG ": no records for %s\n", mac);
        return 1;
    }
    return 0;
}
