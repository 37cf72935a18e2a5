import type { Campaign } from './campaign';
import { canonicalAllowedLinkHost, literalLinkHosts } from './link-hosts.mjs';
import { contentVariants } from './locale';

/**
 * The hosts a campaign's tracked links may lead to (issue 18, finding 6): those written literally
 * in its content, every variant and every template field (subject, html, text; an SMS's body),
 * and those its `tracking.allowedLinkHosts` names (`*.example.com` for subdomains), canonical
 * (lowercase, punycode). A link to any other host is sent untracked, so /t/c/<token> never
 * redirects to a URL a trigger caller chose. Pure; a function of the campaign's version.
 */
export function trackedLinkHosts(campaign: Pick<Campaign, 'content' | 'tracking'>): string[] {
  const sources: (string | undefined)[] = [];
  for (const { content } of contentVariants(campaign.content)) {
    const fields = content as unknown as Record<string, unknown>;
    // Email: subject, html and text; SMS: body (push is never tracked).
    for (const field of ['subject', 'html', 'text', 'body'] as const) {
      const value = fields[field];
      if (typeof value === 'string') sources.push(value);
    }
  }
  const allowlisted = (campaign.tracking?.allowedLinkHosts ?? []).flatMap((entry) => canonicalAllowedLinkHost(entry) ?? []);
  return [...new Set([...literalLinkHosts(sources), ...allowlisted])];
}
