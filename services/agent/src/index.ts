export { type AgentDeps, type RunningAgent, startAgent } from './agent.js';
export { type AgentSettings, loadAgentSettings, readAgentConfig, resolveSettings } from './config/settings.js';
export { agentConfigSpec } from './config/spec.js';
export { type MqttBridgeDeps, type RunningBridge, startMqttBridge } from './mqtt/bridge.js';
export { type Converted, convertMqttMessage } from './mqtt/convert.js';
export { loadMqttSettings, type MqttBridgeSettings, parseMqttSettings } from './mqtt/settings.js';
export { mqttConfigSpec } from './mqtt/spec.js';
export {
  ensureSiteStream,
  hubDurables,
  provisionHub,
  provisionHubConsumers,
  provisionSite,
  publicReaderDurables,
} from './streams/provision.js';
export { TraceScheduler } from './trace/scheduler.js';
