import { type AlertEvent, TEXT_MAX_BYTES, truncateUtf8 } from '@mmm/schemas';
import type { NoticeType } from './evaluator.js';

const LABEL: Record<NoticeType, string> = { firing: 'ALERT', resolved: 'OK', renotify: 'STILL' };

/**
 * The text sent to the mesh for a notification: a short label, the rule, the summary. Control characters (a node
 * name can hold any) become spaces, since a radio's screen shows them raw; the whole is cut to what a Meshtastic text
 * payload carries, between characters.
 */
export function meshText(type: NoticeType, alert: AlertEvent): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: removing them is the point
  const clean = alert.summary.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
  return truncateUtf8(`${LABEL[type]} ${alert.rule}: ${clean}`, TEXT_MAX_BYTES);
}
