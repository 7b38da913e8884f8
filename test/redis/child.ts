// A plain Node process running a fixture script (test/redis/fixtures/*.mjs)
// that imports what ships (dist/), talking to the test over the IPC channel.
// Every wait is bounded, and whatever is still running after a test is killed.

import { type ChildProcess, fork } from 'node:child_process';

const FIXTURES = new URL('./fixtures/', import.meta.url);

/** What a fixture sends: `{ type, ...fields }`. */
export interface Message {
  readonly type: string;
  readonly [field: string]: unknown;
}

export class Child {
  private readonly inbox: Message[] = [];
  private wake: (() => void) | undefined;
  private readonly exit: Promise<number | null>;
  private stderr = '';

  private constructor(private readonly process: ChildProcess) {
    process.on('message', (message) => {
      this.inbox.push(message as Message);
      this.wake?.();
    });
    process.stderr?.on('data', (data: Buffer) => {
      this.stderr += data.toString();
    });
    this.exit = new Promise((resolve) => process.once('exit', (code) => resolve(code)));
    // An early exit wakes a waiter, which then reports it instead of waiting out its timeout.
    void this.exit.then(() => this.wake?.());
  }

  /** Starts `fixtures/<script>` with `args` (JSON, as argv[2]). */
  static start(script: string, args: unknown): Child {
    const child = fork(new URL(script, FIXTURES), [JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    return new Child(child);
  }

  get running(): boolean {
    return this.process.exitCode === null && this.process.signalCode === null;
  }

  send(message: Message): void {
    this.process.send(message);
  }

  /** The next message of `type` (others before it are dropped), within `timeoutMs`. */
  async next(type: string, timeoutMs: number): Promise<Message> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.inbox.findIndex((message) => message.type === type);
      if (at >= 0) return this.inbox.splice(0, at + 1)[at] as Message;
      const error = this.inbox.find((message) => message.type === 'error');
      if (error !== undefined) throw new Error(`fixture failed: ${JSON.stringify(error)}`);
      if (!this.running) throw new Error(`fixture exited (${this.process.exitCode}) before sending ${type}: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} from the fixture within ${timeoutMs} ms: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = undefined;
    }
  }

  /** The exit code, once the process ends on its own within `timeoutMs` (it is killed otherwise). */
  async exited(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const code = await Promise.race([this.exit, late]);
    clearTimeout(timer);
    if (code !== 'late') return code;
    this.kill();
    throw new Error(`fixture did not exit within ${timeoutMs} ms (a handle left open?): ${this.stderr}`);
  }

  kill(): void {
    if (this.running) this.process.kill('SIGKILL');
  }
}
