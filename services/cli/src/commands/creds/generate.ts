import { join } from 'node:path';
import { assertSite, assertToken } from '@mmm/schemas';
import bcrypt from 'bcryptjs';
import {
  agentPermissions,
  type ConsumerProfile,
  consumerPermissions,
  inboxPrefix,
  leafnodePermissions,
  SERVICES,
  servicePermissions,
} from './permissions.js';
import { authorizationBlock, hubLeafTls, leafRemote, natsIniSection, type TlsFiles } from './render.js';
import { type CredsState, newPassword, readState, type UserSecret, writeSecret } from './store.js';
import { iniTls, writeTlsConfigs } from './tls-render.js';

/** bcrypt cost: nats-server checks a hash per connect, so the usual 10-11 is enough and keeps reconnects cheap. */
export const BCRYPT_COST = 11;
export { SERVICES };

/** A downstream reader on the hub: its user name, profile, and the site of a consumer-site. */
export interface ConsumerSpec {
  name: string;
  profile: ConsumerProfile;
  site?: string;
}

/** Users on the hub that a consumer may not be named after. */
const RESERVED_USERS = ['admin', ...SERVICES];

export interface CredsOptions {
  outDir: string;
  /** site id -> agent ids */
  sites: Record<string, string[]>;
  /** Hub leafnode URLs the leaves connect to. */
  hubLeafUrls: string[];
  hubUrl: string;
  leafUrl: string;
  tls: TlsFiles;
  /** New passwords for every user, not only for new ones. */
  rotate: boolean;
  /** Downstream readers (bots, dashboards, analytics) on the hub. */
  consumers?: ConsumerSpec[];
  /** `<site>.<agent>` -> the <name>s of that agent's [server_<name>] legacy HTTP destinations (each runs its own consumer). */
  legacyDestinations?: Record<string, string[]>;
}

export interface CredsResult {
  files: string[];
  created: string[];
  kept: string[];
}

/**
 * Users, server configs and client snippets. Existing users keep their passwords (so adding an agent does not
 * break the others) unless rotate is set. Every file holding a password is mode 0600.
 */
export function generateCreds(o: CredsOptions): CredsResult {
  for (const [site, agents] of Object.entries(o.sites)) {
    assertSite(site);
    for (const a of agents) assertToken('agent id', a);
  }
  for (const c of o.consumers ?? []) {
    assertToken('consumer name', c.name);
    if (RESERVED_USERS.includes(c.name) || /^(leaf|admin)-/.test(c.name))
      throw new Error(`consumer name ${JSON.stringify(c.name)} is taken by a service, an admin or a leaf link`);
    if (c.profile === 'consumer-site') assertSite(c.site);
  }
  for (const [key, dests] of Object.entries(o.legacyDestinations ?? {})) {
    const [site, agent] = key.split('.');
    if (!site || !agent || !o.sites[site]?.includes(agent))
      throw new Error(`legacy destinations for ${JSON.stringify(key)}: no such <site>.<agent> among --site`);
    for (const d of dests) assertToken('legacy destination name', d);
  }
  const stateFile = join(o.outDir, 'creds.json');
  const state: CredsState = o.rotate ? { version: 1, users: {} } : readState(stateFile);
  const created: string[] = [];
  const kept: string[] = [];
  const user = (name: string): UserSecret => {
    const have = state.users[name];
    if (have) {
      kept.push(name);
      return have;
    }
    const password = newPassword();
    const secret = { user: name, password, hash: bcrypt.hashSync(password, BCRYPT_COST) };
    state.users[name] = secret;
    created.push(name);
    return secret;
  };
  const files: string[] = [];
  const write = (rel: string, text: string) => {
    const f = join(o.outDir, rel);
    writeSecret(f, text);
    files.push(f);
  };

  // Hub: an admin (provisioning), the services, downstream readers, and one leafnode link user per site.
  const admin = user('admin');
  const services = SERVICES.map((s) => ({ svc: s, secret: user(s) }));
  const readers = (o.consumers ?? []).map((c) => ({ spec: c, secret: user(c.name) }));
  const leafUsers = Object.keys(o.sites).map((site) => ({ site, secret: user(`leaf-${site}`) }));
  write(
    'hub/authorization.conf',
    authorizationBlock(
      [
        { user: admin.user, hash: admin.hash },
        ...services.map(({ svc, secret }) => ({
          user: secret.user,
          hash: secret.hash,
          permissions: servicePermissions(svc),
        })),
        ...readers.map(({ spec, secret }) => ({
          user: secret.user,
          hash: secret.hash,
          permissions: consumerPermissions(spec.profile, spec.name, spec.site),
        })),
        // nats-server 2.9 applies permissions to a leafnode link only for users of this block (the leafnodes { }
        // block's own users take none), so the links live here, allowed to connect as leafnodes only.
        ...leafUsers.map(({ site, secret }) => ({
          user: secret.user,
          hash: secret.hash,
          connectionTypes: ['LEAFNODE'],
          permissions: leafnodePermissions(site),
        })),
      ],
      'Hub users: admin, services, downstream readers, site links. Include at the top level of the hub config: include "authorization.conf"',
    ),
  );
  write(
    'hub/leafnodes-authorization.conf',
    `# Include inside the hub's leafnodes { } block. The site link users are in authorization.conf (with their\n# permissions); this file holds only the leafnode listener's TLS settings, if any. Generated by mmm creds.\n${hubLeafTls(o.tls)}`,
  );
  for (const { svc, secret } of services)
    write(
      `services/${svc}.ini`,
      natsIniSection(o.hubUrl, secret.user, secret.password, {
        inbox_prefix: inboxPrefix(svc),
        ...iniTls(o.tls, secret.user, 'hub'),
      }),
    );
  write('services/admin.ini', natsIniSection(o.hubUrl, admin.user, admin.password, iniTls(o.tls, admin.user, 'hub')));
  for (const { spec, secret } of readers)
    write(
      `consumers/${spec.name}.ini`,
      natsIniSection(o.hubUrl, secret.user, secret.password, {
        inbox_prefix: inboxPrefix(spec.name),
        ...iniTls(o.tls, secret.user, 'hub'),
      }),
    );

  // Each site: its agents and an admin (provisions the site stream) on its leaf, and its leaf's link to the hub.
  for (const { site, secret } of leafUsers) {
    const leafAdmin = user(`admin-${site}`);
    const agents = o.sites[site]!.map((a) => ({ agent: a, secret: user(`${site}.${a}`) }));
    write(
      `leaf-${site}/authorization.conf`,
      authorizationBlock(
        [
          { user: leafAdmin.user, hash: leafAdmin.hash },
          ...agents.map(({ agent, secret: s }) => ({
            user: s.user,
            hash: s.hash,
            permissions: agentPermissions(site, agent, {
              legacyDestinations: o.legacyDestinations?.[`${site}.${agent}`] ?? [],
            }),
          })),
        ],
        `Site ${site}: its admin (stream provisioning) and its agents, each allowed to publish only its own subjects. Include at the top level of the leaf config.`,
      ),
    );
    write(`leaf-${site}/leafnodes.conf`, leafRemote(o.hubLeafUrls, secret.user, secret.password, o.tls, site));
    write(
      `leaf-${site}/admin.ini`,
      natsIniSection(o.leafUrl, leafAdmin.user, leafAdmin.password, iniTls(o.tls, leafAdmin.user, 'leaf')),
    );
    for (const { agent, secret: s } of agents)
      write(
        `leaf-${site}/agents/${agent}.ini`,
        natsIniSection(o.leafUrl, s.user, s.password, {
          site,
          inbox_prefix: inboxPrefix(s.user),
          ...iniTls(o.tls, s.user, 'leaf'),
        }),
      );
  }
  writeTlsConfigs(o.tls, Object.keys(o.sites), write);
  write('creds.json', `${JSON.stringify(state, null, 2)}\n`);
  return { files, created, kept };
}
