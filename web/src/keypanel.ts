/**
 * API key entry for admin actions: kept in sessionStorage only (this tab), shown masked. A key is checked with the
 * API (GET /keys/current) when entered and when a page shows it again, so a wrong or revoked key is refused here,
 * before any upload, and never shown as set.
 */
import { ApiFailure, apiKey, checkKey, type ApiKeyInfo } from './api.ts';
import { h, notice } from './dom.ts';

const refusal = (error: unknown): string =>
  error instanceof ApiFailure && (error.status === 401 || error.status === 403)
    ? `This key was refused: it is not a live API key of this service (${error.code}).`
    : `The key could not be checked: ${error instanceof Error ? error.message : String(error)}`;

export function keyPanel(onChange?: () => void): HTMLElement {
  const box = h('section', { class: 'card', 'aria-labelledby': 'key-title', id: 'key-panel' });

  const showSet = (info: ApiKeyInfo | null, unchecked?: string) => {
    const forget = h('button', { type: 'button', class: 'warn' }, 'Forget key');
    forget.addEventListener('click', () => {
      apiKey.clear();
      showForm();
      onChange?.();
    });
    const badge = unchecked
      ? h('span', { class: 'badge', id: 'key-state', 'data-state': 'unchecked' }, `Key set for this tab, not checked: ${unchecked}`)
      : h('span', { class: 'badge safe', id: 'key-state', 'data-state': 'accepted' }, h('span', { 'aria-hidden': 'true' }, '✓ '), `Key set for this tab${info ? ` (${info.name})` : ''}`);
    box.replaceChildren(h('h2', { id: 'key-title' }, 'Admin API key'), h('div', { class: 'row', role: 'status' }, badge, forget));
  };

  const showForm = (error?: string) => {
    const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', placeholder: 'snt_…', required: true, 'aria-describedby': 'api-key-help', 'aria-invalid': error ? 'true' : null });
    const submit = h('button', { type: 'submit', class: 'primary' }, 'Use key');
    const state = h('div', { id: 'key-check', 'aria-live': 'polite' }, error ? notice('error', error) : null);
    const form = h('form', { class: 'row' }, h('label', { for: 'api-key' }, 'API key'), input, submit);
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      submit.disabled = true;
      state.replaceChildren(notice('info', 'Checking the key…'));
      try {
        const info = await checkKey(key);
        apiKey.set(key);
        showSet(info);
        onChange?.();
      } catch (err) {
        showForm(refusal(err));
        (box.querySelector('#api-key') as HTMLInputElement | null)?.focus();
      }
    });
    box.replaceChildren(
      h('h2', { id: 'key-title' }, 'Admin API key'),
      form,
      state,
      h('p', { id: 'api-key-help', class: 'muted small' }, 'Needed to retrain, promote and roll back. Checked with the API when entered; kept in this tab’s session storage only; `npm start` prints where the local key is.'),
    );
  };

  const stored = apiKey.get();
  if (!stored) {
    showForm();
  } else {
    // A key kept from earlier in this tab may have been revoked since: check it again before showing it as set.
    box.replaceChildren(h('h2', { id: 'key-title' }, 'Admin API key'), notice('info', 'Checking the key kept in this tab…'));
    checkKey(stored).then(
      (info) => showSet(info),
      (error) => {
        if (error instanceof ApiFailure && (error.status === 401 || error.status === 403)) {
          apiKey.clear();
          showForm(`The key kept in this tab was refused (${error.code}): enter a live key.`);
          onChange?.();
        } else {
          showSet(null, (error as Error).message);
        }
      },
    );
  }
  return box;
}
