/** A tiny element builder (no framework): text always goes through textContent, never innerHTML. */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) if (c !== null && c !== undefined && c !== false) parent.appendChild(typeof c === 'object' ? c : document.createTextNode(String(c)));
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, ...children);
}

export const pct = (x: number, digits = 1): string => `${(100 * x).toFixed(digits)}%`;

export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}

export const time = (iso: string | null | undefined): string => (iso ? new Date(iso).toLocaleString() : '—');

/** Safe/danger shown with an icon and a word, never by colour alone. */
export function verdictBadge(cls: 'safe' | 'danger'): HTMLElement {
  return h('span', { class: `badge ${cls}` }, h('span', { 'aria-hidden': 'true' }, cls === 'danger' ? '⚠ ' : '✓ '), cls === 'danger' ? 'Danger' : 'Safe');
}

export function okBadge(ok: boolean, yes = 'OK', no = 'Failing'): HTMLElement {
  return h('span', { class: `badge ${ok ? 'safe' : 'danger'}` }, h('span', { 'aria-hidden': 'true' }, ok ? '✓ ' : '✗ '), ok ? yes : no);
}

/** A message area for errors and notes (announced to screen readers). */
export function notice(kind: 'error' | 'info' | 'ok', text: string): HTMLElement {
  const icon = kind === 'error' ? '✗ ' : kind === 'ok' ? '✓ ' : 'ℹ ';
  return h('p', { class: `notice ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, h('span', { 'aria-hidden': 'true' }, icon), text);
}

/** A modal confirmation (native <dialog>: focus trapped, Esc cancels). Resolves true on confirm. */
export function confirmDialog(title: string, body: string, confirmLabel: string): Promise<boolean> {
  return new Promise((resolve) => {
    const ok = h('button', { type: 'button', class: 'primary', value: 'ok' }, confirmLabel);
    const cancel = h('button', { type: 'button', value: 'cancel' }, 'Cancel');
    const dialog = h('dialog', { class: 'confirm', 'aria-labelledby': 'confirm-title' }, h('h2', { id: 'confirm-title' }, title), h('p', {}, body), h('div', { class: 'row' }, cancel, ok));
    const done = (answer: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    ok.addEventListener('click', () => done(true));
    cancel.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
