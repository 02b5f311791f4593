// `kiln webhook`'s arguments and rows: event kinds as people write them, a webhook's filter and state, and its
// delivery attempts newest first.
import type { EventKind } from '@kiln/api/generated/kiln/v1/EventKind';
import type { Webhook__Output } from '@kiln/api/generated/kiln/v1/Webhook';
import type { WebhookDelivery__Output } from '@kiln/api/generated/kiln/v1/WebhookDelivery';
import { fromTimestamp, type TimestampValue } from '@kiln/api/timestamp';
import { usage } from './usage';

const KINDS = ['VERSION_CREATED', 'VERSION_RELEASED', 'VERSION_FAILED', 'VERSION_DELETED', 'ALIAS_SET', 'ALIAS_MOVED', 'ALIAS_DELETED', 'LABELS_CHANGED'];

/** `version-released`, `VERSION_RELEASED` or `EVENT_KIND_VERSION_RELEASED`. */
export function parseKind(text: string): EventKind {
  const kind = text.trim().toUpperCase().replace(/-/g, '_').replace(/^EVENT_KIND_/, '');
  if (!KINDS.includes(kind)) throw usage(`expected an event kind (${KINDS.map((k) => k.toLowerCase().replace(/_/g, '-')).join(', ')}), got ${text}`, '--kind');
  return `EVENT_KIND_${kind}` as EventKind;
}

const kindName = (k: unknown) => String(k).replace(/^EVENT_KIND_/, '').toLowerCase().replace(/_/g, '-');
const when = (t: TimestampValue | null) => fromTimestamp(t)?.toISOString() ?? '-';

export function filterText(w: Pick<Webhook__Output, 'namespace' | 'model' | 'kinds'>): string {
  const what = w.model || (w.namespace ? `${w.namespace}/*` : '*');
  return w.kinds.length ? `${what} (${w.kinds.map(kindName).join(',')})` : what;
}

export function stateText(w: Webhook__Output): string {
  if (w.disabled) return `disabled: ${w.disabledReason}`;
  if (w.consecutiveFailures > 0) return `failing (${w.consecutiveFailures} in a row, next attempt ${when(w.nextAttemptTime)})`;
  return 'active';
}

export const WEBHOOK_HEADER = `${'ID'.padEnd(28)}  ${'URL'.padEnd(40)}  ${'EVENTS'.padEnd(32)}  ${'LAST DELIVERY'.padEnd(24)}  STATE`;

export function webhookRow(w: Webhook__Output): string {
  return `${w.id.padEnd(28)}  ${w.url.padEnd(40)}  ${filterText(w).padEnd(32)}  ${when(w.lastDeliveryTime).padEnd(24)}  ${stateText(w)}`;
}

export const DELIVERY_HEADER = `${'TIME'.padEnd(24)}  ${'EVENT'.padStart(8)}  ${'KIND'.padEnd(18)}  ${'MODEL'.padEnd(24)}  ${'ATTEMPT'.padStart(7)}  ${'RESULT'.padEnd(9)}  ${'MS'.padStart(6)}  ERROR`;

export function deliveryRow(d: WebhookDelivery__Output): string {
  const result = !d.finished ? 'sending' : d.delivered ? `ok ${d.statusCode}` : d.statusCode ? `failed ${d.statusCode}` : 'failed';
  return `${when(d.time).padEnd(24)}  ${d.eventId.padStart(8)}  ${kindName(d.kind).padEnd(18)}  ${d.model.padEnd(24)}  ${String(d.attempt).padStart(7)}  ${result.padEnd(9)}  ${String(d.durationMs).padStart(6)}  ${d.error}`;
}
