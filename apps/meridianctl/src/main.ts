#!/usr/bin/env node
// meridianctl's executable (package.json `bin`): runs one command with this process's
// arguments, streams and environment, and exits with the command's code.
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { run } from './cli';

const argv = process.argv.slice(2);

run(argv, {
  env: process.env,
  stdin: process.stdin,
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  relaunch: (extraEnv) =>
    new Promise<number>((resolve) => {
      const child = spawn(process.execPath, [...process.execArgv, __filename, ...argv], {
        env: { ...process.env, ...extraEnv },
        stdio: 'inherit',
      });
      // The child handles Ctrl-C itself (same terminal, same signal); wait for it.
      const ignore = () => undefined;
      process.on('SIGINT', ignore);
      child.on('exit', (code, signal) => {
        process.off('SIGINT', ignore);
        resolve(code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0));
      });
    }),
}).then((code) => {
  process.exitCode = code;
});
