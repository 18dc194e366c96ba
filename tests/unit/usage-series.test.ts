import { describe, expect, it } from "vitest";
import { assembleSeries, WHOLE_RANGE, type SeriesCountRow, type SeriesFrame } from "../../worker/accounts/ledger/usage-series";

const HOUR_MS = 3_600_000;
const frame: SeriesFrame = { bucket: "hour", tz: "UTC", starts: [0, HOUR_MS, 2 * HOUR_MS], end: 3 * HOUR_MS };

function row(i: number, extra: Partial<SeriesCountRow> = {}): SeriesCountRow {
  return { i, status: "ok", model: "limo", requests: 1, prompt_tokens: 10, completion_tokens: 100, cost_micro_usd: 7, cached_requests: 0, ...extra };
}

describe("assembleSeries", () => {
  it("gives every bucket a value in every column: zeros without requests, null without anything to rank", () => {
    const series = assembleSeries(frame, [], []);
    expect(series).toMatchObject({ object: "usage.series", bucket: "hour", tz: "UTC", from: 0, to: 3 * HOUR_MS, t: frame.starts });
    expect(series.requests).toEqual({ ok: [0, 0, 0], client_disconnected: [0, 0, 0], backend_error: [0, 0, 0], timeout: [0, 0, 0] });
    expect(series.prompt_tokens).toEqual({});
    expect(series.ttft_ms).toEqual({ p50: [null, null, null], p95: [null, null, null], p99: [null, null, null] });
    expect(series.totals).toMatchObject({ requests: 0, error_rate: null, ttft_ms: { p50: null, p95: null, p99: null } });
    expect(series.models).toEqual([]);
  });

  it("puts each row in its bucket's column by status and model, and sums the totals", () => {
    const series = assembleSeries(
      frame,
      [
        row(0),
        row(0, { model: "limo-v2", prompt_tokens: 5, completion_tokens: 500, cost_micro_usd: 9 }),
        row(2, { status: "backend_error", requests: 2, completion_tokens: 3, cached_requests: 1 }),
        row(2, { requests: 3, cost_micro_usd: 21 }),
      ],
      [],
    );
    expect(series.requests.ok).toEqual([2, 0, 3]);
    expect(series.requests.backend_error).toEqual([0, 0, 2]);
    expect(series.completion_tokens).toEqual({ limo: [100, 0, 103], "limo-v2": [500, 0, 0] });
    expect(series.prompt_tokens).toEqual({ limo: [10, 0, 20], "limo-v2": [5, 0, 0] });
    expect(series.cost_micro_usd).toEqual({ limo: [7, 0, 28], "limo-v2": [9, 0, 0] });
    expect(series.totals).toMatchObject({
      requests: 7,
      prompt_tokens: 35,
      completion_tokens: 703,
      cost_micro_usd: 44,
      cached_requests: 1,
      by_status: { ok: 5, client_disconnected: 0, backend_error: 2, timeout: 0 },
    });
    expect(series.totals.error_rate).toBeCloseTo(2 / 7);
    // Most tokens first.
    expect(series.models.map((m) => [m.model, m.requests, m.prompt_tokens + m.completion_tokens])).toEqual([["limo-v2", 1, 505], ["limo", 6, 233]]);
  });

  it("places each bucket's percentiles, and the whole range's in the totals", () => {
    const series = assembleSeries(
      frame,
      [row(1)],
      [
        { metric: "ttft", i: 1, p50: 40, p95: 90, p99: 99 },
        { metric: "duration", i: 1, p50: 4000, p95: 9000, p99: 9900 },
        { metric: "ttft", i: WHOLE_RANGE, p50: 41, p95: 91, p99: 98 },
        { metric: "duration", i: WHOLE_RANGE, p50: 4100, p95: 9100, p99: 9800 },
      ],
    );
    expect(series.ttft_ms).toEqual({ p50: [null, 40, null], p95: [null, 90, null], p99: [null, 99, null] });
    expect(series.duration_ms).toEqual({ p50: [null, 4000, null], p95: [null, 9000, null], p99: [null, 9900, null] });
    expect(series.totals.ttft_ms).toEqual({ p50: 41, p95: 91, p99: 98 });
    expect(series.totals.duration_ms).toEqual({ p50: 4100, p95: 9100, p99: 9800 });
  });
});
