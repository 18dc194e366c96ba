import { describe, expect, it } from "vitest";
import { bucketStart, bucketStarts, isTimeZone, nextBucketStart, previousBucketStart, zoneOffsetMs } from "../../shared/time-buckets";

const iso = (ms: number) => new Date(ms).toISOString();
const at = (text: string) => Date.parse(text);

describe("time buckets in a time zone", () => {
  it("starts calendar days at the zone's midnight, 23 and 25 hours long across daylight saving", () => {
    // Paris moves to summer time on 2026-03-29 at 02:00 and back on 2026-10-25 at 03:00.
    const spring = bucketStarts(at("2026-03-27T12:00:00Z"), at("2026-03-31T00:00:00Z"), "day", "Europe/Paris", 100)!;
    expect(spring.map(iso)).toEqual(["2026-03-26T23:00:00.000Z", "2026-03-27T23:00:00.000Z", "2026-03-28T23:00:00.000Z", "2026-03-29T22:00:00.000Z", "2026-03-30T22:00:00.000Z"]);
    expect(spring[3]! - spring[2]!).toBe(23 * 3_600_000);
    const autumn = bucketStarts(at("2026-10-24T12:00:00Z"), at("2026-10-26T12:00:00Z"), "day", "Europe/Paris", 100)!;
    expect(autumn[2]! - autumn[1]!).toBe(25 * 3_600_000);
  });

  it("starts hours and five-minute buckets on the zone's clock (India is 5:30 ahead, Nepal 5:45)", () => {
    expect(bucketStarts(at("2026-12-02T07:13:00Z"), at("2026-12-02T09:00:00Z"), "hour", "Asia/Kolkata", 100)!.map(iso)).toEqual([
      "2026-12-02T06:30:00.000Z",
      "2026-12-02T07:30:00.000Z",
      "2026-12-02T08:30:00.000Z",
    ]);
    // 07:13:20Z is 12:58:20 in Kathmandu: its bucket starts at 12:55 there.
    expect(iso(bucketStart(at("2026-12-02T07:13:20.500Z"), "5min", "Asia/Kathmandu"))).toBe("2026-12-02T07:10:00.000Z");
    expect(iso(bucketStart(at("2026-12-02T07:13:20.500Z"), "5min", "UTC"))).toBe("2026-12-02T07:10:00.000Z");
    expect(iso(bucketStart(at("2026-12-02T07:13:20.500Z"), "hour", "UTC"))).toBe("2026-12-02T07:00:00.000Z");
    expect(zoneOffsetMs(at("2026-12-02T00:00:00Z"), "Asia/Kolkata")).toBe(330 * 60_000);
  });

  it("steps forward and back between buckets without gaps", () => {
    for (const bucket of ["5min", "hour", "day"] as const) {
      for (const tz of ["UTC", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]) {
        let start = bucketStart(at("2026-10-30T10:17:00Z"), bucket, tz);
        for (let i = 0; i < 60; i++) {
          const next = nextBucketStart(start, bucket, tz);
          expect(next).toBeGreaterThan(start);
          expect(previousBucketStart(next, bucket, tz)).toBe(start);
          expect(bucketStart(next - 1, bucket, tz)).toBe(start);
          start = next;
        }
      }
    }
  });

  it("holds `from` in the first bucket and stops before `to`, refusing more than the maximum", () => {
    const starts = bucketStarts(at("2026-12-02T07:13:00Z"), at("2026-12-02T10:00:00Z"), "hour", "UTC", 100)!;
    expect(starts.map(iso)).toEqual(["2026-12-02T07:00:00.000Z", "2026-12-02T08:00:00.000Z", "2026-12-02T09:00:00.000Z"]);
    expect(bucketStarts(0, 1000 * 86_400_000, "day", "UTC", 1000)).toHaveLength(1000);
    expect(bucketStarts(0, 1000 * 86_400_000 + 1, "day", "UTC", 1000)).toBeNull();
  });

  it("knows a time zone from a name that is not one", () => {
    expect(isTimeZone("Europe/Paris")).toBe(true);
    expect(isTimeZone("UTC")).toBe(true);
    expect(isTimeZone("Mars/Olympus_Mons")).toBe(false);
    expect(isTimeZone("")).toBe(false);
  });
});
