/** Links past this many in one message are left untracked. */
export declare const MAX_TRACKED_LINKS: number;
/** A link longer than this is left untracked. */
export declare const MAX_TRACKED_URL_CHARS: number;
/** HTML longer than this is not parsed: its links stay untracked and the pixel is appended. */
export declare const MAX_TRACKING_INPUT: number;

export interface TrackingRewrite {
  opens: boolean;
  clicks: boolean;
  /** The open pixel's address. */
  pixelUrl: string;
  /** Link `i` becomes `${linkUrlPrefix}${i}` (in `text`: `i` on TEXT_LINK_INDEX_DIGITS digits). */
  linkUrlPrefix: string;
  /** What is tracked: the HTML (email, the default) or the URLs of the rendered text part (SMS, clicks only). */
  part?: 'html' | 'text';
  /** Canonical hosts and `*.domain` wildcards links may be tracked to (src/domain/tracked-link-hosts.ts); absent: no link is rewritten. */
  allowedHosts?: readonly string[];
}

/** Why an http(s) link is sent untracked. */
export type UntrackedReason = 'opted-out' | 'too-long' | 'invalid-url' | 'unsubscribe-link' | 'credentials-in-url' | 'host-not-allowed' | 'too-many-links';
export interface UntrackedLink {
  url: string;
  reason: UntrackedReason;
}
/** At most this many untracked links are reported. */
export declare const MAX_REPORTED_LINKS: number;
/** The http(s) `<a href>` links addTracking left as they are in its output `tracked` (whose tracked links read `trackedUrl`), with why. */
export declare function untrackedLinks(tracked: string, options: { allowedHosts?: readonly string[]; trackedUrl: string }): UntrackedLink[];
/** The same for plain text (an SMS body) and addTextTracking. */
export declare function untrackedTextLinks(tracked: string, options: { allowedHosts?: readonly string[]; trackedUrl: string }): UntrackedLink[];

/** Adds the open pixel and rewrites the absolute http(s) `<a href>` links to allowed hosts; `links[i]` is link i's original URL. */
export declare function addTracking(html: string, tracking: TrackingRewrite): { html: string; links: string[] };

/** Text longer than this is not scanned for links: they stay untracked. */
export declare const MAX_TEXT_TRACKING_INPUT: number;
/** Link `i` of a text is written `${linkUrlPrefix}` + `i` on this many digits. */
export declare const TEXT_LINK_INDEX_DIGITS: number;

/** Rewrites the http(s) URLs of plain text (found by linkify-it) to allowed hosts; `links[i]` is link i's original URL, exactly as written. */
export declare function addTextTracking(text: string, tracking: { linkUrlPrefix: string; allowedHosts?: readonly string[] }): { text: string; links: string[] };
