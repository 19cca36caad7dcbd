import type { ConfirmChannel } from 'amqplib';

/**
 * Back-pressure for publishing: once a publish reports the channel's buffer full, later sends
 * wait until the channel drains (or closes, or the gate is opened because the bus closes).
 */
export class PublishGate {
  private drain: { readonly promise: Promise<void>; readonly release: () => void } | undefined;

  /**
   * What a send must wait for before publishing; undefined when the channel can take more (then
   * the send publishes in the same turn, so sends keep their order without an extra await).
   */
  get waiting(): Promise<void> | undefined {
    return this.drain?.promise;
  }

  /** A publish returned false: hold later sends until `channel` drains or closes. */
  close(channel: ConfirmChannel): void {
    if (this.drain) return;
    let release!: () => void;
    const promise = new Promise<void>((resolve) => (release = resolve));
    const done = () => {
      channel.off('drain', done);
      channel.off('close', done);
      if (this.drain?.promise === promise) this.drain = undefined;
      release();
    };
    this.drain = { promise, release: done };
    channel.once('drain', done);
    channel.once('close', done);
  }

  /** Lets every waiting send through (the channel is gone). */
  open(): void {
    this.drain?.release();
    this.drain = undefined;
  }
}
