import 'reflect-metadata';
import { createControlApp } from './bootstrap';
import { EnvError, parseControlEnv } from './env/control-env';
import { listenControl } from './http/listen';

async function main(): Promise<void> {
  let env;
  try {
    env = parseControlEnv(process.env);
  } catch (error) {
    if (error instanceof EnvError) {
      console.error(`meridian control: ${error.message}`);
      process.exit(1);
    }
    throw error;
  }
  if (env.adminTokens.length === 0) {
    console.warn(
      'meridian control: MERIDIAN_ADMIN_TOKENS is empty; every /v1 request will be refused',
    );
  }
  const app = await createControlApp(env);
  try {
    await listenControl(app, env);
  } catch (error) {
    const code = (error as { code?: string }).code;
    console.error(
      code === 'EADDRINUSE'
        ? `meridian control: port ${env.port} is already in use`
        : `meridian control: cannot listen on port ${env.port}: ${(error as Error).message}`,
    );
    await app.close();
    process.exit(1);
  }
}

main().catch((error: unknown) => {
  console.error(
    'meridian control failed to start:',
    error instanceof Error ? error.message : error,
  );
  process.exit(1);
});
