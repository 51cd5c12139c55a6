// Writes one JSON Schema file per event kind into schemas/json/. Run: npm run gen -w @mmm/schemas
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_SCHEMAS } from '../src/catalog.js';
import { CommandReply, TextCommand } from '../src/commands.js';
import { renderSchema } from '../src/render.js';

const dir = fileURLToPath(new URL('../json/', import.meta.url));
// Commands to agents are not events, but downstream senders need their contract as much.
const COMMAND_SCHEMAS = [
  { file: 'text-command.schema.json', schema: TextCommand },
  { file: 'command-reply.schema.json', schema: CommandReply },
];
for (const { file, schema } of [...EVENT_SCHEMAS, ...COMMAND_SCHEMAS]) {
  writeFileSync(dir + file, renderSchema(schema));
  console.log(`wrote json/${file}`);
}
