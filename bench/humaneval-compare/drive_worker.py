# Drives one sandbox worker.py directly (no C#, no bubblewrap): PID 1 of a fresh PID namespace through util-linux
# unshare (root needed), HumanEval's reference programs as tasks, ROUNDS times over.
# Usage: /usr/bin/python3 drive_worker.py WORKER_PY HUMANEVAL_JSONL_GZ [ROUNDS]
# Prints how many passed, the whole time, the median and 90th percentile per task (request to response) and the CPU
# of every process the worker ran (the worker, its judge, the candidates; from getrusage of the reaped children).
import gzip, json, os, resource, subprocess, sys, time

worker, data = sys.argv[1], sys.argv[2]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 1
problems = [json.loads(line) for line in gzip.open(data, "rt")]
work = "/tmp/pfppo-drive-work"
os.makedirs(work, exist_ok=True)
proc = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", "/usr/bin/python3", "-I", "-S", worker, work],
                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
ready = json.loads(proc.stdout.readline())
assert ready.get("ready"), ready


def request(i, p):
    reference = p["prompt"] + p["canonical_solution"]
    candidate = {"id": i, "solution": reference, "timeout": 10, "cpu_seconds": 10, "memory_bytes": 1 << 31,
                 "file_size_bytes": 1 << 20, "open_files": 64, "processes": 512, "max_output_bytes": 65536,
                 "max_result_items": 2000000, "test_count": 1}
    harness = {"mode": "asserts", "setup": "", "context": p["prompt"], "reference": reference, "force_fallback": False,
               "entry_point": p["entry_point"], "tests": [p["test"] + "\ncheck(%s)\n" % p["entry_point"]],
               "inputs": [], "max_result_items": 2000000}
    c, h = json.dumps(candidate).encode(), json.dumps(harness).encode()
    return b"%010d %010d\n" % (len(c), len(h)) + c + h


requests = [request(i, p) for i, p in enumerate(problems)]
times, passed = [], 0
start = time.perf_counter()
for _ in range(rounds):
    for r in requests:
        t = time.perf_counter()
        proc.stdin.write(r)
        proc.stdin.flush()
        response = json.loads(proc.stdout.readline())
        times.append(time.perf_counter() - t)
        passed += bool(response.get("done")) and all(x and x.get("ok") for x in response["tests"])
total = time.perf_counter() - start
proc.stdin.close()
proc.wait()
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
times.sort()
print("%d/%d passed, %.3f s, per task median %.2f ms, p90 %.2f ms, CPU of the worker's processes %.2f s (%.2f ms per task)" % (
    passed, len(times), total, 1000 * times[len(times) // 2], 1000 * times[int(len(times) * 0.9)],
    usage.ru_utime + usage.ru_stime, 1000 * (usage.ru_utime + usage.ru_stime) / len(times)))
