/**
 * How a job reaches the person who asked. Each chat platform implements it in `src/bots/<platform>/`
 * over its HTTP API alone, so a worker process can notify without a bot's update loop.
 */
import type { ChatTarget } from '../core/chat-target.js';
import type { ReelforgeError } from '../core/errors.js';
import type { ProgressSnapshot } from '../core/progress.js';
import type { Receipt } from '../core/receipt.js';

export interface DeliverInput {
  path: string;
  receipt: Receipt;
  /** A JPEG thumbnail, when one was made. */
  thumbnailPath?: string;
  /** The video can be re-made in part (its storyboard is kept): the chat offers 🔁 ✏️ 🎙 under it. */
  remake?: { jobId: string; scenes: number };
}

export interface Notifier<T extends ChatTarget = ChatTarget> {
  readonly platform: T['platform'];
  /** Largest upload this destination accepts, in bytes. */
  uploadLimitBytes(target: T): number;
  /** Shows the snapshot in the progress message (throttled by the implementation). */
  progress(target: T, snapshot: ProgressSnapshot, jobId: string): Promise<void>;
  /**
   * Uploads the video; `signal` aborts the upload (a cancel while it is on the wire). Resolves as
   * soon as the video is in the chat: what follows (a last edit of the progress message) goes on in
   * the background, so the job can record the delivery before anything else can fail or stall.
   */
  deliver(target: T, video: DeliverInput, signal?: AbortSignal): Promise<void>;
  fail(target: T, error: ReelforgeError): Promise<void>;
  /**
   * True once the platform said the bot can no longer post in the target's chat (removed from the
   * group, blocked, lost its permissions): no more calls go there, and the job stops.
   */
  chatGone?(target: T): boolean;
}
