import { join } from 'node:path';
import { assertSite, assertToken } from '@mmm/schemas';
import bcrypt from 'bcryptjs';
import { agentPermissions, servicePermissions } from './permissions.js';
import { authorizationBlock, hubLeafTls, leafRemote, natsIniSection, type TlsFiles } from './render.js';
import { type CredsState, newPassword, readState, type UserSecret, writeSecret } from './store.js';
import { iniTls, writeTlsConfigs } from './tls-render.js';

/** bcrypt cost: nats-server checks a hash per connect, so the usual 10-11 is enough and keeps reconnects cheap. */
export const BCRYPT_COST = 11;
export const SERVICES = ['ingest', 'route-analysis', 'api'] as const;

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

  // Hub: the services and an admin (stream provisioning), and one leafnode user per site.
  const admin = user('admin');
  const services = SERVICES.map((s) => ({ svc: s, secret: user(s) }));
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
      ],
      'Hub client users. Include at the top level of the hub config: include "authorization.conf"',
    ),
  );
  const leafUsers = Object.keys(o.sites).map((site) => ({ site, secret: user(`leaf-${site}`) }));
  write(
    'hub/leafnodes-authorization.conf',
    `${authorizationBlock(
      leafUsers.map(({ secret }) => ({ user: secret.user, hash: secret.hash })),
      'Leafnode users, one per site. Include inside the hub\'s leafnodes { } block: include "leafnodes-authorization.conf"',
    )}${hubLeafTls(o.tls)}`,
  );
  for (const { svc, secret } of services)
    write(
      `services/${svc}.ini`,
      natsIniSection(o.hubUrl, secret.user, secret.password, iniTls(o.tls, secret.user, 'hub')),
    );
  write('services/admin.ini', natsIniSection(o.hubUrl, admin.user, admin.password, iniTls(o.tls, admin.user, 'hub')));

  // Each site: its agents on its leaf, and its leaf's link to the hub.
  for (const { site, secret } of leafUsers) {
    const agents = o.sites[site]!.map((a) => ({ agent: a, secret: user(`${site}.${a}`) }));
    write(
      `leaf-${site}/authorization.conf`,
      authorizationBlock(
        agents.map(({ agent, secret: s }) => ({
          user: s.user,
          hash: s.hash,
          permissions: agentPermissions(site, agent),
        })),
        `Agents of site ${site}, each allowed to publish only its own subjects. Include at the top level of the leaf config.`,
      ),
    );
    write(`leaf-${site}/leafnodes.conf`, leafRemote(o.hubLeafUrls, secret.user, secret.password, o.tls, site));
    for (const { agent, secret: s } of agents)
      write(
        `leaf-${site}/agents/${agent}.ini`,
        natsIniSection(o.leafUrl, s.user, s.password, { site, ...iniTls(o.tls, s.user, 'leaf') }),
      );
  }
  writeTlsConfigs(o.tls, Object.keys(o.sites), write);
  write('creds.json', `${JSON.stringify(state, null, 2)}\n`);
  return { files, created, kept };
}
