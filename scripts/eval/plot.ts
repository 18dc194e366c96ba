/**
 * @module eval-plot
 * Two small SVG charts for the report, written by hand (a chart library
 * would be the largest dependency of a script that draws two bar charts):
 * accuracy by group with its 95% interval, and a histogram of tokens per
 * answer with the max_tokens limit marked.
 */
import type { GroupRate } from "./report";

const WIDTH = 640;
const HEIGHT = 300;
const MARGIN = { top: 36, right: 20, bottom: 56, left: 56 };
const BAR_COLOUR = "#4c72b0";
const LIMIT_COLOUR = "#c44e52";
const HISTOGRAM_BINS = 20;

/** Bars of accuracy (percent) per group, whiskers for the interval, and a dashed line at the published figure. */
export function accuracyChart(title: string, groups: readonly GroupRate[], publishedPercent: number | null): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const y = (percent: number) => MARGIN.top + plotH * (1 - percent / 100);
  const slot = plotW / Math.max(1, groups.length);
  const parts: string[] = [axes(title, "accuracy (%)", plotH, y)];
  groups.forEach((g, i) => {
    const x = MARGIN.left + slot * i + slot * 0.15;
    const w = slot * 0.7;
    const top = y(g.value * 100);
    const centre = x + w / 2;
    parts.push(
      `<rect x="${f(x)}" y="${f(top)}" width="${f(w)}" height="${f(MARGIN.top + plotH - top)}" fill="${BAR_COLOUR}"/>`,
      `<line x1="${f(centre)}" x2="${f(centre)}" y1="${f(y(g.interval.high * 100))}" y2="${f(y(g.interval.low * 100))}" stroke="#222" stroke-width="1.5"/>`,
      `<text x="${f(centre)}" y="${HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${escape(g.group)}</text>`,
      `<text x="${f(centre)}" y="${HEIGHT - MARGIN.bottom + 30}" font-size="10" text-anchor="middle" fill="#555">${f(g.value * 100, 1)}% of ${f(g.of, 0)}</text>`,
    );
  });
  if (publishedPercent !== null) {
    const py = y(publishedPercent);
    parts.push(
      `<line x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${f(py)}" y2="${f(py)}" stroke="${LIMIT_COLOUR}" stroke-dasharray="5 4"/>`,
      `<text x="${WIDTH - MARGIN.right}" y="${f(py - 4)}" font-size="10" text-anchor="end" fill="${LIMIT_COLOUR}">published overall ${publishedPercent}%</text>`,
    );
  }
  return svg(parts);
}

/** A histogram of completion tokens per answer; the last bin ends at max_tokens, marked in red. */
export function tokensHistogram(title: string, tokens: readonly number[], maxTokens: number): string {
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const top = Math.max(maxTokens, ...tokens, 1);
  const upper = Math.max(...tokens, 1);
  // Bins span the answers seen, so short answers are not crushed into one bar beside a 32k limit.
  const span = Math.min(top, upper * 1.05);
  const width = span / HISTOGRAM_BINS;
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const t of tokens) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor(t / width))]!++;
  const most = Math.max(1, ...counts);
  const y = (count: number) => MARGIN.top + plotH * (1 - count / most);
  const parts: string[] = [axes(title, "answers", plotH, (percent) => y((percent / 100) * most), most)];
  counts.forEach((count, i) => {
    const x = MARGIN.left + (plotW / HISTOGRAM_BINS) * i;
    parts.push(`<rect x="${f(x + 1)}" y="${f(y(count))}" width="${f(plotW / HISTOGRAM_BINS - 2)}" height="${f(MARGIN.top + plotH - y(count))}" fill="${BAR_COLOUR}"/>`);
  });
  for (const i of [0, HISTOGRAM_BINS / 2, HISTOGRAM_BINS]) {
    const x = MARGIN.left + (plotW / HISTOGRAM_BINS) * i;
    parts.push(`<text x="${f(x)}" y="${HEIGHT - MARGIN.bottom + 16}" font-size="11" text-anchor="middle">${f(width * i, 0)}</text>`);
  }
  parts.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 12}" font-size="12" text-anchor="middle">completion tokens per answer</text>`);
  if (span >= maxTokens) {
    const x = MARGIN.left + plotW * (maxTokens / span);
    parts.push(
      `<line x1="${f(x)}" x2="${f(x)}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="${LIMIT_COLOUR}" stroke-dasharray="5 4"/>`,
      `<text x="${f(x - 4)}" y="${MARGIN.top + 12}" font-size="10" text-anchor="end" fill="${LIMIT_COLOUR}">max_tokens ${maxTokens}</text>`,
    );
  }
  return svg(parts);
}

/** Title, the y axis with ticks at 0, 25, 50, 75 and 100 percent of its range, and the x axis line. */
function axes(title: string, yLabel: string, plotH: number, y: (percent: number) => number, yMax = 100): string {
  const ticks = [0, 25, 50, 75, 100].map((p) => {
    const label = yMax === 100 ? String(p) : f((p / 100) * yMax, 0);
    return `<line x1="${MARGIN.left - 4}" x2="${WIDTH - MARGIN.right}" y1="${f(y(p))}" y2="${f(y(p))}" stroke="#ddd"/><text x="${MARGIN.left - 8}" y="${f(y(p) + 4)}" font-size="11" text-anchor="end">${label}</text>`;
  });
  return [
    `<text x="${WIDTH / 2}" y="20" font-size="14" text-anchor="middle" font-weight="bold">${escape(title)}</text>`,
    ...ticks,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" font-size="12" text-anchor="middle">${escape(yLabel)}</text>`,
  ].join("");
}

function svg(parts: string[]): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join("")}</svg>\n`;
}

function f(value: number, digits = 2): string {
  return Number(value.toFixed(digits)).toString();
}

function escape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
