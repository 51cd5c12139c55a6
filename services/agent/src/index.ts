export { type AgentDeps, type RunningAgent, startAgent } from './agent.js';
export { type AgentSettings, loadAgentSettings, readAgentConfig, resolveSettings } from './config/settings.js';
export { agentConfigSpec } from './config/spec.js';
export {
  ensureSiteStream,
  hubDurables,
  provisionHub,
  provisionHubConsumers,
  provisionSite,
  publicReaderDurables,
} from './streams/provision.js';
export { TraceScheduler } from './trace/scheduler.js';
