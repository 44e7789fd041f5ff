#!/bin/sh
# check_layers.sh ROOT - the architecture, enforced: every quoted #include in the product's
# code must name a header of the file's own room or of a room below it, the dashboard may
# see only the line view contract, and only db/ speaks SQL. Prints one line per offence
# (file:line, what it includes, why) and exits 1 when there is any.
#
# Rooms, bottom up (what each may include besides its own headers):
#   station/common    -
#   station/port      common
#   station/loader    common port
#   station/firmware  common                       (beside unit)
#   station/unit      common port loader firmware
#   db                common port loader firmware unit        (beside line)
#   station/line      common port loader firmware unit db
#   tui               station/line/line_view.h only           (beside line)
#   station/cli       everything
set -u
root=${1:-.}
cd "$root" || exit 2

dirs="station/common station/port station/loader station/firmware station/unit db station/line tui station/cli"
for d in $dirs; do
    [ -d "$d" ] || { echo "check_layers: $root/$d is missing (the rooms are: $dirs)"; exit 2; }
done

# One awk pass over every file: header name -> room, then each quoted include judged.
hdrs=$(for d in $dirs; do for h in "$d"/*.h; do [ -f "$h" ] && echo "$h"; done; done)
srcs=$(for d in $dirs; do for f in "$d"/*.c "$d"/*.h; do [ -f "$f" ] && echo "$f"; done; done)
report=$(awk -v hdrs="$hdrs" '
function room(path) { sub(/\/[^\/]*$/, "", path); sub(/^station\//, "", path); return path }
function base(path) { sub(/^.*\//, "", path); return path }
BEGIN {
    ok["common"] = "common"; ok["port"] = "common port"; ok["loader"] = "common port loader"
    ok["firmware"] = "common firmware"; ok["unit"] = "common port loader firmware unit"
    ok["db"] = "common port loader firmware unit db"
    ok["line"] = "common port loader firmware unit db line"; ok["tui"] = "tui"
    ok["cli"] = "common port loader firmware unit db line tui cli"
    n = split(hdrs, hl, "\n")
    for (i = 1; i <= n; i++) {
        b = base(hl[i]); r = room(hl[i])
        if (b in where && where[b] != r)
            printf "check_layers: header name %s is used by more than one room (%s, %s); names must say where they live\n", b, where[b], r
        where[b] = r
    }
}
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
    me = room(FILENAME); b = base(inc)
    if (!(b in where)) { printf "%s:%d: includes \"%s\", which is no header of any room\n", FILENAME, FNR, inc; next }
    hr = where[b]
    if (me == "tui" && hr != "tui") {
        if (b != "line_view.h")
            printf "%s:%d: includes \"%s\" (station/%s): the dashboard may include only line_view.h and its own files\n", FILENAME, FNR, inc, hr
        next
    }
    if (index(" " ok[me] " ", " " hr " ") == 0)
        printf "%s:%d: includes \"%s\" from %s, a room above %s (allowed: %s)\n", FILENAME, FNR, inc, hr, me, ok[me]
}' $srcs)
bad=0
[ -n "$report" ] && { echo "$report"; bad=1; }

# Only db/ speaks SQL: no SQL statements, SQLite or libpq outside it.
sql='(SELECT[[:space:]].*FROM|INSERT[[:space:]]+(OR[[:space:]]+[A-Z]+[[:space:]]+)?INTO|CREATE[[:space:]]+(TABLE|INDEX|VIEW|TRIGGER)|UPDATE[[:space:]]+[A-Za-z_]+[[:space:]]+SET|DELETE[[:space:]]+FROM|PRAGMA[[:space:]]|sqlite3_|sqlite3\.h|PQexec|PQconnect|libpq-fe\.h)'
sqlsrcs=$(echo "$srcs" | grep -v '^db/')
sqlrep=$(grep -nHE "$sql" $sqlsrcs | awk -F: '{ f = $1; l = $2; sub(/^[^:]*:[^:]*:[ \t]*/, ""); printf "%s:%s: SQL outside db/: %s\n", f, l, substr($0, 1, 80) }')
[ -n "$sqlrep" ] && { echo "$sqlrep"; bad=1; }

if [ "$bad" -ne 0 ]; then
    echo "check_layers: FAILED: move the code to the room it belongs in, or call down through that room's header"
    exit 1
fi
echo "check_layers: ok ($(echo "$hdrs" | wc -l) headers in $(echo $dirs | wc -w) rooms)"
