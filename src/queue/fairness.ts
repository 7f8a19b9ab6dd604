/**
 * Interleaving of users, the same rule in both queues. A job gets a round when it joins the line:
 * how many unfinished jobs its owner already has. The line runs by round, then by ticket (arrival).
 * So a user's 2nd job ranks after everyone's 1st, however many jobs they add at once.
 *
 * When one of an owner's jobs leaves, their waiting jobs move up a round and take a new ticket,
 * like a person who goes to the back of the next round's queue: they cannot starve behind a stream
 * of newcomers, and they do not jump ahead of those who waited for the round they join.
 * (In BullMQ the round is the job's priority and the ticket BullMQ's own priority counter.)
 */
export interface Ranked {
  round: number;
  ticket: number;
}

export function byRank(a: Ranked, b: Ranked): number {
  return a.round - b.round || a.ticket - b.ticket;
}

/**
 * New rounds for an owner's waiting jobs (in line order) when `running` of theirs still run.
 * Returns only the jobs that move up.
 */
export function promotions<T extends Ranked>(waitingInOrder: readonly T[], running: number): Array<{ job: T; round: number }> {
  const moves: Array<{ job: T; round: number }> = [];
  waitingInOrder.forEach((job, i) => {
    const round = running + i;
    if (round < job.round) moves.push({ job, round });
  });
  return moves;
}
