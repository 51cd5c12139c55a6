import { fireEvent, render, screen } from '@testing-library/svelte';
import { describe, expect, it } from 'vitest';
import { HOSTILE } from '../lib/fixtures.test-data.js';
import Battery from './Battery.svelte';
import NodeLink from './NodeLink.svelte';
import Payload from './Payload.svelte';
import RoleBadge from './RoleBadge.svelte';

describe('small components', () => {
  it('RoleBadge names numeric roles ≥ 4 and the absent default', () => {
    const { container, unmount } = render(RoleBadge, { role: 11 });
    expect(container.textContent).toBe('ROUTER_LATE');
    unmount();
    const again = render(RoleBadge, { role: null });
    expect(again.container.textContent).toBe('CLIENT');
  });

  it('Battery shows 0 % for zero and — for unknown', () => {
    expect(render(Battery, { value: 0 }).container.textContent).toBe('0 %');
    expect(render(Battery, { value: null }).container.textContent).toBe('—');
  });

  it('NodeLink renders a hostile name as text inside a link to the node', () => {
    const { container } = render(NodeLink, { id: '!deadbeef', shortName: HOSTILE, longName: null });
    expect(container.querySelector('img')).toBeNull();
    const a = container.querySelector('a')!;
    expect(a.textContent).toBe(HOSTILE);
    expect(a.getAttribute('href')).toBe('/nodes/!deadbeef');
    expect(render(NodeLink, { id: '^all' }).container.querySelector('a')).toBeNull();
  });

  it('Payload collapses long text, expands on click, and keeps markup inert', async () => {
    const long = `${HOSTILE} ${'x'.repeat(150)}`;
    const { container } = render(Payload, { type: 'text', payload: long });
    expect(container.querySelector('img')).toBeNull();
    expect(container.textContent).toContain('…');
    expect(container.textContent).not.toContain('x'.repeat(150));
    await fireEvent.click(screen.getByRole('button', { name: 'expand' }));
    expect(container.textContent).toContain('x'.repeat(150));
    await fireEvent.click(screen.getByRole('button', { name: 'collapse' }));
    expect(container.textContent).not.toContain('x'.repeat(150));
  });
});
