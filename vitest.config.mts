import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

// SWC compiles the decorators with their metadata so Nest's dependency injection and
// class-validator work in tests exactly as in the tsc build.
const plugins = [swc.vite({ module: { type: 'es6' } })];
const resolve = { conditions: ['source', 'node', 'import', 'default'] };

export default defineConfig({
  plugins,
  resolve,
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    projects: [
      {
        plugins,
        resolve,
        ssr: { resolve: { conditions: ['source'] } },
        test: {
          name: 'unit',
          include: ['apps/**/*.spec.ts', 'libs/**/*.spec.ts'],
          environment: 'node',
        },
      },
      {
        plugins,
        resolve,
        ssr: { resolve: { conditions: ['source'] } },
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          // The test CA, trusted by the workers through NODE_EXTRA_CA_CERTS (test/support/test-tls.ts).
          globalSetup: ['test/support/tls-global-setup.ts'],
          environment: 'node',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          pool: 'forks',
        },
      },
    ],
  },
});
