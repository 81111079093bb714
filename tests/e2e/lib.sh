# Sourced by the end-to-end scripts: how they report, skip and fail.
# Before sourcing, set `name` (the prefix of every line the script prints).
#
# A skip says what was not tested and why, on one line, and is counted by
# `make test` (PULLMAIL_SKIP_LOG).  Where every prerequisite is due — CI=true,
# or root after `make deps` (PULLMAIL_NO_SKIP=1, set by make test as root) —
# a skip is a failure, as for the Rust tests (crates/testkit).

say() { printf '%s: %s\n' "$name" "$*"; }
fail() { printf '%s: FAIL: %s\n' "$name" "$*" >&2; exit 1; }
skip() {
    if [ "${CI:-}" = true ] || [ "${PULLMAIL_NO_SKIP:-}" = 1 ]; then
        fail "cannot run here: $* (with CI=true or PULLMAIL_NO_SKIP=1 a skip is a failure)"
    fi
    say "SKIPPED: $*"
    [ -z "${PULLMAIL_SKIP_LOG:-}" ] || printf 'SKIPPED %s: %s\n' "$name" "$*" >>"$PULLMAIL_SKIP_LOG"
    exit 0
}
