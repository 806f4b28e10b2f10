/** Go semantics the port relies on: `%q` quoting, byte-order sorting, sets. */
import { describe, expect, it } from 'vitest';
import {
  compareGoStrings,
  goQuote,
  joinQuote,
  pluralize,
  sortedSet,
} from '../../../src/policy/pss/helpers.js';

describe('goQuote (strconv.Quote)', () => {
  it.each([
    ['unconfined', '"unconfined"'],
    ['', '""'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ['tab\there\nnl\r\x07\b\f\v', '"tab\\there\\nnl\\r\\a\\b\\f\\v"'],
    ['\x00\x1f\x7f', '"\\x00\\x1f\\x7f"'],
    ['héllo 世界 ✓', '"héllo 世界 ✓"'],
    ['\u00a0\u200b', '"\\u00a0\\u200b"'],
    ['😀', '"😀"'],
    ['\u{e0001}', '"\\U000e0001"'],
    ['\ud800', '"\ufffd"'],
  ])('%j → %s', (input, expected) => {
    expect(goQuote(input)).toBe(expected);
  });
});

describe('Go string order', () => {
  it('sorts by UTF-8 bytes (code points), not UTF-16 units', () => {
    // U+FF5E (3 UTF-8 bytes, EF BD 9E) sorts before U+1F600 (F0 …) in Go; UTF-16 order would put the emoji first.
    expect(['😀', '～', 'b', 'B', 'a'].sort(compareGoStrings)).toEqual(['B', 'a', 'b', '～', '😀']);
    expect(compareGoStrings('ab', 'abc')).toBeLessThan(0);
  });

  it('sortedSet dedupes and sorts', () => {
    expect(sortedSet(['b', 'a', 'b', 'c', 'a'])).toEqual(['a', 'b', 'c']);
    expect(sortedSet(['9', '10', '443'])).toEqual(['10', '443', '9']);
  });

  it('joinQuote and pluralize', () => {
    expect(joinQuote([])).toBe('');
    expect(joinQuote(['a', 'b"c'])).toBe('"a", "b"c"');
    expect(pluralize('container', 'containers', 1)).toBe('container');
    expect(pluralize('container', 'containers', 0)).toBe('containers');
  });
});
