# The guard of a command that `holdfast lock` or `holdfast elect` runs (see ChildGuard.java).
#
# Arguments: GRACE_MS WHO. GRACE_MS is the --grace in milliseconds, WHO the CLI's name for messages.
# Standard input is the lifeline: a pipe whose only writer is the CLI. The CLI starts the guard
# before the command, so that no spawn of a process lies between the command's start and its guard.
#   - first line "PID START": the command the CLI has just started, and its start time (field 22
#     of /proc/PID/stat); "done" or end of file instead: there is no command to guard, exit quietly;
#   - then a line: the CLI is ending normally (the command has ended, or the CLI stopped it): exit
#     quietly;
#   - end of file without a line: the CLI died (SIGKILL, OOM kill) and its lock will expire while
#     the command runs on: stop the command and the processes it started, as the CLI would have:
#     SIGTERM, then SIGKILL to whatever is left after GRACE_MS.
# A process is only signalled while /proc/P/stat shows the start time recorded for it, so a pid
# that the system gave to another process since is never touched.

# Signals to the terminal's foreground group (Ctrl-C) or the whole group are for the CLI and the
# command: the guard stays until the CLI dismisses it or dies.
trap '' INT HUP TERM QUIT

grace=$1
who=$2
cli=$PPID

IFS=' ' read -r pid start rest || exit 0
case "$pid:$start" in
    *[!0-9:]* | :* | *:) exit 0 ;; # "done", or not a pid and a start time: nothing to guard
esac

if IFS= read -r line; then
    exit 0
fi

# pstat P: sets st_state, st_ppid and st_start from /proc/P/stat; fails if P is gone.
pstat() {
    st_line=
    { IFS= read -r st_line < "/proc/$1/stat"; } 2>/dev/null || [ -n "$st_line" ] || return 1
    set -- ${st_line##*) }
    [ $# -ge 20 ] || return 1
    st_state=$1
    st_ppid=$2
    shift 19
    st_start=$1
}

# same P START: P is still the process that started at START, and not yet a zombie.
same() {
    pstat "$1" && [ "$st_start" = "$2" ] && [ "$st_state" != Z ]
}

# tree: adds to $victims ("P:START" words) the command and every process under it, found by their
# parent pids in /proc. Only while the command itself is alive: a dead command's pid may be reused.
tree() {
    same "$pid" "$start" || return 0
    all=
    for d in /proc/[0-9]*; do
        p=${d#/proc/}
        pstat "$p" && all="$all $p:$st_ppid:$st_start"
    done
    found=" $pid "
    case " $victims " in *" $pid:$start "*) ;; *) victims="$victims $pid:$start" ;; esac
    grew=1
    while [ $grew = 1 ]; do
        grew=0
        for e in $all; do
            p=${e%%:*}
            rest=${e#*:}
            case "$found" in *" $p "*) continue ;; esac
            case "$found" in
                *" ${rest%%:*} "*)
                    found="$found$p "
                    case " $victims " in *" $p:${rest#*:} "*) ;; *) victims="$victims $p:${rest#*:}" ;; esac
                    grew=1
                    ;;
            esac
        done
    done
}

# signal SIG: sends SIG to each victim that is still the process it was; "alive" counts them.
signal() {
    alive=0
    for v in $victims; do
        if same "${v%%:*}" "${v#*:}"; then
            alive=$((alive + 1))
            [ -z "$1" ] || kill -s "$1" "${v%%:*}" 2>/dev/null
        fi
    done
}

victims=
tree
[ -n "$victims" ] || exit 0
echo "$who (pid $cli) died while its command ran; stopping the command (pid $pid), SIGKILL after ${grace}ms" >&2
signal TERM
waited=0
while [ "$waited" -lt "$grace" ]; do
    if sleep 0.1 2>/dev/null; then
        waited=$((waited + 100))
    else
        sleep 1
        waited=$((waited + 1000))
    fi
    signal ''
    [ "$alive" -gt 0 ] || exit 0
done
tree
signal KILL
exit 0
