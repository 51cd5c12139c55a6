export { createConfigText } from './cli.js';
export { type ApiConfig, apiConfigSpec } from './config.js';
export { type ApiService, keyMap, startApi } from './main.js';
