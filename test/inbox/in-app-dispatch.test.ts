import { describe, expect, it } from 'vitest';
import type { DispatchContext, OutgoingMessage } from '../../src/channels/channel-dispatch';
import { inAppDispatch } from '../../src/channels/in-app/in-app-dispatch';
import type { NewInboxMessage } from '../../src/repositories/inbox';

/** A prepared in-app message as preparation leaves it: title and body in subject and text, the extras as JSON in html. */
function prepared(extras: Record<string, unknown>): OutgoingMessage {
  return {
    executionId: 'exec-1',
    position: 0,
    campaignId: 'camp-1',
    userId: 'ada',
    to: 'crm/ada',
    content: { subject: 'Order 42 shipped', html: JSON.stringify(extras), text: 'It arrives tomorrow.' },
    idempotencyKey: 'key-1',
  };
}

/** The send activity's side of a dispatch, recording what the dispatch did. */
function context() {
  const stored: NewInboxMessage[] = [];
  const failed: string[] = [];
  const ctx = {
    emailProvider: {} as DispatchContext['emailProvider'],
    emailFrom: 'unused@example.com',
    inbox: {
      store: async (message: NewInboxMessage) => {
        stored.push(message);
        return { messageId: 'inbox-1' };
      },
    },
    sendAndRecord: async (send: () => Promise<{ messageId: string }>) => ({ kind: 'sent' as const, messageId: (await send()).messageId }),
    reject: async (reason: string) => {
      failed.push(`provider-rejected: ${reason}`);
      return { kind: 'rejected' as const };
    },
    markFailed: async (reason: string) => {
      failed.push(reason);
    },
  } satisfies DispatchContext;
  return { ctx, stored, failed };
}

describe('the in-app dispatch', () => {
  it('stores an http(s) or path action URL as rendered', async () => {
    for (const actionUrl of ['https://example.com/orders/42', '/orders/42']) {
      const { ctx, stored, failed } = context();
      expect(await inAppDispatch(prepared({ actionUrl, data: { kind: 'order' } }), ctx)).toEqual({ kind: 'sent', messageId: 'inbox-1' });
      expect(stored).toMatchObject([{ namespace: 'crm', userId: 'ada', title: 'Order 42 shipped', actionUrl, data: { kind: 'order' } }]);
      expect(failed).toEqual([]);
    }
  });

  it('fails the send, storing nothing, when the action URL is no http(s) URL or path', async () => {
    for (const actionUrl of ['javascript:alert(1)', '//evil.example/x', 'data:text/html,hi', '/orders/ 42']) {
      const { ctx, stored, failed } = context();
      expect(await inAppDispatch(prepared({ actionUrl }), ctx)).toEqual({ kind: 'rejected' });
      expect(stored).toEqual([]);
      expect(failed).toHaveLength(1);
      expect(failed[0]).toMatch(/^invalid-action-url: an action URL is/);
    }
  });
});
