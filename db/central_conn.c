/* central_conn.c - finding the connection string, connecting with bounded timeouts, and
 * errors that say what is wrong without ever showing the password. */
#include "central_internal.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const central_table_name[CT_COUNT] = {"units", "attempts", "bin", "serials"};

/* ---- where the connection string comes from ---------------------------------------- */

static int conf_err(st_err *err, const char *hint, const char *fmt, const char *path, const char *why)
{
    st_err_set(err, ST_E_ARG, ST_PH_DB, fmt, path, why);
    err->fclass = ST_FC_CONFIG;
    return st_err_hint(err, "%s", hint);
}

/* Read the one connection string of conf file path into out. */
static int read_conf(const char *path, char *out, size_t cap, st_err *err)
{
    struct stat sb;
    if (stat(path, &sb) < 0)
        return conf_err(err, "create it (one line: the connection URL), mode 0600",
                        "cannot read the central store's settings %s: %s", path, strerror(errno));
    if (sb.st_mode & 077) {
        char why[64];
        snprintf(why, sizeof why, "mode %04o lets other users read the password", (unsigned)(sb.st_mode & 07777));
        return conf_err(err, "chmod 600 the file (owned by the station's user)",
                        "refusing the central store's settings %s: %s", path, why);
    }
    FILE *f = fopen(path, "r");
    if (!f)
        return conf_err(err, "make it readable for the station's user (mode 0600)",
                        "cannot read the central store's settings %s: %s", path, strerror(errno));
    char line[ST_CENTRAL_MAX];
    out[0] = '\0';
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        size_t n = strlen(p);
        while (n && isspace((unsigned char)p[n - 1]))
            p[--n] = '\0';
        if (!*p || *p == '#')
            continue;
        snprintf(out, cap, "%s", p);
        break;
    }
    fclose(f);
    if (!out[0])
        return conf_err(err, "write the connection URL on one line, e.g. "
                             "postgresql://station1@central.example/flash?sslmode=verify-full",
                        "the central store's settings %s hold no connection string%s", path, "");
    return 0;
}

/* True when conninfo sets a password (a malformed one is reported later, by connect). */
static bool has_password(const char *conninfo)
{
    PQconninfoOption *o = PQconninfoParse(conninfo, NULL);
    bool pw = false;
    for (PQconninfoOption *p = o; p && p->keyword; p++)
        if (!strcmp(p->keyword, "password") && p->val && *p->val)
            pw = true;
    PQconninfoFree(o);
    return pw;
}

int st_central_conninfo(const char *given, char *out, size_t cap, st_central_src *src, st_err *err)
{
    out[0] = '\0';
    *src = ST_CENTRAL_NONE;
    if (given && *given) {
        struct stat sb;
        if (stat(given, &sb) == 0 && S_ISREG(sb.st_mode)) {
            *src = ST_CENTRAL_FILE;
            return read_conf(given, out, cap, err);
        }
        if (has_password(given)) {
            st_err_set(err, ST_E_ARG, ST_PH_DB,
                       "refusing a central connection string with a password on the command line "
                       "(every user can read it with ps)");
            err->fclass = ST_FC_CONFIG;
            return st_err_hint(err, "leave the password out: put the whole string in %s (mode 0600), "
                                    "or in STATION_CENTRAL, or the password in ~/.pgpass",
                               ST_CENTRAL_CONF_DEFAULT);
        }
        snprintf(out, cap, "%s", given);
        *src = ST_CENTRAL_ARGV;
        return 0;
    }
    const char *env = getenv("STATION_CENTRAL");
    if (env && *env) {
        snprintf(out, cap, "%s", env);
        *src = ST_CENTRAL_ENV;
        return 0;
    }
    const char *conf = getenv("STATION_CENTRAL_CONF");
    bool explicit = conf && *conf;
    if (!explicit)
        conf = ST_CENTRAL_CONF_DEFAULT;
    if (!explicit && access(conf, F_OK) != 0)
        return 0; /* not configured: the station works alone */
    *src = ST_CENTRAL_FILE;
    return read_conf(conf, out, cap, err);
}

void st_central_describe(const char *conninfo, char *out, size_t cap)
{
    char *msg = NULL;
    PQconninfoOption *o = PQconninfoParse(conninfo, &msg);
    if (!o) {
        snprintf(out, cap, "(unreadable connection string)");
        PQfreemem(msg);
        return;
    }
    const char *user = "", *host = "", *port = "", *db = "";
    for (PQconninfoOption *p = o; p->keyword; p++) {
        const char *v = p->val ? p->val : "";
        if (!strcmp(p->keyword, "user"))
            user = v;
        else if (!strcmp(p->keyword, "host"))
            host = v;
        else if (!strcmp(p->keyword, "port"))
            port = v;
        else if (!strcmp(p->keyword, "dbname"))
            db = v;
    }
    snprintf(out, cap, "%s%s%s%s%s/%s", user, *user ? "@" : "", *host ? host : "localhost",
             *port ? ":" : "", port, *db ? db : (*user ? user : "(default)"));
    PQconninfoFree(o);
}

/* ---- errors ---------------------------------------------------------------------------- */

/* Replace every occurrence of secret in s by "***". */
static void scrub(char *s, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 1)
        return;
    for (char *p = strstr(s, secret); p; p = strstr(p, secret)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + n, strlen(p + n) + 1);
        p += 3;
    }
}

/* A TLS problem of a connection attempt, from libpq's message (it gives no SQLSTATE for
 * these): a label naming it for the message and what to do; NULL when msg is not one. */
typedef struct {
    const char *needle, *needle2; /* both in the message (needle2 may be NULL) */
    const char *label;
    const char *hint;
} tls_problem;

static const tls_problem tls_problems[] = {
    {"certificate verify failed", NULL,
     "TLS certificate verification failed: the server's certificate is not signed by the CA in sslrootcert "
     "(or it has expired)",
     "set sslrootcert= to the CA certificate that signed the central server's certificate (ask its admin); "
     "do not fall back to sslmode=require: it would ship to any server"},
    {"does not match host name", NULL,
     "TLS certificate verification failed: the server's certificate is for another host name",
     "use in host= a name the server's certificate names (its CN/subjectAltName, quoted in the message), "
     "or have the certificate reissued with this name"},
    {"root certificate file", "does not exist",
     "TLS certificate verification impossible: no CA certificate to verify the server's with",
     "set sslrootcert= to the path of the CA certificate that signed the central server's certificate "
     "(readable by the station's user)"},
    {"could not read root certificate file", NULL,
     "TLS certificate verification impossible: the CA file in sslrootcert is not a readable certificate",
     "set sslrootcert= to the CA certificate (PEM) that signed the central server's certificate"},
    {"server does not support SSL", NULL, "TLS refused: the central server has TLS (ssl) turned off",
     "turn TLS on at the server (ssl = on with a certificate), or ask its admin; the station does not ship "
     "unencrypted when sslmode asks for TLS"},
    {"no pg_hba.conf entry", "no encryption",
     "the central server takes only TLS (encrypted) connections from this host",
     "add sslmode=verify-full and sslrootcert=<the server's CA> to the connection string"},
};

static const tls_problem *tls_problem_of(const char *msg)
{
    for (size_t i = 0; i < sizeof tls_problems / sizeof tls_problems[0]; i++) {
        const tls_problem *t = &tls_problems[i];
        if (strstr(msg, t->needle) && (!t->needle2 || strstr(msg, t->needle2)))
            return t;
    }
    return NULL;
}

static const char *hint_for(const char *state, const char *msg, bool gone)
{
    if (state && !strcmp(state, "53100"))
        return "the central server's disk is full: free space on the server's database disk (its admin); "
               "the station keeps flashing and keeps its records, and ships them when the server takes them again";
    if (state && (!strcmp(state, "28P01") || !strcmp(state, "28000")))
        return "check the user and password (central.conf, STATION_CENTRAL or ~/.pgpass) and the "
               "server's pg_hba.conf";
    if (state && !strcmp(state, "42501"))
        return "the role lacks a privilege: create it with db/central_role.sql, or use the schema "
               "owner for `station central init`";
    if (state && !strcmp(state, "3D000"))
        return "create the database on the server (createdb), or fix the database name in the URL";
    if (state && !strcmp(state, "57014"))
        return "the server is too slow or locked: the batch will be sent again";
    if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
        strstr(msg, "authentication failed"))
        return "check the user and password (central.conf, STATION_CENTRAL or ~/.pgpass)";
    if (strstr(msg, "no pg_hba.conf entry"))
        return "the server's pg_hba.conf has no line for this user, database and host: ask its admin to add "
               "one (e.g. hostssl flash USER ADDRESS scram-sha-256)";
    if (strstr(msg, "does not exist") && strstr(msg, "database"))
        return "create the database on the server, or fix the database name in the URL";
    if (strstr(msg, "invalid") && (strstr(msg, "URI") || strstr(msg, "connection option") ||
                                   strstr(msg, "missing \"=\"")))
        return "write it as postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=verify-full] or as "
               "key=value pairs (host=... dbname=... user=...)";
    if (strstr(msg, "certificate") || strstr(msg, "SSL"))
        return "a TLS problem: check sslmode and sslrootcert (verify-full needs the CA that signed the server's "
               "certificate and a host name that certificate names)";
    if (gone || strstr(msg, "could not connect") || strstr(msg, "Connection refused") ||
        strstr(msg, "timeout") || strstr(msg, "No such file") || strstr(msg, "terminat") ||
        strstr(msg, "server closed"))
        return "the central server is unreachable: check that it runs and the network; the station "
               "keeps flashing and ships its backlog when the server is back";
    return "see the server's message above";
}

int central_fail(st_central *c, PGresult *r, st_err *err, const char *what)
{
    char msg[600];
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *pm = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    if (!pm || !*pm)
        pm = c && c->pg ? PQerrorMessage(c->pg) : "no connection";
    snprintf(msg, sizeof msg, "%s", pm);
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    size_t n = strlen(msg);
    while (n && msg[n - 1] == ' ')
        msg[--n] = '\0';
    if (c && c->pg)
        scrub(msg, PQpass(c->pg));
    /* libpq's advice for a missing CA file is to turn verification off: ours replaces it */
    char *off = strstr(msg, " Either provide the file or change sslmode");
    if (off)
        *off = '\0';
    bool gone = c && c->pg && PQstatus(c->pg) == CONNECTION_BAD;
    const tls_problem *tls = state ? NULL : tls_problem_of(msg);
    const char *detail = msg;
    if (tls) { /* libpq's own words, without its "connection to server at ... failed: " (desc says where) */
        for (const char *p = strstr(msg, " failed: "); p; p = strstr(p + 1, " failed: "))
            detail = p + 9;
    }
    st_err_set(err, ST_E_DB, ST_PH_DB, "%s on the central store %s: %s%s%s%s%s", what, c ? c->desc : "?",
               tls ? tls->label : "", tls ? " (" : "", detail, tls ? ")" : "", state ? " (SQLSTATE " : "");
    if (state)
        snprintf(err->msg + strlen(err->msg), sizeof err->msg - strlen(err->msg), "%s)", state);
    err->fclass = ST_FC_CONFIG;
    st_err_hint(err, "%s", tls ? tls->hint : hint_for(state, msg, gone));
    PQclear(r);
    return -1;
}

/* ---- connecting -------------------------------------------------------------------------- */

int st_central_open(const char *conninfo, st_central **out, st_err *err)
{
    *out = NULL;
    st_central *c = calloc(1, sizeof *c);
    if (!c)
        return st_err_set(err, ST_E_NOMEM, ST_PH_DB, "out of memory for the central store");
    char *perr = NULL;
    PQconninfoOption *parsed = PQconninfoParse(conninfo, &perr);
    if (!parsed) {
        char m[300];
        snprintf(m, sizeof m, "%s", perr ? perr : "malformed");
        PQfreemem(perr);
        for (char *p = m; *p; p++)
            if (*p == '\n')
                *p = ' ';
        free(c);
        st_err_set(err, ST_E_ARG, ST_PH_DB, "cannot read the central store's connection string: %s", m);
        err->fclass = ST_FC_CONFIG;
        return st_err_hint(err, "%s", hint_for(NULL, "invalid URI", false));
    }
    bool has_timeout = false;
    for (PQconninfoOption *p = parsed; p->keyword; p++)
        if (!strcmp(p->keyword, "connect_timeout") && p->val && *p->val)
            has_timeout = true;
    PQconninfoFree(parsed);
    st_central_describe(conninfo, c->desc, sizeof c->desc);

    /* dbname with expand_dbname carries the whole string; the keywords after it fill in
     * what the string leaves unset. */
    const char *kw[] = {"dbname", "application_name", "keepalives", "keepalives_idle",
                        "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                        has_timeout ? NULL : "connect_timeout", NULL};
    const char *val[] = {conninfo, "flashstation", "1", "10", "5", "3", "20000", "5", NULL};
    c->pg = PQconnectdbParams(kw, val, 1);
    if (!c->pg || PQstatus(c->pg) != CONNECTION_OK) {
        central_fail(c, NULL, err, "cannot connect");
        st_central_close(c);
        return -1;
    }
    /* Bounded statements: a locked table or a dying server must not hold the shipper. */
    if (central_cmd(c, "cannot set up the session", "SET statement_timeout = 30000", 0, NULL, err) < 0 ||
        central_cmd(c, "cannot set up the session", "SET lock_timeout = 10000", 0, NULL, err) < 0) {
        st_central_close(c);
        return -1;
    }
    PQsetNoticeProcessor(c->pg, NULL, NULL);
    *out = c;
    return 0;
}

void st_central_close(st_central *c)
{
    if (!c)
        return;
    if (c->pg)
        PQfinish(c->pg);
    central_doc_free(c);
    free(c);
}

PGresult *central_exec(st_central *c, const char *what, const char *sql, int nparams,
                       const char *const *params, st_err *err)
{
    /* without parameters the simple protocol: schema steps are many statements */
    PGresult *r = nparams ? PQexecParams(c->pg, sql, nparams, NULL, params, NULL, NULL, 0) : PQexec(c->pg, sql);
    ExecStatusType s = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (s == PGRES_COMMAND_OK || s == PGRES_TUPLES_OK)
        return r;
    central_fail(c, r, err, what);
    return NULL;
}

int central_cmd(st_central *c, const char *what, const char *sql, int nparams, const char *const *params,
                st_err *err)
{
    PGresult *r = central_exec(c, what, sql, nparams, params, err);
    PQclear(r);
    return r ? 0 : -1;
}

void central_rollback(st_central *c)
{
    if (c->pg && PQstatus(c->pg) == CONNECTION_OK && PQtransactionStatus(c->pg) != PQTRANS_IDLE)
        PQclear(PQexec(c->pg, "ROLLBACK"));
}

int64_t central_i64(PGresult *r, int row, int col)
{
    return PQgetisnull(r, row, col) ? 0 : strtoll(PQgetvalue(r, row, col), NULL, 10);
}
