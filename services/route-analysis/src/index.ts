export { Analyzer, type FlushPlan } from './application/analyzer.js';
export { publicKeys } from './application/keys.js';
export { loadRouteAnalysisConfig, type RouteAnalysisConfig, routeAnalysisConfig } from './config.js';
export {
  type AgentHops,
  type AgentRelays,
  type GraphChanges,
  type RelayEntry,
  TopologyGraph,
  toLink,
} from './domain/graph.js';
export { observe, pathLinks } from './domain/observe.js';
export { linkQuality, median } from './domain/quality.js';
export type { AgentState, GraphState, LinkState } from './domain/state.js';
export type { Evidence, GraphSettings, Observation } from './domain/types.js';
export { type RouteAnalysisStats, type RunningRouteAnalysis, startRouteAnalysis } from './infrastructure/service.js';
