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
  /** Link `i` becomes `${linkUrlPrefix}${i}`. */
  linkUrlPrefix: string;
}

/** Adds the open pixel and rewrites absolute http(s) `<a href>` links; `links[i]` is link i's original URL. */
export declare function addTracking(html: string, tracking: TrackingRewrite): { html: string; links: string[] };
