import { fireEvent, render, screen, waitFor } from '@testing-library/svelte';
import { beforeEach, describe, expect, it } from 'vitest';
import { HOSTILE, nodeRow } from '../lib/fixtures.test-data.js';
import { live } from '../lib/live.svelte.js';
import { router } from '../lib/router.svelte.js';
import Agents from './Agents.svelte';
import Nodes from './Nodes.svelte';

// Pages fed through the live store with messages shaped like /api/live's snapshot (docs/api.md).
function snapshot(nodes: unknown[], agents: unknown[] = []) {
  live.handle({ type: 'snapshot', seq: 0, nodes, agents, links: [] });
  live.flush();
}

beforeEach(() => {
  router.go('/nodes', true);
});

describe('nodes page', () => {
  const rows = [
    ...Array.from({ length: 129 }, (_, i) => nodeRow(i)),
    nodeRow(500, { short_name: HOSTILE, long_name: HOSTILE, hw_model: HOSTILE }),
  ];

  it('lists nodes, searches, filters by role and says how many it shows', async () => {
    snapshot(rows);
    const { container } = render(Nodes);
    expect(screen.getByTestId('showing').textContent).toContain('Showing 130 of 130 nodes');
    expect(container.querySelectorAll('[data-testid="node-row"]').length).toBeGreaterThan(10);

    await fireEvent.input(screen.getByTestId('node-search'), { target: { value: 'node 12' } });
    await waitFor(() => expect(screen.getByTestId('showing').textContent).toContain('Showing 10 of 130'));
    expect(new URL(location.href).searchParams.get('q')).toBe('node 12');

    await fireEvent.input(screen.getByTestId('node-search'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('role-chip-ROUTER_LATE'));
    await waitFor(() => expect(screen.getByTestId('showing').textContent).toContain('Showing 10 of 130'));
    const badges = [...container.querySelectorAll('[data-testid="node-row"] [data-testid="role-badge"]')].map(
      (b) => b.textContent,
    );
    expect(new Set(badges)).toEqual(new Set(['ROUTER_LATE']));
    expect(screen.getByTestId('role-chip-CLIENT_BASE').textContent).toBe('CLIENT_BASE 9');
  });

  it('sorts by a column, toggling direction', async () => {
    snapshot(rows.slice(0, 20));
    const { container } = render(Nodes);
    const firstId = () => container.querySelector('[data-testid="node-row"]')?.getAttribute('data-node-id');
    await fireEvent.click(screen.getByTestId('sort-packets'));
    await waitFor(() => expect(firstId()).toBe('!10000013'));
    await fireEvent.click(screen.getByTestId('sort-packets'));
    await waitFor(() => expect(firstId()).toBe('!10000000'));
    await fireEvent.click(screen.getByTestId('sort-id'));
    await waitFor(() => expect(firstId()).toBe('!10000000'));
  });

  it('offers downloads of the nodes with the time and active filters on screen', async () => {
    snapshot(rows.slice(0, 5));
    localStorage.setItem('mmm-token', 'tok en');
    try {
      render(Nodes);
      const csv = () => new URL((screen.getByTestId('download-csv') as HTMLAnchorElement).href);
      expect(csv().pathname).toBe('/api/export/nodes.csv');
      // "Any time" is the API's longest look-back; a link carries the read token as ?token=.
      expect(Object.fromEntries(csv().searchParams)).toEqual({ hours: '8760', token: 'tok en' });
      await fireEvent.click(screen.getByRole('button', { name: 'Active only' }));
      await waitFor(() => expect(csv().searchParams.get('active_only')).toBe('true'));
      const geo = new URL((screen.getByTestId('download-geojson') as HTMLAnchorElement).href);
      expect(geo.pathname).toBe('/api/export/nodes.geojson');
      expect(screen.getByTestId('download-csv').hasAttribute('download')).toBe(true);
    } finally {
      localStorage.removeItem('mmm-token');
    }
  });

  it('renders a hostile node name as text', async () => {
    snapshot(rows);
    const { container } = render(Nodes);
    await fireEvent.input(screen.getByTestId('node-search'), { target: { value: '<img' } });
    await waitFor(() => expect(screen.getByTestId('showing').textContent).toContain('Showing 1 of 130'));
    expect(container.querySelector('img')).toBeNull();
    expect(container.querySelector('[data-testid="node-row"]')?.textContent).toContain(HOSTILE);
    const hw = screen.getByTestId('hw-filter') as HTMLSelectElement;
    expect([...hw.options].map((o) => o.textContent)).toContain(`${HOSTILE} (1)`);
  });
});

describe('agents page', () => {
  it('shows missing coordinates as — without breaking the table', () => {
    router.go('/agents', true);
    snapshot(
      [],
      [
        {
          agent_id: 'auto-registered',
          location_name: null,
          coordinates: null,
          status: 'active',
          last_seen: new Date().toISOString(),
        },
        {
          agent_id: 'gw-1',
          site: 'berlin',
          location_name: HOSTILE,
          coordinates: [52.52, 13.4],
          status: 'inactive',
          radio_state: 'connected',
        },
      ],
    );
    const { container } = render(Agents);
    const rows = [...container.querySelectorAll('[data-testid="agents-table"] tbody tr')];
    expect(rows).toHaveLength(2);
    const auto = rows.find((r) => r.textContent?.includes('auto-registered'))!;
    expect(auto.textContent).toContain('—');
    const gw = rows.find((r) => r.textContent?.includes('gw-1'))!;
    expect(gw.textContent).toContain('52.5200, 13.4000');
    expect(gw.textContent).toContain(HOSTILE);
    expect(container.querySelector('img')).toBeNull();
  });
});
