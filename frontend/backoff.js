// Reconnect delays: exponential, capped, jittered ("equal jitter": between
// half the step and the whole step), so that every client dropped at once
// does not come back in the same millisecond.
export class Backoff {
  constructor({ base = 1000, cap = 15000 } = {}) {
    this.base = base;
    this.cap = cap;
    this.attempt = 0;
  }

  next() {
    const step = Math.min(this.cap, this.base * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 20);
    return Math.round(step / 2 + Math.random() * (step / 2));
  }

  reset() {
    this.attempt = 0;
  }
}
