/**
 * @module eval-published
 * LIMO's published results (the LIMO paper, arXiv 2502.03387: LIMO in its
 * first version, LIMO-v2 in the revised one; data/limo-eval/README.md), pass@1
 * with greedy decoding at max_tokens 32768, in percent, keyed by our public
 * model id.
 */
import { MODEL_CATALOGUE } from "../../shared/constants";

export const PUBLISHED_ACCURACY_PERCENT: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  limo: { math500: 94.8, aime24: 57.1, amc23: 92.0 },
  "limo-v2": { math500: 95.6, aime24: 63.3 },
};

/** Our public id for a model name as a client or a server spells it (`limo`, `GAIR/LIMO`); null for other models. */
export function publicModelId(name: string | null): string | null {
  if (!name) return null;
  const found = MODEL_CATALOGUE.find((m) => m.id === name || m.servedName.toLowerCase() === name.toLowerCase());
  return found?.id ?? null;
}

/** The published figure for this model and data set, or null. */
export function publishedFigure(model: string | null, dataset: string): { model: string; percent: number } | null {
  const id = publicModelId(model);
  const percent = id ? PUBLISHED_ACCURACY_PERCENT[id]?.[dataset] : undefined;
  return id && percent !== undefined ? { model: id, percent } : null;
}
