/**
 * @module openapi/usage-series-docs
 * What the three usage series routes (`/admin/v1/usage/series`,
 * `/admin/v1/accounts/{id}/usage/series`, `/v1/usage/series`) say about
 * their answer in `/openapi.json`, written once.
 */
import { MAX_SERIES_BUCKETS, SERIES_TOP_ROWS } from "../../../shared/usage-series";

/** The description of a series route whose data is `whose` (e.g. "every account's"). */
export function seriesDescription(whose: string, extra: string[] = []): string {
  return [
    `${whose} usage as time series, the data behind the operators' dashboard (\`/dashboard\`).`,
    "",
    "Buckets of `bucket` (`5min`, `hour` or `day`) aligned to the IANA time zone `tz` (the viewer's; a `day` is a",
    "calendar day there, 23 or 25 hours across a change of daylight saving). The first bucket holds `from`, the last is",
    `the one that starts before \`to\`; at most ${MAX_SERIES_BUCKETS} buckets. \`from\`/\`to\` take what the admin usage API`,
    "takes (ISO 8601 or Unix seconds); without them, the 24 hours before now.",
    "",
    "Every series is a column with one value per bucket start in `t` (Unix ms), buckets without requests included:",
    "requests by how they ended, prompt and completion tokens and cost (micro-dollars) by model, and the p50, p95 and",
    "p99 of time to first token (requests that had one) and of duration (requests that ended `ok`), nearest rank,",
    "computed in D1 (null where a bucket has nothing to rank). `totals` cover the whole range; the sums of the columns",
    `equal the admin usage API's records of the same range. Top lists hold ${SERIES_TOP_ROWS} rows, most tokens first.`,
    ...extra,
  ].join("\n");
}
