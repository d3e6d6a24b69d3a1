/**
 * Whether a login may return to `candidate` (ALLOWED_RETURN_URLS, API.md): its origin equals an allowed
 * URL's origin exactly and its path is that URL's path or below it. Anything odd is refused: other schemes,
 * credentials in the URL, backslashes and control characters (which browsers and servers parse differently),
 * and relative URLs. This is what keeps the callback from being an open redirect (RFC 9700 4.11).
 */
export function isAllowedReturnUrl(candidate: string, allowed: readonly string[]): boolean {
  if (candidate.length > 2048 || /[\\\u0000-\u001f\u007f\s]/.test(candidate)) return false;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) return false;
  return allowed.some((entry) => {
    const base = new URL(entry);
    if (base.origin !== url.origin) return false;
    const prefix = base.pathname.endsWith('/') ? base.pathname : `${base.pathname}/`;
    return url.pathname === base.pathname || url.pathname.startsWith(prefix);
  });
}

/** `returnTo` with query parameters added (a ticket or an error code), keeping its own query and fragment. */
export function withParams(returnTo: string, params: Record<string, string>): string {
  const url = new URL(returnTo);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return url.toString();
}
