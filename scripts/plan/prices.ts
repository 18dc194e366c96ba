/**
 * @module plan/prices
 * Reads Modal's list prices from gpu/modal-prices.json (dated; each figure
 * says where it was read) for the planner's cost figures.
 */
import { readFileSync } from "node:fs";
import type { ModalPrices } from "./model";

/** The dated price file next to the Modal app. */
export const MODAL_PRICES_PATH = new URL("../../gpu/modal-prices.json", import.meta.url);

/** Parses the price file; throws naming the file if a figure is missing. */
export function loadModalPrices(path: URL = MODAL_PRICES_PATH): ModalPrices {
  const prices = JSON.parse(readFileSync(path, "utf8")) as ModalPrices;
  const figures = [prices.cpu_core_per_second?.price, prices.memory_gib_per_second?.price, prices.container?.cpu_cores, prices.container?.memory_gib];
  if (typeof prices.as_of !== "string" || figures.some((f) => typeof f !== "number") || !prices.gpu_per_second) {
    throw new Error(`${path.pathname}: expected as_of, gpu_per_second, cpu_core_per_second, memory_gib_per_second and container`);
  }
  return prices;
}
