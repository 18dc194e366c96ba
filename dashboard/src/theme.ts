/**
 * @module theme
 * Light, dark, or the system's choice (the default), kept in `localStorage`
 * (a preference, not a secret). The colours themselves are CSS variables in
 * dashboard.css; plots read them when drawn, so a change redraws the page.
 */

export type ThemeChoice = "auto" | "light" | "dark";

const STORAGE_KEY = "limo.dashboard.theme";
const ORDER: readonly ThemeChoice[] = ["auto", "light", "dark"];
const dark = matchMedia("(prefers-color-scheme: dark)");

export function themeChoice(): ThemeChoice {
  const stored = localStorage.getItem(STORAGE_KEY);
  return stored === "light" || stored === "dark" ? stored : "auto";
}

/** The scheme in force: the choice, or the system's when the choice is `auto`. */
export function effectiveTheme(choice = themeChoice()): "light" | "dark" {
  return choice === "auto" ? (dark.matches ? "dark" : "light") : choice;
}

export function applyTheme(choice = themeChoice()): void {
  document.documentElement.dataset.theme = effectiveTheme(choice);
}

/** The next choice in the toggle's cycle, applied and stored. */
export function cycleTheme(): ThemeChoice {
  const next = ORDER[(ORDER.indexOf(themeChoice()) + 1) % ORDER.length]!;
  if (next === "auto") localStorage.removeItem(STORAGE_KEY);
  else localStorage.setItem(STORAGE_KEY, next);
  applyTheme(next);
  return next;
}

/** Calls `redraw` when the system switches scheme while the choice is `auto`. */
export function onSystemThemeChange(redraw: () => void): void {
  dark.addEventListener("change", () => {
    if (themeChoice() !== "auto") return;
    applyTheme();
    redraw();
  });
}
