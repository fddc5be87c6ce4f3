// The built-in console page (/vms/{id}/console, app/src/pages/console.rs):
// connects noVNC to this server's /console/{id}/websocket (same origin, the
// session cookie is the credential; Proxmox is never contacted from here) and
// drives the page's toolbar. After a dropped connection it asks the server
// (the page's vm_console server function) whether the VM still runs and the
// caller still may use it, and reconnects with a growing delay only then.
//
// The page is rendered by Leptos and may also be reached by client-side
// navigation, where this module (evaluated once per document) does not run
// again: a MutationObserver starts a console for every #console that appears
// and ends it when that element leaves the document.
import RFB from '/novnc/core/rfb.js';

const MAX_DELAY_S = 10;

// XK_Return, XK_Tab: the keysyms for line breaks and tabs in typed text.
const KEYSYM_RETURN = 0xff0d;
const KEYSYM_TAB = 0xff09;

/** The X keysym of a character: Latin-1 maps to itself, the rest to 0x01000000 + code point. */
function keysym(ch) {
  if (ch === '\n') return KEYSYM_RETURN;
  if (ch === '\t') return KEYSYM_TAB;
  const code = ch.codePointAt(0);
  if ((code >= 0x20 && code <= 0x7e) || (code >= 0xa0 && code <= 0xff)) return code;
  return 0x01000000 + code;
}

class Console {
  constructor(root) {
    this.root = root;
    this.vm = root.dataset.vm;
    this.screen = root.querySelector('#console-screen');
    this.statusLine = root.querySelector('#console-status');
    this.paste = root.querySelector('#console-paste');
    this.scale = root.querySelector('[data-console-scale]');
    this.rfb = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;

    root.querySelector('[data-console-nojs]').hidden = true;
    root.querySelector('[data-console-ui]').hidden = false;
    root.addEventListener('click', (event) => {
      const button = event.target.closest('[data-console-action]');
      if (button) this.action(button.dataset.consoleAction);
    });
    this.scale.addEventListener('change', () => this.applyScaling());
    if (root.dataset.running === 'true') {
      this.connect();
    }
  }

  message(key, values = {}) {
    let text = this.root.dataset[`msg${key}`] || '';
    for (const [name, value] of Object.entries(values)) text = text.replace(`{${name}}`, String(value));
    return text;
  }

  status(key, values, state) {
    this.statusLine.textContent = this.message(key, values);
    this.root.dataset.state = state;
  }

  connect() {
    clearTimeout(this.timer);
    this.disconnectQuietly();
    this.status('Connecting', {}, 'connecting');
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const url = `${scheme}://${window.location.host}/console/${encodeURIComponent(this.vm)}/websocket`;
    const rfb = new RFB(this.screen, url, { wsProtocols: ['binary'] });
    this.rfb = rfb;
    this.applyScaling();
    // Whether this attempt got as far as the VM's screen: a console that never
    // did (the VM's VNC server does not answer) did not "drop".
    let reached = false;
    rfb.addEventListener('connect', () => {
      if (this.rfb !== rfb) return;
      reached = true;
      this.attempt = 0;
      this.status('Connected', {}, 'connected');
      rfb.focus();
    });
    rfb.addEventListener('disconnect', () => {
      if (this.rfb !== rfb) return;
      this.rfb = null;
      if (!this.stopped) this.afterDrop(reached);
    });
  }

  /** Asks the server why the connection ended: VM stopped, access gone, or neither (reconnect). */
  async afterDrop(reached) {
    this.status('Disconnected', {}, 'disconnected');
    let reply;
    try {
      reply = await fetch(this.root.dataset.statusUrl, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
        body: new URLSearchParams({ id: this.vm }),
        credentials: 'same-origin',
      });
    } catch (_) {
      reply = null; // The server is unreachable: keep trying.
    }
    if (this.stopped) return;
    if (reply && !reply.ok && reply.status < 500) {
      this.status('Refused', {}, 'refused');
      return;
    }
    if (reply && reply.ok) {
      const vm = await reply.json().catch(() => null);
      if (vm && vm.state !== 'running') {
        this.status('NotRunning', {}, 'not-running');
        return;
      }
    }
    this.attempt += 1;
    const delay = Math.min(2 ** (this.attempt - 1), MAX_DELAY_S);
    this.status(reached ? 'Reconnecting' : 'Unreachable', { s: delay, n: this.attempt }, 'reconnecting');
    this.timer = setTimeout(() => this.connect(), delay * 1000);
  }

  applyScaling() {
    if (!this.rfb) return;
    const fit = this.scale.value === 'fit';
    this.rfb.scaleViewport = fit;
    this.rfb.clipViewport = !fit;
  }

  action(name) {
    switch (name) {
      case 'ctrl-alt-del':
        if (this.rfb) this.rfb.sendCtrlAltDel();
        break;
      case 'fullscreen':
        if (document.fullscreenElement) document.exitFullscreen();
        else this.screen.requestFullscreen().catch(() => {});
        break;
      case 'reconnect':
        this.attempt = 0;
        this.connect();
        break;
      case 'type':
        if (this.rfb) for (const ch of this.paste.value) this.rfb.sendKey(keysym(ch), null);
        break;
      case 'clipboard':
        if (this.rfb) this.rfb.clipboardPasteFrom(this.paste.value);
        break;
      default:
        return;
    }
    if (this.rfb && name !== 'fullscreen') this.rfb.focus();
  }

  disconnectQuietly() {
    const rfb = this.rfb;
    this.rfb = null;
    if (rfb) rfb.disconnect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.disconnectQuietly();
  }
}

let current = null;

function follow() {
  if (current && !current.root.isConnected) {
    current.stop();
    current = null;
  }
  const root = document.getElementById('console');
  if (root && (!current || current.root !== root)) {
    if (current) current.stop();
    current = new Console(root);
  }
}

follow();
new MutationObserver(follow).observe(document.body, { childList: true, subtree: true });
