import { connectNats, type Logger, natsTls, type ProgressSink } from '@mmm/common';
import type { IngestConfig } from '../config.js';
import { createStore } from '../service.js';
import { rebuildFromStream } from './run.js';
import { loadRebuildState, type RebuildState } from './state.js';

export interface RebuildRequest {
  /** Stream time (when the hub stored the message), epoch ms. */
  since: number;
  statePath: string;
  batch?: number;
  signal?: AbortSignal;
  progress?: ProgressSink;
}

/**
 * `mmm ingest --rebuild`: the store of `config` (a new one, not the live ingest's) filled from the hub stream since a
 * time. Connects as ingest does; the live ingest's durable consumer is never touched.
 */
export async function rebuildStore(
  config: IngestConfig,
  req: RebuildRequest,
  log: Logger,
): Promise<{ stopped: boolean; state: RebuildState }> {
  const store = createStore(config, log);
  try {
    await store.init();
    const nc = await connectNats(
      {
        servers: config.nats.url.split(',').map((s) => s.trim()),
        name: 'mmm-ingest-rebuild',
        user: config.nats.user,
        pass: config.nats.password,
        token: config.nats.token,
        creds: config.nats.creds,
        inboxPrefix: config.nats.inbox_prefix,
        tls: natsTls(config.nats, config.file),
      },
      log,
    );
    try {
      const jsm = await nc.jetstreamManager();
      const stream = config.ingest.stream;
      const info = await jsm.streams.info(stream);
      const state = loadRebuildState(req.statePath, {
        store: config.clickhouse.url ? `${config.clickhouse.url} ${config.clickhouse.database}` : config.sqlite.path,
        stream,
        since: req.since,
        untilSeq: info.state.last_seq,
        lastSeq: 0,
        read: 0,
        invalid: 0,
        finished: false,
      });
      const r = await rebuildFromStream({ js: nc.jetstream(), jsm, store, state, ...req });
      return { stopped: r.stopped, state };
    } finally {
      await nc.drain();
    }
  } finally {
    await store.close();
  }
}
