#!/bin/sh
# Users over several hosts (README: "Users over several hosts"): two pullmail
# back ends, each with users and a spool of its own, behind nginx's mail proxy
# with a user -> host map (its auth_http answered by tests/e2e/cluster.py),
# and behind perdition with a regular-expression popmap.
#
#   - imaplib and poplib log in through the proxy as a user of each back end
#     and read their own mail only, also over TLS at nginx (implicit and
#     STARTTLS) and through perdition's STARTTLS to the back ends;
#   - the back ends log the client's address (127.0.0.9), which nginx passes
#     in a PROXY protocol header (trusted_proxies = 127.0.0.1), not the proxy's;
#     a client that sends such a header itself is not believed; perdition,
#     which passes no address, routes the same but is logged as itself;
#   - a wrong password is delayed once (by the back end), not twice;
#   - a session the proxy drops mid-way applies nothing (POP3 DELE);
#   - moving a user from back end 1 to back end 2 (the README's procedure:
#     hold at the proxy, dot-lock, rsync, switch the map) keeps UIDVALIDITY,
#     UIDs, flags and POP3 UIDLs, and a client that follows the old host's
#     LOGIN-REFERRAL reaches the new host directly.
#
# Root only (the servers start as root and drop to the users' ids). Leaves the
# host as found: the users exist only in nss_wrapper/pam_wrapper files of the
# test, the back ends listen on 127.0.0.2 and 127.0.0.3 and the proxy on
# 127.0.0.1 (free ports), each back end sees its own files at one path in a
# mount namespace of its own (so that, as on two hosts, the user's mailbox
# has the same path on both), everything is under one temporary directory,
# and every process the test starts is stopped by its process group.
#
# CLUSTER_HOLD=FILE: after the test, write the endpoints (and stress users)
# to FILE and keep everything running until FILE is removed (for imaptest).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
name=cluster-test
. "$here/lib.sh"

bindir=${PULLMAIL_BINDIR:-${CARGO_TARGET_DIR:-$top/target}/release}
[ "$(id -u)" = 0 ] || skip "needs root: the back ends log users in through PAM and drop to their ids"
for tool in nginx perdition systemd-socket-activate python3 rsync dotlockfile unshare setsid ss timeout pgrep openssl; do
    command -v $tool >/dev/null 2>&1 || skip "$tool is missing (make deps)"
done
mailmod=""
for m in /usr/lib/nginx/modules/ngx_mail_module.so /usr/lib64/nginx/modules/ngx_mail_module.so; do
    [ -f $m ] && mailmod=$m
done
[ -n "$mailmod" ] || skip "nginx's mail module is missing (libnginx-mod-mail)"
regex_map=""
for m in /usr/lib/*-linux-gnu/libperditiondb_posix_regex.so.0 /usr/lib64/libperditiondb_posix_regex.so.0; do
    [ -f $m ] && regex_map=$m
done
[ -n "$regex_map" ] || skip "perdition's regex map library is missing (perdition)"
lib() {
    for d in /usr/lib/*-linux-gnu /usr/lib64 /usr/lib; do
        [ -f "$d/$1" ] && { echo "$d/$1"; return; }
    done
}
nss=$(lib libnss_wrapper.so)
pamw=$(lib libpam_wrapper.so)
matrix=$(lib pam_wrapper/pam_matrix.so)
[ -n "$nss" ] && [ -n "$pamw" ] && [ -n "$matrix" ] || skip "libnss-wrapper or libpam-wrapper is missing"
for s in imapd ipop3d; do
    [ -x "$bindir/$s" ] || fail "$bindir/$s is not built (make servers, or PULLMAIL_BINDIR)"
done
unshare --mount true 2>/dev/null || skip "no mount namespaces here (unshare --mount)"

work=$(mktemp -d /tmp/pullmail-cluster.XXXXXX)
chmod 755 "$work"
groups=""
cleanup() {
    status=$?
    for g in $groups; do kill -TERM "-$g" 2>/dev/null || true; done
    sleep 0.5
    for g in $groups; do kill -KILL "-$g" 2>/dev/null || true; done
    if [ $status != 0 ]; then
        for f in "$work"/b1.log "$work"/b2.log "$work"/auth.log "$work"/perdition.log "$work"/nginx/error.log; do
            [ -f "$f" ] && { echo "--- $f"; tail -n 40 "$f"; } >&2
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_free() { ! (ss -Hltn "sport = :$1" 2>/dev/null | grep -q .); }
free_port() {
    p=$1
    while ! port_free $p; do p=$((p + 1)); done
    echo $p
}
p_imap=$(free_port 24143)      # the proxy, 127.0.0.1
p_pop=$(free_port 24110)
p_bimap=$(free_port 25143)     # each back end, on 127.0.0.2 and 127.0.0.3
p_bpop=$(free_port 25110)
p_auth=$(free_port 24080)
p_perd_imap=$(free_port 27143)  # perdition, 127.0.0.1
p_perd_pop=$(free_port 27110)
p_imaps=$(free_port 24993)     # nginx, implicit TLS
p_pops=$(free_port 24995)
p_pimap=$(free_port 26143)     # the back ends' ports for perdition
p_ppop=$(free_port 26110)
client=127.0.0.9
export CLIENT_ADDR=$client

# One certificate for the proxy and the back ends (as a site's CA would
# sign them), checked by the clients and by perdition.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=mail.test \
    -addext "subjectAltName=DNS:mail.test,IP:127.0.0.1,IP:127.0.0.2,IP:127.0.0.3" \
    -keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null || fail "openssl could not make a certificate"
chmod 600 "$work/key.pem"
export CLIENT_CA=$work/cert.pem

# Users: uids nobody else has, different per run.
base=$((61000 + ($$ % 1000) * 4))
uid_alice=$((base + 1))
uid_bob=$((base + 2))

# One back end: its files under $work/bN/root, which its processes see at
# $work/root (a bind mount in their own mount namespace).
view=$work/root
mkdir "$view"
backend_setup() {
    b=$work/$1
    mkdir -p "$b/root/spool" "$b/root/home" "$b/pam.d"
    chmod 1777 "$b/root/spool"
    : >"$b/passwd"
    : >"$b/group"
    : >"$b/passdb-imap"
    : >"$b/passdb-pop"
    : >"$b/referrals"
    for service in imap pop; do
        for kind in auth account password session; do
            echo "$kind required $matrix passdb=$b/passdb-$service"
        done >"$b/pam.d/$service"
    done
    cat >"$b/pullmail.conf" <<EOF
spool_directory = $view/spool
dotlock_helper =
login_failure_delay = 2
trusted_proxies = 127.0.0.1
login_referrals = $b/referrals
server_name = $1.test
tls_certificate = $work/cert.pem
tls_key = $work/key.pem
cram_md5_file = $work/no-cram-md5
gssapi_keytab =
EOF
    grep -v '^trusted_proxies' "$b/pullmail.conf" >"$b/plain.conf"
}
# add_user BACKEND USER UID PASSWORD: the account (same uid on every host, as
# from a directory service), its home and an empty INBOX.
add_user() {
    b=$work/$1
    echo "$2:x:$3:$3:$2:$view/home/$2:/bin/sh" >>"$b/passwd"
    echo "$2:x:$3:" >>"$b/group"
    echo "$2:$4:imap" >>"$b/passdb-imap"
    echo "$2:$4:pop" >>"$b/passdb-pop"
    if [ ! -e "$b/root/home/$2" ]; then
        mkdir -m 700 "$b/root/home/$2"
        chown "$3:$3" "$b/root/home/$2"
    fi
    if [ ! -e "$b/root/spool/$2" ]; then
        : >"$b/root/spool/$2"
        chmod 600 "$b/root/spool/$2"
        chown "$3:$3" "$b/root/spool/$2"
    fi
}
# deliver BACKEND USER SUBJECT: one message, appended as an MTA does.
deliver() {
    f=$work/$1/root/spool/$2
    dotlockfile -l -r 3 "$f.lock"
    printf 'From sender@example.org Tue Dec  8 00:00:00 2026\nFrom: sender@example.org\nTo: %s@mail.test\nSubject: %s\n\nHello %s.\n\n' \
        "$2" "$3" "$2" >>"$f"
    dotlockfile -u "$f.lock"
}
# backend_start NAME ADDRESS: imapd and ipop3d as inetd would run them
# (systemd-socket-activate --inetd -a, one process per connection).
backend_start() {
    b=$work/$1
    cat >"$b/start" <<EOF
#!/bin/sh
# Back end $1 on $2, in its own mount namespace, where $view is $b/root.
mount --bind "$b/root" "$view" || exit 1
activate() {
    systemd-socket-activate --inetd -a -l "$2:\$1" \\
        -E LD_PRELOAD="$nss:$pamw" -E NSS_WRAPPER_PASSWD="$b/passwd" \\
        -E NSS_WRAPPER_GROUP="$b/group" -E PAM_WRAPPER=1 \\
        -E PAM_WRAPPER_SERVICE_DIR="$b/pam.d" \\
        "$bindir/\$2" -d -c "$b/\$3"
}
activate $p_bimap imapd pullmail.conf &
activate $p_bpop ipop3d pullmail.conf &
# For perdition, which sends no PROXY header: 127.0.0.1 is not trusted here.
activate $p_pimap imapd plain.conf &
activate $p_ppop ipop3d plain.conf &
wait
EOF
    # A process group of its own (setsid): cleanup stops it and every
    # session it started.
    setsid unshare --mount sh "$b/start" >>"$work/$1.log" 2>&1 &
    groups="$groups $!"
}
wait_port() {
    i=0
    until ss -Hltn "src $1 and sport = :$2" | grep -q .; do
        i=$((i + 1))
        [ $i -lt 100 ] || fail "nothing listens on $1:$2 after 10 s"
        sleep 0.1
    done
}
run() { timeout 60 python3 "$here/cluster.py" "$@"; }

backend_setup b1
backend_setup b2
add_user b1 alice $uid_alice pw-alice
add_user b2 bob $uid_bob pw-bob
for i in 1 2 3; do deliver b1 alice "for alice $i"; done
for i in 1 2; do deliver b2 bob "for bob $i"; done

# The user -> back end map that auth_http reads, and the back ends.
map=$work/map
printf 'alice b1\nbob b2\n' >"$map"
printf 'b1 127.0.0.2 %s %s\nb2 127.0.0.3 %s %s\n' $p_bimap $p_bpop $p_bimap $p_bpop >"$work/backends"
# set_map USER WHERE: a new map in one rename, as an administrator would.
set_map() {
    { grep -v "^$1 " "$map" || true; echo "$1 $2"; } >"$map.new"
    mv "$map.new" "$map"
}

backend_start b1 127.0.0.2
backend_start b2 127.0.0.3
setsid python3 "$here/cluster.py" auth-http $p_auth "$map" "$work/backends" 2>"$work/auth.log" &
groups="$groups $!"

# nginx's mail proxy: clients on 127.0.0.1, a PROXY protocol v1 header to the
# back end before anything else (proxy_protocol on), the back end's own
# answer to a failed login passed on (proxy_pass_error_message on).
mkdir "$work/nginx"
cat >"$work/nginx/nginx.conf" <<EOF
load_module $mailmod;
daemon off;
worker_processes 1;
user nobody nogroup;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log info;
events { worker_connections 256; }
mail {
    server_name mail.test;
    auth_http 127.0.0.1:$p_auth/auth;
    proxy_protocol on;
    proxy_pass_error_message on;
    ssl_certificate $work/cert.pem;
    ssl_certificate_key $work/key.pem;
    starttls on;
    imap_capabilities IMAP4rev1 LITERAL+ ID;
    imap_auth login plain;
    pop3_capabilities TOP USER UIDL;
    pop3_auth plain;
    server { listen 127.0.0.1:$p_imap; protocol imap; }
    server { listen 127.0.0.1:$p_pop; protocol pop3; }
    server { listen 127.0.0.1:$p_imaps ssl; protocol imap; }
    server { listen 127.0.0.1:$p_pops ssl; protocol pop3; }
}
EOF
setsid nginx -e "$work/nginx/error.log" -p "$work/nginx" -c "$work/nginx/nginx.conf" \
    >"$work/nginx/out" 2>&1 &
groups="$groups $!"

# perdition, IMAP and POP3 on 127.0.0.1, routing by a regular-expression
# popmap (read when it starts: a changed map needs a restart).
printf '^alice$: 127.0.0.2\n^bob$: 127.0.0.3\n' >"$work/popmap.re"
: >"$work/perdition.conf"
perdition_groups=""
perdition_start() {
    for proto in IMAP4:$p_perd_imap:$p_pimap POP3:$p_perd_pop:$p_ppop; do
        IFS=: read -r protocol listen outgoing <<EOF
$proto
EOF
        setsid perdition --no_daemon -f "$work/perdition.conf" --protocol $protocol \
            --bind_address 127.0.0.1 --listen_port $listen --outgoing_port $outgoing \
            --map_library "$regex_map" --map_library_opt "$work/popmap.re" \
            --pid_file "$work/perdition-$protocol.pid" --log_facility + \
            --ssl_mode tls_outgoing_force --ssl_ca_file "$work/cert.pem" --ssl_no_cn_verify \
            --username nobody --group nogroup >>"$work/perdition.log" 2>&1 &
        perdition_groups="$perdition_groups $!"
    done
    groups="$groups $perdition_groups"
    wait_port 127.0.0.1 $p_perd_imap
    wait_port 127.0.0.1 $p_perd_pop
}
perdition_stop() {
    for g in $perdition_groups; do kill -TERM "-$g" 2>/dev/null || true; done
    for g in $perdition_groups; do
        i=0
        while kill -0 "-$g" 2>/dev/null; do
            i=$((i + 1))
            [ $i -lt 50 ] || fail "perdition did not stop"
            sleep 0.1
        done
    done
    perdition_groups=""
}
perdition_start

for a in 127.0.0.2 127.0.0.3; do
    for p in $p_bimap $p_bpop $p_pimap $p_ppop; do wait_port $a $p; done
done
wait_port 127.0.0.1 $p_auth
wait_port 127.0.0.1 $p_imap
wait_port 127.0.0.1 $p_pop
wait_port 127.0.0.1 $p_imaps
wait_port 127.0.0.1 $p_pops
say "back ends on 127.0.0.2 and 127.0.0.3 (:$p_bimap imap, :$p_bpop pop3; for perdition :$p_pimap, :$p_ppop), nginx on 127.0.0.1:$p_imap/$p_pop, perdition on 127.0.0.1:$p_perd_imap/$p_perd_pop"

# expect FILE PATTERN WHAT: grep -E, or fail saying what was missing.
expect() { grep -qE "$2" "$1" || fail "$3 (no /$2/ in $(basename "$1"))"; }
refuse() { ! grep -qE "$2" "$1" || fail "$3 ($(grep -E "$2" "$1" | head -n 1))"; }

# 1. Each user through the proxy reads their own mail, from their own host.
run imap-read 127.0.0.1 $p_imap alice pw-alice >"$work/alice.imap"
run imap-read 127.0.0.1 $p_imap bob pw-bob >"$work/bob.imap"
run pop-read 127.0.0.1 $p_pop alice pw-alice >"$work/alice.pop"
run pop-read 127.0.0.1 $p_pop bob pw-bob >"$work/bob.pop"
[ "$(grep -c 'for alice' "$work/alice.imap")" = 3 ] || fail "alice over IMAP: $(cat "$work/alice.imap")"
[ "$(grep -c 'for bob' "$work/bob.imap")" = 2 ] || fail "bob over IMAP: $(cat "$work/bob.imap")"
[ "$(grep -c 'for alice' "$work/alice.pop")" = 3 ] || fail "alice over POP3: $(cat "$work/alice.pop")"
[ "$(grep -c 'for bob' "$work/bob.pop")" = 2 ] || fail "bob over POP3: $(cat "$work/bob.pop")"
refuse "$work/alice.imap" 'for bob' "alice sees bob's mail"
refuse "$work/bob.pop" 'for alice' "bob sees alice's mail"
say "through the proxy: alice reads her 3 messages (IMAP, POP3) on b1, bob his 2 on b2"

# 2. The back ends log the client, not the proxy.
expect "$work/b1.log" 'Proxied connection host=\[127\.0\.0\.9\] proxy=\[127\.0\.0\.1\] protocol=PROXYv1' \
    "b1 did not log the PROXY header's client"
expect "$work/b1.log" 'Login user=alice auth=[A-Z]+ host=\[127\.0\.0\.9\]' "b1 did not log alice's login from 127.0.0.9"
expect "$work/b2.log" 'Login user=bob auth=[A-Z]+ host=\[127\.0\.0\.9\]' "b2 did not log bob's login from 127.0.0.9"
refuse "$work/b1.log" 'Login user=.*host=\[127\.0\.0\.1\]' "b1 logged the proxy's address"
refuse "$work/b2.log" 'Login user=.*host=\[127\.0\.0\.1\]' "b2 logged the proxy's address"
refuse "$work/b1.log" 'user=bob' "bob's login reached b1"
refuse "$work/b2.log" 'user=alice' "alice's login reached b2"
say "b1.log: $(grep -m1 -oE 'Login user=alice auth=[A-Z]+ host=\[[0-9.]+\]' "$work/b1.log")"
say "b2.log: $(grep -m1 -oE 'Login user=bob auth=[A-Z]+ host=\[[0-9.]+\]' "$work/b2.log")"

# 2a. TLS at the proxy: implicit (993-style) and STARTTLS/STLS, the same mail.
CLIENT_TLS=implicit run imap-read 127.0.0.1 $p_imaps alice pw-alice >"$work/alice.imaps"
CLIENT_TLS=implicit run pop-read 127.0.0.1 $p_pops bob pw-bob >"$work/bob.pops"
CLIENT_TLS=starttls run imap-read 127.0.0.1 $p_imap bob pw-bob >"$work/bob.starttls"
CLIENT_TLS=starttls run pop-read 127.0.0.1 $p_pop alice pw-alice >"$work/alice.stls"
diff -u "$work/alice.imap" "$work/alice.imaps" >&2 || fail "alice over IMAP with TLS at nginx"
diff -u "$work/bob.pop" "$work/bob.pops" >&2 || fail "bob over POP3 with TLS at nginx"
diff -u "$work/bob.imap" "$work/bob.starttls" >&2 || fail "bob over IMAP STARTTLS at nginx"
diff -u "$work/alice.pop" "$work/alice.stls" >&2 || fail "alice over POP3 STLS at nginx"
say "TLS at nginx (implicit and STARTTLS/STLS, certificate checked): the same mail"

# 2b. perdition routes the same users to the same mail, but passes no client
# address (neither PROXY nor ID): behind it the back ends log perdition's.
run imap-read 127.0.0.1 $p_perd_imap alice pw-alice >"$work/alice.perdition.imap"
run pop-read 127.0.0.1 $p_perd_pop bob pw-bob >"$work/bob.perdition.pop"
diff -u "$work/alice.imap" "$work/alice.perdition.imap" >&2 || fail "alice through perdition"
diff -u "$work/bob.pop" "$work/bob.perdition.pop" >&2 || fail "bob through perdition"
expect "$work/b1.log" 'Login user=alice auth=LOGIN host=\[127\.0\.0\.1\]' "b1 did not log alice's login through perdition"
expect "$work/b1.log" 'TLS started host=\[127\.0\.0\.1\]' "perdition did not use STARTTLS to b1"
say "through perdition (STARTTLS to the back ends; CA checked, not the name: perdition compares the CN with the address): the same mail; b1.log: $(grep -m1 -oE 'Login user=alice auth=[A-Z]+ host=\[127\.0\.0\.1\]' "$work/b1.log") (perdition's address)"

# 3. A wrong password waits once: the back end's login_failure_delay (2 s),
# and the failure it logs (the line fail2ban counts) names the client.
out=$(run imap-fail 127.0.0.1 $p_imap alice not-her-password)
secs=$(echo "$out" | sed -n 's/^refused after \([0-9]*\)\.[0-9] s.*/\1/p')
[ -n "$secs" ] && [ "$secs" -ge 1 ] && [ "$secs" -lt 4 ] || fail "a wrong password: $out (one 2 s delay expected)"
expect "$work/b1.log" 'Login failed user=alice auth=[A-Z]+ host=\[127\.0\.0\.9\]' "b1 did not log the failure from 127.0.0.9"
say "wrong password for alice: $out"
out=$(run imap-fail 127.0.0.1 $p_imap mallory whatever)
secs=$(echo "$out" | sed -n 's/^refused after \([0-9]*\)\.[0-9] s.*/\1/p')
[ -n "$secs" ] && [ "$secs" -ge 1 ] && [ "$secs" -lt 4 ] || fail "an unknown user: $out (one 2 s Auth-Wait expected)"
say "unknown user (the map's Auth-Wait, no back end asked): $out"

# 4. A client that is not a trusted proxy cannot name an address.
out=$(run imap-forged 127.0.0.3 $p_bimap bob pw-bob)
refuse "$work/b2.log" '203\.0\.113\.66' "b2 believed a client's PROXY line"
say "a client's own PROXY line: $(echo "$out" | head -n 1)"

# 5. The proxy drops a POP3 session after DELE: nothing is deleted, and the
# back end logs the broken session under the client's address.
run pop-drop 127.0.0.1 $p_pop bob pw-bob >/dev/null
i=0
until grep -qE 'Unexpected client disconnect user=bob host=\[127\.0\.0\.9\]' "$work/b2.log"; do
    i=$((i + 1))
    [ $i -lt 100 ] || fail "b2 logged no disconnect of bob's dropped session"
    sleep 0.1
done
run pop-read 127.0.0.1 $p_pop bob pw-bob >"$work/bob.pop2"
diff "$work/bob.pop" "$work/bob.pop2" >/dev/null || fail "a dropped session deleted mail: $(cat "$work/bob.pop2")"
say "dropped POP3 session after DELE: nothing deleted, b2 logged the disconnect from 127.0.0.9"

# 6. Move alice from b1 to b2.  Flags and keywords first, a folder in her
# home (subscribed, a hole in its UIDs), and a message delivered after that,
# so that the INBOX, the home and pullmail's state must all travel.
run imap-flag 127.0.0.1 $p_imap alice pw-alice >/dev/null
deliver b1 alice "for alice 4"
run imap-read 127.0.0.1 $p_imap alice pw-alice >"$work/before.imap"
run pop-read 127.0.0.1 $p_pop alice pw-alice >"$work/before.pop"
[ "$(grep -c '^INBOX [0-9].*for alice' "$work/before.imap")" = 4 ] \
    && [ "$(grep -c '^Work [0-9].*for alice' "$work/before.imap")" = 2 ] \
    || fail "alice before the move: $(cat "$work/before.imap")"
grep -q '\\Flagged' "$work/before.imap" && grep -q '\$Work' "$work/before.imap" \
    || fail "alice's flags were not set: $(cat "$work/before.imap")"

# move_user USER FROM TO: README, "Moving a user to another back end".
# Here "ssh FROM" is the back end's directory, the same paths on both.
move_user() {
    user=$1 from=$work/$2/root to=$work/$3/root
    # 1. New logins wait at the proxy ("try again in a minute").
    set_map "$user" hold
    # 2. No session of the user is left on the old host (a site sends
    # SIGTERM to the user's imapd/ipop3d there: they save and say BYE).
    uid=$(id_of "$2" "$user")
    i=0
    while pgrep -u "$uid" >/dev/null 2>&1; do
        i=$((i + 1))
        [ $i -lt 50 ] || fail "sessions of $user still run on $2"
        sleep 0.1
    done
    # 3. The INBOX's dot-lock on the old host: deliveries (the MTA) and
    # pullmail wait for it.
    dotlockfile -l -r 3 "$from/spool/$user.lock"
    # 4. The INBOX and the home (other mailboxes, ~/.pullmail: UIDVALIDITY,
    # last UIDs), owners kept by number.
    rsync -aH --numeric-ids "$from/spool/$user" "$to/spool/$user"
    rsync -aH --numeric-ids --delete "$from/home/$user/" "$to/home/$user/"
    # 5. The account on the new host (the same uid: one directory service).
    add_user "$3" "$user" "$uid" "$(sed -n "s/^$user:\([^:]*\):imap$/\1/p" "$work/$2/passdb-imap")"
    # 6. The map points at the new host; the old one refers those who come
    # to it directly; its copy is set aside (removed once all is well).
    addr=$(sed -n "s/^$3 \([^ ]*\) .*/\1/p" "$work/backends")
    set_map "$user" "$3"
    echo "$user $addr:$p_bimap" >>"$work/$2/referrals"
    mv "$from/spool/$user" "$from/spool/$user.moved"
    dotlockfile -u "$from/spool/$user.lock"
}
id_of() { sed -n "s/^$2:x:\([0-9]*\):.*/\1/p" "$work/$1/passwd"; }
move_user alice b1 b2
say "moved alice from b1 to b2 (held at the proxy, dot-lock, rsync, map switched)"

run imap-read 127.0.0.1 $p_imap alice pw-alice >"$work/after.imap"
run pop-read 127.0.0.1 $p_pop alice pw-alice >"$work/after.pop"
expect "$work/b2.log" 'Login user=alice auth=[A-Z]+ host=\[127\.0\.0\.9\]' "alice's login after the move did not reach b2"
diff -u "$work/before.imap" "$work/after.imap" >&2 || fail "alice's UIDVALIDITY, UIDs or flags changed in the move"
diff -u "$work/before.pop" "$work/after.pop" >&2 || fail "alice's POP3 UIDLs changed in the move"
say "after the move, through the proxy, on b2: the same UIDVALIDITY, UIDs and flags (INBOX, and the folder Work):"
sed 's/^/    /' "$work/after.imap"
say "and the same UIDLs:"
sed 's/^/    /' "$work/after.pop"

# perdition: the new map, read at its restart.
perdition_stop
printf '^alice$: 127.0.0.3\n^bob$: 127.0.0.3\n' >"$work/popmap.re"
perdition_start
run imap-read 127.0.0.1 $p_perd_imap alice pw-alice >"$work/after.perdition.imap"
diff -u "$work/before.imap" "$work/after.perdition.imap" >&2 || fail "alice through perdition after the move"
say "through perdition with its map switched (and restarted): alice's same mailboxes on b2"

# 7. A client that goes to the old host directly is referred, and follows.
run imap-referral 127.0.0.2 $p_bimap alice pw-alice >"$work/referral"
head -n 1 "$work/referral" | grep -qx "referred to 127.0.0.3:$p_bimap" || fail "referral: $(cat "$work/referral")"
tail -n +2 "$work/referral" | diff -u "$work/before.imap" - >&2 || fail "the referred client did not find alice's mail"
expect "$work/b1.log" "alice: login referred to imap://alice;AUTH=\*@127\.0\.0\.3:$p_bimap/" "b1 logged no referral"
say "direct to b1: $(head -n 1 "$work/referral"), where alice finds the same mailboxes"

if [ -n "${CLUSTER_HOLD:-}" ]; then
    # Eight more users: odd ones live on b1, even ones on b2 (the map), and
    # all have an account on b1, which also listens without trusted_proxies
    # (for perdition) where a direct run can log in from 127.0.0.1.
    for i in 1 2 3 4 5 6 7 8; do
        if [ $((i % 2)) = 1 ]; then where=b1; else where=b2; fi
        add_user b1 clu$i $((base + 100 + i)) imt-pass
        [ $where = b1 ] || add_user b2 clu$i $((base + 100 + i)) imt-pass
        set_map clu$i $where
    done
    {
        echo "proxy 127.0.0.1 imap $p_imap pop3 $p_pop"
        echo "b1 direct (no trusted_proxies) 127.0.0.2 imap $p_pimap"
        echo "perdition 127.0.0.1 imap $p_perd_imap"
        echo "users clu1..clu8 (odd on b1, even on b2; all on b1 direct) password imt-pass"
    } >"$CLUSTER_HOLD"
    say "holding (CLUSTER_HOLD=$CLUSTER_HOLD): remove that file to stop"
    i=0
    while [ -e "$CLUSTER_HOLD" ] && [ $i -lt 3600 ]; do sleep 1; i=$((i + 1)); done
fi
say "passed"
