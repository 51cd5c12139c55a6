import { buildProgram } from './program.js';

const argv = process.argv.slice(2);
const program = await buildProgram(argv);
await program.parseAsync(argv, { from: 'user' });
