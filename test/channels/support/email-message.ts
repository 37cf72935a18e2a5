import type { EmailMessage } from '../../../src/channels/email/email-provider';
import { providerIdempotencyKey } from '../../../src/channels/provider-idempotency-key';

/** A rendered email as the send activity hands it to a provider, with the key the recipient would get in execution 01KEXECUTION. */
export function emailMessageTo(to = 'ada@example.com', overrides: Partial<EmailMessage> = {}): EmailMessage {
  return {
    from: 'Acme <no-reply@acme.example>',
    to,
    subject: 'Your code',
    html: '<p>Code 4711</p>',
    text: 'Code 4711',
    idempotencyKey: providerIdempotencyKey('01KEXECUTION', to, 'email'),
    campaignId: '01KCAMPAIGN',
    executionId: '01KEXECUTION',
    userId: to,
    ...overrides,
  };
}
