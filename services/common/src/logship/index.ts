import type { SectionValue } from '../config/spec.js';
import type { jsonTcpLogSection } from './section.js';
import { JsonTcpShipper, type JsonTcpShipperOptions } from './shipper.js';

export { toRecord } from './record.js';
export { DEFAULT_LOG_BUFFER_LINES, DEFAULT_LOG_PORT, jsonTcpLogPrefixed, jsonTcpLogSection } from './section.js';
export { JsonTcpShipper, type JsonTcpShipperOptions, type ShipperStats } from './shipper.js';

export type JsonTcpLogConfig = SectionValue<typeof jsonTcpLogSection>;

/**
 * One shipper per `[json_tcp_log_<name>]` section, to pass as `extra` streams to `createLogger`:
 *   const shippers = createLogShippers(config.json_tcp_log);
 *   const log = createLogger({ name, extra: shippers });
 *   shutdown.add('log shipping', () => Promise.all(shippers.map((s) => s.close())));
 */
export function createLogShippers(
  sections: Readonly<Record<string, JsonTcpLogConfig>> | undefined,
  extra: Pick<JsonTcpShipperOptions, 'onProblem'> = {},
): JsonTcpShipper[] {
  return Object.values(sections ?? {}).map(
    (s) =>
      new JsonTcpShipper({
        host: s.host,
        port: s.port,
        application: s.application,
        environment: s.environment,
        authToken: s.auth_token,
        useTls: s.use_tls,
        verifySsl: s.verify_ssl,
        bufferLines: s.buffer_lines,
        ...extra,
      }),
  );
}

/**
 * The shippers of a whole loaded config: finds its `[json_tcp_log_*]` group whatever key the loader filed it under
 * (`json_tcp_log` at run time; ConfigValue's type says `json_tcp_log_`). None when the spec has no such sections.
 */
export function logShippersFromConfig(
  config: object,
  extra: Pick<JsonTcpShipperOptions, 'onProblem'> = {},
): JsonTcpShipper[] {
  const c = config as Record<string, unknown>;
  const group = (c.json_tcp_log ?? c.json_tcp_log_) as Readonly<Record<string, JsonTcpLogConfig>> | undefined;
  return createLogShippers(group, extra);
}
