/** API key entry for admin actions: kept in sessionStorage only (this tab), shown masked. */
import { apiKey } from './api.ts';
import { h } from './dom.ts';

export function keyPanel(onChange?: () => void): HTMLElement {
  const box = h('section', { class: 'card', 'aria-labelledby': 'key-title' });
  const draw = () => {
    box.replaceChildren();
    box.append(h('h2', { id: 'key-title' }, 'Admin API key'));
    if (apiKey.get()) {
      const forget = h('button', { type: 'button', class: 'warn' }, 'Forget key');
      forget.addEventListener('click', () => {
        apiKey.clear();
        draw();
        onChange?.();
      });
      box.append(h('div', { class: 'row' }, h('span', { class: 'badge safe' }, '✓ Key set for this tab'), forget));
    } else {
      const input = h('input', { id: 'api-key', type: 'password', autocomplete: 'off', placeholder: 'snt_…', required: true, 'aria-describedby': 'api-key-help' });
      const form = h(
        'form',
        { class: 'row' },
        h('label', { for: 'api-key' }, 'API key'),
        input,
        h('button', { type: 'submit', class: 'primary' }, 'Use key'),
      );
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.value.trim()) return;
        apiKey.set(input.value);
        draw();
        onChange?.();
      });
      box.append(form, h('p', { id: 'api-key-help', class: 'muted small' }, 'Needed to retrain, promote and roll back. Kept in this tab’s session storage only; `npm start` prints where the local key is.'));
    }
  };
  draw();
  return box;
}
