/**
 * The in-app channel's pure shapes: the address of a person's inbox, and what a stored in-app
 * message keeps besides its title and body. Pure: the rules and the dispatch read it.
 */

/** A person's inbox as a delivery's address: `namespace/userId`. */
export function inboxAddress(namespace: string, userId: string): string {
  return `${namespace}/${userId}`;
}

/** The namespace of an inbox address whose userId is known; undefined when the address is not that person's. */
export function inboxNamespace(address: string, userId: string): string | undefined {
  const suffix = `/${userId}`;
  if (!address.endsWith(suffix) || address.length === suffix.length) return undefined;
  return address.slice(0, -suffix.length);
}

/** What an in-app message keeps besides title and body; stored with the rendered message (as JSON in its `html` column). */
export interface InAppExtras {
  actionUrl?: string;
  data?: Record<string, unknown>;
}
