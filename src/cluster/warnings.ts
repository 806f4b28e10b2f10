/**
 * `Warning` response headers: `299 - "text"` (RFC 7234 warn-code SP warn-agent SP warn-text; the API server
 * escapes `"` and `\` in the text — apimachinery pkg/util/net/http.go NewWarningHeader). Node joins repeated
 * headers with ", ", so parse by pattern, never by splitting on commas.
 */
const WARNING = /(\d{3})\s+(\S+)\s+"((?:[^"\\]|\\.)*)"(?:\s+"[^"]*")?/g;

export function parseWarnings(header: string | string[] | undefined): string[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: string[] = [];
  for (const value of values) {
    for (const m of value.matchAll(WARNING)) {
      // Only 299 ("miscellaneous persistent warning") is what the API server sends; client-go ignores others too.
      if (m[1] !== '299') continue;
      const text = (m[3] ?? '').replace(/\\(.)/g, '$1');
      if (!out.includes(text)) out.push(text);
    }
  }
  return out;
}
