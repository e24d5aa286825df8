/**
 * How the live monitor calls for attention when danger is heard: a sound, a system notification, a "⚠" in the tab
 * title. Each is off until the user turns it on; the choice is remembered in localStorage (it holds no secret).
 */
export interface AlertChoices {
  sound: boolean;
  notification: boolean;
  title: boolean;
}

const STORAGE = 'sentinel.liveAlerts';
const TITLE_PREFIX = '⚠ Danger · ';

export function alertChoices(): AlertChoices {
  const off: AlertChoices = { sound: false, notification: false, title: false };
  try {
    const saved = JSON.parse(localStorage.getItem(STORAGE) ?? '{}') as Partial<AlertChoices>;
    return { sound: saved.sound === true, notification: saved.notification === true, title: saved.title === true };
  } catch {
    return off;
  }
}

export function saveAlertChoices(choices: AlertChoices): void {
  try {
    localStorage.setItem(STORAGE, JSON.stringify(choices));
  } catch {
    // Storage refused (private mode, quota): the choice holds for this tab only.
  }
}

/** Asks for notification permission (needs a click); true when notifications can be shown. */
export async function allowNotifications(): Promise<boolean> {
  if (typeof Notification === 'undefined') return false;
  if (Notification.permission === 'granted') return true;
  if (Notification.permission === 'denied') return false;
  return (await Notification.requestPermission()) === 'granted';
}

let titleAlert = false;
let watching = false;

/** Keeps the prefix on while alerting, also after the router retitles the tab on a page change. */
function applyTitle(): void {
  const t = document.title;
  if (titleAlert && !t.startsWith(TITLE_PREFIX)) document.title = TITLE_PREFIX + t;
  else if (!titleAlert && t.startsWith(TITLE_PREFIX)) document.title = t.slice(TITLE_PREFIX.length);
}

export function setTitleAlert(on: boolean): void {
  titleAlert = on;
  if (!watching) {
    const el = document.querySelector('title');
    if (el) new MutationObserver(applyTitle).observe(el, { childList: true, characterData: true, subtree: true });
    watching = true;
  }
  applyTitle();
}

/** Two short beeps through the monitor's own AudioContext (already running, so no autoplay block). */
export function beep(ctx: AudioContext): void {
  for (const at of [0, 0.25]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = 520; // below the 1-3 kHz of screams, so a microphone that hears it is not egged on
    gain.gain.setValueAtTime(0.0001, ctx.currentTime + at);
    gain.gain.exponentialRampToValueAtTime(0.3, ctx.currentTime + at + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + at + 0.18);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + at);
    osc.stop(ctx.currentTime + at + 0.2);
  }
}

/** Danger began: each alert the user chose. */
export function raiseAlert(text: string, ctx: AudioContext | null): void {
  const choices = alertChoices();
  if (choices.sound && ctx) beep(ctx);
  if (choices.notification && typeof Notification !== 'undefined' && Notification.permission === 'granted') {
    try {
      new Notification('Sentinel: danger heard', { body: text, tag: 'sentinel-danger' });
    } catch {
      // Some browsers only allow notifications from a service worker: the banner and title still show it.
    }
  }
  setTitleAlert(choices.title);
}

/** Danger ended (or listening stopped). */
export function endAlert(): void {
  setTitleAlert(false);
}
