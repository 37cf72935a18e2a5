/**
 * The pages a person sees at /u/{token}: self-contained HTML (inline style, no script, no image,
 * nothing fetched from elsewhere) and nothing personal on them: the token names a delivery, and
 * the page says nothing about whom it went to.
 */

const STYLE = [
  'body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f4f5f7;color:#1d2330}',
  'main{max-width:28rem;margin:12vh auto;padding:2rem;background:#fff;border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}',
  'h1{font-size:1.4rem;margin:0 0 .75rem}',
  'p{margin:0 0 1.25rem;color:#4a5163}',
  'main>:last-child{margin-bottom:0}',
  'button{font:inherit;font-weight:600;padding:.65rem 1.4rem;border:0;border-radius:8px;background:#1f5fd6;color:#fff;cursor:pointer}',
  'button:hover,button:focus{background:#184bab}',
].join('');

/** No script or outside resource may run; the form may post only back here; no one may frame the page. */
export const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'cache-control': 'no-store',
  // The token is in the URL: no other site learns it from a Referer.
  'referrer-policy': 'no-referrer',
  'x-robots-tag': 'noindex',
  'x-content-type-options': 'nosniff',
};

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

/**
 * GET: asks first. Mail scanners and link previews fetch links; only the button's POST (or the
 * mailbox provider's RFC 8058 POST) unsubscribes. The form has no action: it posts to this very
 * URL, whatever HERALD_PUBLIC_URL's host and path prefix are.
 */
export const confirmationPage = () =>
  page(
    'Unsubscribe',
    `<h1>Unsubscribe</h1>
<p>Do you want to stop receiving these marketing emails? Messages you need, such as receipts and password resets, will still reach you.</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
  );

/** POST: done (also the answer to a repeat). */
export const unsubscribedPage = () =>
  page(
    'You are unsubscribed',
    `<h1>You are unsubscribed</h1>
<p>You will no longer receive these marketing emails. A message already on its way may still arrive.</p>`,
  );
