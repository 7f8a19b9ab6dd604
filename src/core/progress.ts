/**
 * Progress is a stream of small events; every viewer (the CLI bar, a Telegram message, a Discord
 * message) folds them into a `ProgressSnapshot` with `applyProgress` and draws that.
 */
export const STAGES = ['script', 'images', 'voice', 'music', 'render', 'upload'] as const;
export type Stage = (typeof STAGES)[number];

export type StageStatus = 'pending' | 'running' | 'done' | 'skipped';

export type ProgressEvent =
  | { type: 'queued'; position: number; etaSec: number }
  | { type: 'started'; offline: boolean; tier: string; segments?: number }
  | { type: 'stage'; stage: Stage; status: StageStatus; note?: string }
  | { type: 'count'; stage: Stage; done: number; total: number }
  | { type: 'title'; title: string };

export interface StageProgress {
  status: StageStatus;
  done?: number;
  total?: number;
  note?: string;
}

export interface ProgressSnapshot {
  /** 1-based place in line while waiting; undefined once running. */
  position?: number;
  etaSec?: number;
  running: boolean;
  offline?: boolean;
  tier?: string;
  title?: string;
  stages: Record<Stage, StageProgress>;
}

export function emptySnapshot(): ProgressSnapshot {
  const stages = Object.fromEntries(STAGES.map((s) => [s, { status: 'pending' }])) as Record<Stage, StageProgress>;
  return { running: false, stages };
}

export function applyProgress(snapshot: ProgressSnapshot, event: ProgressEvent): ProgressSnapshot {
  const next: ProgressSnapshot = { ...snapshot, stages: { ...snapshot.stages } };
  switch (event.type) {
    case 'queued':
      next.position = event.position;
      next.etaSec = event.etaSec;
      next.running = false;
      return next;
    case 'started':
      delete next.position;
      next.running = true;
      next.offline = event.offline;
      next.tier = event.tier;
      return next;
    case 'title':
      next.title = event.title;
      return next;
    case 'stage': {
      const prev = next.stages[event.stage];
      next.stages[event.stage] = {
        ...prev,
        status: event.status,
        ...(event.note !== undefined ? { note: event.note } : {}),
      };
      if (event.status === 'done' && prev.total !== undefined) next.stages[event.stage].done = prev.total;
      return next;
    }
    case 'count': {
      const prev = next.stages[event.stage];
      next.stages[event.stage] = {
        ...prev,
        status: prev.status === 'pending' ? 'running' : prev.status,
        done: event.done,
        total: event.total,
      };
      return next;
    }
  }
}

/** Overall completion in [0, 1], weighting stages by their usual share of the wall time. */
export function progressFraction(snapshot: ProgressSnapshot): number {
  const weights: Record<Stage, number> = { script: 0.15, images: 0.25, voice: 0.1, music: 0.05, render: 0.35, upload: 0.1 };
  let sum = 0;
  for (const stage of STAGES) {
    const s = snapshot.stages[stage];
    const w = weights[stage];
    if (s.status === 'done' || s.status === 'skipped') sum += w;
    else if (s.status === 'running') sum += s.total ? (w * (s.done ?? 0)) / s.total : w * 0.3;
  }
  return Math.min(1, sum);
}

export type ProgressListener = (event: ProgressEvent) => void;
