# PfPpo sandbox worker. Runs inside the sandbox as PID 1 of its PID namespace and never executes candidate code
# itself. Two kinds of process work for it, joined per task by a private pipe pair:
#   * the candidate process, forked per task, runs the program and answers calls (arguments and results are
#     exact-typed builtin data);
#   * the judge, one long-lived process forked before the first task, runs each task's harness: the tests, calling
#     the candidate through proxies. It alone holds the result pipe.
# The candidate is forked before the worker reads the task's tests, so they are never in its memory.
# Protocol on stdin: a 22-byte header "%010d %010d\n" (candidate part and harness part lengths in bytes), then the
# candidate part (JSON) and the harness part (JSON, read into a scratch buffer that is zeroed once sent to the judge).
# One JSON response per line on stdout.
import builtins, fcntl, gc, json, os, resource, select, signal, sys, time, shutil
from types import FunctionType

PRISTINE_BUILTINS = dict(builtins.__dict__)
WORK_ROOT = sys.argv[1] if len(sys.argv) > 1 else "/tmp"  # private tmpfs under bwrap, a private host dir otherwise
IS_NAMESPACE_INIT = os.getpid() == 1
MAX_MESSAGE = 64 * 1024 * 1024
CALL_IN, CALL_OUT = 3, 4  # the candidate's only descriptors besides 0-2


_PRCTL = []  # libc's prctl, looked up once in the worker (a CDLL per harness cost 0.3-0.4 ms)


def set_not_dumpable():
    # Same-uid processes must not open /proc/<pid>/fd/*, /proc/<pid>/mem or ptrace this one.
    try:
        if not _PRCTL:
            import ctypes
            _PRCTL.append(ctypes.CDLL(None, use_errno=True).prctl)
        _PRCTL[0](4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
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


def kill_everything_else(pids, spare=None):
    """Kills the task's processes and everything they left, sparing the judge (pid spare).
    As PID 1 of the namespace, kill(-1) reaches every other process in it (daemons, orphans, fork bombs); to spare the
    judge, everything is first stopped with kill(-1, SIGSTOP) (atomic against fork: nothing runs or forks after it),
    then every process but the judge is killed and the judge resumed. Without a PID namespace only the task's process
    groups can be reached (a setsid() daemon escapes); the judge is in a session of its own."""
    if not IS_NAMESPACE_INIT:
        for pid in pids:
            for kill in (os.killpg, os.kill):
                try:
                    kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        return
    if spare is None:
        try:
            os.kill(-1, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                return
    try:
        os.kill(-1, signal.SIGSTOP)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        # Everything that exists now is listed: nothing forks after the stop.
        others = [pid for pid in map(int, filter(str.isdigit, os.listdir("/proc"))) if pid != 1 and pid != spare]
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        while others:
            left = []
            for pid in others:
                try:
                    os.waitpid(pid, 0)  # a child of this process: it dies of the SIGKILL
                except ChildProcessError:  # not a child yet (its parent is still exiting; then it comes here) or gone
                    if os.path.exists("/proc/%d" % pid):
                        left.append(pid)
            if len(left) == len(others):
                time.sleep(0.0002)
            others = left
    finally:
        try:
            os.kill(spare, signal.SIGCONT)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------------------------------------------------------------
# Exact-typed data. Both sides use these; the harness only ever rebuilds builtin values from them.

class Unencodable(TypeError):
    pass


ITERATOR_TYPES = (type(iter([])), type(iter(())), type(x for x in ()), type(map(abs, ())), type(filter(None, ())),
                  type(zip()), type(reversed([])), type(enumerate(())), type({}.keys()), type({}.values()),
                  type({}.items()), type(iter(range(0))), type(iter("")), type(iter({})), type(iter(set())))


def encoder(budget, refs=None, type=type, len=len, abs=abs, isinstance=isinstance, list=list, tuple=tuple, dict=dict,
            set=set, frozenset=frozenset, int=int, float=float, str=str, bytes=bytes, complex=complex, range=range,
            id=id):
    """Returns enc(value) -> tagged JSON-able data. Subclasses of builtins (Counter, namedtuple, IntEnum, a
    program's own `class S(str)`) are sent as their builtin base value, so no equality written by the program
    survives. Lazy iterators and generators are materialised (bounded by the budget) and rebuilt as iterators.
    Other objects: with refs (the candidate's handle table) they become handles, else Unencodable."""
    depth = [0]
    iterator_types = ITERATOR_TYPES

    def spend(n):
        budget[0] -= n
        if budget[0] < 0:
            raise OverflowError("value too large")

    def enc(v):
        spend(1)
        t = type(v)
        if v is None:
            return {"z": None}
        if t is bool:
            return {"b": v}
        if isinstance(v, int):
            v = int.__int__(v) if t is not int else v
            if abs(v) >= 10 ** 4000:
                raise OverflowError("integer too large")
            s = int.__repr__(v)
            spend(len(s) // 8)
            return {"i": s}
        if isinstance(v, float):
            return {"f": float.__repr__(float.__float__(v))}
        if isinstance(v, str):
            v = str.__str__(v) if t is not str else v
            spend(len(v) // 8)
            return {"s": v}
        if isinstance(v, complex):
            return {"c": [float.__repr__(complex.real.__get__(v)), float.__repr__(complex.imag.__get__(v))]}
        if isinstance(v, (bytes, bytearray)):
            spend(len(v) // 8)
            return {"y" if isinstance(v, bytes) else "ya": bytes(v).hex()}
        if t is range:
            return {"r": [v.start, v.stop, v.step]}
        if t is type and PRISTINE_BUILTINS.get(v.__name__) is v:
            return {"ty": v.__name__}  # int, str, ... passed as values (MBPP's remove_datatype(xs, int))
        depth[0] += 1
        if depth[0] > 100:
            raise OverflowError("value nested too deeply")
        try:
            if isinstance(v, list):
                spend(list.__len__(v))
                return {"l": [enc(x) for x in list.__iter__(v)]}
            if isinstance(v, tuple):
                spend(tuple.__len__(v))
                return {"t": [enc(x) for x in tuple.__iter__(v)]}
            if isinstance(v, dict):
                spend(dict.__len__(v))
                return {"d": [[enc(k), enc(x)] for k, x in dict.items(v)]}
            if isinstance(v, frozenset):
                spend(frozenset.__len__(v))
                return {"fs": [enc(x) for x in frozenset.__iter__(v)]}
            if isinstance(v, set):
                spend(set.__len__(v))
                return {"set": [enc(x) for x in set.__iter__(v)]}
            if t in iterator_types or t.__name__ == "generator":
                items = []
                for x in v:
                    spend(1)
                    items.append(enc(x))
                return {"it": items}
        finally:
            depth[0] -= 1
        if refs is not None:
            key = id(v)
            refs[key] = v
            return {"h": key, "n": t.__name__}
        raise Unencodable("cannot pass a %s to the program under test" % t.__qualname__)

    return enc


def decoder(lookup_ref=None, type=type, len=len, list=list, tuple=tuple, dict=dict, set=set, frozenset=frozenset,
            int=int, float=float, str=str, bytes=bytes, complex=complex, range=range, iter=iter):
    """Rebuilds builtin values from tagged data. Handles become lookup_ref(id, name) (candidate: its own objects;
    harness: RemoteObject proxies)."""
    depth = [0]

    def dec(t):
        if type(t) is not dict or len(t) < 1:
            raise ValueError("malformed value")
        for k, v in dict.items(t):
            break
        if k == "z":
            return None
        if k == "b":
            if type(v) is not bool:
                raise ValueError("malformed bool")
            return v
        if k == "i":
            return int(str(v))
        if k == "f":
            return float(str(v))
        if k == "s":
            if type(v) is not str:
                raise ValueError("malformed str")
            return v
        if k == "c":
            return complex(float(str(v[0])), float(str(v[1])))
        if k == "y":
            return bytes.fromhex(str(v))
        if k == "ya":
            return bytearray.fromhex(str(v))
        if k == "r":
            return range(int(v[0]), int(v[1]), int(v[2]))
        if k == "ty":
            klass = PRISTINE_BUILTINS.get(str(v))
            if type(klass) is not type:
                raise ValueError("unknown builtin type")
            return klass
        if k == "h":
            if lookup_ref is None:
                raise ValueError("unexpected handle")
            return lookup_ref(v, t.get("n"))
        if type(v) is not list:
            raise ValueError("malformed container")
        depth[0] += 1
        if depth[0] > 110:
            raise ValueError("value nested too deeply")
        try:
            if k == "l":
                return [dec(x) for x in v]
            if k == "t":
                return tuple([dec(x) for x in v])
            if k == "d":
                return {dec(p[0]): dec(p[1]) for p in v}
            if k == "set":
                return set([dec(x) for x in v])
            if k == "fs":
                return frozenset([dec(x) for x in v])
            if k == "it":
                return iter([dec(x) for x in v])
        finally:
            depth[0] -= 1
        raise ValueError("unknown tag %r" % (k,))

    return dec


def describe(e, type=type, str=str):
    try:
        return "%s: %s" % (type(e).__name__, str(e)[:500])
    except BaseException:
        return "exception"


def write_all(fd, data, write=os.write, memoryview=memoryview):
    view = memoryview(data)
    while view:
        n = write(fd, view)
        view = view[n:]


class LineReader:
    """Reads newline-terminated messages from a pipe, at most MAX_MESSAGE bytes each; None at end of file."""

    def __init__(self, fd):
        self.fd, self.buf = fd, bytearray()

    def read(self, read=os.read, len=len, bytes=bytes):
        while True:
            i = self.buf.find(b"\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[:i + 1]
                return line
            if len(self.buf) > MAX_MESSAGE:
                raise OverflowError("message too large")
            chunk = read(self.fd, 1 << 16)
            if not chunk:
                return None
            self.buf += chunk


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


def keep_only(fds):
    """Closes every descriptor but those in fds (a dict target -> current), after moving each to its target."""
    high = {target: fcntl.fcntl(current, fcntl.F_DUPFD_CLOEXEC, 500) for target, current in fds.items()}
    for target, current in high.items():
        os.dup2(current, target, inheritable=False)
    keep = sorted(fds)
    last = 0
    for fd in keep:
        if fd > last:
            os.closerange(last, fd)
        last = fd + 1
    os.closerange(last, 4096)


# ---------------------------------------------------------------------------------------------------------------------
# The candidate process.

def candidate_main(cand, call_in, call_out, out_w, work):
    _exit = os._exit
    try:
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDONLY)
        keep_only({0: devnull, 1: out_w, 2: out_w, CALL_IN: call_in, CALL_OUT: call_out})
        sys.stdin = open(0, "r", closefd=False)
        sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
        sys.stderr = sys.stdout
        os.chdir(work)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        set_limits(cand)
    except BaseException:
        _exit(70)
    solution = cand["solution"]
    budget = int(cand["max_result_items"])
    cand.clear()
    # Bound before the program runs: it may rebind names in builtins, os, json and this module, not these locals.
    dumps, loads, _fork, _waitpid, _pipe, _close, _read = json.dumps, json.loads, os.fork, os.waitpid, os.pipe, os.close, os.read
    _exec, _compile, _eval, _dict, _callable, _flush = exec, compile, eval, dict, callable, sys.stdout.flush
    _encoder, _decoder, _describe, _write_all, _type, _mro = encoder, decoder, describe, write_all, type, type.__dict__["__mro__"].__get__
    _getattr, _list, _isinstance, _base_exc, _str = getattr, list, isinstance, BaseException, str
    pristine = PRISTINE_BUILTINS
    reader = LineReader(CALL_IN)
    refs = {}

    def reply(record):
        try:
            _flush()
        except BaseException:
            pass
        _write_all(CALL_OUT, (dumps(record) + "\n").encode())

    ns = {"__name__": "__main__", "__builtins__": pristine.copy()}
    try:
        _exec(_compile(solution, "solution.py", "exec"), ns)
    except BaseException as e:
        reply({"setup_error": _describe(e)})
        _exit(1)
    reply({"ready": True})

    def lookup(key, name):
        if key not in refs:
            raise ValueError("unknown object handle")
        return refs[key]

    dec = _decoder(lookup)

    def exception_record(e):
        names = [k.__name__ for k in _mro(_type(e)) if pristine.get(k.__name__) is k]
        return {"x": names, "m": _describe(e)}

    def call(req):
        enc = _encoder([budget], refs)
        try:
            args = [dec(a) for a in req["args"]]
            kwargs = {_str(k): dec(v) for k, v in req["kwargs"]}
            if "h" in req:
                target = _getattr(lookup(req["h"], None), _str(req["call"]))
            else:
                target = _eval(_str(req["call"]), _dict(ns, __builtins__=pristine.copy()))
            if not _callable(target):
                raise TypeError("%r is not callable" % req["call"])
            value = target(*args, **kwargs)
        except BaseException as e:
            return exception_record(e)
        try:
            after = [enc(a) if _isinstance(a, (list, dict, set)) else None for a in args]
            return {"v": enc(value), "a": after}
        except BaseException as e:
            return {"x": ["TypeError", "Exception", "BaseException"], "m": "returned " + _describe(e)}

    while True:
        line = reader.read()
        if line is None:
            _exit(0)
        try:
            req = loads(line)
        except BaseException:
            _exit(3)
        if "run_tests" in req:
            run_in_process(ns, req["run_tests"], reply)
            _exit(0)
        if "batch" in req:  # calls the harness knows in advance, answered in order, one record each
            for one in req["batch"]:
                reply(call(one))
            continue
        if not req.get("fork"):
            reply(call(req))
            continue
        # Calls mode: each call in its own process, so one call's state, crash or exit cannot touch the next.
        r, w = _pipe()
        pid = _fork()
        if pid == 0:
            _close(r)
            record = call(req)
            try:
                _flush()
            except BaseException:
                pass
            _write_all(w, (dumps(record) + "\n").encode())
            _exit(0)
        _close(w)
        chunks = []
        while True:
            chunk = _read(r, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
        _close(r)
        _, status = _waitpid(pid, 0)
        data = b"".join(chunks)
        if data.endswith(b"\n") and status == 0:
            _write_all(CALL_OUT, data)
        else:
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
            reply({"died": "test process died (%s)" % ("signal %d" % sig if sig else "exit %d" % os.WEXITSTATUS(status))})


def run_in_process(ns, req, reply):
    """The fallback for tests that cannot run against proxies: the tests run in the candidate's own interpreter,
    as before this design. Its records are relayed by the harness and the result is marked forgeable."""
    for name in ("settrace", "setprofile"):
        try:
            delattr(sys, name)
        except AttributeError:
            pass
    builtins_copy = PRISTINE_BUILTINS.copy
    try:
        tns = dict(ns)
        tns["__builtins__"] = builtins_copy()
        if req.get("setup"):
            exec(compile(req["setup"], "setup.py", "exec"), tns)
    except BaseException as e:
        reply({"setup_error": describe(e)})
        return
    for i, snippet in enumerate(req["tests"]):
        try:
            tns["__builtins__"] = builtins_copy()
            exec(compile(snippet, "test_%d.py" % i, "exec"), tns)
            reply({"i": i, "ok": True})
        except AssertionError as e:
            reply({"i": i, "f": describe(e)})
        except BaseException as e:
            reply({"i": i, "e": describe(e)})
    reply({"end": True})


# ---------------------------------------------------------------------------------------------------------------------
# The harness: trusted code only (the problem's tests, setup and prompt), never the candidate's. It runs in the judge.

class CandidateGone(Exception):
    pass


def harness_task(raw, res_w, call_out, call_in):
    """One task's tests, in the judge process: trusted code only. Returns when the task's records are written."""
    req = json.loads(raw.decode("utf-8"))
    reader = LineReader(call_in)

    def send(record):
        write_all(res_w, (json.dumps(record) + "\n").encode())

    def receive():
        line = reader.read()
        if line is None:
            raise CandidateGone("the program's process exited")
        rec = json.loads(line)
        if type(rec) is not dict:
            raise ValueError("malformed answer")
        return rec

    # The CPU-heavy trusted work (analysis, compiling the prompt and tests) runs while the candidate starts up;
    # what it finds is reported in the same order as before (a candidate that does not start comes first).
    # A problem's plan depends on its tests alone: the first task's harness sends it on the result pipe (before it reads
    # anything from the candidate) and the pool sends it back with the problem's later tasks, which skip the analysis.
    cached = req.get("plan")
    if req["mode"] == "io":
        plan = None
    elif type(cached) is dict:
        plan = cached
    else:
        plan = analyse(req)
    context_code, test_codes = None, []
    if plan is not None and "proxies" in plan:
        try:
            context_code = compile(plan["context"], "prompt.py", "exec") if plan["context"] else None
        except BaseException:
            pass  # a prompt that does not run on its own (rare) only loses its helpers
        for i, snippet in enumerate(req["tests"]):
            try:
                test_codes.append(compile(snippet, "test_%d.py" % i, "exec"))
            except BaseException as e:  # raised where the test runs, as when it was compiled there
                test_codes.append(e)
    batch = []
    if type(cached) is dict:
        batch = list(plan.get("batch") or [])
    elif plan is not None:
        if plan.get("ahead"):
            import ast
            for target, arg_nodes in plan["ahead"]:
                enc = encoder([int(req["max_result_items"])])
                batch.append({"call": target, "args": [enc(ast.literal_eval(a)) for a in arg_nodes], "kwargs": [],
                              "fork": False})
        send({"plan": dict({k: v for k, v in plan.items() if k != "ahead"}, batch=batch)})
    try:
        first = receive()
    except CandidateGone:
        first = {"setup_error": "the program's process exited before it was ready"}
    except Exception as e:
        first = {"setup_error": "the program's process sent a malformed answer (%s)" % describe(e)}
    if "ready" not in first:
        send({"setup_error": str(first.get("setup_error", "the program did not start"))[:1000]})
        send({"done": True})
        return

    remotes = {}

    def remote(key, name):
        obj = remotes.get(key)
        if obj is None:
            obj = remotes[key] = RemoteObject(key, name)
        return obj

    dec = decoder(remote)
    calls = [0]
    fork_calls = req["mode"] == "io"

    ahead = []  # lines of the calls sent ahead in a batch, in the order the tests will make them

    def call_remote(name, handle, args, kwargs):
        calls[0] += 1
        enc = encoder([int(req["max_result_items"])])
        refs_out = []

        def arg(a):
            if type(a) is RemoteObject:
                return {"h": a._key}
            return enc(a)
        message = {"call": name, "args": [arg(a) for a in args], "kwargs": [[k, arg(v)] for k, v in kwargs.items()],
                   "fork": fork_calls}
        if handle is not None:
            message["h"] = handle
        line = json.dumps(message)
        if ahead:
            # The analysis guarantees the tests make the batched calls first and in order; a call that differs
            # means it was wrong, and the candidate has already run calls the tests did not make.
            if ahead[0] != line:
                raise RuntimeError("internal: a call differs from the one sent ahead")
            del ahead[0]
        else:
            write_all(call_out, (line + "\n").encode())
        try:
            rec = receive()
        except CandidateGone:
            raise RuntimeError("the program's process exited during the call") from None
        except (ValueError, OverflowError, RecursionError) as e:
            raise RuntimeError("the program sent a malformed answer: %s" % describe(e)) from None
        if "died" in rec:
            raise RuntimeError(str(rec["died"]))
        if "x" in rec:
            raise rebuild_exception(rec)
        try:
            value = dec(rec["v"])
            after = rec.get("a") or []
            for original, new in zip(args, after):
                if new is None:
                    continue
                new = dec(new)
                if type(original) is list and type(new) is list:
                    original[:] = new
                elif type(original) is dict and type(new) is dict:
                    original.clear()
                    original.update(new)
                elif type(original) is set and type(new) is set:
                    original.clear()
                    original.update(new)
        except (ValueError, TypeError, KeyError, IndexError, OverflowError, RecursionError) as e:
            raise RuntimeError("the program sent a malformed answer: %s" % describe(e)) from None
        return value

    class RemoteObject:
        """An object that lives in the candidate process (LeetCode's Solution(), a Pair built by a test). Only its
        methods can be called; it equals nothing but itself."""
        __slots__ = ("_key", "_name")

        def __init__(self, key, name):
            self._key, self._name = key, name

        def __getattr__(self, attr):
            if attr.startswith("__"):
                raise AttributeError(attr)
            return Proxy(attr, self._key)

        def __repr__(self):
            return "<%s object of the program>" % self._name

    class Proxy:
        __slots__ = ("_name", "_handle")

        def __init__(self, name, handle=None):
            self._name, self._handle = name, handle

        def __call__(self, *args, **kwargs):
            return call_remote(self._name, self._handle, args, kwargs)

        def __repr__(self):
            return "<program function %s>" % self._name

    if req["mode"] == "io":
        for i, args in enumerate(req["inputs"]):
            try:
                write_all(call_out, (json.dumps({"call": req["entry_point"], "args": [encoder([1 << 30])(a) for a in args],
                                                 "kwargs": [], "fork": True}) + "\n").encode())
                rec = receive()
            except CandidateGone:
                send({"i": i, "e": "the program's process exited"})
                continue
            except Exception as e:
                send({"i": i, "e": "the program sent a malformed answer: %s" % describe(e)})
                continue
            if "v" in rec and type(rec["v"]) is dict:
                try:
                    dec(rec["v"])  # a well-formed builtin value (handles are not values)
                    if contains_handle(rec["v"]):
                        raise TypeError("returned a %s object" % rec["v"].get("n", "program-defined"))
                    send({"i": i, "v": rec["v"]})
                except Exception as e:
                    send({"i": i, "e": "unsupported return value: %s" % describe(e)})
            elif "x" in rec:
                send({"i": i, "e": str(rec.get("m"))[:600]})
            else:
                send({"i": i, "e": str(rec.get("died", "malformed answer"))[:600]})
        send({"done": True})
        return

    if plan.get("problem_error"):
        send({"problem_error": plan["problem_error"]})
        send({"done": True})
        return
    if plan.get("fallback"):
        send({"forgeable": plan["fallback"]})
        write_all(call_out, (json.dumps({"run_tests": {"setup": req.get("setup") or "", "tests": req["tests"]}}) + "\n").encode())
        seen = set()
        while True:
            try:
                rec = receive()
            except Exception:
                break
            if "end" in rec:
                break
            if "setup_error" in rec:
                send({"setup_error": str(rec["setup_error"])[:1000]})
                break
            i = rec.get("i")
            if type(i) is int and i not in seen and 0 <= i < len(req["tests"]):
                seen.add(i)
                send({k: rec[k] for k in ("i", "ok", "f", "e") if k in rec})
        send({"done": True})
        return

    if batch:
        ahead.extend(json.dumps(m) for m in batch)
        write_all(call_out, (json.dumps({"batch": batch}) + "\n").encode())
    ns = {"__name__": "__main__", "__builtins__": PRISTINE_BUILTINS.copy()}
    try:
        if context_code is not None:
            exec(context_code, ns)
    except BaseException:
        pass  # a prompt that does not run on its own (rare) only loses its helpers
    for name in plan["modules"]:
        try:
            ns.setdefault(name, __import__(name))
        except BaseException:
            pass
    for name, target in plan["proxies"].items():
        ns[name] = Proxy(target)
    try:
        if req.get("setup"):
            ns["__builtins__"] = PRISTINE_BUILTINS.copy()
            exec(compile(req["setup"], "setup.py", "exec"), ns)
    except BaseException as e:
        send({"setup_error": "test setup failed: " + describe(e)})
        send({"done": True})
        return
    for i in range(len(req["tests"])):
        before = calls[0]
        try:
            ns["__builtins__"] = PRISTINE_BUILTINS.copy()
            code = test_codes[i]
            if isinstance(code, BaseException):
                raise code
            exec(code, ns)
            if calls[0] == before:
                send({"problem_error": "test %d never calls the program under test" % i})
                break
            send({"i": i, "ok": True})
        except AssertionError as e:
            send({"i": i, "f": describe(e)})
        except BaseException as e:
            send({"i": i, "e": describe(e)})
    send({"done": True})



# ---------------------------------------------------------------------------------------------------------------------
# The judge: one long-lived process per worker, forked from the pristine worker before any task, that runs every task's
# harness. It never executes candidate code: it reads the tests from the worker's control socket, receives with them
# the task's call pipe pair and output pipe (SCM_RIGHTS), and writes its records, then an end marker, on its result
# pipe. The per-task `kill(-1)` must spare it, so the worker stops everything, kills all but the judge, and resumes it.

JUDGE_CTRL, JUDGE_RES = 8, 5
JUDGE_LIMITS = [getattr(resource, n) for n in dir(resource) if n.startswith("RLIMIT_")]
JUDGE_TASKS = 1000  # a judge is replaced after this many tasks (and after any task it did not end cleanly)
END_PREFIX = b'{"end": '


def recv_exact(sock, n, fds=None):
    """n bytes from sock; with fds (a list), the descriptors that arrived with them are appended."""
    import socket
    parts, left = [], n
    while left:
        if fds is not None:
            data, got, _, _ = socket.recv_fds(sock, left, 4)
            fds.extend(got)
        else:
            data = sock.recv(left)
        if not data:
            raise EOFError
        parts.append(data)
        left -= len(data)
    return b"".join(parts)


def judge_state():
    """What a task's tests may change in the judge's interpreter and the next task must not see."""
    return (sys.getrecursionlimit(), os.getcwd(), sys.get_int_max_str_digits() if hasattr(sys, "get_int_max_str_digits")
            else None, list(sys.path), signal.getsignal(signal.SIGALRM))


def restore_judge_state(state):
    limit, cwd, digits, path, alarm = state
    sys.setrecursionlimit(limit)
    if os.getcwd() != cwd:
        os.chdir(cwd)
    if digits is not None:
        sys.set_int_max_str_digits(digits)
    sys.path[:] = path
    signal.alarm(0)
    signal.signal(signal.SIGALRM, alarm)
    if builtins.__dict__ != PRISTINE_BUILTINS:
        builtins.__dict__.clear()
        builtins.__dict__.update(PRISTINE_BUILTINS)


def judge_main(ctrl, res_w):
    import socket
    _exit = os._exit
    try:
        os.setsid()
        devnull = os.open("/dev/null", os.O_RDWR)
        keep_only({0: devnull, 1: devnull, 2: devnull, JUDGE_RES: res_w, JUDGE_CTRL: ctrl})
        set_not_dumpable()
        for sig in signal.valid_signals():
            if sig not in (signal.SIGKILL, signal.SIGSTOP, signal.SIGCHLD):
                try:
                    signal.signal(sig, signal.SIG_IGN)  # a program's signal must not interrupt the judge
                except (OSError, ValueError):
                    pass
        sock = socket.socket(fileno=JUDGE_CTRL)
        state = judge_state()
    except BaseException:
        _exit(70)
    while True:
        fds = []
        try:
            n = int(recv_exact(sock, 11, fds)[:10])
            raw = recv_exact(sock, n)
        except BaseException:
            _exit(0)  # the worker closed the socket (or replaced this judge)
        status = 0
        try:
            call_out, call_in, out_w = fds
            os.dup2(out_w, 1)
            os.dup2(out_w, 2)
            os.close(out_w)
            sys.stdout = open(1, "w", buffering=1, closefd=False, errors="replace")
            sys.stderr = sys.stdout
            harness_task(raw, JUDGE_RES, call_out, call_in)
        except BaseException:
            status = 71
        del raw
        try:
            sys.stdout.flush()
        except BaseException:
            pass
        try:
            os.dup2(0, 1)
            os.dup2(0, 2)
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
            restore_judge_state(state)
            write_all(JUDGE_RES, END_PREFIX + b"%d}\n" % status)
        except BaseException:
            _exit(72)


def process_settings(pid):
    """What a same-uid program may change in another process: scheduling and resource limits."""
    return (os.getpriority(os.PRIO_PROCESS, pid), os.sched_getscheduler(pid), os.sched_getaffinity(pid),
            [resource.prlimit(pid, r) for r in JUDGE_LIMITS])


class Judge:
    """The worker's handle on its judge process."""

    def __init__(self):
        import socket
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        res_r, res_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                mine.close()
                judge_main(theirs.detach(), res_w)
            finally:
                os._exit(71)
        theirs.close()
        os.close(res_w)
        os.set_blocking(res_r, False)
        self.pid, self.sock, self.res_r, self.pidfd, self.tasks = pid, mine, res_r, os.pidfd_open(pid), 0
        self.status = None  # the wait status once it has exited and been reaped
        self.settings = self.observed()

    def observed(self):
        return process_settings(self.pid)

    def intact(self):
        """After a sweep (no program process left, every signal they sent delivered): whether the judge is as it
        was started. Catchable signals are ignored by it and SIGSTOP is undone by the sweep's SIGCONT; a pending
        SIGKILL, a change of priority, scheduler, affinity or limits by the last program would reach the next task,
        so such a judge is replaced instead."""
        if self.status is not None or select.select([self.pidfd], [], [], 0)[0]:
            return False
        try:
            with open("/proc/%d/status" % self.pid, "rb") as f:
                for line in f:
                    if line.startswith((b"SigPnd:", b"ShdPnd:")) and int(line.split()[1], 16) & (1 << (signal.SIGKILL - 1)):
                        return False
            return self.observed() == self.settings
        except OSError:
            return False

    def send(self, data, fds):
        import socket
        header = b"%010d\n" % len(data)
        socket.send_fds(self.sock, [header], fds)
        self.sock.sendall(data)
        self.tasks += 1

    def reap(self, kill=False):
        if self.status is None:
            if kill:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            _, self.status = os.waitpid(self.pid, 0)
        return self.status

    def close(self):
        self.reap(kill=True)
        self.sock.close()
        for fd in (self.res_r, self.pidfd):
            os.close(fd)


def contains_handle(t):
    if type(t) is dict:
        if "h" in t:
            return True
        return any(contains_handle(v) for v in t.values())
    if type(t) is list:
        return any(contains_handle(v) for v in t)
    return False


def rebuild_exception(rec):
    """The candidate's exception as the most specific builtin exception type in its class's MRO."""
    message = str(rec.get("m", ""))[:600]
    for name in rec.get("x") or []:
        klass = PRISTINE_BUILTINS.get(str(name))
        if isinstance(klass, type) and issubclass(klass, BaseException) and klass not in (
                SystemExit, KeyboardInterrupt, GeneratorExit, StopIteration, StopAsyncIteration):
            try:
                return klass(message)
            except Exception:
                break
    return RuntimeError(message)


def flatten(tree):
    """The nodes of tree in ast.walk's order (breadth first), and the parent of every Name node, in one pass
    (ast.walk and ast.iter_child_nodes cost several ms per HumanEval problem)."""
    import ast
    AST, Name = ast.AST, ast.Name
    nodes, parents = [tree], {}
    append, isinstance_, type_, getattr_, list_ = nodes.append, isinstance, type, getattr, list
    i = 0
    while i < len(nodes):
        node = nodes[i]
        i += 1
        for field in node._fields:
            v = getattr_(node, field, None)
            if isinstance_(v, AST):
                append(v)
                if type_(v) is Name:
                    parents[v] = node
            elif type_(v) is list_:
                for x in v:
                    if isinstance_(x, AST):
                        append(x)
                        if type_(x) is Name:
                            parents[x] = node
    return nodes, parents


def analyse(req):
    """Decides from the problem alone (tests, setup, prompt, reference; never the candidate) how its tests run:
    against proxies, or in the candidate's process (forgeable). Returns {"proxies": {name: target}, "modules": [...],
    "context": source} or {"fallback": reason} or {"problem_error": reason}."""
    import ast
    tests, setup = req["tests"], req.get("setup") or ""
    entry = req.get("entry_point")
    try:
        trees = [ast.parse(t) for t in tests]
        setup_tree = ast.parse(setup)
    except SyntaxError as e:
        return {"problem_error": "the tests do not parse: %s" % e}
    if not tests:
        return {"problem_error": "the problem has no tests"}
    flat = [flatten(t) for t in [setup_tree] + trees]
    for i, (nodes, _) in enumerate(flat[1:]):
        if not any(isinstance(n, (ast.Assert, ast.Raise)) for n in nodes):
            return {"problem_error": "test %d asserts nothing" % i}
    if req.get("force_fallback"):
        return {"fallback": "requested"}
    context_names = set()
    context, context_tree = trusted_context(req)
    if context:
        context_names = bound_names(flatten(context_tree)[0])
    classes = None  # without a reference, a capitalised name is taken for a class
    reference_defs = set()  # what the reference defines shadows builtins (MBPP's own sum())
    if req.get("reference"):
        try:
            body = ast.parse(req["reference"]).body
            classes = {n.name for n in body if isinstance(n, ast.ClassDef)}
            reference_defs = {n.name for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
        except SyntaxError:
            pass
    bound = set()
    for nodes, _ in flat:
        bound |= bound_names(nodes)
    candidate_names = {}
    entry_class = entry if entry and entry.isidentifier() and entry[:1].isupper() else None
    Name, Load = ast.Name, ast.Load
    stdlib = sys.stdlib_module_names
    for nodes, _ in flat:
        for node in nodes:
            if type(node) is Name and type(node.ctx) is Load:
                name = node.id
                if name in bound or ((name in PRISTINE_BUILTINS or name in stdlib) and name not in reference_defs):
                    continue
                if name in context_names and name != entry and name != entry_class:
                    continue
                candidate_names[name] = node
    if not candidate_names:
        return {"problem_error": "the tests never refer to the program under test"}
    proxies = {}
    for tree_index, (nodes, parents) in enumerate(flat):
        for node in nodes:
            if not (type(node) is Name and node.id in candidate_names and type(node.ctx) is Load):
                continue
            name = node.id
            parent = parents.get(node)
            is_callee = isinstance(parent, ast.Call) and parent.func is node
            passed_to_own = (isinstance(parent, ast.Call) and node in parent.args and isinstance(parent.func, ast.Name)
                             and parent.func.id in bound)  # check(candidate)
            if name == "__pfppo_candidate__":
                if not (is_callee or passed_to_own):
                    return {"fallback": "the tests use the program's function other than by calling it"}
                proxies[name] = entry
                continue
            if not is_callee:
                return {"fallback": "the tests use the program's '%s' other than by calling it" % name}
            if tree_index == 0:
                return {"fallback": "the setup code calls the program's '%s'" % name}
            if name != entry_class and (name in classes if classes is not None else name[:1].isupper() and name != entry):
                return {"fallback": "the tests build objects of the program's class '%s'" % name}
            for arg in list(parent.args) + [k.value for k in parent.keywords]:
                if any(isinstance(n, (ast.Lambda,)) for n in ast.walk(arg)):
                    return {"fallback": "the tests pass a function to the program's '%s'" % name}
            proxies[name] = name
    modules = set()
    for nodes, _ in flat:
        for node in nodes:
            if type(node) is Name and node.id in stdlib and node.id not in bound:
                modules.add(node.id)
    ahead = calls_ahead(trees, proxies, bound | context_names)
    # The prompt runs in the harness for what the tests take from it (helpers such as poly, names it imports): tests
    # that name nothing it binds (but the proxied entry point), with no star import in it and no dynamic lookup,
    # do not need it run (most of HumanEval: its prompt is imports and the entry point's stub).
    loaded = {n.id for nodes, _ in flat for n in nodes if type(n) is Name and type(n.ctx) is Load}
    needs_context = ("*" in context_names or bool(loaded & {"eval", "exec", "globals", "locals", "vars", "__import__"})
                     or bool((loaded & context_names) - set(proxies)))
    return {"proxies": proxies, "modules": sorted(modules), "context": context if needs_context else "", "ahead": ahead}


def calls_ahead(trees, proxies, bound):
    """The calls of the program the tests are certain to make first, in order, with literal arguments: they can be
    sent to the candidate in one batch instead of one round trip each. Returns [(target, [argument nodes])].
    A call qualifies only where nothing the test does before it can skip it or raise while the test goes on:
    HumanEval's single test, the straight-line statements of check(candidate) up to the first statement that uses
    the candidate any other way (a failure there ends the test, so later batched calls are never looked at); MBPP's
    tests, each a single assert, one call each, evaluated first in the assert (a failing test is followed by the
    next one, which then makes exactly its batched call)."""
    import ast
    out = []

    def literal(node):
        if isinstance(node, (ast.Set, ast.Dict, ast.Starred)):
            return False
        try:
            ast.literal_eval(node)
        except Exception:
            return False
        return all(not isinstance(n, (ast.Set, ast.Dict)) for n in ast.walk(node))

    def first_call(expr, callee):
        """The call of callee that expr evaluates before anything else that could raise or short-circuit."""
        node = expr
        while True:
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == callee:
                ok = not node.keywords and all(literal(a) for a in node.args)
                return node if ok else None
            if isinstance(node, ast.Compare):
                node = node.left
            elif isinstance(node, ast.BinOp):
                node = node.left
            elif isinstance(node, ast.UnaryOp):
                node = node.operand
            elif isinstance(node, (ast.Attribute, ast.Subscript)):
                node = node.value
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                node = node.func.value
            elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.args
                  and node.func.id in PRISTINE_BUILTINS and node.func.id not in bound):
                node = node.args[0]  # abs(candidate(x) - y), sorted(candidate(x)): the builtin is looked up first
            else:
                return None

    def mentions(stmt, name):
        # eval/exec/locals/vars/globals could reach the candidate without naming it: treated as a use.
        return any(isinstance(n, ast.Name) and n.id in (name, "eval", "exec", "locals", "vars", "globals")
                   for n in ast.walk(stmt))

    def single_call(stmt, callee):
        """stmt's only use of callee is one call evaluated first in an assert's test; else None."""
        if not isinstance(stmt, ast.Assert):
            return None
        call = first_call(stmt.test, callee)
        if call is None:
            return None
        uses = sum(1 for n in ast.walk(stmt) if isinstance(n, ast.Name) and n.id == callee)
        return call if uses == 1 else None

    if list(proxies) == ["__pfppo_candidate__"] and len(trees) == 1:
        body = trees[0].body
        checks = [s for s in body if isinstance(s, ast.FunctionDef) and s.name == "check"]
        last = body[-1] if body else None
        if (len(checks) != 1 or not isinstance(last, ast.Expr) or not isinstance(last.value, ast.Call)
                or ast.dump(last.value) != ast.dump(ast.parse("check(__pfppo_candidate__)").body[0].value)
                or sum(1 for n in ast.walk(trees[0]) if isinstance(n, ast.Name) and n.id in ("check", "__pfppo_candidate__")) != 2
                or any(isinstance(s, (ast.FunctionDef, ast.ClassDef, ast.Expr)) and s is not checks[0] and s is not last
                       and not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)) for s in body)):
            return []
        check = checks[0]
        args = check.args
        if len(args.args) != 1 or args.posonlyargs or args.kwonlyargs or args.vararg or args.kwarg or check.decorator_list:
            return []
        callee = args.args[0].arg
        target = proxies["__pfppo_candidate__"]
        for stmt in check.body:
            if not mentions(stmt, callee):
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Global, ast.Nonlocal)):
                    break
                continue
            call = single_call(stmt, callee)
            if call is None:
                break
            out.append((target, call.args))
        return out
    for tree in trees:
        if len(tree.body) != 1:
            break
        stmt = tree.body[0]
        names = [n for n in proxies if mentions(stmt, n)]
        if len(names) != 1 or proxies[names[0]] != names[0]:
            break
        call = single_call(stmt, names[0])
        if call is None:
            break
        out.append((names[0], call.args))
    return out


def trusted_context(req):
    """The problem's own code the tests may use (the prompt's helpers, LeetCode's prelude), never the candidate's,
    and its syntax tree. A prompt that ends inside a stub (LeetCode's method signature) gets a body so it compiles."""
    import ast
    context = req.get("context") or ""
    for attempt in (context, context + "pass\n"):
        try:
            return attempt, ast.parse(attempt)
        except SyntaxError:
            continue
    return "", None


def bound_names(nodes):
    import ast
    names = set()
    for node in nodes:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs if not isinstance(node, ast.ClassDef) else []:
                names.add(a.arg)
            if not isinstance(node, ast.ClassDef):
                if node.args.vararg:
                    names.add(node.args.vararg.arg)
                if node.args.kwarg:
                    names.add(node.args.kwarg.arg)
        elif isinstance(node, ast.Lambda):
            for a in node.args.args:
                names.add(a.arg)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return names


# ---------------------------------------------------------------------------------------------------------------------
# The worker.

def read_exact(fd, n, into=None):
    if into is None:
        parts, left = [], n
        while left:
            chunk = os.read(fd, left)
            if not chunk:
                raise EOFError
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)
    view = memoryview(into)[:n]
    got = 0
    while got < n:
        k = os.readv(fd, [view[got:]])
        if k == 0:
            raise EOFError
        got += k
    return None


CLEAN = [False]  # the work root was emptied after the last task (a task that raised may have left it dirty)


def run_task(cand, harness_len, scratch, results, judges):
    judge = judges[0]
    if judge is not None and judge.status is None and select.select([judge.pidfd], [], [], 0)[0]:
        judge.reap()  # it died after the last task's end marker (its program could still signal it then)
    if judge is None or judge.status is not None or judge.tasks >= JUDGE_TASKS:
        if judge is not None:
            judge.close()
        judge = judges[0] = Judge()
    if not CLEAN[0]:
        clean_work_root()
    CLEAN[0] = False
    work = os.path.join(WORK_ROOT, "work")
    os.mkdir(work, 0o700)
    out_r, out_w = os.pipe()
    to_cand_r, to_cand_w = os.pipe()
    from_cand_r, from_cand_w = os.pipe()
    started = time.monotonic()
    cpid = os.fork()
    if cpid == 0:
        try:
            candidate_main(cand, to_cand_r, from_cand_w, out_w, work)
        finally:
            os._exit(71)
    # Only now are the tests read: the candidate's memory never held them. They go to the judge as raw bytes.
    read_exact(0, harness_len, scratch)
    try:
        judge.send(memoryview(scratch)[:harness_len], [to_cand_w, from_cand_r, out_w])
    except OSError:
        pass  # the judge is gone: its pidfd says so below
    memoryview(scratch)[:harness_len] = bytes(harness_len)
    for fd in (out_w, to_cand_r, to_cand_w, from_cand_r, from_cand_w):
        os.close(fd)
    res_r, pidfd = judge.res_r, judge.pidfd
    os.set_blocking(out_r, False)
    deadline = started + float(cand["timeout"])
    max_output = int(cand["max_output_bytes"])
    output, output_total, result_overflow = [], 0, False
    ended = exited = timed_out = False
    watch = [res_r, out_r, pidfd]
    while not (ended or exited or result_overflow):
        left = deadline - time.monotonic()
        if left <= 0:
            timed_out = True
            break
        for fd in select.select(watch, [], [], left)[0]:
            if fd == pidfd:
                exited = True  # what it wrote before it died is read below
            elif fd == res_r:
                if not results.room():
                    result_overflow = True
                    break
                try:
                    got = results.read_from(fd)
                except BlockingIOError:
                    continue
                if not got:
                    exited = True
                elif results.ended():
                    ended = True
            else:
                try:
                    chunk = os.read(fd, 1 << 16)
                except BlockingIOError:
                    continue
                if not chunk:
                    watch.remove(fd)
                    continue
                if output_total < max_output:
                    output.append(chunk[: max_output - output_total])
                output_total += len(chunk)
    if exited and not ended:
        judge.reap()
        try:
            while results.room() and results.read_from(res_r) and not results.ended():
                pass  # the records it wrote before it exited
        except BlockingIOError:
            pass
        ended = results.ended()
    elapsed = time.monotonic() - started
    # Drain output that is already there without waiting for the candidate.
    try:
        while output_total < max_output:
            chunk = os.read(out_r, 1 << 16)
            if not chunk:
                break
            output.append(chunk[: max_output - output_total])
            output_total += len(chunk)
    except BlockingIOError:
        pass
    end_status = results.end_status() if ended else None
    if end_status is not None and judge.status is None:
        status = end_status << 8  # a wait status: exited with end_status
    else:
        status = judge.reap(kill=True)  # timed out, overflowed or died: this judge is not used again
    kill_everything_else([cpid], spare=judge.pid if judge.status is None else None)
    os.close(out_r)
    if judge.status is not None or end_status or not judge.intact():
        judge.close()
        judges[0] = None
    clean_work_root()
    CLEAN[0] = True

    tests, setup_error, problem_error, forgeable, done = {}, None, None, None, False
    for line in results.records():
        rec = json.loads(line)  # written by the harness only
        if "done" in rec:
            done = True
        elif "setup_error" in rec:
            setup_error = str(rec["setup_error"])
        elif "problem_error" in rec:
            problem_error = str(rec["problem_error"])
        elif "forgeable" in rec:
            forgeable = str(rec["forgeable"])
        elif "end" in rec:
            pass  # the judge's end marker
        elif isinstance(rec.get("i"), int) and rec["i"] not in tests:
            tests[rec["i"]] = rec
    return {
        "id": cand["id"],
        "timed_out": timed_out,
        "done": done and not timed_out,
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "setup_error": setup_error or ("result channel overflow" if result_overflow else None),
        "problem_error": problem_error,
        "forgeable": forgeable,
        "tests": [tests.get(i) for i in range(int(cand["test_count"]))],
        "output": b"".join(output).decode("utf-8", "replace"),
        "output_truncated": output_total > max_output,
        "duration_ms": elapsed * 1000.0,
    }


class ResultBuffer:
    """The harness's records of one task, read into one buffer that is wiped after the response is written. The plan
    record (the tests' analysis, with the arguments of the calls sent ahead) is passed to C# as raw bytes and never
    becomes a Python object here, so no copy of it stays in the worker's memory, which later candidates are forked
    from."""

    PLAN = b'{"plan": '

    def __init__(self):
        self.buf, self.used, self.plan = bytearray(1 << 16), 0, None

    def room(self):
        if self.used < len(self.buf):
            return True
        if len(self.buf) > MAX_MESSAGE:
            return False
        used, bigger = self.used, bytearray(min(2 * len(self.buf), MAX_MESSAGE + 1))
        bigger[:used] = self.buf
        self.wipe()
        self.buf, self.used = bigger, used
        return True

    def read_from(self, fd):
        n = os.readv(fd, [memoryview(self.buf)[self.used:]])
        self.used += n
        return n

    def ended(self):
        """Whether the last complete line is the judge's end marker (it writes nothing after it until the next task)."""
        used = self.used
        if used < len(END_PREFIX) + 2 or self.buf[used - 1] != 0x0A:
            return False
        start = self.buf.rfind(b"\n", 0, used - 1) + 1
        return self.buf.startswith(END_PREFIX, start, used)

    def end_status(self):
        start = self.buf.rfind(b"\n", 0, self.used - 1) + 1
        return int(bytes(self.buf[start + len(END_PREFIX):self.used - 2]))

    def records(self):
        """Every record but the plan, as bytes; the plan's place is kept in self.plan (a complete line only)."""
        buf, pos, out = self.buf, 0, []
        while pos < self.used:
            nl = buf.find(b"\n", pos, self.used)
            end = self.used if nl < 0 else nl
            if buf.startswith(self.PLAN, pos, end):
                if nl >= 0 and self.plan is None and buf[end - 1] == 0x7D:  # '}'
                    self.plan = (pos + len(self.PLAN), end - 1)
            elif end > pos:
                out.append(buf[pos:end])
            pos = end + 1
        return out

    def write_response(self, out, response):
        body = json.dumps(response).encode()
        if self.plan is None:
            out.write(body + b"\n")
            out.flush()
            return
        out.flush()
        start, end = self.plan
        write_all(1, self.PLAN)
        write_all(1, memoryview(self.buf)[start:end])
        write_all(1, b", " + body[1:] + b"\n")

    def wipe(self):
        memoryview(self.buf)[:self.used] = bytes(self.used)
        self.used, self.plan = 0, None


PREIMPORTED_MODULES = ("typing", "math", "collections", "itertools", "functools", "heapq", "re", "string", "bisect",
                       "operator", "ast")
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
    json, ast and io calls fill caches too. Doing each once here, on throwaway objects, lets every forked task
    process start warm. Nothing here is visible to tasks."""
    ns = {"__name__": "__warm__", "__builtins__": PRISTINE_BUILTINS.copy()}
    exec(compile(WARM_UP_PROGRAM, "warm.py", "exec"), ns)
    tns = dict(ns, __builtins__=PRISTINE_BUILTINS.copy())
    exec(compile("check(warm_up)", "test_0.py", "exec"), tns)
    analyse({"tests": [WARM_UP_PROGRAM + "\ncheck(__pfppo_candidate__)\n"], "entry_point": "warm_up", "context": "import math\n"})
    value = encoder([1000], {})([1, "a", (2.5, None), {"k": {1}}])
    decoder(lambda k, n: None)(json.loads(json.dumps(value)))
    r, w = os.pipe()
    try:
        open(r, "r", closefd=False).close()
        open(w, "w", buffering=1, closefd=False, errors="replace").close()
    finally:
        os.close(r)
        os.close(w)


def isolation_facts():
    """What the C# side checks before using this worker (the isolation probe's checks, done here so that no separate
    probe process is started): PID 1 of a namespace, no network (127.0.0.1 unreachable or refused), the uid."""
    import _socket  # built in: no module file, nothing else imported
    s = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        s.settimeout(0.5)
        s.connect(("127.0.0.1", 1))
        network = True
    except OSError as e:
        network = e.errno not in (101, 111, 99)  # ENETUNREACH, ECONNREFUSED, EADDRNOTAVAIL
    finally:
        s.close()
    return {"pid1": os.getpid() == 1, "network": network, "uid": os.getuid()}


def main():
    set_not_dumpable()
    facts = isolation_facts()
    # -S skips site, which would add the system's dist-packages (numpy for HumanEval+ tests, when installed).
    for d in ("/usr/local/lib/python%d.%d/dist-packages" % sys.version_info[:2], "/usr/lib/python3/dist-packages"):
        if os.path.isdir(d) and d not in sys.path:
            sys.path.append(d)
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, signal.SIG_DFL)  # as PID 1 without handlers these cannot be delivered from inside
    # Modules that generated programs import all the time: imported once here, a task's import is a dict lookup.
    for name in PREIMPORTED_MODULES:
        __import__(name)
    warm_up()
    scratch = bytearray(1 << 20)
    results = ResultBuffer()
    gc.collect()
    gc.freeze()  # forked task processes then never scan (and copy on write) the worker's own objects
    judges = [Judge()]  # forked before any task: it starts as pristine as every candidate
    own = process_settings(0)
    out = sys.stdout.buffer
    out.write(json.dumps(dict(facts, ready=True)).encode() + b"\n")
    out.flush()
    while True:
        try:
            header = read_exact(0, 22)
        except EOFError:
            return
        cand_len, harness_len = int(header[:10]), int(header[11:21])
        cand = json.loads(read_exact(0, cand_len))
        if harness_len > len(scratch):
            scratch = bytearray(harness_len)
        try:
            try:
                response = run_task(cand, harness_len, scratch, results, judges)
                if process_settings(0) != own:
                    response["retire"] = True  # a program changed this worker's limits or scheduling: replace it
            except Exception as e:
                results.plan = None
                response = {"id": cand.get("id"), "infra_error": "%s: %s" % (type(e).__name__, e)}
            results.write_response(out, response)
        finally:
            results.wipe()
        del response, cand  # the next task's program must not find this one's verdicts among the worker's objects


if __name__ == "__main__":
    main()
