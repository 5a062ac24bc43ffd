// Router process entry point: validate the environment, start, or explain why not and exit 1.
import { loadRouterEnv, RouterEnvError } from './env/router-env';
import { BootError } from './boot/boot-error';
import { startRouter } from './boot/start-router';

async function main(): Promise<void> {
  const app = await startRouter(loadRouterEnv());
  // SIGTERM/SIGINT: app.close() runs the shutdown hooks in order (drain what is in flight and
  // the bounce queue, remove this node's Redis entries, close the links), then exit 0. A
  // second signal while draining exits at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stderr.write(`meridian router: ${signal} received, draining\n`);
    app.close().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`meridian router: error while stopping: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((err: unknown) => {
  const expected = err instanceof RouterEnvError || err instanceof BootError;
  const detail = expected ? err.message : err instanceof Error ? err.stack : String(err);
  process.stderr.write(`meridian router: cannot start: ${detail}\n`);
  process.exit(1);
});
