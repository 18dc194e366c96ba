/**
 * @module sim/raw-imports
 * Vite's `?raw` imports, which the tests use to read the shipped data sets
 * inside workerd (no file system there).
 */
declare module "*.jsonl?raw" {
  const text: string;
  export default text;
}
