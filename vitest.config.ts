import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure logic and screens, no cluster) and `integration` (one real control plane
// per run, started by test/cluster/global-setup.ts). `npm test` runs both. The `nightly` project (50k pods, not
// CI) exists only with KUBE_HARDEN_NIGHTLY=1: `npm run test:nightly`.
const nightly = process.env.KUBE_HARDEN_NIGHTLY === '1';

export default defineConfig({
  test: {
    restoreMocks: true,
    env: { FORCE_COLOR: '0' },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.{ts,tsx}', 'test/ui/**/*.test.{ts,tsx}'],
          testTimeout: 30_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.{ts,tsx}'],
          globalSetup: ['test/cluster/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // One shared control plane on 2 cores: files run one at a time, each in fresh namespaces.
          fileParallelism: false,
        },
      },
      ...(nightly
        ? [
            {
              extends: true,
              test: {
                name: 'nightly',
                include: ['test/nightly/**/*.test.ts'],
                globalSetup: ['test/cluster/global-setup.ts'],
                testTimeout: 60 * 60_000,
                hookTimeout: 30 * 60_000,
                fileParallelism: false,
              },
            },
          ]
        : []),
    ],
  },
});
