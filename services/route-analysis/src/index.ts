export { observe, pathLinks } from './domain/observe.js';
export { TopologyGraph, toLink, type AgentHops, type AgentRelays, type GraphChanges, type RelayEntry } from './domain/graph.js';
export { linkQuality, median } from './domain/quality.js';
export type { GraphSettings, Observation, Evidence } from './domain/types.js';
export type { GraphState, LinkState, AgentState } from './domain/state.js';
export { Analyzer, type FlushPlan } from './application/analyzer.js';
export { publicKeys } from './application/keys.js';
export { loadRouteAnalysisConfig, routeAnalysisConfig, type RouteAnalysisConfig } from './config.js';
export { startRouteAnalysis, type RunningRouteAnalysis, type RouteAnalysisStats } from './infrastructure/service.js';
