import { alertSubjects } from './alerts.js';
import type { MeshEvent } from './catalog.js';
import { ContractError } from './errors.js';
import { msgIds } from './streams.js';
import { subjects } from './subjects.js';

/** The subject an event is published on, from its own fields (what a producer or a replay tool needs). */
export function subjectOf(ev: MeshEvent): string {
  switch (ev.kind) {
    case 'reception':
      return subjects.rx(ev.site, ev.agent, ev.port);
    case 'nodedb':
      return subjects.nodedb(ev.site, ev.agent);
    case 'trace':
      return subjects.trace(ev.site, ev.agent);
    case 'status':
      return subjects.status(ev.site, ev.agent);
    case 'topology':
      return subjects.topology(ev.type);
    case 'deadletter':
      return subjects.deadLetter(ev.service);
    case 'alert':
      return alertSubjects.transition(ev.rule, ev.state);
  }
}

/**
 * The `Nats-Msg-Id` of a site event (reception, nodedb, trace, status), by the contract's rules. Derived events
 * get theirs from their producer (`msgIds.topology`, `msgIds.deadLetter`), which knows the key.
 */
export function msgIdOf(ev: MeshEvent): string {
  switch (ev.kind) {
    case 'reception':
      return msgIds.reception(ev.site, ev.agent, ev.packet.from, ev.packet.id, ev.packet.rxTime, ev.receivedAt);
    case 'nodedb':
      return msgIds.nodedb(ev.site, ev.agent, ev.takenAt);
    case 'trace':
      return msgIds.trace(ev.site, ev.agent, ev.requestId);
    case 'status':
      return msgIds.status(ev.site, ev.agent, ev.at);
    default:
      throw new ContractError(`${ev.kind} events get their Msg-Id from their producer`);
  }
}
