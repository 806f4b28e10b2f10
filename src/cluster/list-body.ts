/**
 * A list response, read item by item. `JSON.parse` of a whole page of 500 pods (~2.7 MB) makes ~20 MB of objects
 * that all live until the last item is projected: they outlive the young generation, are promoted, and fill the
 * old one with garbage (a 10,000-pod inventory reached 100 MB of heap for 25 MB of live data, with two
 * mark-compacts). Here the body stays one Buffer; one pass finds where each item of the top-level `items` array
 * begins and ends, the rest of the list (kind, metadata with the continue token) is parsed at once, and each item is
 * parsed only when the consumer reaches it, so it dies young once projected.
 *
 * The pass understands JSON's structure (strings with escapes, nesting), not its grammar: anything it does not
 * expect (no top-level object, no `items` array, an item that is not an object, a repeated `items` key, a key
 * written with escapes) gives `undefined`, and the caller parses the whole body as before.
 */

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COLON = 0x3a;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

// The scanner is a few small functions over offsets that stay below `n`, every byte read a number: one shape
// of types from the first page on, so it is optimized once (read past the end, or written as one large
// function, it was deoptimized and optimized again over the first pages, 20-40 ms each instead of ~5).

/** The first offset from `i` on that is not JSON whitespace (`n` if none). */
function skipSpace(body: Buffer, i: number, n: number): number {
  while (i < n && isSpace(body[i] as number)) i++;
  return i;
}

/** Offset of the quote that closes the string opened at `start`; -1 when the body ends first. */
function closingQuote(body: Buffer, start: number, n: number): number {
  let i = start + 1;
  while (i < n) {
    const d = body[i] as number;
    if (d === QUOTE) return i;
    i += d === BACKSLASH ? 2 : 1;
  }
  return -1;
}

/** Whether the string between the quotes at `start` and `end` is `items`, byte for byte (not with escapes). */
function isItems(body: Buffer, start: number, end: number): boolean {
  return (
    end - start === 6 &&
    body[start + 1] === 0x69 &&
    body[start + 2] === 0x74 &&
    body[start + 3] === 0x65 &&
    body[start + 4] === 0x6d &&
    body[start + 5] === 0x73
  );
}

/** `"fieldsV1":{` as the API server writes it (compact JSON). Raw quotes cannot occur inside a JSON string. */
const FIELDS_V1 = Buffer.from('"fieldsV1":{');

/** Offset just past the `}` that closes the object opened at `open`; -1 if it is not closed before `limit`. */
function objectEnd(body: Buffer, open: number, limit: number): number {
  let depth = 0;
  let i = open;
  while (i < limit) {
    const c = body[i] as number;
    if (c === QUOTE) {
      const end = closingQuote(body, i, limit);
      if (end < 0) return -1;
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) depth++;
    else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
      if (depth === 0) return i + 1;
    }
    i++;
  }
  return -1;
}

/** A body at least this large is released as soon as its items have been read (see `PageBody.release`). */
const RELEASE_AT = 256 * 1024;

/** The bytes of one page, read once: its items are parsed as they are reached, then its memory is given back. */
class PageBody {
  private read = false;

  constructor(
    private body: Buffer,
    /** Start and end (exclusive) byte offset of each item, in pairs. */
    readonly offsets: Int32Array,
  ) {}

  take(): Buffer {
    if (this.read) {
      // A programming error, never the user's: a second pass would find the page released (and parse it again).
      throw new Error('the items of a list page can be read once (they are parsed as they are read)');
    }
    this.read = true;
    return this.body;
  }

  /**
   * Give the page's memory back now. It is outside the JS heap and was reachable while the page was read, long
   * enough for the page to reach the old generation, where it would wait for a full GC: with lists read item by
   * item full GCs are rare, and a 10,000-pod report carried ~40 MB of read pages. Moving the bytes out (a transfer
   * to a clone nobody keeps) detaches this buffer and frees them at the next young GC.
   */
  release(): void {
    const body = this.body;
    this.body = Buffer.alloc(0);
    const whole = body.buffer;
    if (
      whole instanceof ArrayBuffer &&
      body.byteOffset === 0 &&
      whole.byteLength >= RELEASE_AT &&
      whole.byteLength <= body.length * 2
    ) {
      try {
        structuredClone(whole, { transfer: [whole] });
      } catch {
        // Not transferable (a pooled buffer): the GC frees it as before.
      }
    }
  }
}

/**
 * The items of one list response, parsed one at a time as they are iterated. They can be read once: after the
 * last item (or when the reader stops early) the page's bytes are released, and a second pass throws.
 */
export class ListItems<T = unknown> implements Iterable<T> {
  constructor(
    private readonly page: PageBody,
    private readonly each: (item: unknown) => T = (item) => item as T,
    private readonly invalid: (index: number, error: Error) => Error = (_i, e) => e,
    private readonly omitFieldsV1 = false,
  ) {}

  get length(): number {
    return this.page.offsets.length / 2;
  }

  /** The same items, each passed through `fn` when reached (the same page: read either this or that, once). */
  map<U>(fn: (item: T) => U): ListItems<U> {
    return new ListItems(this.page, (item) => fn(this.each(item)), this.invalid, this.omitFieldsV1);
  }

  /** The same items; an item that is not valid JSON throws what `invalid` makes of its parse error. */
  onInvalid(invalid: (index: number, error: Error) => Error): ListItems<T> {
    return new ListItems(this.page, this.each, invalid, this.omitFieldsV1);
  }

  /**
   * The same items, each `fieldsV1` object (the field sets of `metadata.managedFields[]`) read as `{}`, for a
   * reader that needs only the managers' names: they are ~40% of a pod's JSON, and the costliest part to parse
   * (one small object per field). Only the compact form the API server writes is recognised; anything else is
   * parsed as it is.
   */
  withoutFieldsV1(): ListItems<T> {
    return new ListItems(this.page, this.each, this.invalid, true);
  }

  *[Symbol.iterator](): Iterator<T> {
    const body = this.page.take();
    const { offsets } = this.page;
    /** The next `"fieldsV1":{` at or after the current item (items are read in order: the body is searched once). */
    let next = -1;
    const text = (start: number, end: number): string => {
      if (!this.omitFieldsV1) return body.toString('utf8', start, end);
      let out = '';
      let from = start;
      for (;;) {
        if (next < from) next = body.indexOf(FIELDS_V1, from);
        if (next < 0 || next >= end) break;
        const open = next + FIELDS_V1.length - 1;
        const close = objectEnd(body, open, end);
        if (close < 0) break; // not closed within the item: parsed as it is (JSON.parse says what is wrong)
        out += `${body.toString('utf8', from, open)}{}`;
        from = close;
      }
      return from === start ? body.toString('utf8', start, end) : out + body.toString('utf8', from, end);
    };
    try {
      for (let k = 0; k < offsets.length; k += 2) {
        let value: unknown;
        try {
          value = JSON.parse(text(offsets[k] as number, offsets[k + 1] as number));
        } catch (error) {
          throw this.invalid(k / 2, error as Error);
        }
        yield this.each(value);
      }
    } finally {
      this.page.release();
    }
  }
}

export interface SplitList {
  /** The list without its items (`items: []`): kind, apiVersion, metadata (continue, resourceVersion). */
  envelope: Record<string, unknown>;
  items: ListItems;
}

/**
 * Split a JSON list body (`{"kind":…,"metadata":{…},"items":[{…},…]}`) into its envelope and lazily parsed items;
 * undefined when the body is not shaped so (the caller then parses it whole, and reports what is wrong with it).
 */
export function splitList(body: Buffer): SplitList | undefined {
  const n = body.length;
  let i = skipSpace(body, 0, n);
  if (i >= n || body[i] !== OPEN_BRACE) return undefined;
  let depth = 0;
  /** Offset of the `[` of the top-level items array, and of its `]`. */
  let open = -1;
  let close = -1;
  /** The last string at depth 1 was the key `items` (its `:` and value follow). */
  let itemsKey = false;
  let itemStart = -1;
  const offsets: number[] = [];
  while (i < n) {
    const c = body[i] as number;
    if (c === QUOTE) {
      const end = closingQuote(body, i, n);
      if (end < 0) return undefined;
      if (depth === 1) {
        const j = skipSpace(body, end + 1, n);
        if (j < n && body[j] === COLON) {
          // A key of the top-level object.
          const key = isItems(body, i, end);
          if (key && open >= 0) return undefined; // `items` twice: JSON.parse would keep the last
          itemsKey = key;
        }
      }
      i = end + 1;
      continue;
    }
    if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      depth++;
      if (depth === 2 && itemsKey) {
        itemsKey = false;
        if (c !== OPEN_BRACKET) return undefined; // `items` is not an array
        open = i;
      } else if (depth === 3 && open >= 0 && close < 0) {
        if (c !== OPEN_BRACE) return undefined; // an item that is not an object
        itemStart = i;
      }
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      if (depth === 3 && itemStart >= 0) {
        offsets.push(itemStart, i + 1);
        itemStart = -1;
      } else if (depth === 2 && open >= 0 && close < 0 && c === CLOSE_BRACKET) {
        close = i;
      }
      depth--;
      if (depth === 0) {
        i++;
        break;
      }
      if (depth < 0) return undefined;
    } else if (depth === 2 && open >= 0 && close < 0 && c !== 0x2c && !isSpace(c)) {
      return undefined; // a scalar item (null, a number): not a list of objects
    } else if (depth === 1 && itemsKey && c !== COLON && !isSpace(c)) {
      return undefined; // `items` is a scalar (null)
    }
    i++;
  }
  i = skipSpace(body, i, n);
  if (depth !== 0 || i !== n || open < 0 || close < 0) return undefined;
  let envelope: unknown;
  try {
    envelope = JSON.parse(`${body.toString('utf8', 0, open + 1)}${body.toString('utf8', close)}`);
  } catch {
    return undefined;
  }
  if (envelope === null || typeof envelope !== 'object' || Array.isArray(envelope)) return undefined;
  return {
    envelope: envelope as Record<string, unknown>,
    items: new ListItems(new PageBody(body, Int32Array.from(offsets))),
  };
}
