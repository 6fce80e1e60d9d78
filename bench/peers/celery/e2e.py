"""Celery peer of `deno task bench:e2e` (Debian's python3-celery 5.2 + python3-redis, /usr/bin/python3).

Contract (the same as bench/peers/bullmq/e2e.mjs):
  python3 e2e.py worker <redisPort>
    Runs ONE Celery worker in this process (its prefork pool, concurrency 2, as its children),
    broker redis://127.0.0.1:<port>/0 and result backend redis://127.0.0.1:<port>/1, queue
    "bench-e2e". Prints the line `ready` on stdout once a task round trip through it has
    succeeded. On SIGTERM (or SIGINT) it kills its pool processes (the other members of its
    process group, made with setsid) and exits 0 at once; pool processes also die if the main
    one is killed (PR_SET_PDEATHSIG). Everything else Celery prints (banner, WARNING logs) goes
    to stderr.
  python3 e2e.py client <redisPort> <workload> <count> <runTag>
    Runs one workload against that worker after an unmeasured warm-up, checks every result
    and prints ONE JSON line on stdout; exits non-zero with a message on stderr if a result is
    wrong or missing (or nothing finishes within 300 s).
    w1  <count> `inc.apply_async` in a loop, then wait for all:
        {"workload":"w1","count":N,"seconds":S,"jobs_s":N/S}
    w2  <count> `chain(inc.s({"n": i}), inc.s(), inc.s())` sent in a loop, then wait for all:
        {"workload":"w2","count":N,"seconds":S,"pipelines_s":N/S}
    w3  <count> such chains one after another (send, wait for the last result, next),
        after 500 more unmeasured:
        {"workload":"w3","count":N,"p50_ms":..,"p99_ms":..,"mean_ms":..}
    w4  <count> `chain(inc.s({"n": i}), group(fan.s(k) for k in range(20)), join.s())` (a chord)
        sent in a loop: {"workload":"w4","count":N,"seconds":S,"pipelines_s":N/S}
    <runTag> prefixes every task id of the run; at the end the client deletes the result keys of
    that tag and purges the queue, so nothing accumulates.

Waiting is event-driven: Celery's Redis result backend subscribes to each task's key (pub/sub)
and `ResultSet.join_native()` / `AsyncResult.get()` drain those messages. Note `interval=0` on
join_native: with the default (0.5) Celery 5.2 first reads the results already stored with one
MGET and then sleeps 0.5 s unconditionally (backends/base.py get_many, max_iterations=1), which
would add half a second to every measured batch.

Needs Debian's python3-redis besides python3-celery (the broker and backend client).
"""
import json
import os
import signal
import sys
import threading
import time

from celery import Celery, chain, group
from celery.signals import worker_process_init, worker_ready
from celery.result import ResultSet

QUEUE = "bench-e2e"
FAN = 20
TIMEOUT_S = 300
SEQUENTIAL_WARM_UP = 500  # chains run one after another, unmeasured, before W3 measures

app = Celery("bench_e2e")


def configure(port):
    app.conf.update(
        broker_url=f"redis://127.0.0.1:{port}/0",
        result_backend=f"redis://127.0.0.1:{port}/1",
        task_default_queue=QUEUE,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        worker_hijack_root_logger=False,
    )


# Explicit names: the worker runs this file as __main__, and so does the client.
@app.task(name="bench.inc")
def inc(doc):
    return {"n": doc["n"] + 1}


@app.task(name="bench.fan")
def fan(doc, i):
    return doc["n"] + 1


@app.task(name="bench.join")
def join(values):
    return {"total": sum(values), "parts": len(values)}


# ---------------------------------------------------------------------------------------------
# Worker
# ---------------------------------------------------------------------------------------------

def group_stragglers():
    """Other live processes of our own process group (Linux /proc)."""
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        state, _ppid, pgrp = stat[stat.rindex(")") + 2:].split()[:3]
        if int(pgrp) == me and state != "Z":
            found.append(int(entry))
    return found


@worker_process_init.connect
def die_with_main_process(**_):
    """In each pool process: get SIGKILL if the worker's main process dies, even by SIGKILL."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG (Linux)
    except (OSError, AttributeError):
        pass


def run_worker(port):
    """The Celery worker, in this process (no wrapper: the harness measures this tree's RSS)."""
    try:
        os.setsid()  # a process group of our own, to leave no pool process behind
    except OSError:
        pass  # already a group leader
    # stdout carries only `ready`: everything else (Celery's banner, logs) goes to stderr.
    ready_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)

    def probe():
        """Ready = one task round trip through this worker succeeded."""
        try:
            r = inc.apply_async(({"n": 41},), task_id=f"bench-e2e-probe-{os.getpid()}")
            # The worker's main process counts as "inside a task" for Celery's guard.
            result = r.get(timeout=60, disable_sync_subtasks=False)
            r.forget()
            if result != {"n": 42}:
                raise RuntimeError(f"wrong probe result {result!r}")
            ready_out.write("ready\n")
            ready_out.flush()
        except Exception as err:
            print(f"celery e2e: worker not ready: {err!r}", file=sys.stderr)
            os.kill(os.getpid(), signal.SIGTERM)

    def kill_stragglers():
        if os.getpgid(0) == os.getpid():
            for pid in group_stragglers():
                os.kill(pid, signal.SIGKILL)

    def stop_now(*_):
        print("celery e2e: stopping (pool killed, nothing is in flight)", file=sys.stderr)
        kill_stragglers()
        os._exit(0)

    @worker_ready.connect
    def on_worker_ready(**_):  # consumer started: check with a real task, in the background
        threading.Thread(target=probe, daemon=True).start()
        # Once running, SIGTERM ends the benchmark: kill the pool and exit at once. Celery's
        # warm shutdown would take 1.6-2.6 s here (billiard's pool joins poll once a second),
        # more than a harness may wait before SIGKILL. (Before this point Celery's own handler
        # stays: warm shutdown, then kill_stragglers() below.)
        try:
            signal.signal(signal.SIGTERM, stop_now)
            signal.signal(signal.SIGINT, stop_now)
        except ValueError:
            pass  # not the main thread: keep Celery's handlers

    code = 0
    try:
        app.worker_main([
            "worker", "--pool", "prefork", "--concurrency", "2", "--queues", QUEUE,
            "--loglevel", "WARNING", "--hostname", f"bench-e2e-{os.getpid()}@%h",
            # Faster start, no chatter between workers (there is one): the usual Redis settings.
            "--without-gossip", "--without-mingle", "--without-heartbeat",
        ])
    except SystemExit as exit_:  # SIGTERM -> Celery's warm shutdown -> SystemExit
        code = exit_.code if isinstance(exit_.code, int) else 0
    kill_stragglers()
    sys.exit(code)


# ---------------------------------------------------------------------------------------------
# Client
# ---------------------------------------------------------------------------------------------

def check(ok, what):
    if not ok:
        raise AssertionError(f"wrong result: {what}")


def run_client(port, workload, count, run_tag):
    def ids(tag, i, *parts):
        return "-".join([run_tag, tag, str(i), *parts])

    def chain_of(tag, i, n):
        return chain(
            inc.s({"n": n}).set(task_id=ids(tag, i, "a")),
            inc.s().set(task_id=ids(tag, i, "b")),
            inc.s().set(task_id=ids(tag, i, "c")),
        )

    def fan_out(tag, i, n):
        return chain(
            inc.s({"n": n}).set(task_id=ids(tag, i, "first")),
            group(fan.s(k).set(task_id=ids(tag, i, f"fan{k}")) for k in range(FAN)),
            join.s().set(task_id=ids(tag, i, "join")),
        )

    def wait_all(results):  # in order; interval=0: see the module docstring
        return ResultSet(results).join_native(timeout=TIMEOUT_S, interval=0)

    # Unmeasured warm-up: every task, every path, long enough for the steady state.
    warm = [inc.apply_async(({"n": n},), task_id=ids("warm1", n)) for n in range(1000)]
    warm += [chain_of("warm2", i, i).apply_async() for i in range(30)]
    warm += [fan_out("warm4", i, i).apply_async() for i in range(3)]
    wait_all(warm)

    if workload == "w1":
        started = time.perf_counter()
        results = [inc.apply_async(({"n": n},), task_id=ids("w1", n)) for n in range(count)]
        done = wait_all(results)
        seconds = time.perf_counter() - started
        for n, r in enumerate(done):
            check(r == {"n": n + 1}, f"w1 {n}: {r!r}")
        result = {"workload": workload, "count": count, "seconds": seconds,
                  "jobs_s": count / seconds}
    elif workload == "w2":
        started = time.perf_counter()
        results = [chain_of("w2", i, i).apply_async() for i in range(count)]
        done = wait_all(results)
        seconds = time.perf_counter() - started
        for n, r in enumerate(done):
            check(r == {"n": n + 3}, f"w2 {n}: {r!r}")
        result = {"workload": workload, "count": count, "seconds": seconds,
                  "pipelines_s": count / seconds}
    elif workload == "w3":
        # And the path W3 measures, one chain after another, as pipelinin's client does.
        for n in range(SEQUENTIAL_WARM_UP):
            r = chain_of("warm3", n, n).apply_async().get(timeout=TIMEOUT_S)
            check(r == {"n": n + 3}, f"w3 warm-up {n}: {r!r}")
        latencies = []
        for n in range(count):
            started = time.perf_counter()
            r = chain_of("w3", n, n).apply_async().get(timeout=TIMEOUT_S)
            latencies.append((time.perf_counter() - started) * 1000)
            check(r == {"n": n + 3}, f"w3 {n}: {r!r}")
        latencies.sort()

        def at(q):
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

        result = {"workload": workload, "count": count, "p50_ms": at(0.5), "p99_ms": at(0.99),
                  "mean_ms": sum(latencies) / len(latencies)}
    elif workload == "w4":
        started = time.perf_counter()
        results = [fan_out("w4", i, i).apply_async() for i in range(count)]
        done = wait_all(results)
        seconds = time.perf_counter() - started
        for n, r in enumerate(done):
            check(r == {"total": FAN * (n + 2), "parts": FAN}, f"w4 {n}: {r!r}")
        result = {"workload": workload, "count": count, "seconds": seconds,
                  "pipelines_s": count / seconds}
    else:
        raise ValueError(f"unknown workload {workload!r}")

    # Clean up: the result keys of this run (they all carry the tag) and the queue.
    backend = app.backend.client
    keys = list(backend.scan_iter(match=f"*{run_tag}*", count=1000))
    for i in range(0, len(keys), 1000):
        backend.delete(*keys[i:i + 1000])
    app.control.purge()
    print(json.dumps(result), flush=True)


def main():
    args = sys.argv[1:]
    usage = ("usage: e2e.py worker <redisPort> | "
             "client <redisPort> <w1|w2|w3|w4> <count> <runTag>")
    if len(args) == 2 and args[0] == "worker":
        configure(int(args[1]))
        run_worker(args[1])
    elif (len(args) == 5 and args[0] == "client" and args[2] in ("w1", "w2", "w3", "w4")
          and args[3].isdigit() and int(args[3]) > 0):
        configure(int(args[1]))
        try:
            run_client(args[1], args[2], int(args[3]), args[4])
        except Exception as err:  # wrong/missing result, timeout, connection error
            print(f"celery e2e: {type(err).__name__}: {err}", file=sys.stderr)
            sys.exit(1)
    else:
        print(usage, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
