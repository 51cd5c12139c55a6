import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { ConsumerSpec } from './creds/generate.js';
import { CONSUMER_PROFILES, type ConsumerProfile } from './creds/permissions.js';

const HELP_AFTER = `
Least privilege for every party (the full table: docs/operations.md#who-may-do-what):
  admin               hub: everything; provisions streams, durable consumers and KV buckets (mmm streams provision)
  admin-<site>        that site's leaf: everything; provisions the site stream (mmm streams provision-site)
  <site>.<agent>      its leaf: publish mesh.v1.<site>.<agent>.> only; its own named consumers (route-cache restore,
                      one per legacy destination given with --legacy); no stream changes, no foreign acks
  ingest, route-analysis, api
                      hub: pull and ack their own durables, publish their own output subjects
  <consumer>          hub, read only (--consumer): consumer-full (every event), consumer-public (node DB snapshots,
                      status, traceroutes, topology: never text, never raw packet bytes), consumer-site <site>
  leaf-<site>         hub, leafnode link only: that site's subjects and its stream's sourcing traffic
Every user replies on its own inbox prefix _INBOX_<user> ([nats] inbox_prefix in the snippets); nobody may read
_INBOX.>. Unknown users are refused by both servers. Servers see only bcrypt hashes; passwords are in the snippets.

Written under --out-dir (files with passwords are mode 0600):
  hub/authorization.conf            include at the top level of the hub's nats-server config
  hub/leafnodes-authorization.conf  include inside the hub's leafnodes { } block (TLS only; the link users are above)
  hub/tls.conf, hub/cluster-tls.conf  with TLS: include at the hub's top level / inside its cluster { } block
  leaf-<site>/authorization.conf    include at the top level of that site's leaf config
  leaf-<site>/leafnodes.conf        the leaf's leafnodes { } block: its hub user and URL (TLS CA if given)
  leaf-<site>/tls.conf              with --tls-generate: include at the leaf's top level (TLS for the agents)
  tls/ca.pem, */tls/*.pem|key       with --tls-generate: the CA (ca.key: keep it safe) and every certificate
  leaf-<site>/agents/<agent>.ini    [nats] for that agent's INI
  leaf-<site>/admin.ini             [nats] of the site admin (provisioning the site stream)
  services/<service>.ini            [nats] for ingest, route-analysis, api; services/admin.ini for provisioning
  consumers/<name>.ini              [nats] of each downstream reader
  creds.json                        every user and password (reruns keep existing passwords; --rotate renews all)

Examples:
  mmm creds --site north:gw-1,gw-2 --site south:gw-3 --hub-leaf-url nats-leaf://hub.example.org:7422
  mmm creds --site north:gw-1 --consumer dashboard:consumer-public --consumer north-bot:consumer-site:north
  mmm creds --site north:gw-1 --legacy north.gw-1:primary,backup
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

function consumerSpec(v: string, prev: ConsumerSpec[] = []): ConsumerSpec[] {
  const [name, profile, site, ...rest] = v.split(':');
  if (!name || !profile || rest.length > 0 || !(CONSUMER_PROFILES as readonly string[]).includes(profile))
    throw new InvalidArgumentError(`expected NAME:PROFILE[:SITE], PROFILE one of ${CONSUMER_PROFILES.join(', ')}`);
  if ((profile === 'consumer-site') !== (site !== undefined))
    throw new InvalidArgumentError('consumer-site takes a site (NAME:consumer-site:SITE); the others take none');
  return [...prev, { name, profile: profile as ConsumerProfile, ...(site ? { site } : {}) }];
}

function legacySpec(v: string, prev: Record<string, string[]> = {}): Record<string, string[]> {
  const m = /^([^:]+\.[^:]+):(.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError('expected SITE.AGENT:DESTINATION[,DESTINATION...]');
  const dests = m[2]!
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
  return { ...prev, [m[1]!]: [...new Set([...(prev[m[1]!] ?? []), ...dests])] };
}

export function register(program: Command): void {
  program
    .command('creds')
    .description(
      'generate NATS users (agents, services, admins, downstream readers, site links) and the nats-server authorization configs',
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
    .option(
      '--consumer <name:profile[:site]>',
      'a downstream reader on the hub: consumer-full, consumer-public, or consumer-site with its site (repeat for more)',
      consumerSpec,
    )
    .option(
      '--legacy <site.agent:destinations>',
      "an agent's legacy HTTP destination names (the <name> of its [server_<name>] sections), each gets its own consumer",
      legacySpec,
    )
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
        consumer?: ConsumerSpec[];
        legacy?: Record<string, string[]>;
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
            consumers: opts.consumer ?? [],
            legacyDestinations: opts.legacy ?? {},
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
