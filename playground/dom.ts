/// <reference no-default-lib="true" />
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/// <reference lib="esnext" />
/**
 * Small DOM helpers shared by the page's views: typed element lookup,
 * message banners and HTML escaping.
 *
 * @module
 */

/**
 * The element with `id`, checked to be of the expected class.
 *
 * @param id The element's id.
 * @param type Its class, e.g. `HTMLInputElement`.
 * @returns The element.
 * @throws {Error} If the page has no such element (a bug in the page).
 */
export function byId<T extends HTMLElement>(
  id: string,
  type: { new (): T; prototype: T } = HTMLElement as unknown as {
    new (): T;
    prototype: T;
  },
): T {
  const element = document.getElementById(id);
  if (!(element instanceof type)) {
    throw new Error(`The page is missing its #${id} element`);
  }
  return element;
}

/** How a banner looks. */
export type BannerKind = "error" | "warn" | "info";

/**
 * Shows a message in a banner element, or hides it when `text` is empty.
 *
 * @param banner The banner element.
 * @param kind Error, warning or information.
 * @param text The message; the first line is shown in bold when there are several.
 * @param code Optional preformatted lines (an expression and its caret marker).
 */
export function showBanner(
  banner: HTMLElement,
  kind: BannerKind,
  text: string,
  code?: string,
): void {
  if (text === "") {
    banner.hidden = true;
    banner.textContent = "";
    return;
  }
  banner.className = `banner ${kind}`;
  banner.textContent = "";
  const title = document.createElement("span");
  title.className = "title";
  title.textContent = text;
  banner.append(title);
  if (code !== undefined) {
    const pre = document.createElement("pre");
    pre.textContent = code;
    banner.append(pre);
  }
  banner.dataset.kind = kind;
  banner.hidden = false;
}

/** Hides a banner. */
export function hideBanner(banner: HTMLElement): void {
  showBanner(banner, "info", "");
}

/**
 * Escapes text for HTML and SVG markup.
 *
 * @param text Any text.
 * @returns The text with `& < > " '` escaped.
 */
export function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[
        c
      ]!,
  );
}

/** Whether keyboard focus is in a text field (so shortcuts stay out of the way). */
export function typingInField(): boolean {
  const active = document.activeElement;
  return active instanceof HTMLInputElement && active.type !== "range" &&
      active.type !== "checkbox" ||
    active instanceof HTMLSelectElement ||
    active instanceof HTMLTextAreaElement;
}
