export { startAgent, type AgentDeps, type RunningAgent } from './agent.js';
export { agentConfigSpec } from './config/spec.js';
export { type AgentSettings, loadAgentSettings, readAgentConfig, resolveSettings } from './config/settings.js';
export { ensureSiteStream, provisionHub } from './streams/provision.js';
export { TraceScheduler } from './trace/scheduler.js';
