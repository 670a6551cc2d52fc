#!/usr/bin/env bash
# Build-time measurements for issue 11 (cold release ≤ 180 s, release rebuild after touching one
# console file ≤ 60 s, warm `cargo test` ≤ 90 s on the 2-core machine).
#
#   scripts/build-times.sh cold    # rm -rf the target dir, `cargo build --release --timings`
#   scripts/build-times.sh touch   # touch one console view, rebuild release, list what rebuilt
#   scripts/build-times.sh test    # `cargo test` on a warm tree (builds it first, untimed)
#
# Each prints wall and CPU time (user+sys) with the load beside them, and the CPU time of every
# rustc that ran (a RUSTC_WRAPPER around /usr/bin/time; it does not change what is built): CPU
# per unit is what survives a loaded machine, wall time is not. `cold` also leaves cargo's
# timings page (per-unit times, the critical path) under $CARGO_TARGET_DIR/cargo-timings/.
# Uses ${CARGO_TARGET_DIR:-target}; `cold` deletes it.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-target}"
export CARGO_INCREMENTAL=0
mode="${1:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# The wrapper: rustc's CPU time per crate, appended to $RUSTC_TIME_LOG.
cat >"$work/rustc-time" <<'WRAP'
#!/usr/bin/env bash
rustc="$1"; shift
name=?; kind=lib; prev=
for a in "$@"; do
  [ "$prev" = "--crate-name" ] && name="$a"
  [ "$prev" = "--crate-type" ] && kind="$a"
  prev="$a"
done
exec /usr/bin/time -a -o "$RUSTC_TIME_LOG" -f "%U %S %e $name $kind" "$rustc" "$@"
WRAP
chmod +x "$work/rustc-time"
export RUSTC_TIME_LOG="$work/units.log"
: >"$RUSTC_TIME_LOG"

timed() {
  echo "load before: $(uptime)"
  /usr/bin/time -f "wall %e s, cpu %U s user + %S s sys" -o "$work/total" "$@"
  echo "load after:  $(uptime)"
  echo "$* : $(cat "$work/total")"
}

units() {
  echo "units by CPU (user+sys s, wall s, crate, kind); $(wc -l <"$RUSTC_TIME_LOG") rustc runs:"
  awk '{ printf "%7.1f %7.1f  %s %s\n", $1 + $2, $3, $4, $5 }' "$RUSTC_TIME_LOG" \
    | sort -rn | head -"${TOP:-25}"
  awk '{ cpu += $1 + $2 } END { printf "sum of rustc CPU: %.1f s\n", cpu }' "$RUSTC_TIME_LOG"
}

case "$mode" in
  cold)
    rm -rf "$target"
    RUSTC_WRAPPER="$work/rustc-time" timed cargo build --release --locked --timings
    units
    echo "timings: $(ls -t "$target"/cargo-timings/cargo-timing-*.html | head -1)"
    ;;
  touch)
    cargo build --release --locked
    : >"$RUSTC_TIME_LOG"
    touch crates/console/src/views/lists.rs
    RUSTC_WRAPPER="$work/rustc-time" timed cargo build --release --locked
    units
    ;;
  test)
    cargo test --locked --no-run
    RUSTC_WRAPPER="$work/rustc-time" timed cargo test --locked -q
    ;;
  *)
    sed -n '2,13p' "$0"
    exit 2
    ;;
esac
