import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';

const HELP_AFTER = `
Every agent gets its own NATS user on its site's leaf, allowed to publish only mesh.v1.<site>.<agent>.> (plus the
JetStream API calls for its site stream); each hub service (ingest, route-analysis, api) gets a user with what it
needs; each site's leaf gets its own leafnode user on the hub; "admin" can do everything (stream provisioning).
Unknown users are refused by both servers. Servers see only bcrypt hashes; passwords are in the client snippets.

Written under --out-dir (files with passwords are mode 0600):
  hub/authorization.conf            include at the top level of the hub's nats-server config
  hub/leafnodes-authorization.conf  include inside the hub's leafnodes { } block (with tls { } if --tls-cert)
  leaf-<site>/authorization.conf    include at the top level of that site's leaf config
  leaf-<site>/leafnodes.conf        the leaf's leafnodes { } block: its hub user and URL (TLS CA if given)
  leaf-<site>/agents/<agent>.ini    [nats] for that agent's INI
  services/<service>.ini            [nats] for ingest, route-analysis, api; services/admin.ini for provisioning
  creds.json                        every user and password (reruns keep existing passwords; --rotate renews all)

Examples:
  mmm creds --site north:gw-1,gw-2 --site south:gw-3 --hub-leaf-url nats-leaf://hub.example.org:7422
  mmm creds --site north:gw-1 --tls-cert hub.pem --tls-key hub.key --tls-ca ca.pem
Documentation: docs/operations.md#credentials`;

function siteSpec(v: string, prev: Record<string, string[]> = {}): Record<string, string[]> {
  const m = /^([^:]+):(.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected SITE:AGENT[,AGENT...]');
  const agents = m[2]!
    .split(',')
    .map((a) => a.trim())
    .filter(Boolean);
  return { ...prev, [m[1]!]: [...new Set([...(prev[m[1]!] ?? []), ...agents])] };
}

export function register(program: Command): void {
  program
    .command('creds')
    .description(
      'generate NATS users (one per agent, service and site leaf) and the matching nats-server authorization configs',
    )
    .requiredOption(
      '--site <site:agents>',
      'a site and its agent ids, e.g. north:gw-1,gw-2 (repeat for more sites)',
      siteSpec,
    )
    .option('-o, --out-dir <dir>', 'where to write (default: ./creds)', 'creds')
    .option('--hub-leaf-url <url...>', 'hub leafnode URL(s) the leaves connect to', ['nats-leaf://127.0.0.1:7422'])
    .option('--hub-url <url>', 'hub client URL for the service snippets', 'nats://127.0.0.1:4222')
    .option('--leaf-url <url>', 'leaf client URL for the agent snippets', 'nats://127.0.0.1:4222')
    .option('--tls-cert <file>', "hub's leafnode TLS certificate (PEM)")
    .option('--tls-key <file>', "hub's leafnode TLS key (PEM)")
    .option('--tls-ca <file>', 'CA that signed the hub certificate; the leaves verify the hub with it (tls:// remotes)')
    .option('--rotate', 'new passwords for every user (clients and servers must all be updated)')
    .addHelpText('after', HELP_AFTER)
    .action(
      async (opts: {
        site: Record<string, string[]>;
        outDir: string;
        hubLeafUrl: string[];
        hubUrl: string;
        leafUrl: string;
        tlsCert?: string;
        tlsKey?: string;
        tlsCa?: string;
        rotate?: boolean;
      }) => {
        const { generateCreds } = await import('./creds/generate.js');
        try {
          if (!!opts.tlsCert !== !!opts.tlsKey) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
          const r = generateCreds({
            outDir: resolve(opts.outDir),
            sites: opts.site,
            hubLeafUrls: opts.hubLeafUrl,
            hubUrl: opts.hubUrl,
            leafUrl: opts.leafUrl,
            tls: {
              cert: opts.tlsCert && resolve(opts.tlsCert),
              key: opts.tlsKey && resolve(opts.tlsKey),
              ca: opts.tlsCa && resolve(opts.tlsCa),
            },
            rotate: opts.rotate === true,
          });
          process.stdout.write(
            `${r.created.length ? `new users: ${r.created.join(', ')}\n` : ''}${r.kept.length ? `kept users: ${r.kept.join(', ')}\n` : ''}${r.files.map((f) => `wrote ${f}`).join('\n')}\n`,
          );
        } catch (err) {
          process.stderr.write(`mmm creds: ${(err as Error).message}\n`);
          process.exit(2);
        }
      },
    );
}
