import { type AlertEvent, type AlertSilence, type MeshEvent, nodeIdFromNum, SCHEMA_VERSION } from '@mmm/schemas';
import { LinkBook, type LinkChange } from './links.js';
import { observe as observeEvent, type Touched } from './observe.js';
import { observeLink } from './observe-links.js';
import { inScope, type Rule } from './rule.js';
import { summarize } from './summary.js';
import { type AgentState, type Cond, emptyWorld, type NodeState, type World } from './world.js';

/** What the service remembers of an alert beside its public record: whether and when people were told. */
export interface Book {
  /** `<rule>|n<node num>` or `<rule>|a<site>/<agent>`: one open alert per rule and subject. */
  key: string;
  notified: boolean;
  /** Fired at a rule's first evaluation: state only, never notified, never published. */
  baseline: boolean;
  lastNotifiedAt: number;
  /** Notifications sent so far; numbers the next one's outbox key. */
  notices: number;
}

export interface Tracked {
  alert: AlertEvent;
  book: Book;
}

export type NoticeType = 'firing' | 'resolved' | 'renotify';

/** What an evaluation wants said: the transition on the alert subject (`publish`), a notification to people. */
export interface Notice {
  alert: AlertEvent;
  publish: boolean;
  notify: NoticeType | undefined;
  /** Which notification of this alert it is (outbox keys differ between re-notifications). */
  n: number;
  rule: string;
}

export interface Evaluation {
  changed: Tracked[];
  notices: Notice[];
}

/**
 * Rules over the world, with the alert table. Deterministic given the same events and clock: an alert's id is made
 * of its rule, its subject and the time its condition started to count, so an evaluation repeated after a crash finds
 * the alert it already made (open or resolved) instead of making, and notifying, a second one.
 */
export class Evaluator {
  readonly world: World;
  private rules = new Map<string, Rule>();
  private readonly links = new LinkBook();
  /**
   * Rules evaluated at least once with full state (name -> the definition then): their later firings are news. Kept
   * in the checkpoint, so a restart does not take the next firing for a first evaluation, while an edit does.
   */
  readonly established = new Map<string, string>();
  private open = new Map<string, Tracked>();
  private byId = new Map<string, Tracked>();
  private silences = new Map<string, AlertSilence>();
  /** Acks that came before their alert did (the control bucket is read concurrently). */
  private earlyAcks = new Set<string>();

  constructor(world: World = emptyWorld(), established: Iterable<[string, string]> = []) {
    this.world = world;
    for (const [name, spec] of established) this.established.set(name, spec);
  }

  ruleList(): Rule[] {
    return [...this.rules.values()];
  }

  rule(name: string): Rule | undefined {
    return this.rules.get(name);
  }

  /** Replaces the rule set. A new or changed rule is evaluated afresh: its first evaluation only establishes state. */
  setRules(rules: readonly Rule[]): void {
    const next = new Map(rules.map((r) => [r.name, r]));
    for (const [name, r] of next) if (this.established.get(name) !== specKey(r)) this.established.delete(name);
    for (const name of [...this.established.keys()]) if (!next.has(name)) this.established.delete(name);
    this.rules = next;
  }

  /** Alerts from the KV bucket at start: the truth about what was fired and told. */
  load(items: readonly Tracked[]): void {
    for (const t of items) {
      this.byId.set(t.alert.id, t);
      if (t.alert.state === 'firing') this.open.set(t.book.key, t);
    }
  }

  alerts(): Tracked[] {
    return [...this.byId.values()];
  }

  openCount(rule?: string): number {
    let n = 0;
    for (const t of this.open.values()) if (!rule || t.alert.rule === rule) n++;
    return n;
  }

  observe(ev: MeshEvent, touched: Touched): void {
    observeEvent(this.world, [...this.rules.values()], ev, touched);
  }

  /** A link of route analysis's snapshot changed (or aged out): the `link_quality` rules of its two nodes. */
  observeLink(change: LinkChange, at: number, touched: Touched): void {
    observeLink(this.world, this.links, [...this.rules.values()], change, at, touched);
  }

  setSilence(s: AlertSilence): void {
    this.silences.set(s.id, s);
  }

  removeSilence(id: string): void {
    this.silences.delete(id);
  }

  /** Marks an alert acknowledged: it stays firing, but is not notified again. */
  ack(id: string): Tracked | undefined {
    const t = this.byId.get(id);
    if (!t) {
      this.earlyAcks.add(id);
      return undefined;
    }
    if (t.alert.acknowledged) return undefined;
    t.alert = { ...t.alert, acknowledged: true };
    return t;
  }

  /** Forgets resolved alerts older than `keepMs`; returns their ids (for the bucket). */
  prune(now: number, keepMs: number): string[] {
    const gone: string[] = [];
    for (const [id, t] of this.byId) {
      if (t.alert.state === 'resolved' && (t.alert.resolved_at ?? 0) < now - keepMs) {
        this.byId.delete(id);
        gone.push(id);
      }
    }
    return gone;
  }

  /**
   * Fires what holds and resolves what stopped. With `touched`, only those subjects (right after a batch, so event
   * rules notify within the batch's latency); without, everything, plus re-notification and the end of silences.
   * A full evaluation establishes every rule it covered.
   */
  evaluate(now: number, touched?: Touched): Evaluation {
    const out = { changed: new Map<string, Tracked>(), notices: [] as Notice[] };
    const active = new Set<string>();
    for (const rule of this.rules.values()) {
      if (!rule.enabled) continue;
      const baseline = !this.established.has(rule.name);
      if (rule.aboutNode) {
        for (const node of this.nodesFor(rule, touched)) {
          if (!inScope(rule, node)) continue;
          const since = activeSince(rule, node, now);
          if (since === undefined) continue;
          const key = `${rule.name}|n${node.num}`;
          active.add(key);
          this.fire(
            rule,
            key,
            `${rule.name}.${node.num.toString(16).padStart(8, '0')}`,
            since,
            node,
            now,
            baseline,
            out,
          );
        }
      } else {
        for (const a of this.agentsFor(touched)) {
          if (!inScope(rule, a)) continue;
          const since = activeSince(rule, a, now);
          if (since === undefined) continue;
          const key = `${rule.name}|a${a.site}/${a.agent}`;
          active.add(key);
          this.fire(rule, key, `${rule.name}.${a.site}.${a.agent}`, since, a, now, baseline, out);
        }
      }
    }
    for (const t of [...this.open.values()]) {
      if (active.has(t.book.key)) continue;
      if (touched && !isTouched(t.book.key, touched)) continue;
      const rule = this.rules.get(t.alert.rule);
      if (rule?.enabled && now - t.alert.since < rule.minFiringMs) continue;
      this.resolve(t, rule, now, out);
    }
    if (!touched) {
      for (const rule of this.rules.values()) if (rule.enabled) this.established.set(rule.name, specKey(rule));
      this.followUp(now, out);
    }
    return { changed: [...out.changed.values()], notices: out.notices };
  }

  private nodesFor(rule: Rule, touched: Touched | undefined): Iterable<NodeState> {
    const nodes = this.world.nodes;
    if (touched) return pick(touched.nodes, (n) => nodes.get(n));
    if (rule.nodes) return pick(rule.nodes, (n) => nodes.get(n));
    return nodes.values();
  }

  private agentsFor(touched: Touched | undefined): Iterable<AgentState> {
    const agents = this.world.agents;
    return touched ? pick(touched.agents, (k) => agents.get(k)) : agents.values();
  }

  private fire(
    rule: Rule,
    key: string,
    idPrefix: string,
    since: number,
    subject: NodeState | AgentState,
    now: number,
    baseline: boolean,
    out: { changed: Map<string, Tracked>; notices: Notice[] },
  ): void {
    if (this.open.has(key)) return;
    const id = `${idPrefix}.${since.toString(36)}`;
    // This very episode was fired and resolved already (a replay after a crash, or min_firing ran out).
    if (this.byId.has(id)) return;
    const isNode = 'num' in subject;
    const silenced = baseline ? undefined : this.silencedUntil(rule.name, isNode ? subject.num : undefined, now);
    const alert: AlertEvent = {
      v: SCHEMA_VERSION,
      kind: 'alert',
      id,
      rule: rule.name,
      rule_kind: rule.kind,
      state: 'firing',
      node_id: isNode ? nodeIdFromNum(subject.num) : null,
      site: subject.site,
      agent_id: subject.agent,
      since,
      resolved_at: null,
      summary: summarize(rule, subject, condOf(rule, subject), now),
      acknowledged: this.earlyAcks.delete(id),
      silenced_until: silenced ?? null,
      at: now,
    };
    const notify = !baseline && silenced === undefined;
    const t: Tracked = {
      alert,
      book: { key, notified: notify, baseline, lastNotifiedAt: notify ? now : 0, notices: notify ? 1 : 0 },
    };
    this.open.set(key, t);
    this.byId.set(id, t);
    out.changed.set(id, t);
    if (!baseline)
      out.notices.push({ alert, publish: true, notify: notify ? 'firing' : undefined, n: 0, rule: rule.name });
  }

  private resolve(
    t: Tracked,
    rule: Rule | undefined,
    now: number,
    out: { changed: Map<string, Tracked>; notices: Notice[] },
  ): void {
    const silenced = this.silencedUntil(t.alert.rule, nodeNum(t.alert.node_id), now);
    t.alert = { ...t.alert, state: 'resolved', resolved_at: now, at: now, silenced_until: silenced ?? null };
    this.open.delete(t.book.key);
    out.changed.set(t.alert.id, t);
    if (t.book.baseline) return;
    const notify = t.book.notified && rule?.enabled === true && rule.notifyResolved && silenced === undefined;
    const n = t.book.notices;
    if (notify) t.book.notices++;
    out.notices.push({ alert: t.alert, publish: true, notify: notify ? 'resolved' : undefined, n, rule: t.alert.rule });
  }

  /** Re-notification of unacknowledged alerts, the firing notice held back by a silence that ended, silence marks. */
  private followUp(now: number, out: { changed: Map<string, Tracked>; notices: Notice[] }): void {
    for (const t of this.open.values()) {
      const silenced = this.silencedUntil(t.alert.rule, nodeNum(t.alert.node_id), now) ?? null;
      if (silenced !== t.alert.silenced_until) {
        t.alert = { ...t.alert, silenced_until: silenced };
        out.changed.set(t.alert.id, t);
      }
      const rule = this.rules.get(t.alert.rule);
      if (!rule || t.book.baseline || silenced !== null || t.alert.acknowledged) continue;
      const late = !t.book.notified;
      const due = rule.renotifyMs > 0 && now - t.book.lastNotifiedAt >= rule.renotifyMs;
      if (!late && !due) continue;
      out.notices.push({
        alert: t.alert,
        publish: false,
        notify: late ? 'firing' : 'renotify',
        n: t.book.notices,
        rule: rule.name,
      });
      t.book.notified = true;
      t.book.notices++;
      t.book.lastNotifiedAt = now;
      out.changed.set(t.alert.id, t);
    }
  }

  private silencedUntil(rule: string, node: number | undefined, now: number): number | undefined {
    let until: number | undefined;
    const nodeId = node === undefined ? undefined : nodeIdFromNum(node);
    for (const s of this.silences.values()) {
      if (s.until <= now) continue;
      if (s.rule !== undefined && s.rule !== rule) continue;
      if (s.node_id !== undefined && s.node_id !== nodeId) continue;
      until = Math.max(until ?? 0, s.until);
    }
    return until;
  }
}

/** A rule's identity for "was it edited": its definition with keys in a fixed order. */
export const specKey = (r: Rule): string =>
  JSON.stringify(Object.fromEntries(Object.entries(r.spec).sort(([a], [b]) => a.localeCompare(b))));

function* pick<K, V>(keys: Iterable<K>, get: (k: K) => V | undefined): Iterable<V> {
  for (const k of keys) {
    const v = get(k);
    if (v !== undefined) yield v;
  }
}

function isTouched(key: string, touched: Touched): boolean {
  const subject = key.slice(key.indexOf('|') + 1);
  if (subject.startsWith('n')) return touched.nodes.has(Number(subject.slice(1)));
  return touched.agents.has(subject.slice(1));
}

const nodeNum = (id: string | null): number | undefined => (id ? Number.parseInt(id.slice(1), 16) : undefined);

function condOf(rule: Rule, s: NodeState | AgentState): Cond | undefined {
  return s.conds[rule.name];
}

/**
 * When the alert counts as firing from, or undefined when it does not hold. Made of event times only (never the
 * clock), so a repeated evaluation gives the same id.
 */
export function activeSince(rule: Rule, s: NodeState | AgentState, now: number): number | undefined {
  if (rule.kind === 'node_silent' && 'num' in s) {
    const at = s.lastHeard + rule.durationMs;
    return now >= at ? at : undefined;
  }
  if (rule.kind === 'agent_silent' && 'lastStatusAt' in s) {
    const at = s.lastStatusAt + rule.durationMs;
    return now >= at ? at : undefined;
  }
  const c = s.conds[rule.name];
  if (!c) return undefined;
  if (rule.event) {
    if (now < (c.until ?? 0)) return c.since;
    delete s.conds[rule.name];
    return undefined;
  }
  const at = c.since + rule.durationMs;
  return now >= at ? at : undefined;
}
