import type { Command } from 'commander';
import { EXPORTS, ExportError, type ExportWhat, runExport } from './client.js';

interface ExportOptions {
  format?: string;
  api: string;
  token?: string;
  output?: string;
  hours?: string;
  since?: string;
  until?: string;
  type?: string;
  node?: string;
  toNode?: string;
  agent?: string;
  site?: string;
  channel?: string;
  activeOnly?: boolean;
  limit?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description(
      "download packets (CSV, NDJSON), nodes (CSV, GeoJSON), links (GeoJSON) or one node's track (GeoJSON) from a running API, streamed to stdout or a file; progress on stderr",
    )
    .argument('<what>', `one of ${Object.keys(EXPORTS).join(', ')}`)
    .option('-f, --format <format>', 'csv | ndjson | geojson (default: the first the export offers)')
    .option('--api <url>', 'the API', process.env.MMM_API_URL ?? 'http://127.0.0.1:8082')
    .option('--token <token>', 'a read token (default: $MMM_API_TOKEN)')
    .option('-o, --output <file>', 'write here instead of stdout')
    .option('--hours <n>', 'look back this many hours (packets and nodes: 72; links: 168)')
    .option('--since <time>', 'packets from this ISO 8601 time on')
    .option('--until <time>', 'packets before this ISO 8601 time')
    .option('--type <type>', 'packets of this type (port name or the original type name)')
    .option('--node <id>', 'packets from this node; the node of a track')
    .option('--to-node <id>', 'packets to this node')
    .option('--agent <id>', 'heard by this agent')
    .option('--site <site>', 'heard at this site')
    .option('--channel <n>', 'packets on this channel index')
    .option('--active-only', 'nodes heard within the last hour')
    .option('--limit <n>', 'track: newest fixes kept')
    .addHelpText(
      'after',
      '\nExamples:\n  mmm export packets --format csv --hours 24 --type text > texts.csv\n  mmm export nodes --format geojson -o nodes.geojson\n  mmm export track --node !a1b2c3d4 > track.geojson\n\nEndpoints: docs/api.md (Exports).',
    )
    .action(async (what: string, o: ExportOptions) => {
      const track = what === 'track';
      try {
        await runExport(
          {
            what: what as ExportWhat,
            format: o.format,
            api: o.api,
            token: o.token ?? process.env.MMM_API_TOKEN,
            node: track ? o.node : undefined,
            params: {
              hours: o.hours,
              since: o.since,
              until: o.until,
              type: o.type,
              from_node: track ? undefined : o.node,
              to_node: o.toNode,
              agent_id: o.agent,
              site: o.site,
              channel: o.channel,
              active_only: o.activeOnly ? 'true' : undefined,
              limit: o.limit,
            },
          },
          o.output ?? process.stdout,
        );
      } catch (err) {
        if (!(err instanceof ExportError)) throw err;
        process.stderr.write(`mmm export: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
