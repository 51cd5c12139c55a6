/**
 * What the agent counts since it started; every field goes into its status events' `counters` and the ops
 * endpoint's health. A type rather than a string-keyed bag, so a misspelt counter does not compile.
 */
export type AgentCounters = {
  /** FromRadio frames read from the radio. */
  framesRead: number;
  receptions: number;
  /** Frames that did not parse, and items that could not be handled. */
  decodeErrors: number;
  nodedbSnapshots: number;
  statusEvents: number;
  /** Times a full publish backlog paused reading the radio. */
  radioPauses: number;
  /** Traceroutes sent, answered and timed out (the trace runner's own counts, copied at each status). */
  traces: number;
  tracesSucceeded: number;
  tracesTimedOut: number;
  /** Publishes retried after a missing ack (the publisher's count, copied at each status). */
  publishRetries: number;
  /** Bytes of the radio's debug log read between frames (the session's count, copied at each status). */
  radioFramesDebugBytes: number;
};

export function newCounters(): AgentCounters {
  return {
    framesRead: 0,
    receptions: 0,
    decodeErrors: 0,
    nodedbSnapshots: 0,
    statusEvents: 0,
    radioPauses: 0,
    traces: 0,
    tracesSucceeded: 0,
    tracesTimedOut: 0,
    publishRetries: 0,
    radioFramesDebugBytes: 0,
  };
}
