/* cli_provision.c - `station provision-preview`: render one unit's NVS entries from the
 * profile's [provision] section and write the partition image, without touching a unit.
 * Secrets from the CSV are printed as their SHA-256 only. Exit 0, 1 for a per-unit error
 * (no CSV row, a value that does not fit), 2 for usage/profile errors. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_paths.h"
#include "cli_records.h"
#include "db.h"
#include "image.h"
#include "profile.h"
#include "provision.h"

static int usage(FILE *out)
{
    fprintf(out,
            "usage: station provision-preview --profile NAME_OR_PATH --mac MAC [--serial TEXT]\n"
            "                                 [-o FILE] [--db PATH] [--profiles-dir DIR]\n"
            "  --profile       profile with a [provision] section\n"
            "  --mac           the unit's MAC (aa:bb:cc:dd:ee:ff)\n"
            "  --serial        use this serial instead of the one the database holds or would\n"
            "                  allocate next (nothing is allocated by a preview)\n"
            "  -o              where to write the image (default nvs-<mac12>.bin)\n"
            "  --db            the station database (default $STATION_DB or the user's)\n"
            "  --profiles-dir  ':'-separated directories to look for NAME.ini\n");
    return out == stdout ? 0 : 2;
}

static void print_err(const char *what, const st_err *e)
{
    char line[800];
    st_err_format(e, line, sizeof line);
    fprintf(stderr, "station provision-preview: %s: %s\n", what, line);
    if (e->hint[0])
        fprintf(stderr, "  hint: %s\n", e->hint);
}

/* The serial the unit has in the database, else the one it would get next. */
static int preview_serial(const char *db_path, const st_provision *pv, const char *profile,
                          const char *mac, char *out, size_t cap, const char **how)
{
    st_db *db = NULL;
    st_db_opts o = {.read_only = true};
    st_err err;
    char path[1024];
    if (!db_path && st_db_default_path(path, sizeof path, &err) == 0)
        db_path = path;
    FILE *probe = db_path ? fopen(db_path, "rb") : NULL;
    if (probe) {
        fclose(probe);
        if (st_db_open(db_path, &o, &db, &err) < 0)
            db = NULL;
    }
    st_db_serial s;
    bool found = false;
    int64_t next = 1;
    if (db && st_db_serial_get(db, profile, mac, &s, &found, &err) == 0 && found) {
        snprintf(out, cap, "%s", s.serial);
        *how = "already allocated to this unit";
        st_db_close(db);
        return 0;
    }
    if (db)
        st_db_serial_next(db, profile, &next, &err);
    st_db_close(db);
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    if (st_prov_serial_format(pv->serial_fmt, tm.tm_year + 1900, next, out, cap))
        return -1;
    *how = "the next free serial (not allocated by a preview)";
    return 0;
}

int st_cli_provision_preview(int argc, char **argv)
{
    static const struct option lo[] = {
        {"profile", required_argument, NULL, 'p'}, {"mac", required_argument, NULL, 'm'},
        {"serial", required_argument, NULL, 's'},  {"db", required_argument, NULL, 'D'},
        {"profiles-dir", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *profile = NULL, *mac_in = NULL, *serial = NULL, *outp = NULL, *dirs = NULL,
               *db_path = NULL;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "o:h", lo, NULL)) != -1) {
        switch (ch) {
        case 'p': profile = optarg; break;
        case 'm': mac_in = optarg; break;
        case 's': serial = optarg; break;
        case 'o': outp = optarg; break;
        case 'D': db_path = optarg; break;
        case 'd': dirs = optarg; break;
        case 'h': return usage(stdout);
        default: return usage(stderr);
        }
    }
    if (!profile || !mac_in || optind != argc)
        return usage(stderr);
    st_err err;
    char mac[18];
    if (st_db_mac_normalize(mac_in, mac, &err) < 0) {
        print_err("--mac", &err);
        return 2;
    }
    char dirs_buf[2048], path[ST_PATH_MAX];
    dirs = st_cli_profile_dirs(dirs, dirs_buf, sizeof dirs_buf);
    st_profile *prof = calloc(1, sizeof *prof);
    st_fwset *fw = calloc(1, sizeof *fw);
    int rc = 2;
    if (!prof || !fw) {
        fprintf(stderr, "station provision-preview: out of memory\n");
        goto out;
    }
    if (st_profile_resolve(profile, dirs, path, sizeof path, &err) < 0 ||
        st_profile_load(path, prof, &err) < 0 || st_fwset_prepare(prof, NULL, fw, &err) < 0) {
        print_err("profile", &err);
        goto out;
    }
    const st_provision *pv = &fw->prof.prov;
    if (!pv->enabled) {
        fprintf(stderr, "station provision-preview: profile %s has no [provision] section\n",
                fw->prof.path);
        goto out;
    }
    char serial_buf[96] = "";
    const char *how = "given with --serial";
    if (pv->serial_fmt[0]) {
        if (serial)
            snprintf(serial_buf, sizeof serial_buf, "%s", serial);
        else if (preview_serial(db_path, pv, fw->prof.name, mac, serial_buf, sizeof serial_buf,
                                &how) < 0) {
            fprintf(stderr, "station provision-preview: serial format '%s' is malformed\n",
                    pv->serial_fmt);
            goto out;
        }
    }
    st_prov_unit u = {.serial = serial_buf};
    for (int i = 0; i < 6; i++)
        u.mac[i] = (uint8_t)strtoul(mac + 3 * i, NULL, 16);
    st_prov_result r;
    if (st_prov_render(pv, fw->csv, &u, &r, &err) < 0) {
        print_err("unit", &err);
        rc = 1;
        goto out;
    }
    char def[64];
    if (!outp) {
        snprintf(def, sizeof def, "nvs-%.2s%.2s%.2s%.2s%.2s%.2s.bin", mac, mac + 3, mac + 6, mac + 9,
                 mac + 12, mac + 15);
        outp = def;
    }
    printf("profile %s: NVS partition 0x%x+0x%x, namespace %s, unit %s\n", fw->prof.name,
           pv->offset, pv->size, pv->ns, mac);
    if (serial_buf[0])
        printf("serial %s (%s)\n", serial_buf, how);
    for (int i = 0; i < r.n; i++)
        printf("  %-15s %-8s %s%s\n", r.v[i].key, r.v[i].type, r.v[i].shown,
               r.v[i].secret ? "  (secret: digest only)" : "");
    FILE *f = fopen(outp, "wb");
    if (!f || fwrite(r.image, 1, r.len, f) != r.len || fclose(f) != 0) {
        perror(outp);
        st_prov_result_free(&r);
        goto out;
    }
    printf("wrote %s (%zu bytes)\n", outp, r.len);
    st_prov_result_free(&r);
    rc = 0;
out:
    st_fwset_free(fw);
    free(fw);
    free(prof);
    return rc;
}
