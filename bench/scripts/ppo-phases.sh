#!/usr/bin/env bash
# Iteration time by phase for PPO-M, PF-PPO BR and PF-PPO BW (drop mode, N = 5) on one SFT model, and the update's
# tokens/s; with ITERATIONS=50 also the memory over the run. Writes OUT/<method>/ runs and prints a table computed from
# their metrics.jsonl (the medians over iterations 2..I: the first includes one-time warm-up).
#   bench/scripts/ppo-phases.sh SFT_DIR TRAIN_JSONL OUT [ITERATIONS]
set -euo pipefail
sft=$1 train=$2 out=$3 iterations=${4:-10}
pfppo=${PFPPO:-src/PfPpo.Cli/bin/Release/net10.0/pfppo}
for method in ppo-m:none pf-br:br pf-bw:bw; do
  name=${method%%:*} filter=${method##*:}
  "$pfppo" ppo --policy "$sft" --problems "$train" --reward execution --filter "$filter" --n 5 --prompts-per-iteration 8 \
    --iterations "$iterations" --eval-every 0 --eval-limit 1 --held-out 0 --eval-problems "$train" --seed 1 --out "$out/$name" --force >/dev/null 2>&1
done
/usr/bin/python3 - "$out" <<'PY'
import json, statistics, sys, os
out = sys.argv[1]
phases = ["generate", "sandbox", "reward", "actor", "reference", "critic", "update", "total"]
rows = {}
for name in ["ppo-m", "pf-br", "pf-bw"]:
    lines = [json.loads(l) for l in open(os.path.join(out, name, "metrics.jsonl"))]
    body = lines[1:] if len(lines) > 1 else lines
    med = {p: statistics.median(l["seconds"][p] for l in body) for p in phases}
    med["trained"] = statistics.median(l["samples_trained"] for l in body)
    med["tok/s"] = statistics.median(l["update_tokens_per_s"] for l in body)
    med["mem first"] = lines[0]["memory_mb"]; med["mem last"] = lines[-1]["memory_mb"]; med["mem max"] = max(l["memory_mb"] for l in lines)
    rows[name] = med
cols = phases + ["trained", "tok/s", "mem first", "mem last", "mem max"]
print("| method | " + " | ".join(cols) + " | update / PPO-M | total / PPO-M |")
print("|" + "---|" * (len(cols) + 3))
for name, med in rows.items():
    print(f"| {name} | " + " | ".join(f"{med[c]:.3f}" if c in phases else f"{med[c]:.0f}" for c in cols)
          + f" | {med['update'] / rows['ppo-m']['update']:.2f} | {med['total'] / rows['ppo-m']['total']:.2f} |")
PY
