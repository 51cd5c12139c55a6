export {
  type AlertsConfig,
  alertsConfig,
  DEFAULT_RULES_INI,
  loadAlertsConfig,
  parseAlertsConfig,
  rulesFromConfig,
} from './config.js';
export { type WebhookFormat, webhookRequest } from './domain/bodies.js';
export { Evaluator, type Notice, type Tracked } from './domain/evaluator.js';
export { noneTouched, observe, type Touched } from './domain/observe.js';
export { inScope, type Rule, toRule } from './domain/rule.js';
export { type AlertsStats, RULES_KEY, type RunningAlerts, startAlerts } from './infrastructure/service.js';
