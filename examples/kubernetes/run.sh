#!/usr/bin/env bash
# Runs the shards, then the two merge levels, each only after the one before completed; stops at
# the first Job that fails, and never waits past its timeout (kubectl wait on condition=complete
# alone would sit out the whole timeout on a Job that has already failed).
set -euo pipefail
cd "$(dirname "$0")"

# Waits until Job $1 is Complete (0) or Failed, or $2 (e.g. 6h) has passed (1).
wait_job() {
  local job=$1 timeout=$2 state
  kubectl wait --for=condition=complete "job/$job" --timeout="$timeout" >/dev/null 2>&1 &
  local ok=$!
  kubectl wait --for=condition=failed "job/$job" --timeout="$timeout" >/dev/null 2>&1 &
  local bad=$!
  wait -n "$ok" "$bad" || true # whichever comes first
  kill "$ok" "$bad" 2>/dev/null || true
  state=$(kubectl get "job/$job" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
  case " $state " in *" Complete "*) return 0 ;; esac
  echo "run.sh: job $job did not complete within $timeout (conditions: ${state:-none}); see kubectl describe job $job" >&2
  return 1
}

kubectl apply -f shards.yaml
wait_job tm-shards 6h
kubectl apply -f merge-mid.yaml
wait_job tm-merge-mid 2h
kubectl apply -f merge-final.yaml
wait_job tm-merge-final 2h
echo "run.sh: /data/out.parquet written"
