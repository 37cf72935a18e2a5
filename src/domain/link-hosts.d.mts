/** At most this many entries in a campaign's `tracking.allowedLinkHosts`. */
export declare const MAX_ALLOWED_LINK_HOSTS: number;
/** Hosts taken from a campaign's content past this many are ignored (their links stay untracked). */
export declare const MAX_LITERAL_LINK_HOSTS: number;

/** Why `entry` cannot be in `tracking.allowedLinkHosts` (a host or `*.domain`), or undefined when it can. */
export declare function allowedLinkHostProblem(entry: unknown): string | undefined;
/** The canonical form of a valid allowlist entry (lowercase, punycode, `*.` kept); undefined for an invalid one. */
export declare function canonicalAllowedLinkHost(entry: string): string | undefined;
/** The canonical hosts of the absolute http(s) URLs spelt out entirely in template sources (no tag in the authority). */
export declare function literalLinkHosts(sources: Iterable<string | undefined>): string[];
/** True when a WHATWG hostname is one of `allowedHosts` or a subdomain of one of its `*.` wildcards; nothing given, nothing matches. */
export declare function hostMatcher(allowedHosts: readonly string[] | undefined): (hostname: string) => boolean;

export type LinkHostProblem = 'credentials-in-url' | 'invalid-url' | 'host-not-allowed';
/** Why an absolute http(s) URL may not be tracked, or undefined when it may. */
export declare function linkHostProblem(url: string, isAllowed: (hostname: string) => boolean): LinkHostProblem | undefined;
