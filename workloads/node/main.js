// node: the article's program, a CommonJS script (main.js): one promise per
// task from util.promisify(setTimeout), each resolving after SECONDS; then
// awaits Promise.all of them. CommonJS rather than an ES module on purpose:
// loading an ES module starts libuv's thread pool (4 more threads), which
// the article's program never did.
//
// usage: node main.js N [SECONDS]   (SECONDS defaults to 10)
//
// Runs on Node 12 (the article's v12.22.9, workload node@2023) as on today's.
'use strict';

const util = require('util');

const NAME = 'node';
const MAX_TASKS = 1000000000;
const MAX_SECONDS = 86400;

class UsageError extends Error {}

// Digits only (no sign, no blanks), value at most max.
function count(s, what, max) {
  if (!/^[0-9]{1,18}$/.test(s) || Number(s) > max) {
    throw new UsageError(`${what} must be an integer from 0 to ${max}, got '${s}'`);
  }
  return Number(s);
}

function parseArgs(args) {
  if (args.length === 0) throw new UsageError('missing N');
  if (args.length > 2) throw new UsageError('too many arguments');
  const n = count(args[0], 'N', MAX_TASKS);
  const secs = args.length === 2 ? count(args[1], 'SECONDS', MAX_SECONDS) : 10;
  return [n, secs];
}

async function main() {
  let n, secs;
  try {
    [n, secs] = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`${NAME}: ${e.message} (usage: ${NAME} N [SECONDS])\n`);
    process.exitCode = 2;
    return;
  }

  const delay = util.promisify(setTimeout);
  const tasks = [];
  for (let i = 0; i < n; i++) {
    tasks.push(delay(secs * 1000));
  }
  await Promise.all(tasks);
}

main().catch((e) => {
  process.stderr.write(`${NAME}: ${e.stack || e}\n`);
  process.exitCode = 1;
});
