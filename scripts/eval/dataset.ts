/**
 * @module eval-dataset
 * Loads an evaluation set the way LIMO's evaluation reads it
 * (GAIR-NLP/LIMO eval/utils/parser.py): the question is the first of
 * `question`, `problem`, `Question`, `input`, stripped; the reference is
 * `str(answer)`. MATH500's `subject` and `level` are kept for the report.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { BUILTIN_DATASETS, EvalUsageError } from "./options";

const DATA_DIR = join(import.meta.dirname, "..", "..", "data", "limo-eval");
/** LIMO's parse_question looks for these fields, in this order. */
const QUESTION_FIELDS = ["question", "problem", "Question", "input"] as const;

export interface Problem {
  /** Position in the file, from 0. */
  index: number;
  /** `unique_id` or `id` when the record has one, else its index: stable across runs of the same file. */
  id: string;
  problem: string;
  reference: string;
  subject: string | null;
  level: number | null;
}

export interface Dataset {
  /** `math500`, or the file's name without `.jsonl`. */
  name: string;
  path: string;
  /** SHA-256 of the file: a resumed run must read the same problems. */
  sha256: string;
  problems: Problem[];
}

/** Resolves a built-in name or a path, reads and validates every line. */
export function loadDataset(nameOrPath: string): Dataset {
  const builtin = (BUILTIN_DATASETS as readonly string[]).includes(nameOrPath);
  const path = builtin ? join(DATA_DIR, `${nameOrPath}.jsonl`) : nameOrPath;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new EvalUsageError(`cannot read the data set ${path}: ${(err as Error).message}`);
  }
  const name = builtin ? nameOrPath : basename(path).replace(/\.jsonl$/i, "");
  return { name, path, sha256: createHash("sha256").update(text).digest("hex"), problems: parseProblems(text, path) };
}

/** One problem per non-empty line; a line without a question or an answer is an error naming it. */
export function parseProblems(text: string, source: string): Problem[] {
  const problems: Problem[] = [];
  const seen = new Set<string>();
  text.split("\n").forEach((line, lineIndex) => {
    if (line.trim() === "") return;
    const where = `${source}:${lineIndex + 1}`;
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new EvalUsageError(`${where} is not JSON`);
    }
    if (typeof record !== "object" || record === null || Array.isArray(record)) throw new EvalUsageError(`${where} is not a JSON object`);
    const field = QUESTION_FIELDS.find((f) => typeof record[f] === "string");
    const answer = record.answer;
    if (!field) throw new EvalUsageError(`${where} has no "problem" (or "question") string`);
    if (typeof answer !== "string" && typeof answer !== "number") throw new EvalUsageError(`${where} has no "answer" (a string or a number)`);
    const index = problems.length;
    const rawId = record.unique_id ?? record.id;
    const id = typeof rawId === "string" || typeof rawId === "number" ? String(rawId) : String(index);
    if (seen.has(id)) throw new EvalUsageError(`${where}: the id ${id} appears twice`);
    seen.add(id);
    problems.push({
      index,
      id,
      problem: (record[field] as string).trim(),
      reference: String(answer),
      subject: typeof record.subject === "string" ? record.subject : null,
      level: typeof record.level === "number" ? record.level : null,
    });
  });
  if (problems.length === 0) throw new EvalUsageError(`${source} holds no problems`);
  return problems;
}
