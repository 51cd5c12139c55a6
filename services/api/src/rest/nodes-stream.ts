import { Readable } from 'node:stream';
import type { Db } from '../store/db.js';
import { type NodeDbRow, nodeRows } from './rows.js';

/** Nodes read, turned into rows and written per page: memory stays bounded by a page, whatever the mesh's size. */
const PAGE = 500;

/**
 * `/api/nodes/detailed` without `limit`: every node, as the original answered. The matching node numbers are taken in
 * one query first (a consistent list: a node updated while the body streams is neither skipped nor sent twice), then
 * each page is read whole before it is written, so no SQLite statement stays open while the client reads and the
 * projection keeps writing on the same connection between pages.
 */
export function streamAllNodes(db: Db, where: { sql: string; args: unknown[] }, offset: number, now: number): Readable {
  const all = db
    .prepare(`SELECT n.num FROM nodes n WHERE ${where.sql} ORDER BY n.updated_at DESC, n.num DESC`)
    .pluck()
    .all(...where.args) as number[];
  const nums = all.slice(offset);
  const byNum = db.prepare('SELECT * FROM nodes WHERE num IN (SELECT value FROM json_each(?))');
  function* body(): Generator<string> {
    yield '{"nodes":[';
    for (let i = 0; i < nums.length; i += PAGE) {
      const page = nums.slice(i, i + PAGE);
      const found = new Map((byNum.all(JSON.stringify(page)) as NodeDbRow[]).map((r) => [r.num, r]));
      // In the list's order; a node deleted since (retention) is left out.
      const rows = page.map((n) => found.get(n)).filter((r): r is NodeDbRow => r !== undefined);
      const items = nodeRows(db, rows, now).map((r) => JSON.stringify(r));
      if (items.length) yield (i > 0 ? ',' : '') + items.join(',');
    }
    yield `],"total":${all.length},"limit":${nums.length},"offset":${offset}}`;
  }
  return Readable.from(body(), { objectMode: false });
}
