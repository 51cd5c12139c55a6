import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
/** The project version, from the common package's manifest (all packages share one version). */
export const VERSION: string = (require('../package.json') as { version: string }).version;
