import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { COMPACT_HEAP_FLAGS, compactHeap } from './heap.js';

const HEAP = fileURLToPath(new URL('./heap.ts', import.meta.url));

/** Runs compactHeap in a fresh node (flags are process-wide), churns garbage, and reports the young generation's size. */
function youngGenerationMb(nodeFlags: string[], apply: boolean): { newSpaceMb: number; applied: string[] } {
  const code = `
    import v8 from 'node:v8';
    const { compactHeap } = await import(${JSON.stringify(HEAP)});
    const applied = ${apply} ? compactHeap() : [];
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: 'x' + i }); if (keep.length > 20000) keep = []; }
    const ns = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
    console.log(JSON.stringify({ newSpaceMb: ns.space_size / 2 ** 20, applied }));`;
  const out = execFileSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--input-type=module', '-e', code], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  return JSON.parse(out.trim().split('\n').at(-1)!);
}

describe('compactHeap', () => {
  it('keeps the young generation at its initial size under allocation churn', () => {
    const compact = youngGenerationMb([], true);
    const plain = youngGenerationMb([], false);
    expect(compact.applied).toEqual([...COMPACT_HEAP_FLAGS]);
    // Its initial 2 x 1 MB, or what loading the TypeScript loader grew it to before compactHeap ran.
    expect(compact.newSpaceMb).toBeLessThanOrEqual(4);
    // Without it V8 grows the young generation to its maximum (2 x 16 MB on 64-bit).
    expect(plain.newSpaceMb).toBeGreaterThanOrEqual(16);
  });

  it('leaves flags the operator gave node alone', () => {
    expect(compactHeap(['--semi-space-growth-factor=2', '--heap_growing_percent=100'])).toEqual([]);
    const r = youngGenerationMb(['--semi-space-growth-factor=2'], true);
    expect(r.applied).toEqual(['--heap-growing-percent=50']);
    expect(r.newSpaceMb).toBeGreaterThanOrEqual(16);
  });
});
