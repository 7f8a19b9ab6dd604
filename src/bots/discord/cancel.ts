/**
 * Cancelling on Discord: the Cancel button under a progress message and /cancel [job]. The
 * requester or an admin may cancel. The progress message says "Cancelled" from the job (running)
 * or the queue relay (waiting), never from here.
 */
import type { ButtonInteraction, ChatInputCommandInteraction } from 'discord.js';
import type { JobInfo } from '../../queue/types.js';
import { botTexts } from '../shared/i18n.js';
import { canCancel, ephemeral, noMentions, type DiscordBotDeps } from './deps.js';
import { jobIdFromCustomId } from './messages.js';

export async function cancelButton(deps: DiscordBotDeps, i: ButtonInteraction): Promise<void> {
  const jobId = jobIdFromCustomId(i.customId);
  if (!jobId) {
    await i.deferUpdate();
    return;
  }
  const t = botTexts(i.locale);
  const job = await deps.queue.get(jobId);
  if (!job || (job.state !== 'waiting' && job.state !== 'active')) {
    await i.reply({ content: t.cancelUnknown, flags: ephemeral });
    return;
  }
  if (!canCancel(deps, job, i.user.id)) {
    await i.reply({ content: t.cancelRefused, flags: ephemeral });
    return;
  }
  await i.deferUpdate();
  if (!(await deps.queue.cancel(job.id))) await i.followUp({ content: t.cancelUnknown, flags: ephemeral });
}

export async function cancelCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  const t = botTexts(i.locale);
  const jobId = i.options.getString('job')?.trim();
  let job: JobInfo | undefined;
  if (jobId) {
    job = await deps.queue.get(jobId);
    if (!job || (job.state !== 'waiting' && job.state !== 'active')) {
      await i.reply({ content: t.jobNotFound(jobId), flags: ephemeral, allowedMentions: noMentions });
      return;
    }
    if (!canCancel(deps, job, i.user.id)) {
      await i.reply({ content: t.cancelRefused, flags: ephemeral });
      return;
    }
  } else {
    const mine = (await deps.queue.list()).filter((j) => j.data.owner.platform === 'discord' && j.data.owner.userId === i.user.id);
    job = mine.sort((a, b) => a.createdAt - b.createdAt).at(-1);
    if (!job) {
      await i.reply({ content: t.noActiveJob, flags: ephemeral });
      return;
    }
  }
  await i.deferReply({ flags: ephemeral });
  const cancelled = await deps.queue.cancel(job.id);
  await i.editReply({ content: cancelled ? t.jobCancelled(job.id) : t.jobNotFound(job.id) });
}
