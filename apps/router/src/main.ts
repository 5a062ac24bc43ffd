// Router process entry point: validate the environment, start, or explain why not and exit 1.
import { loadRouterEnv, RouterEnvError } from './env/router-env';
import { BootError } from './boot/boot-error';
import { startRouter } from './boot/start-router';

async function main(): Promise<void> {
  await startRouter(loadRouterEnv());
}

main().catch((err: unknown) => {
  const expected = err instanceof RouterEnvError || err instanceof BootError;
  const detail = expected ? err.message : err instanceof Error ? err.stack : String(err);
  process.stderr.write(`meridian router: cannot start: ${detail}\n`);
  process.exit(1);
});
