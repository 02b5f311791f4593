// The kiln.v1.Registry webhook RPCs (CreateWebhook, ListWebhooks, DeleteWebhook, EnableWebhook,
// ListWebhookDeliveries): validation and conversion at the edge, each change with its audit record in its
// transaction; the rules are webhooks.ts's. Who may call them is the policy table's (policy.ts: admin).
import type { RegistryImplementation } from '@kiln/api/handlers';
import { callerName } from '@kiln/api/context';
import type { EventKind as ProtoEventKind } from '@kiln/api/generated/kiln/v1/EventKind';
import type { Webhook } from '@kiln/api/generated/kiln/v1/Webhook';
import type { WebhookDelivery } from '@kiln/api/generated/kiln/v1/WebhookDelivery';
import { toTimestamp } from '@kiln/api/timestamp';
import { invalidArgument, notFound } from '@kiln/errors';
import { auditEvent } from './audit';
import { decodePageToken, encodePageToken, pageSize } from './convert';
import { eventKindsOf } from './event-service';
import { canonicalModelName, namespaceOf, validateNamespace } from './names';
import type { RegistryStore, WebhookDeliveryRecord, WebhookRecord } from './store';
import { checkWebhookUrl, newWebhookId, shownUrl, validateSecret, type AllowList } from './webhooks';

const protoKind = (kind: string) => `EVENT_KIND_${kind}` as ProtoEventKind;

export function webhookToProto(w: WebhookRecord): Webhook {
  return {
    id: w.id,
    url: w.url,
    namespace: w.namespace,
    model: w.model,
    kinds: w.kinds.map(protoKind),
    createTime: toTimestamp(w.createTime),
    createdBy: w.createdBy,
    disabled: w.disabled,
    disabledReason: w.disabledReason,
    disableTime: toTimestamp(w.disableTime),
    lastDeliveryTime: toTimestamp(w.lastDeliveryTime),
    consecutiveFailures: w.failures,
    nextAttemptTime: w.failures > 0 && !w.disabled ? toTimestamp(w.nextAttemptTime) : null,
  };
}

function deliveryToProto(d: WebhookDeliveryRecord): WebhookDelivery {
  return {
    webhookId: d.webhookId,
    eventId: String(d.eventId),
    resumeToken: encodePageToken(d.eventId),
    kind: protoKind(d.kind),
    model: d.model,
    attempt: d.attempt,
    time: toTimestamp(d.time),
    statusCode: d.statusCode,
    error: d.error,
    durationMs: d.durationMs,
    delivered: d.delivered,
    finished: d.finished,
  };
}

/** What a webhook's filter says, for the audit trail. */
function filterText(w: Pick<WebhookRecord, 'namespace' | 'model' | 'kinds'>): string {
  const parts = [w.model ? `model ${w.model}` : w.namespace ? `namespace ${w.namespace}` : 'every model', w.kinds.length ? `kinds ${w.kinds.join(', ')}` : 'every kind'];
  return parts.join(', ');
}

type WebhookRpcs = Pick<RegistryImplementation, 'CreateWebhook' | 'ListWebhooks' | 'DeleteWebhook' | 'EnableWebhook' | 'ListWebhookDeliveries'>;

export function webhookHandlers(store: RegistryStore, allowList: AllowList): WebhookRpcs {
  const requireId = (id: string, where: string) => {
    if (!id) throw invalidArgument('give the webhook\'s id (wh_...)', where);
    return id;
  };

  return {
    async CreateWebhook(request, context) {
      const where = 'CreateWebhookRequest';
      const url = checkWebhookUrl(request.url, allowList, `${where}.url`).href;
      const model = request.model ? canonicalModelName(request.model, `${where}.model`) : '';
      if (request.namespace) validateNamespace(request.namespace, `${where}.namespace`);
      if (model && request.namespace && namespaceOf(model) !== request.namespace) {
        throw invalidArgument(`model ${model} is not in namespace ${request.namespace}`, `${where}.namespace`);
      }
      const kinds = [...new Set(eventKindsOf(request.kinds, `${where}.kinds`))];
      const secret = validateSecret(request.secret, `${where}.secret`);
      const created = await store.inTransaction(async (tx) => {
        const w = await tx.createWebhook({ id: newWebhookId(), url, namespace: request.namespace, model, kinds, secret, createdBy: callerName(context.caller) });
        await tx.recordAuditEvent(auditEvent(context, { model, message: `created webhook ${w.id} to ${shownUrl(url)} for ${filterText(w)}` }));
        return w;
      });
      context.logger.info({ webhook: created.id, url: shownUrl(url) }, 'webhook created');
      return webhookToProto(created);
    },

    async ListWebhooks(request) {
      const where = 'ListWebhooksRequest';
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const after = decodePageToken<string>(request.pageToken, 'string', `${where}.page_token`);
      const webhooks = await store.listWebhooks({ pageSize: size + 1, afterId: after });
      const page = webhooks.slice(0, size);
      return {
        webhooks: page.map(webhookToProto),
        nextPageToken: webhooks.length > size ? encodePageToken(page[page.length - 1].id) : '',
      };
    },

    async DeleteWebhook(request, context) {
      const id = requireId(request.id, 'DeleteWebhookRequest.id');
      const deleted = await store.inTransaction(async (tx) => {
        const w = await tx.deleteWebhook(id);
        if (!w) throw notFound(`there is no webhook ${id}`, 'DeleteWebhookRequest.id');
        await tx.recordAuditEvent(auditEvent(context, { model: w.model, message: `deleted webhook ${id} to ${shownUrl(w.url)}` }));
        return w;
      });
      return webhookToProto(deleted);
    },

    async EnableWebhook(request, context) {
      const id = requireId(request.id, 'EnableWebhookRequest.id');
      const enabled = await store.inTransaction(async (tx) => {
        const before = await tx.getWebhook(id);
        if (!before) throw notFound(`there is no webhook ${id}`, 'EnableWebhookRequest.id');
        const w = (await tx.enableWebhook(id))!;
        const was = before.disabled ? `disabled: ${before.disabledReason}` : 'not disabled';
        await tx.recordAuditEvent(auditEvent(context, { model: w.model, message: `enabled webhook ${id} (it was ${was})` }));
        return w;
      });
      return webhookToProto(enabled);
    },

    async ListWebhookDeliveries(request) {
      const where = 'ListWebhookDeliveriesRequest';
      const id = requireId(request.webhookId, `${where}.webhook_id`);
      const size = pageSize(request.pageSize, `${where}.page_size`);
      const before = decodePageToken<number>(request.pageToken, 'number', `${where}.page_token`);
      if (!(await store.getWebhook(id))) throw notFound(`there is no webhook ${id}`, `${where}.webhook_id`);
      const deliveries = await store.listWebhookDeliveries({ webhookId: id, pageSize: size + 1, beforeId: before });
      const page = deliveries.slice(0, size);
      return {
        deliveries: page.map(deliveryToProto),
        nextPageToken: deliveries.length > size ? encodePageToken(page[page.length - 1].id) : '',
      };
    },
  };
}
