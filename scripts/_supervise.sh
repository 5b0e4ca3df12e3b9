# Sourced by up.sh: `supervise NAME COMMAND...` runs COMMAND and starts it again whenever it exits,
# after a back-off (1 s, doubling to 30 s; back to 1 s once a run lasted a minute), so a dead
# worker or beat costs seconds and never takes the rest of the platform down. Run it in the
# background; SIGTERM stops it and, first, its command (which gets SIGTERM and is waited for).
# The command's current PID is written to $SUPERVISE_DIR/NAME.pid when SUPERVISE_DIR is set.
supervise() {
  local name=$1
  shift
  local delay=1 child="" started rc
  # A stop request ends the current run and the loop; `wait` returns early for a trapped signal.
  trap 'trap - TERM INT; [ -n "$child" ] && kill -TERM "$child" 2>/dev/null; [ -n "$child" ] && wait "$child" 2>/dev/null; exit 0' TERM INT
  while true; do
    started=$SECONDS
    "$@" &
    child=$!
    if [ -n "${SUPERVISE_DIR:-}" ]; then
      echo "$child" > "$SUPERVISE_DIR/$name.pid"
    fi
    rc=0
    wait "$child" || rc=$?
    child=""
    if (( SECONDS - started >= 60 )); then
      delay=1
    fi
    echo "supervise: $name exited with status $rc; starting it again in ${delay}s" >&2
    # In the background, so a stop request does not wait for the back-off to end.
    sleep "$delay" &
    child=$!
    wait "$child" || true
    child=""
    delay=$(( delay * 2 > 30 ? 30 : delay * 2 ))
  done
}
