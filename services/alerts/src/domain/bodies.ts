import type { AlertEvent } from '@mmm/schemas';
import type { NoticeType } from './evaluator.js';

export type WebhookFormat = 'generic' | 'ntfy' | 'discord' | 'slack';

export interface WebhookRequest {
  headers: Record<string, string>;
  body: string;
}

const LABEL: Record<NoticeType, string> = { firing: 'FIRING', resolved: 'RESOLVED', renotify: 'STILL FIRING' };

function line(type: NoticeType, a: AlertEvent): string {
  return `[${LABEL[type]}] ${a.rule}: ${a.summary}`;
}

/** Header values must be ASCII (ntfy reads the title from a header); anything else becomes '?'. */
const ascii = (s: string) => s.replace(/[^\x20-\x7e]/g, '?');

/** Slack's mrkdwn treats &, < and > as markup: node names and message text are escaped. */
const slackEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * The request body for one notification. generic: the alert as the API and the subject carry it, with what happened;
 * ntfy: plain text with title, priority and tags headers (a POST to the topic URL); Discord and Slack: their
 * incoming-webhook JSON. Text from the mesh can mention anyone, so Discord is told to ping nobody.
 */
export function webhookRequest(format: WebhookFormat, type: NoticeType, alert: AlertEvent): WebhookRequest {
  switch (format) {
    case 'generic':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ notification: type, alert }),
      };
    case 'ntfy':
      return {
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: ascii(`${LABEL[type]}: ${alert.rule}`),
          priority: type === 'resolved' ? '3' : '4',
          tags: type === 'resolved' ? 'white_check_mark' : 'warning',
        },
        body: alert.summary,
      };
    case 'discord':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ content: line(type, alert).slice(0, 2000), allowed_mentions: { parse: [] } }),
      };
    case 'slack':
      return {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ text: slackEscape(line(type, alert)) }),
      };
  }
}
