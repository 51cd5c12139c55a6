// Writes one JSON Schema file per event kind into schemas/json/. Run: npm run gen -w @mmm/schemas
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EVENT_SCHEMAS } from '../src/catalog.js';
import { renderSchema } from '../src/render.js';

const dir = fileURLToPath(new URL('../json/', import.meta.url));
for (const { file, schema } of EVENT_SCHEMAS) {
  writeFileSync(dir + file, renderSchema(schema));
  console.log(`wrote json/${file}`);
}
