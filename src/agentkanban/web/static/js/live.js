// The live event stream. One WebSocket per board, resumed from the last cursor after a drop,
// with exponential backoff from 1 s to 30 s. A 1008 close means the session was refused.

const MIN_DELAY = 1000;
const MAX_DELAY = 30000;
const decoder = new TextDecoder();

export class LiveFeed {
  constructor({ onEvents, onStatus, onRefused }) {
    this.onEvents = onEvents;
    this.onStatus = onStatus;
    this.onRefused = onRefused;
    this.ws = null;
    this.board = null;
    this.cursor = 0;
    this.delay = MIN_DELAY;
    this.timer = 0;
    this.stopped = true;
  }

  start(board, since) {
    this.stop();
    this.board = board;
    this.cursor = since || 0;
    this.delay = MIN_DELAY;
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        /* already closed */
      }
    }
  }

  connect() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const q = new URLSearchParams({ since: String(this.cursor), board: this.board });
    const ws = new WebSocket(`${proto}//${location.host}/api/events?${q}`);
    ws.binaryType = "arraybuffer"; // text frames today; binary ones are decoded too
    this.ws = ws;
    this.onStatus("connecting");
    ws.onopen = () => {
      this.delay = MIN_DELAY;
      this.onStatus("live");
    };
    ws.onmessage = (msg) => {
      let data;
      try {
        const text = typeof msg.data === "string" ? msg.data : decoder.decode(msg.data);
        data = JSON.parse(text);
      } catch {
        return;
      }
      if (typeof data.cursor === "number") this.cursor = Math.max(this.cursor, data.cursor);
      if (data.events?.length) this.onEvents(data.events);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (e.code === 1008) {
        this.stopped = true;
        this.onStatus("refused");
        this.onRefused();
        return;
      }
      if (this.stopped) return;
      const wait = this.delay;
      this.delay = Math.min(this.delay * 2, MAX_DELAY);
      this.onStatus("retry", wait);
      this.timer = setTimeout(() => {
        if (!this.stopped) this.connect();
      }, wait);
    };
  }
}
