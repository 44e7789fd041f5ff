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

allowed() { # room -> rooms it may include
    case $1 in
    common) echo "common" ;;
    port) echo "common port" ;;
    loader) echo "common port loader" ;;
    firmware) echo "common firmware" ;;
    unit) echo "common port loader firmware unit" ;;
    db) echo "common port loader firmware unit db" ;;
    line) echo "common port loader firmware unit db line" ;;
    tui) echo "tui" ;;
    cli) echo "common port loader firmware unit db line tui cli" ;;
    esac
}
room_of_dir() {
    case $1 in
    station/*) echo "${1#station/}" ;;
    db | tui) echo "$1" ;;
    esac
}
dirs="station/common station/port station/loader station/firmware station/unit db station/line tui station/cli"
for d in $dirs; do
    [ -d "$d" ] || { echo "check_layers: $root/$d is missing (the rooms are: $dirs)"; exit 2; }
done

# header name -> room (a header's name is unique across the product)
map=$(for d in $dirs; do for h in "$d"/*.h; do [ -f "$h" ] && echo "$(basename "$h") $(room_of_dir "$d")"; done; done)
dup=$(echo "$map" | awk '{print $1}' | sort | uniq -d)
bad=0
for h in $dup; do
    echo "check_layers: header name $h is used by more than one room; names must say where they live"
    bad=1
done

for d in $dirs; do
    room=$(room_of_dir "$d")
    ok=$(allowed "$room")
    for f in "$d"/*.c "$d"/*.h; do
        [ -f "$f" ] || continue
        grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f" | while IFS= read -r line; do
            n=${line%%:*}
            inc=$(echo "$line" | sed 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/')
            base=$(basename "$inc")
            hroom=$(echo "$map" | awk -v h="$base" '$1 == h {print $2; exit}')
            if [ -z "$hroom" ]; then
                echo "$f:$n: includes \"$inc\", which is no header of any room"
                continue
            fi
            if [ "$room" = tui ] && [ "$hroom" != tui ]; then
                [ "$base" = line_view.h ] && continue
                echo "$f:$n: includes \"$inc\" (station/$hroom): the dashboard may include only line_view.h and its own files"
                continue
            fi
            case " $ok " in
            *" $hroom "*) ;;
            *) echo "$f:$n: includes \"$inc\" from $hroom, a room above $room (allowed: $ok)" ;;
            esac
        done
    done
done > /tmp/check_layers.$$
[ -s /tmp/check_layers.$$ ] && { cat /tmp/check_layers.$$; bad=1; }
rm -f /tmp/check_layers.$$

# Only db/ speaks SQL: no SQL statements, SQLite or libpq outside it.
sql='(SELECT[[:space:]].*FROM|INSERT[[:space:]]+(OR[[:space:]]+[A-Z]+[[:space:]]+)?INTO|CREATE[[:space:]]+(TABLE|INDEX|VIEW|TRIGGER)|UPDATE[[:space:]]+[A-Za-z_]+[[:space:]]+SET|DELETE[[:space:]]+FROM|PRAGMA[[:space:]]|sqlite3_|sqlite3\.h|PQexec|PQconnect|libpq-fe\.h)'
for d in $dirs; do
    [ "$d" = db ] && continue
    for f in "$d"/*.c "$d"/*.h; do
        [ -f "$f" ] || continue
        grep -nE "$sql" "$f" | while IFS= read -r line; do
            echo "$f:${line%%:*}: SQL outside db/: $(echo "${line#*:}" | sed 's/^[[:space:]]*//' | cut -c1-80)"
        done
    done
done > /tmp/check_sql.$$
[ -s /tmp/check_sql.$$ ] && { cat /tmp/check_sql.$$; bad=1; }
rm -f /tmp/check_sql.$$

if [ "$bad" -ne 0 ]; then
    echo "check_layers: FAILED: move the code to the room it belongs in, or call down through that room's header"
    exit 1
fi
echo "check_layers: ok ($(echo "$map" | wc -l) headers in $(echo $dirs | wc -w) rooms)"
