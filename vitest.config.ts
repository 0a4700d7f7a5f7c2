import { defineConfig } from 'vitest/config';

/**
 * Two projects: `unit` (pure logic, no servers, `*.test.ts`) and `integration`
 * (`*.int.test.ts`, real Kafka, ClickHouse and Redis started by the global setup).
 */
export default defineConfig({
  test: {
    // The JSON report feeds the one-line summary that .ci/run prints.
    reporters: ['default', ['json', { outputFile: '.local/test-results.json' }]],
    projects: [
      {
        test: {
          name: 'unit',
          include: ['shared/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'services/*/wall/**/*.test.ts', 'services/*/page/**/*.test.ts', 'infra/**/*.test.ts', 'loadtests/sre/**/*.test.ts', 'loadtests/bench/**/*.test.ts'],
          exclude: ['**/*.int.test.ts', '**/node_modules/**'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['shared/src/**/*.int.test.ts', 'services/*/src/**/*.int.test.ts', 'infra/**/*.int.test.ts', 'test/**/*.int.test.ts', 'loadtests/sre/**/*.int.test.ts'],
          globalSetup: ['infra/local/test-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
