#!/usr/bin/env python3
"""Where the python workload's bytes per task go, in the Python running this.

usage: PYTHON tools/python_task_bytes.py [N]   (N tasks, default 20000)

Starts N tasks of the python workload's form (asyncio.create_task of a
coroutine awaiting asyncio.sleep), lets each run up to its sleep, and
prints the Python heap they hold per task (tracemalloc) and the size of
each object one suspended task keeps: the Task, its coroutine, the
asyncio.sleep coroutine it awaits, the Future that sleep waits on, the
loop's TimerHandle, and, before Python 3.11, the frame object each running
coroutine has beside it (3.11 keeps the frame inside the coroutine and
makes a frame object only when asked for one, so none is asked for here).
Run it with two Pythons to see what changed between them.
"""
import asyncio
import sys
import tracemalloc


async def perform_task():
    await asyncio.sleep(10)


async def measure(n):
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    tasks = [asyncio.create_task(perform_task()) for _ in range(n)]
    await asyncio.sleep(0)  # each task runs up to its sleep
    held = tracemalloc.get_traced_memory()[0] - before
    coro = tasks[0].get_coro()
    sleep = coro.cr_await
    sizes = [("task", sys.getsizeof(tasks[0])), ("coroutine", sys.getsizeof(coro)),
             ("sleep_coroutine", sys.getsizeof(sleep)),
             ("future", sys.getsizeof(tasks[0]._fut_waiter)),
             ("timer_handle", sys.getsizeof(asyncio.get_running_loop()._scheduled[0]))]
    if sys.version_info < (3, 11):
        sizes += [("coroutine_frame", sys.getsizeof(coro.cr_frame)),
                  ("sleep_frame", sys.getsizeof(sleep.cr_frame))]
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return held, sizes


def main(argv):
    n = 20000
    if argv:
        if len(argv) > 1 or not argv[0].isdigit() or int(argv[0]) < 1:
            sys.stderr.write("usage: python_task_bytes.py [N]   (N: a positive integer)\n")
            return 64
        n = int(argv[0])
    held, sizes = asyncio.run(measure(n))
    print("python=%s" % sys.version.split()[0])
    print("heap_bytes_per_task=%.0f" % (held / n))
    for name, size in sizes:
        print("%s_bytes=%d" % (name, size))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
