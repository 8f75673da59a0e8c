# PfPpo sandbox worker. Runs inside the sandbox as PID 1 of its PID namespace and never executes candidate code
# itself: each task runs in a forked child (and, for io tests, one grandchild per test). Protocol: one JSON request
# per line on stdin, one JSON response per line on stdout. Children lose fds 0-2 before any candidate code runs.
import builtins, gc, json, os, resource, select, signal, sys, time, shutil
from types import FunctionType

PRISTINE_BUILTINS = dict(builtins.__dict__)
WORK_ROOT = sys.argv[1] if len(sys.argv) > 1 else "/tmp"  # private tmpfs under bwrap, a private host dir otherwise
IS_NAMESPACE_INIT = os.getpid() == 1
PROTOCOL_IN = sys.stdin.buffer
PROTOCOL_OUT = sys.stdout.buffer


def set_not_dumpable():
    # Children (same uid) must not open /proc/1/fd/* and write to the protocol pipes.
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    except Exception:
        pass


def clean_work_root():
    with os.scandir(WORK_ROOT) as entries:
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    try:
                        os.rmdir(entry.path)  # the usual case: the task left its work dir empty
                    except OSError:
                        shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass


def kill_everything_else(task_pid):
    # As PID 1 of the namespace, kill(-1) reaches every other process in it (daemons, orphans, fork bombs).
    # Without a PID namespace only the task's process group can be reached (a setsid() daemon escapes).
    try:
        if IS_NAMESPACE_INIT:
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(task_pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    if not IS_NAMESPACE_INIT:
        return  # the task child is already reaped; orphans belong to the real init
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def tagged(value, budget, type=type, len=len, abs=abs, list=list, tuple=tuple, dict=dict, set=set, frozenset=frozenset):
    """Type-tagged serialisation accepting exact builtin types only (no subclasses, no custom __eq__)."""
    stack_depth = [0]

    def enc(v):
        budget[0] -= 1
        if budget[0] < 0:
            raise OverflowError("return value too large")
        t = type(v)
        if v is None:
            return {"z": None}
        if t is bool:
            return {"b": v}
        if t is int:
            s = int.__repr__(v) if abs(v) < 10 ** 4000 else None
            if s is None:
                raise OverflowError("integer too large")
            budget[0] -= len(s) // 8
            return {"i": s}
        if t is float:
            return {"f": float.__repr__(v)}
        if t is str:
            budget[0] -= len(v) // 8
            if budget[0] < 0:
                raise OverflowError("return value too large")
            return {"s": v}
        budget[0] -= len(v)  # containers: refuse oversized ones before walking them
        if budget[0] < 0:
            raise OverflowError("return value too large")
        stack_depth[0] += 1
        if stack_depth[0] > 100:
            raise OverflowError("return value nested too deeply")
        try:
            if t is list:
                return {"l": [enc(x) for x in list.__iter__(v)]}
            if t is tuple:
                return {"t": [enc(x) for x in tuple.__iter__(v)]}
            if t is dict:
                return {"d": [[enc(k), enc(x)] for k, x in dict.items(v)]}
            if t is set or t is frozenset:
                return {"set": [enc(x) for x in v]}
        finally:
            stack_depth[0] -= 1
        raise TypeError("unsupported return type %s" % t.__qualname__)

    return enc(value)


MRO_OF = type.__dict__["__mro__"].__get__
DICT_OF = type.__dict__["__dict__"].__get__
SLOT_WRAPPER = type(object.__eq__)


def untrusted_equality(value, type=type, dict=dict, any=any, getattr=getattr, mro_of=MRO_OF, dict_of=DICT_OF,
                       slot=SLOT_WRAPPER):
    """True when value (or anything inside a builtin container) compares with an __eq__/__ne__ that the program
    wrote, borrowed (int.__ne__ as __eq__), or took from unittest.mock (ANY): such objects can make asserts pass.
    Builtin and standard-library types (dict, Counter, defaultdict, Fraction, ...) are trusted."""
    def check(v, depth):
        t = type(v)
        if depth > 100:
            return True
        if t is list or t is tuple or t is set or t is frozenset:
            return any(check(x, depth + 1) for x in v)
        if t is dict:
            return any(check(k, depth + 1) or check(x, depth + 1) for k, x in dict.items(v))
        for name in ("__eq__", "__ne__"):
            for klass in mro_of(t):
                found = dict_of(klass).get(name)
                if found is None:
                    continue
                if type(found) is slot:
                    # A C slot is honest only in the class that defines it, under its own name.
                    if found.__objclass__ is not klass or found.__name__ != name:
                        return True
                    break
                code = getattr(getattr(found, "__func__", found), "__code__", None)
                if code is None or not code.co_filename.startswith("/usr/") or code.co_filename.endswith("unittest/mock.py"):
                    return True
                break
        return False

    return check(value, 0)


def guard_returns(fn, untrusted=untrusted_equality, getattr=getattr):
    """Wraps a function under test so that it may not return an object with dishonest equality (see
    untrusted_equality): an always-equal object would pass every `assert candidate(x) == y`."""
    def guarded(*args, __fn=fn, **kwargs):
        result = __fn(*args, **kwargs)
        if untrusted(result):
            raise TypeError("returned an object whose equality the program defined")
        return result

    guarded.__name__ = getattr(fn, "__name__", "guarded")
    guarded.__doc__ = getattr(fn, "__doc__", None)
    return guarded


def guard_program_functions(ns, FunctionType=FunctionType, type=type, list=list, guard=guard_returns):
    """MBPP has no entry point: guard every function the program defined."""
    for name, value in list(ns.items()):
        if type(value) is FunctionType and value.__code__.co_filename == "solution.py":
            ns[name] = guard(value)


def set_limits(req):
    def lim(which, value):
        if value and value > 0:
            try:
                resource.setrlimit(which, (value, value))
            except (ValueError, OSError):
                pass
    lim(resource.RLIMIT_CPU, int(req["cpu_seconds"]))
    lim(resource.RLIMIT_AS, int(req["memory_bytes"]))
    lim(resource.RLIMIT_FSIZE, int(req["file_size_bytes"]))
    lim(resource.RLIMIT_NOFILE, int(req["open_files"]))
    lim(resource.RLIMIT_NPROC, int(req["processes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def child_main(req, res_w, out_w, nonce, work):
    write, _exit, fork, waitpid = os.write, os._exit, os.fork, os.waitpid
    try:
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        os.dup2(devnull, 0)
        os.dup2(out_w, 1)
        os.dup2(out_w, 2)
        # Move the result pipe to an unpredictable descriptor, then close everything else we inherited.
        fd = 100 + int.from_bytes(os.urandom(2), "little") % 800
        os.dup2(res_w, fd, inheritable=False)
        os.closerange(3, fd)
        os.closerange(fd + 1, 1024)
        res_w = fd
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = sys.stdout
        os.chdir(work)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        set_limits(req)
    except BaseException as e:
        _exit(70)

    # Everything used after candidate code runs is bound here first: the candidate can rebind names in the
    # builtins module, in this module and in json, but not these locals.
    dumps, loads = json.dumps, json.loads
    _exec, _compile, _eval, _dict, _callable, _enumerate, _len, _float, _int = (
        exec, compile, eval, dict, callable, enumerate, len, float, int)
    _pipe, _close, _read, _select, _monotonic, _kill = os.pipe, os.close, os.read, select.select, time.monotonic, os.kill
    _pidfd_open, _set_blocking, _flush = os.pidfd_open, os.set_blocking, sys.stdout.flush
    _tagged, _guard, builtins_copy = tagged, guard_returns, PRISTINE_BUILTINS.copy
    _isinstance, _list, _vars, _setattr, _guard_all = isinstance, list, vars, setattr, guard_program_functions

    def send(record):
        data = (dumps(record) + "\n").encode()
        view = memoryview(data)
        while view:
            n = write(res_w, view)
            view = view[n:]

    def describe(e, type=type, str=str):
        try:
            return "%s: %s" % (type(e).__name__, str(e)[:500])
        except BaseException:
            return "exception"

    # Trace and profile hooks can jump over a test's asserts (frame.f_lineno) or rewrite its locals: remove them.
    for name in ("settrace", "setprofile"):
        try:
            delattr(sys, name)
        except AttributeError:
            pass

    ns = {"__name__": "__main__", "__builtins__": builtins_copy()}
    try:
        _exec(_compile(req["solution"], "solution.py", "exec"), ns)
    except BaseException as e:
        send({"setup_error": describe(e)})
        _flush()
        _exit(1)

    entry = req.get("entry_point")
    if req["mode"] == "io":
        try:
            fn = _eval(entry, _dict(ns, __builtins__=builtins_copy()))
            if not _callable(fn):
                raise TypeError("entry point %r is not callable" % entry)
        except BaseException as e:
            send({"setup_error": describe(e)})
            _exit(1)
        inputs = req["inputs"]
        per_test = _float(req["per_test_timeout"])
        budget = _int(req["max_result_items"])
        for i, args in _enumerate(inputs):
            r, w = _pipe()
            pid = fork()
            if pid == 0:
                _close(r)
                try:
                    value = fn(*args)
                    payload = {"i": i, "v": _tagged(value, [budget])}
                except BaseException as e:
                    payload = {"i": i, "e": describe(e)}
                try:
                    _flush()
                except BaseException:
                    pass
                data = (dumps(payload) + "\n").encode()
                view = memoryview(data)
                while view:
                    n = write(w, view)
                    view = view[n:]
                _exit(0)
            _close(w)
            chunks, deadline, status = [], _monotonic() + per_test, None
            pidfd = _pidfd_open(pid)
            timed_out = False
            while True:
                left = deadline - _monotonic()
                if left <= 0:
                    timed_out = True
                    break
                ready, _, _ = _select([r, pidfd], [], [], left)
                if r in ready:
                    chunk = _read(r, 1 << 16)
                    if not chunk:
                        break
                    chunks.append(chunk)
                elif pidfd in ready:
                    # Exited: drain what is left without blocking on descendants that hold the pipe.
                    _set_blocking(r, False)
                    try:
                        while True:
                            chunk = _read(r, 1 << 16)
                            if not chunk:
                                break
                            chunks.append(chunk)
                    except BlockingIOError:
                        pass
                    break
            if timed_out:
                try:
                    _kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, status = waitpid(pid, 0)
            _close(r)
            _close(pidfd)
            text = b"".join(chunks).decode("utf-8", "replace")
            if timed_out:
                send({"i": i, "timeout": True})
            elif text.endswith("\n") and status == 0:
                send(loads(text))
            else:
                sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
                send({"i": i, "e": "test process died (%s)" % (
                    "signal %d" % sig if sig else "exit %d" % os.WEXITSTATUS(status))})
        send({"done": nonce})
        _exit(0)

    # Assert mode: setup, then each test snippet in order with pristine builtins. Tests see guarded functions in
    # their own copy of the globals; the program's own (recursive) calls keep reaching the unguarded ones.
    try:
        tns = _dict(ns)
        if entry and req.get("guard"):
            target = _eval(entry, _dict(ns, __builtins__=builtins_copy()))
            if _isinstance(target, type):
                # A class (LeetCode's Solution): guard its public methods in place.
                for name, member in _list(_vars(target).items()):
                    if not name.startswith("_") and _isinstance(member, FunctionType):
                        _setattr(target, name, _guard(member))
            elif _callable(target):
                guarded = _guard(target)
                if entry.isidentifier():
                    tns[entry] = guarded
                tns["__pfppo_candidate__"] = guarded
        elif req.get("guard_all"):
            _guard_all(tns)
        ns = tns
        ns["__builtins__"] = builtins_copy()
        setup = req.get("setup") or ""
        if setup:
            _exec(_compile(setup, "setup.py", "exec"), ns)
    except BaseException as e:
        send({"setup_error": describe(e)})
        _exit(1)
    for i, snippet in _enumerate(req["tests"]):
        try:
            ns["__builtins__"] = builtins_copy()
            _exec(_compile(snippet, "test_%d.py" % i, "exec"), ns)
            send({"i": i, "ok": True})
        except AssertionError as e:
            send({"i": i, "f": describe(e)})
        except BaseException as e:
            send({"i": i, "e": describe(e)})
    try:
        _flush()
    except BaseException:
        pass
    send({"done": nonce})
    _exit(0)


def run_task(req):
    clean_work_root()
    work = os.path.join(WORK_ROOT, "work")
    os.mkdir(work, 0o700)
    res_r, res_w = os.pipe()
    out_r, out_w = os.pipe()
    nonce = os.urandom(16).hex()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        os.close(res_r)
        os.close(out_r)
        try:
            child_main(req, res_w, out_w, nonce, work)
        finally:
            os._exit(71)
    os.close(res_w)
    os.close(out_w)
    pidfd = os.pidfd_open(pid)
    for fd in (res_r, out_r):
        os.set_blocking(fd, False)
    deadline = started + float(req["timeout"])
    max_output = int(req["max_output_bytes"])
    max_result = 64 * 1024 * 1024
    result, output, output_total, result_total, result_overflow = [], [], 0, 0, False
    exited = timed_out = False
    open_fds = {res_r, out_r}
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = not exited
            break
        ready, _, _ = select.select(list(open_fds) + ([] if exited else [pidfd]), [], [], left if not exited else 0)
        if not ready and exited:
            break  # child gone and its descendants hold the pipes open with nothing to say
        for fd in ready:
            if fd == pidfd:
                exited = True
                continue
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                continue
            if not chunk:
                open_fds.discard(fd)
                continue
            if fd == res_r:
                result_total += len(chunk)
                if result_total > max_result:
                    result_overflow = True
                    open_fds.clear()
                    break
                result.append(chunk)
            else:
                if output_total < max_output:
                    output.append(chunk[: max_output - output_total])
                output_total += len(chunk)
    elapsed = time.monotonic() - started
    if not exited:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    kill_everything_else(pid)
    for fd in (res_r, out_r, pidfd):
        os.close(fd)
    clean_work_root()

    records, tests, setup_error, done = [], {}, None, False
    for line in b"".join(result).split(b"\n"):
        if not line:
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue  # junk written by the candidate: ignored, it can only lose tests
        if not isinstance(rec, dict):
            continue
        if "done" in rec:
            done = rec["done"] == nonce
        elif "setup_error" in rec:
            setup_error = str(rec["setup_error"])
        elif isinstance(rec.get("i"), int) and rec["i"] not in tests:
            tests[rec["i"]] = rec
    response = {
        "id": req["id"],
        "timed_out": timed_out,
        "done": done and not timed_out,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "setup_error": setup_error or ("result channel overflow" if result_overflow else None),
        "tests": [tests.get(i) for i in range(len(req["inputs"]) if req["mode"] == "io" else len(req["tests"]))],
        "output": b"".join(output).decode("utf-8", "replace"),
        "output_truncated": output_total > max_output,
        "duration_ms": elapsed * 1000.0,
    }
    return response


PREIMPORTED_MODULES = ("typing", "math", "collections", "itertools", "functools", "heapq", "re", "string", "bisect",
                       "operator")
WARM_UP_PROGRAM = """
def warm_up(xs):
    \"\"\"A typical small task.\"\"\"
    return sum(x * 2 + 1 for x in xs) + max(xs) + len([x for x in xs if x % 2])


def check(candidate):
    assert candidate([1, 2, 3]) == 20
    assert abs(candidate([0]) - 1.0) < 1e-6, "message"
"""


def warm_up():
    """The first compile() in a process costs about 1 ms more than later ones (one-time initialisation); the first
    json and io calls fill caches too. Doing each once here, on throwaway objects, lets every forked task process start warm instead
    of paying for it again. Nothing here is visible to tasks."""
    ns = {"__name__": "__warm__", "__builtins__": PRISTINE_BUILTINS.copy()}
    exec(compile(WARM_UP_PROGRAM, "warm.py", "exec"), ns)
    tns = dict(ns, __builtins__=PRISTINE_BUILTINS.copy())
    tns["__pfppo_candidate__"] = guard_returns(ns["warm_up"])
    exec(compile("check(__pfppo_candidate__)", "test_0.py", "exec"), tns)
    json.loads(json.dumps({"i": 0, "v": tagged([1, "a", (2.5, None)], [1000])}))
    r, w = os.pipe()
    try:
        open(r, "r", closefd=False).close()
        open(w, "w", buffering=1, closefd=False, errors="replace").close()
    finally:
        os.close(r)
        os.close(w)


def main():
    set_not_dumpable()
    # -S skips site, which would add the system's dist-packages (numpy for HumanEval+ tests, when installed).
    for d in ("/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"):
        if os.path.isdir(d) and d not in sys.path:
            sys.path.append(d)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)  # as PID 1 without handlers these cannot be delivered from inside
    # Modules that generated programs import all the time: imported once here, a task's import is a dict lookup
    # (a forked task importing typing itself takes about 5 ms, three times the rest of the task).
    for name in PREIMPORTED_MODULES:
        __import__(name)
    warm_up()
    gc.collect()
    gc.freeze()  # forked task processes then never scan (and copy on write) the worker's own objects
    PROTOCOL_OUT.write(b'{"ready": true}\n')
    PROTOCOL_OUT.flush()
    for line in PROTOCOL_IN:
        req = json.loads(line)
        try:
            response = run_task(req)
        except Exception as e:
            response = {"id": req.get("id"), "infra_error": "%s: %s" % (type(e).__name__, e)}
        PROTOCOL_OUT.write(json.dumps(response).encode() + b"\n")
        PROTOCOL_OUT.flush()


if __name__ == "__main__":
    main()
