"""python: one asyncio task per task (asyncio.create_task), each awaiting
asyncio.sleep(SECONDS); then awaits asyncio.gather of them.

usage: python3 main.py N [SECONDS]   (SECONDS defaults to 10)

Runs on Python 3.7+ (python@2023 runs it on 3.10, as the article did).
"""

import asyncio
import sys

NAME = "python"
MAX_TASKS = 1_000_000_000
MAX_SECONDS = 86_400

# Read by every task: the article's perform_task() takes no argument, and
# an argument would be one more slot in every coroutine's frame.
seconds = 10


def fail(problem):
    print(f"{NAME}: {problem} (usage: {NAME} N [SECONDS])", file=sys.stderr)
    sys.exit(2)


def count(s, what, maximum):
    """Digits only (no sign, no blanks, ASCII), value at most maximum."""
    if not (s.isascii() and s.isdigit()) or int(s) > maximum:
        fail(f"{what} must be an integer from 0 to {maximum}, got '{s}'")
    return int(s)


async def perform_task():
    await asyncio.sleep(seconds)


async def run(n):
    tasks = []
    for _ in range(n):
        task = asyncio.create_task(perform_task())
        tasks.append(task)
    await asyncio.gather(*tasks)


def main(args):
    global seconds
    if not args:
        fail("missing N")
    if len(args) > 2:
        fail("too many arguments")
    n = count(args[0], "N", MAX_TASKS)
    seconds = count(args[1], "SECONDS", MAX_SECONDS) if len(args) == 2 else 10
    asyncio.run(run(n))


if __name__ == "__main__":
    main(sys.argv[1:])
