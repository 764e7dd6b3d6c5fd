#!/usr/bin/env bash
# The merge at N shards, one level vs two (merge --partial of G groups, then a final merge of G):
# CPU and wall seconds of every step, run one after another (as on a cluster where each is its
# own job; the critical path is one shard + the slowest partial merge + the final merge).
#   bench/merge-tree.sh fastq INPUT.fq [N=64] [G=8]
#   bench/merge-tree.sh nostr INPUT.jsonl [N=64] [G=8]
# Prints one line per step: step, wall s, CPU s (user + system); checks that both merges equal
# the unsharded output.
set -euo pipefail
format=$1 input=$2 N=${3:-64} G=${4:-8}
# THREADMILL: another build to run (a copy of dist/, while the tree is being rebuilt).
TM=${THREADMILL:-"node $(cd "$(dirname "$0")/.." && pwd)/dist/src/cli.js"}
# Shards run PAR at a time (CPU seconds are per process either way).
PAR=${PAR:-2}
work=$(mktemp -d "${TMPDIR:-/tmp}/tm-merge-tree-XXXXXX")
trap 'rm -rf "$work"' EXIT
export SOURCE_DATE_EPOCH=1700000000
per=$(( N / G ))

timed() { # label, command… (bash's time: wall, user and system seconds of the command's processes)
  local label=$1; shift
  local TIMEFORMAT="$label %R %U %S"
  { time "$@" 2>"$work/err-$label" ; } 2>>"$work/times" || { cat "$work/err-$label" >&2; return 1; }
}

case $format in
  fastq)
    run()   { $TM fastq convert "$input" -j 1 -q "$@"; }
    part()  { echo "$work/parts/$1.arrow"; }
    merge() { $TM fastq merge -q "$@"; }
    final_args() { echo "-o $work/$1.arrow"; }
    ;;
  nostr)
    # The benchmark events (bench/nostr-scale.ts) carry no real ids or signatures.
    run()   { $TM nostr convert "$input" -j 1 -q --no-validate-signatures --no-validate-event-ids "$@"; }
    part()  { echo "$work/parts/$1"; }
    merge() { $TM nostr merge -q "$@"; }
    final_args() { echo "-o $work/$1"; }
    ;;
esac

if [ "$format" = fastq ]; then timed whole run -o "$work/whole.arrow"; else timed whole run -o "$work/whole"; fi
shard() {
  if [ "$format" = fastq ]; then timed "shard-$1" run --shard "$1/$N" -o "$work/parts/{I}.arrow"
  else timed "shard-$1" run --shard "$1/$N" -o "$work/parts/{I}"; fi
}
for ((i = 0; i < N; i += PAR)); do
  for ((k = i; k < i + PAR && k < N; k++)); do shard "$k" & done
  wait
done
parts=(); for ((i = 0; i < N; i++)); do parts+=("$(part "$i")"); done
# shellcheck disable=SC2046
timed merge-1-level merge "${parts[@]}" $(final_args one)
mids=()
for ((g = 0; g < G; g++)); do
  if [ "$format" = fastq ]; then mid="$work/mid/$g.arrow"; else mid="$work/mid/$g"; fi
  timed "partial-$g" merge --partial "${parts[@]:$((g * per)):$per}" -o "$mid"
  mids+=("$mid")
done
# shellcheck disable=SC2046
timed merge-2-level-final merge "${mids[@]}" $(final_args two)

if [ "$format" = fastq ]; then
  cmp "$work/one.arrow" "$work/whole.arrow" && cmp "$work/two.arrow" "$work/whole.arrow" && echo "check: both merges = the unsharded bytes"
else
  compgen -G "$work/whole/*.pb.gz" >/dev/null || { echo "check: the unsharded run wrote no day file" >&2; exit 1; }
  for d in one two; do
    diff <(cd "$work/whole" && for f in *.pb.gz; do echo "$f $(gunzip -c "$f" | sha256sum)"; done) \
         <(cd "$work/$d" && for f in *.pb.gz; do echo "$f $(gunzip -c "$f" | sha256sum)"; done) >/dev/null
  done && echo "check: both merges = the unsharded day files (decompressed)"
fi
awk '{ printf "%s %.2f %.2f\n", $1, $2, $3 + $4 }' "$work/times"
