/**
 * Report renderers. They render the assessment they are given (never the cluster) and are deterministic: every
 * list is sorted, and the only clock value is `generatedAt`, left out with `timestamps: false`.
 */
import type { Assessment } from '../policy/assess.js';
import { renderJson } from './json.js';
import { renderMarkdown } from './markdown.js';
import { renderSarif } from './sarif.js';
import { renderText } from './text.js';

export { SCHEMA_VERSION, toReportJson } from './json.js';
export { type ReviewRenderOptions, renderExceptionsReview } from './review.js';
export { SARIF_SCHEMA, toSarif } from './sarif.js';

export type ReportFormat = 'text' | 'md' | 'json' | 'sarif';
export const REPORT_FORMATS: readonly ReportFormat[] = ['text', 'md', 'json', 'sarif'];

export interface RenderOptions {
  /** ANSI colours (text only). @default false */
  color?: boolean;
  /** Terminal columns (text only). @default 80 */
  width?: number;
  /** Include `generatedAt` (tests turn it off). @default true */
  timestamps?: boolean;
  /** Findings listed per group in text (default 25) and Markdown (default 50); JSON and SARIF list all. */
  limit?: number;
  /** kube-harden's version, recorded in SARIF. */
  toolVersion?: string;
}

export function renderReport(
  assessment: Assessment,
  format: ReportFormat,
  options: RenderOptions = {},
): string {
  const timestamps = options.timestamps ?? true;
  switch (format) {
    case 'text':
      return renderText(assessment, {
        timestamps,
        ...(options.color !== undefined ? { color: options.color } : {}),
        ...(options.width !== undefined ? { width: options.width } : {}),
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
    case 'md':
      return renderMarkdown(assessment, {
        timestamps,
        ...(options.limit !== undefined ? { limit: options.limit } : {}),
      });
    case 'json':
      return renderJson(assessment, { timestamps });
    case 'sarif':
      return renderSarif(assessment, {
        timestamps,
        ...(options.toolVersion !== undefined ? { toolVersion: options.toolVersion } : {}),
      });
    default:
      throw new TypeError(`unknown report format ${JSON.stringify(format)}`);
  }
}
