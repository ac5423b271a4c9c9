#!/bin/bash
# t_geoip_replace.sh - the GeoIP city file overwritten in place while the
# milter runs (how many admins update it: cp new.mmdb GeoLite2-City.mmdb
# truncates and rewrites the same inode). First the file is emptied, then
# holds its first KiB (a copy caught just begun; the test files are one
# page, so only the empty file is past the old mapping's end): mail keeps
# flowing with the countries read before, the milter stays up and says
# that the new file does not open. Then a whole different database (198.18.1.0/24 is FR there, BR in
# the plan) is written over it in place: the milter reads it again by
# itself, and the next message's address gets the new country.
# Usage: tests/e2e/t_geoip_replace.sh [BUILD_DIR]

. "$(dirname -- "$0")/lib.sh"
. "$(dirname -- "$0")/relayguard.sh"

# country_of - LOGIN: the country relayguardctl shows for its first address
country_of() {
    rg_ctl show "$1" 2>/dev/null | awk '$1 ~ /^198\.18\./ { print $5; exit }'
}

e2e_init
rg_setup
city=$E2E_DIR/geo/GeoLite2-City.mmdb
cp "$city" "$E2E_DIR/city.orig"

rg_send geo0 198.18.1.5 -s "before"
e2e_assert_reply "$SW_RESULT" "250" "a message before the change is accepted"
e2e_assert_eq "$(country_of geo0)" "BR" "its address is BR"

# 1: emptied, then cut to 1 KiB, in place (the milter's mapping shrinks)
: >"$city"
ok=0
for i in 1 2 3 4 5 6; do
    [ "$i" = 4 ] && head -c 1024 "$E2E_DIR/city.orig" >"$city"
    rg_send "geo$i" "198.18.$i.5" -s "cut $i"
    case $SW_RESULT in 250*) ok=$((ok + 1)) ;; esac
done
e2e_assert_eq "$ok" 6 "with the file cut short, every message is accepted"
e2e_assert_true "the milter is alive" e2e_alive "$RG_PID"
e2e_assert_eq "$(country_of geo1)" "BR" "lookups still answer from the copy read before"
e2e_assert_true "the milter says the changed file does not open" \
    e2e_wait_until 10 grep -q "the copy read before stays in use" "$RG_LOG"

# 2: a different whole database written over it in place
mkdir -p "$E2E_DIR/geo2"
sed 's/^\(geo\t198\.18\.1\.0\/24\t[^\t]*\t\)BR\tBR\tBrazil/\1FR\tFR\tFrance/' \
    "$RG_SRC/tests/geoip/plan.tsv" >"$E2E_DIR/plan2.tsv"
perl "$RG_SRC/tests/geoip/make-test-db.pl" --plan "$E2E_DIR/plan2.tsv" \
    "$E2E_DIR/geo2" >/dev/null || e2e_bail "cannot generate the second database"
cat "$E2E_DIR/geo2/GeoLite2-City.mmdb" >"$city"
e2e_assert_true "the milter reads the new file by itself" \
    e2e_wait_until 10 grep -q "a database changed on disk; read again" "$RG_LOG"
rg_send geo9 198.18.1.9 -s "after"
e2e_assert_reply "$SW_RESULT" "250" "a message after the new file is accepted"
e2e_assert_eq "$(country_of geo9)" "FR" "its address has the new file's country"
e2e_assert_true "the milter is still alive" e2e_alive "$RG_PID"
e2e_assert_true "every accepted message reached the sink" sink_wait_count 8 20
e2e_done
