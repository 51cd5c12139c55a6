import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';

const HELP_AFTER = `
Every agent gets its own NATS user on its site's leaf, allowed to publish only mesh.v1.<site>.<agent>.> (plus the
JetStream API calls for its site stream); each hub service (ingest, route-analysis, api) gets a user with what it
needs; each site's leaf gets its own leafnode user on the hub; "admin" can do everything (stream provisioning).
Unknown users are refused by both servers. Servers see only bcrypt hashes; passwords are in the client snippets.

Written under --out-dir (files with passwords are mode 0600):
  hub/authorization.conf            include at the top level of the hub's nats-server config
  hub/leafnodes-authorization.conf  include inside the hub's leafnodes { } block (with tls { } if TLS)
  hub/tls.conf, hub/cluster-tls.conf  with TLS: include at the hub's top level / inside its cluster { } block
  leaf-<site>/authorization.conf    include at the top level of that site's leaf config
  leaf-<site>/leafnodes.conf        the leaf's leafnodes { } block: its hub user and URL (TLS CA if given)
  leaf-<site>/tls.conf              with --tls-generate: include at the leaf's top level (TLS for the agents)
  tls/ca.pem, */tls/*.pem|key       with --tls-generate: the CA (ca.key: keep it safe) and every certificate
  leaf-<site>/agents/<agent>.ini    [nats] for that agent's INI
  services/<service>.ini            [nats] for ingest, route-analysis, api; services/admin.ini for provisioning
  creds.json                        every user and password (reruns keep existing passwords; --rotate renews all)

Examples:
  mmm creds --site north:gw-1,gw-2 --site south:gw-3 --hub-leaf-url nats-leaf://hub.example.org:7422
  mmm creds --site north:gw-1 --tls-cert hub.pem --tls-key hub.key --tls-ca ca.pem
  mmm creds --site north:gw-1 --tls-generate --tls-host hub-1.example.org --tls-host hub-2.example.org
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
    .option('--tls-cert <file>', "the hub's TLS certificate (PEM) for its client, leafnode and cluster ports")
    .option('--tls-key <file>', "the hub's TLS key (PEM)")
    .option('--tls-ca <file>', 'CA that signed the hub certificate; leaves and services verify the hub with it')
    .option('--tls-generate', 'make a CA and the certificates of the hub, every leaf and their links (kept on reruns)')
    .option('--tls-host <host...>', "more names or addresses of hub nodes for the hub's certificate (--tls-generate)")
    .option('--tls-verify-clients', 'client ports require client certificates; one is made per user (--tls-generate)')
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
        tlsGenerate?: boolean;
        tlsHost?: string[];
        tlsVerifyClients?: boolean;
        rotate?: boolean;
      }) => {
        const { generateCreds } = await import('./creds/generate.js');
        const { generatedTlsLayout } = await import('./creds/tls-render.js');
        try {
          if (!!opts.tlsCert !== !!opts.tlsKey) throw new InvalidArgumentError('--tls-cert and --tls-key go together');
          if (opts.tlsGenerate && (opts.tlsCert || opts.tlsCa))
            throw new InvalidArgumentError('--tls-generate makes its own certificates: leave out --tls-cert/--tls-ca');
          if (!opts.tlsGenerate && (opts.tlsHost || opts.tlsVerifyClients))
            throw new InvalidArgumentError('--tls-host and --tls-verify-clients go with --tls-generate');
          const outDir = resolve(opts.outDir);
          const r = generateCreds({
            outDir,
            sites: opts.site,
            hubLeafUrls: opts.hubLeafUrl,
            hubUrl: opts.hubUrl,
            leafUrl: opts.leafUrl,
            tls: opts.tlsGenerate
              ? generatedTlsLayout(outDir, opts.tlsVerifyClients === true)
              : {
                  cert: opts.tlsCert && resolve(opts.tlsCert),
                  key: opts.tlsKey && resolve(opts.tlsKey),
                  ca: opts.tlsCa && resolve(opts.tlsCa),
                },
            rotate: opts.rotate === true,
          });
          if (opts.tlsGenerate) {
            const { issueForCommand } = await import('./creds/tls-issue.js');
            const t = await issueForCommand({ ...opts, outDir, users: [...r.created, ...r.kept] });
            r.files.push(...t.issued.map((f) => `${f} (new)`), ...t.kept.map((f) => `${f} (kept)`));
          }
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
