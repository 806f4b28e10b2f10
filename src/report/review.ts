/** `kube-harden exceptions review`: expired, expiring and unused exceptions, for people or machines. */
import type { ExceptionReview, ExceptionStatus } from '../policy/exceptions.js';
import { paint, plural, wrap } from './format.js';

export interface ReviewRenderOptions {
  /** ANSI colours (text only). @default false */
  color?: boolean;
  /** Columns (text only). @default 80 */
  width?: number;
}

function describeScope(e: ExceptionStatus): string {
  const s = e.scope;
  const obj = s.kind
    ? `${s.kind} ${s.namespace ? `${s.namespace}/` : ''}${s.name}`
    : `namespace ${s.namespace}`;
  return s.container ? `${obj} (container ${s.container})` : obj;
}

function describeEntry(e: ExceptionStatus): string {
  const when =
    e.daysLeft < 0
      ? `expired ${e.expires} (${plural(-e.daysLeft, 'day')} ago)`
      : e.daysLeft === 0
        ? `expires today (${e.expires})`
        : `expires ${e.expires} (in ${plural(e.daysLeft, 'day')})`;
  return `${e.id} (line ${e.line}): ${describeScope(e)}; ${e.controls.join(', ')}; owner ${e.owner}${e.ticket ? `, ticket ${e.ticket}` : ''}; ${when}`;
}

export function renderExceptionsReview(
  review: ExceptionReview,
  format: 'text' | 'json' | 'md',
  options: ReviewRenderOptions = {},
): string {
  const byId = new Map(review.entries.map((e) => [e.id, e]));
  const pick = (ids: string[]) =>
    ids.map((id) => byId.get(id)).filter((e): e is ExceptionStatus => e !== undefined);
  const sections: Array<[string, ExceptionStatus[]]> = [
    ['Expired (cover nothing; each is a KH-EXCEPTION-EXPIRED finding)', pick(review.expired)],
    [`Expiring within ${review.within} days`, pick(review.expiring)],
    ['Unused (cover nothing in this cluster)', pick(review.unused)],
  ];
  if (format === 'json') {
    return `${JSON.stringify({ schemaVersion: 1, ...review }, null, 2)}\n`;
  }
  const source = review.file ?? 'no exceptions register';
  if (format === 'md') {
    const out = [`# Exceptions review (${source})`, ''];
    out.push(
      `${plural(review.entries.length, 'exception')}: ${review.expired.length} expired, ${review.expiring.length} expiring within ${review.within} days, ${review.unused.length} unused.`,
      '',
    );
    for (const [title, list] of sections) {
      if (list.length === 0) continue;
      out.push(
        `## ${title}`,
        '',
        ...list.map((e) => `- ${describeEntry(e).replace(/[|<>*]/g, (c) => `\\${c}`)}`),
        '',
      );
    }
    return `${out.join('\n')}\n`;
  }
  const color = options.color ?? false;
  const width = Math.max(60, options.width ?? 80);
  const out = [
    paint(color, 'bold', wrap(`Exceptions review: ${source}`, width, 2)),
    wrap(
      `${plural(review.entries.length, 'exception')}: ${review.expired.length} expired, ${review.expiring.length} expiring within ${review.within} days, ${review.unused.length} unused`,
      width,
      2,
    ),
  ];
  const styles = ['red', 'yellow', 'dim'] as const;
  sections.forEach(([title, list], i) => {
    if (list.length === 0) return;
    out.push('', paint(color, styles[i] ?? 'bold', title));
    for (const e of list) out.push(wrap(`  - ${describeEntry(e)}`, width, 4));
  });
  if (review.expired.length + review.expiring.length + review.unused.length === 0)
    out.push('', 'Nothing to review.');
  return `${out.join('\n')}\n`;
}
