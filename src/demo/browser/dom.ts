/**
 * The browser as the demo page uses it: the few DOM types it needs, declared here, and helpers.
 *
 * Why not TypeScript's lib.dom: `nest build` compiles this folder in the same program as the server
 * (tsconfig.build.json includes src/), and a lib is program-wide. With lib.dom, server code would see
 * `document`, `name` or `location` as globals and fetch's `Response.json()` would return `any` instead of
 * `unknown`. So the page declares only what it touches and reaches the globals through `browser`.
 * fetch, URL and URLSearchParams come typed from @types/node (the same WHATWG interfaces).
 *
 * What the API returns (names, emails, messages) only ever becomes text nodes and attribute values, never
 * HTML, so nothing it says can inject markup into the page.
 */

export interface DomEvent {
  readonly target: unknown;
  preventDefault(): void;
}

export type Listener = (event: DomEvent) => void;

export interface DomNode {
  cloneNode(deep: boolean): DomNode;
}

export interface DomList {
  forEach(callback: (element: DomElement) => void): void;
}

export interface DomElement extends DomNode {
  readonly dataset: Record<string, string | undefined>;
  readonly firstElementChild: DomElement | null;
  hidden: boolean;
  textContent: string | null;
  closest(selectors: string): DomElement | null;
  querySelector(selectors: string): DomElement | null;
  querySelectorAll(selectors: string): DomList;
  setAttribute(name: string, value: string): void;
  append(...nodes: Array<DomNode | string>): void;
  replaceChildren(...nodes: Array<DomNode | string>): void;
  addEventListener(type: string, listener: Listener): void;
}

/** <input> and <button>. */
export interface InputElement extends DomElement {
  checked: boolean;
  disabled: boolean;
  readonly name: string;
  readonly value: string;
  readonly form: DomElement | null;
}

export interface AnchorElement extends DomElement {
  href: string;
}

export interface TemplateElement extends DomElement {
  readonly content: DomNode;
}

interface BrowserWindow {
  readonly document: {
    readonly body: DomElement;
    getElementById(id: string): DomElement | null;
    querySelector(selectors: string): DomElement | null;
    createElement(tag: string): DomElement;
    createDocumentFragment(): DomNode & Pick<DomElement, 'append'>;
    addEventListener(type: string, listener: Listener): void;
  };
  readonly location: {
    readonly href: string;
    readonly origin: string;
    readonly pathname: string;
    assign(url: string): void;
  };
  readonly history: { replaceState(data: null, unused: string, url: string): void };
  readonly sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
  readonly FormData: new (form: DomElement) => { forEach(callback: (value: unknown, key: string) => void): void };
  addEventListener(type: string, listener: Listener): void;
}

/** The page's window. */
export const browser = globalThis as unknown as BrowserWindow;
const { document } = browser;

export type Child = DomNode | string | number | null | undefined | false;

const present = (children: Child[]): Array<DomNode | string> =>
  children
    .filter((c): c is DomNode | string | number => c !== null && c !== undefined && c !== false)
    .map((c) => (typeof c === 'number' ? String(c) : c));

export function h(tag: string, attrs: Record<string, string | undefined> = {}, ...children: Child[]): DomElement {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) if (value !== undefined) el.setAttribute(name, value);
  el.append(...present(children));
  return el;
}

/** A Korean label with its English translation beside it, lighter: "로그아웃 Log out". */
export function bi(ko: string, en: string): DomNode {
  const fragment = document.createDocumentFragment();
  fragment.append(ko, ' ', h('span', { class: 'en', lang: 'en' }, en));
  return fragment;
}

export function byId<T extends DomElement = DomElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from the page`);
  return el as T;
}

/** The element marked `data-slot="name"` inside `root`. */
export function slot<T extends DomElement = DomElement>(root: Pick<DomElement, 'querySelector'>, name: string): T {
  const el = root.querySelector(`[data-slot="${name}"]`);
  if (!el) throw new Error(`slot ${name} is missing from the page`);
  return el as T;
}

/** Every element matching `selectors` inside `root`. */
export function all<T extends DomElement = DomElement>(
  root: Pick<DomElement, 'querySelectorAll'>,
  selectors: string,
): T[] {
  const found: T[] = [];
  root.querySelectorAll(selectors).forEach((el) => found.push(el as T));
  return found;
}

/** Replaces the content of `el` with `children`. */
export function fill(el: DomElement, ...children: Child[]): void {
  el.replaceChildren(...present(children));
}
