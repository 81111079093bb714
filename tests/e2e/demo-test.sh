#!/bin/sh
# `make demo` as a user meets it: started from a clean checkout, it must print
# a curl command per protocol that works as printed, and stop cleanly on
# Ctrl-C (SIGINT to its process group, as a terminal sends it), leaving no
# process, port or file behind.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cd "$top"

name=demo-test
. "$here/lib.sh"
fail() { printf 'demo-test: FAIL: %s\n' "$*" >&2; [ -f "${out:-}" ] && cat "$out" >&2; exit 1; }

for tool in curl setsid bash; do
    command -v $tool >/dev/null 2>&1 || skip "$tool is missing"
done

work=$(mktemp -d /tmp/pullmail-demo-test.XXXXXX)
out=$work/demo.out
ready=$work/commands
pgid=""
cleanup() {
    if [ -n "$pgid" ]; then
        kill -TERM "-$pgid" 2>/dev/null || true
        sleep 1
        kill -KILL "-$pgid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Ports of our own, so that a demo someone left running does not interfere.
export DEMO_IMAP_PORT=11143 DEMO_POP3_PORT=11110 DEMO_POP2_PORT=11109
# A job started with & ignores SIGINT; env gives the demo the terminal's default.
DEMO_READY_FILE=$ready setsid env --default-signal=INT make -s demo >"$out" 2>&1 &
pgid=$!
i=0
while [ ! -s "$ready" ]; do
    i=$((i + 1))
    [ $i -lt 1200 ] || fail "make demo printed no commands within 120 s"
    kill -0 "$pgid" 2>/dev/null || fail "make demo ended"
    sleep 0.1
done
grep -q "^curl 'pop3://" "$out" || fail "make demo did not print the POP3 curl command"

n=0
while IFS= read -r command; do
    case "$command" in
        ''|'#'*) continue ;;
    esac
    n=$((n + 1))
    sh -c "$command" >"$work/answer" 2>"$work/error" || fail "\`$command\` failed: $(cat "$work/error")"
    case "$command" in
        "curl 'imap://"*"/'")
            grep -q '"INBOX"' "$work/answer" && grep -q '"archive"' "$work/answer" \
                || fail "\`$command\` listed: $(cat "$work/answer")" ;;
        *)
            grep -q '^Subject: Welcome to pullmail' "$work/answer" \
                || fail "\`$command\` gave: $(cat "$work/answer")" ;;
    esac
    say "ok: $command"
done <"$ready"
[ $n -ge 4 ] || fail "expected four commands, ran $n"

kill -INT "-$pgid"
i=0
while kill -0 "-$pgid" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "make demo did not stop on Ctrl-C"
    sleep 0.1
done
pgid=""
grep -q 'stopped; .* removed' "$out" || fail "make demo did not say it stopped"
dir=$(sed -n 's/.*INBOX: \(.*\)\/spool\/demo .*/\1/p' "$out")
[ -n "$dir" ] && [ ! -e "$dir" ] || fail "the demo directory $dir is still there"
if command -v ss >/dev/null 2>&1 && ss -Hltn 'sport = :11143 or sport = :11110 or sport = :11109' | grep -q .; then
    fail "a demo port is still open"
fi
say "make demo: every printed command worked; Ctrl-C stopped it and removed $dir"
