/* main.c - the `station` executable: a thin dispatcher to one function per command
 * (cli_<command>.c). To add a command, write its file and add a row to `commands`. */
#include <stdio.h>
#include <string.h>

#include "db.h"
#include "who.h"

typedef int (*st_cli_fn)(int argc, char **argv);

/* Each takes argv[0] = the command name and returns the process exit status. */
int st_cli_flash(int argc, char **argv);
int st_cli_run(int argc, char **argv);
int st_cli_audit(int argc, char **argv);
int st_cli_binlist(int argc, char **argv);
int st_cli_export(int argc, char **argv);
int st_cli_stats(int argc, char **argv);
int st_cli_demo(int argc, char **argv);
int st_cli_provision_preview(int argc, char **argv);
int st_cli_central(int argc, char **argv);
int st_cli_layout(int argc, char **argv);
int st_cli_identify(int argc, char **argv);
int st_cli_read(int argc, char **argv);
int st_cli_erase(int argc, char **argv);
int st_cli_unprotect(int argc, char **argv);
/* No arguments: the demo when no ESP bridge is attached and a terminal is (cli_demo.c);
 * -1 otherwise (then the usage is shown). */
int st_cli_bare(void);

static const struct {
    const char *name;
    st_cli_fn fn;
    const char *summary;
} commands[] = {
    {"flash", st_cli_flash, "flash one unit and verify it (--port PATH --profile NAME)"},
    {"identify", st_cli_identify, "what a unit is: chip, MAC, flash, eFuse (--port PATH)"},
    {"read", st_cli_read, "back up a unit's flash, MD5-checked (--port, --all, -o FILE)"},
    {"erase", st_cli_erase, "erase flash, checked erased (--port, --region O S | --all)"},
    {"unprotect", st_cli_unprotect, "clear the flash's write protection (--port, --nv)"},
    {"run", st_cli_run, "the production line: flash every unit plugged in (--profile NAME)"},
    {"audit", st_cli_audit, "a unit's whole history, newest first (MAC)"},
    {"retry-bin", st_cli_binlist, "units waiting to be reflashed (--all, --csv, --json; close MAC --reason)"},
    {"export", st_cli_export, "attempts as CSV or JSON lines (--since, --until, -o FILE)"},
    {"stats", st_cli_stats, "yield, failure classes by bridge chip, units per hour"},
    {"central", st_cli_central, "the factory's central store: init, sync (ship the backlog), status"},
    {"layout", st_cli_layout, "learn the line layout file: plug a unit into each fixture position (learn)"},
    {"demo", st_cli_demo, "the line on simulated units, with the dashboard (no hardware)"},
    {"provision-preview", st_cli_provision_preview,
     "one unit's NVS entries and partition image, without a unit (--profile, --mac)"},
};

static int usage(FILE *out)
{
    fprintf(out, "usage: station <command> [options]   (station <command> --help; station --version)\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-17s %s\n", commands[i].name, commands[i].summary);
    return out == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        int rc = st_cli_bare();
        return rc >= 0 ? rc : usage(stderr);
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help"))
        return usage(stdout);
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "version")) {
        printf("station %s (flashstation; record schema v%d)\n", st_who_version(), ST_DB_SCHEMA_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name))
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "station: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
