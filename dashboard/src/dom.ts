/**
 * @module dom
 * The only way the dashboard builds markup: elements from a tag, attributes
 * and children, where every string child becomes a text node. Data from the
 * API (account names, end users, backend names) therefore never reaches an
 * HTML parser: a name like `<img src=x onerror=alert(1)>` stays text.
 */

/** What an element may hold: nodes, text, or nothing (skipped, so `cond && el(...)` reads well). */
export type Child = Node | string | number | null | undefined | false;

type Attributes = Record<string, string | number | boolean | null | undefined | ((event: Event) => void)>;

/**
 * `el("a", { href: "#/x", class: "link" }, "text")`. Attributes named `on…`
 * take listeners; `true` sets a boolean attribute, `false`/null/undefined
 * leave it out. `style` is refused: the page's CSP allows no inline styles.
 */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      node.addEventListener(name.slice(2), value);
    } else if (name === "style") {
      throw new Error("inline styles are blocked by the dashboard's Content-Security-Policy: use a class");
    } else {
      node.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(node, ...children);
  return node;
}

/** Appends children, strings as text nodes. */
export function append(parent: Node, ...children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }
}

/** Replaces everything inside `parent` with `children`. */
export function replace(parent: Node, ...children: Child[]): void {
  while (parent.firstChild) parent.removeChild(parent.firstChild);
  append(parent, ...children);
}

/** The element with this id, which the page's HTML must have. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} is missing from dashboard.html`);
  return node as T;
}
