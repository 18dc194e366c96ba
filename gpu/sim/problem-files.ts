/**
 * @module problem-files
 * Loads the shipped evaluation sets (`data/limo-eval/{math500,aime24,amc23}.jsonl`)
 * into the oracle's problem index. Node only (it reads files): the Node
 * server uses it; the simulator embedded in the Worker never imports it, so
 * the data sets stay out of the Worker's bundle.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildProblemIndex, type ProblemIndex, type ShippedProblem } from "./oracle";

/** The data sets the oracle knows, in the order their problems are indexed. */
export const SHIPPED_DATASETS = ["math500", "aime24", "amc23"] as const;

/** `data/limo-eval/` at the repository root. */
const DEFAULT_DATA_DIR = fileURLToPath(new URL("../../data/limo-eval/", import.meta.url));

interface DatasetRecord {
  problem?: unknown;
  answer?: unknown;
  unique_id?: unknown;
  id?: unknown;
}

/** Reads every shipped data set in `dir`; throws on a missing file or a malformed record. */
export function loadShippedProblems(dir: string = DEFAULT_DATA_DIR): ProblemIndex {
  const records: (ShippedProblem & { problem: string })[] = [];
  for (const dataset of SHIPPED_DATASETS) {
    const path = `${dir.endsWith("/") ? dir : `${dir}/`}${dataset}.jsonl`;
    const lines = readFileSync(path, "utf8").split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      const record = JSON.parse(line) as DatasetRecord;
      const { problem, answer } = record;
      const id = record.unique_id ?? record.id;
      if (typeof problem !== "string" || (typeof answer !== "string" && typeof answer !== "number") || id === undefined) {
        throw new Error(`${path}:${i + 1}: expected problem, answer and an id`);
      }
      // amc23 stores answers as JSON numbers (27.0): String() gives "27".
      records.push({ dataset, id: String(id), reference: String(answer), problem });
    });
  }
  return buildProblemIndex(records);
}
