/* db_hook.c - a failed `run --on-result` command recorded on the attempt whose result it
 * was given (schema v12): how it ended, its status or signal, how long it ran, the command
 * and the first bytes of its stderr. The attempt's change counter bumps, so it ships. */
#include "db_internal.h"
#include "text.h"

#include <stdio.h>
#include <string.h>

static bool known_result(const char *r)
{
    static const char *const names[] = {"exit", "signal", "timeout", "spawn_failed"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcmp(r, names[i]))
            return true;
    return false;
}

int st_db_attempt_hook(st_db *db, int64_t id, const st_db_hook *h, st_err *err)
{
    if (!known_result(h->result))
        return db_fail_arg(db, err, "on-result command result '%s' is not exit, signal, timeout or spawn_failed",
                           h->result);
    char head[sizeof h->stderr_head], cmd[sizeof h->command];
    snprintf(head, sizeof head, "%s", h->stderr_head);
    snprintf(cmd, sizeof cmd, "%s", h->command);
    st_text_clean(head);
    st_text_clean(cmd);
    if (db_wbegin(db, err) < 0)
        return -1;
    sqlite3_stmt *s = db_stmt_sql(db, S_ATT_HOOK,
                                  "UPDATE attempts SET hook_result = :r, hook_exit = :code,"
                                  " hook_signal = :sig, hook_ms = :ms, hook_command = :cmd,"
                                  " hook_stderr = :stderr WHERE id = :id AND outcome <> 'in_progress'",
                                  err);
    if (!s)
        goto rollback;
    db_bind_text(s, ":r", h->result);
    if (!strcmp(h->result, "exit"))
        db_bind_i64(s, ":code", h->exit_code);
    else
        db_bind_null(s, ":code");
    db_bind_i64_nz(s, ":sig", h->signal);
    db_bind_i64(s, ":ms", h->duration_ms);
    db_bind_text(s, ":cmd", cmd);
    db_bind_text(s, ":stderr", head);
    db_bind_i64(s, ":id", id);
    if (db_step_write(db, s, err) < 0)
        goto rollback;
    if (sqlite3_changes(db->h) == 0) {
        db_fail_arg(db, err, "attempt %lld does not exist or is still in progress: its on-result command"
                             " failure is not recorded", (long long)id);
        goto rollback;
    }
    if (db_wcommit(db, err) < 0)
        goto rollback;
    return 0;
rollback:
    db_wrollback(db);
    return -1;
}
