// Rewrites the "who may do what" tables of docs/operations.md from the permission functions (src/commands/creds).
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { withMatrix } from '../src/commands/creds/matrix.js';

const doc = fileURLToPath(new URL('../../../docs/operations.md', import.meta.url));
const before = readFileSync(doc, 'utf8');
const after = withMatrix(before);
if (after !== before) writeFileSync(doc, after);
process.stdout.write(
  after === before ? 'docs/operations.md: table up to date\n' : 'docs/operations.md: table rewritten\n',
);
