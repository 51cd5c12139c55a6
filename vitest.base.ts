import type { ViteUserConfig } from 'vitest/config';

// Workspace packages export their TypeScript sources under the "development" condition,
// so tests run against src/ without a build step.
export const base: ViteUserConfig = {
  resolve: { conditions: ['development'] },
  ssr: { resolve: { conditions: ['development'], externalConditions: ['development'] } },
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start real servers; two cores do not take many at once.
    fileParallelism: false,
    pool: 'forks',
  },
};
