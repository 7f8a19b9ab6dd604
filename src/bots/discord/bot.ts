/**
 * The Discord bot: a discord.js client (Guilds intent only) that registers the slash commands,
 * turns /video into a job on the shared queue and answers the admin commands. Progress and the
 * video itself go through DiscordNotifier, which a worker process can run without this client.
 */
import { once } from 'node:events';
import {
  Client,
  Events,
  GatewayIntentBits,
  MessageFlags,
  Routes,
  type ButtonInteraction,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import type { DiscordTarget, JobOwner } from '../../core/chat-target.js';
import { ReelforgeError, toReelforgeError } from '../../core/errors.js';
import { applyProgress, emptySnapshot } from '../../core/progress.js';
import { validateVideoRequest, type VideoRequest } from '../../core/request.js';
import { isTier } from '../../core/tiers.js';
import { relayQueueEvents } from '../../jobs/queue-relay.js';
import { notifierRegistry } from '../../jobs/video-job.js';
import type { JobInfo, JobQueue } from '../../queue/types.js';
import type { SettingsStore, TierChoice, TierScope } from '../../store/settings.js';
import { formatQueue, formatStats, isAdmin } from '../shared/admin.js';
import { botTexts, errorText } from '../shared/i18n.js';
import { commandDefinitions } from './commands.js';
import { clampContent, jobIdFromCustomId } from './messages.js';
import { DiscordNotifier } from './notifier.js';
import { describeDiscordError, isDiscordError, toDiscordFailure, watchRateLimits, type DiscordLog } from './rest.js';
import { discordTexts } from './texts.js';
import { retryInBackground, type BackgroundOutcome, type RetryTiming } from '../shared/background-retry.js';

export interface DiscordBotOptions {
  token: string;
  applicationId: string;
  /** config.discord.apiBase: REST goes there, and the gateway URL comes from its /gateway/bot. */
  apiBase: string;
  /** Register the commands in this guild only (instant, for development) instead of globally. */
  guildId?: string;
  queue: JobQueue;
  settings: SettingsStore;
  adminIds: ReadonlySet<string>;
  /** The notifier the job processor uses in this process, so bot and worker edits are ordered; made when absent. */
  notifier?: DiscordNotifier;
  log?: DiscordLog;
  /** The bot cannot go on (a refused token, a gateway closed for good): the service should shut down. */
  onFatal?: (error: ReelforgeError) => void;
  /** How the slash commands' registration is retried (defaults: 15 s an attempt, 10 min in all). */
  commandsRetry?: RetryTiming;
}

export interface DiscordBot {
  start(): Promise<void>;
  stop(): Promise<void>;
  readonly notifier: DiscordNotifier;
  /** Settles when the slash commands are registered, given up on, or the bot stopped. */
  readonly commandsRegistered: Promise<BackgroundOutcome>;
}

const ephemeral = MessageFlags.Ephemeral;
const noMentions = { parse: [] };

export function createDiscordBot(options: DiscordBotOptions): DiscordBot {
  const log: DiscordLog = options.log ?? (() => undefined);
  const ownNotifier = !options.notifier;
  const notifier = options.notifier ?? new DiscordNotifier({ token: options.token, apiBase: options.apiBase, log });
  const { queue, settings, applicationId } = options;
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: options.apiBase } });
  watchRateLimits(client.rest, log);
  client.on(Events.Error, (error) => log('discord client error', { error: describeDiscordError(error) }));
  client.on(Events.ShardDisconnect, (event, shardId) => log('discord gateway disconnected', { code: event.code, shardId }));
  client.on(Events.InteractionCreate, (interaction) => {
    // Each interaction is handled on its own; failures are answered and logged inside.
    void handle(interaction);
  });

  const admin = (userId: string): boolean => isAdmin(options.adminIds, 'discord', userId);

  async function handle(interaction: Interaction): Promise<void> {
    try {
      if (interaction.isChatInputCommand()) await onCommand(interaction);
      else if (interaction.isButton()) await onButton(interaction);
    } catch (thrown: unknown) {
      const error = toReelforgeError(thrown);
      log('discord interaction failed', { interactionId: interaction.id, code: error.code, error: describeDiscordError(error.cause ?? thrown) });
      if (!interaction.isRepliable()) return;
      const content = errorText(error, interaction.locale);
      try {
        if (interaction.deferred || interaction.replied) await interaction.editReply({ content, components: [], allowedMentions: noMentions });
        else await interaction.reply({ content, flags: ephemeral, allowedMentions: noMentions });
      } catch (replyError: unknown) {
        log('discord error reply failed', { interactionId: interaction.id, error: describeDiscordError(replyError) });
      }
    }
  }

  async function onCommand(i: ChatInputCommandInteraction): Promise<void> {
    switch (i.commandName) {
      case 'video':
        return onVideo(i);
      case 'cancel':
        return onCancelCommand(i);
      case 'help':
        await i.reply({ content: botTexts(i.locale).help({ style: 'discord', isAdmin: admin(i.user.id) }), flags: ephemeral });
        return;
      case 'tier':
      case 'stats':
      case 'queue':
        if (!admin(i.user.id)) {
          await i.reply({ content: botTexts(i.locale).adminOnly, flags: ephemeral });
          return;
        }
        return onAdminCommand(i);
      default:
        await i.reply({ content: botTexts(i.locale).help({ style: 'discord' }), flags: ephemeral });
    }
  }

  async function onVideo(i: ChatInputCommandInteraction): Promise<void> {
    let request: VideoRequest;
    try {
      // Synchronous and cheap, so bad options get a private answer instead of a public deferral.
      request = validateVideoRequest({
        duration: i.options.getInteger('duration') ?? undefined,
        topic: i.options.getString('topic') ?? '',
        tier: i.options.getString('tier') ?? undefined,
      });
    } catch (thrown: unknown) {
      await i.reply({ content: errorText(toReelforgeError(thrown), i.locale), flags: ephemeral, allowedMentions: noMentions });
      return;
    }
    // Acknowledge inside Discord's 3 s window before anything that waits on storage or the queue.
    const deferred = await i.deferReply({ withResponse: true });
    log('discord /video deferred', { interactionId: i.id, ackMs: Date.now() - i.createdTimestamp });

    // An admin's override beats the tier the user picked: overrides exist to limit or raise cost.
    // A settings outage costs the override, not the video: the tier then follows the duration.
    const override = await settings.getTier({ platform: 'discord', userId: i.user.id, chatId: i.channelId }).catch((error: unknown) => {
      log('tier override unavailable', { error: String(error) });
      return undefined;
    });
    if (override) request = { ...request, tier: override };

    const progressMessageId = deferred.resource?.message?.id;
    const target: DiscordTarget = {
      platform: 'discord',
      applicationId,
      interactionToken: i.token,
      interactionCreatedAt: i.createdTimestamp,
      channelId: i.channelId,
      ...(i.guildId ? { guildId: i.guildId } : {}),
      ...(progressMessageId ? { progressMessageId } : {}),
      locale: i.locale,
      ...(i.attachmentSizeLimit ? { attachmentSizeLimit: i.attachmentSizeLimit } : {}),
    };
    const owner: JobOwner = { platform: 'discord', userId: i.user.id, chatId: i.channelId, displayName: i.user.username };
    let enqueued;
    try {
      enqueued = await queue.enqueue({ request, owner, target, createdAt: Date.now() }, { idempotencyKey: `discord:${i.id}` });
    } catch (thrown: unknown) {
      const error = toReelforgeError(thrown);
      await i.editReply({ content: errorText(error, i.locale), components: [], allowedMentions: noMentions });
      return;
    }
    const snapshot = applyProgress(emptySnapshot(), { type: 'queued', position: enqueued.position, etaSec: enqueued.etaSec });
    try {
      await notifier.progress(target, snapshot, enqueued.id);
    } catch (thrown: unknown) {
      // The job is queued and its own progress edits follow; a failed first edit is not worth an error.
      log('discord queued message failed', { jobId: enqueued.id, error: describeDiscordError(thrown) });
    }
  }

  function canCancel(job: JobInfo, userId: string): boolean {
    return (job.data.owner.platform === 'discord' && job.data.owner.userId === userId) || admin(userId);
  }

  async function cancelJob(job: JobInfo): Promise<boolean> {
    const cancelled = await queue.cancel(job.id);
    const target = job.data.target;
    if (cancelled && target?.platform === 'discord') {
      // A waiting job never reaches the processor, so its message is closed here.
      await notifier
        .fail(target, new ReelforgeError('cancelled', 'The job was cancelled.'))
        .catch((error: unknown) => log('discord cancel notice failed', { jobId: job.id, error: describeDiscordError(error) }));
    }
    return cancelled;
  }

  async function onButton(i: ButtonInteraction): Promise<void> {
    const jobId = jobIdFromCustomId(i.customId);
    if (!jobId) {
      await i.deferUpdate();
      return;
    }
    const t = botTexts(i.locale);
    const job = await queue.get(jobId);
    if (!job || (job.state !== 'waiting' && job.state !== 'active')) {
      await i.reply({ content: t.cancelUnknown, flags: ephemeral });
      return;
    }
    if (!canCancel(job, i.user.id)) {
      await i.reply({ content: t.cancelRefused, flags: ephemeral });
      return;
    }
    await i.deferUpdate();
    if (!(await cancelJob(job))) await i.followUp({ content: t.cancelUnknown, flags: ephemeral });
  }

  async function onCancelCommand(i: ChatInputCommandInteraction): Promise<void> {
    const t = botTexts(i.locale);
    const jobId = i.options.getString('job')?.trim();
    let job: JobInfo | undefined;
    if (jobId) {
      job = await queue.get(jobId);
      if (!job || (job.state !== 'waiting' && job.state !== 'active')) {
        await i.reply({ content: t.jobNotFound(jobId), flags: ephemeral, allowedMentions: noMentions });
        return;
      }
      if (!canCancel(job, i.user.id)) {
        await i.reply({ content: t.cancelRefused, flags: ephemeral });
        return;
      }
    } else {
      const mine = (await queue.list()).filter((j) => j.data.owner.platform === 'discord' && j.data.owner.userId === i.user.id);
      job = mine.sort((a, b) => a.createdAt - b.createdAt).at(-1);
      if (!job) {
        await i.reply({ content: discordTexts(i.locale).noActiveJob, flags: ephemeral });
        return;
      }
    }
    await i.deferReply({ flags: ephemeral });
    const cancelled = await cancelJob(job);
    await i.editReply({ content: cancelled ? t.jobCancelled(job.id) : t.jobNotFound(job.id) });
  }

  async function onAdminCommand(i: ChatInputCommandInteraction): Promise<void> {
    const t = botTexts(i.locale);
    if (i.commandName === 'stats') {
      const [queueStats, usage] = await Promise.all([queue.stats(), settings.stats()]);
      await i.reply({ content: clampContent(formatStats(queueStats, usage, i.locale)), flags: ephemeral });
      return;
    }
    if (i.commandName === 'queue') {
      await i.reply({ content: clampContent(formatQueue(await queue.list(), i.locale)), flags: ephemeral, allowedMentions: noMentions });
      return;
    }
    const tier = i.options.getString('tier', true);
    if (tier !== 'auto' && !isTier(tier)) {
      throw new ReelforgeError('bad_input', 'Unknown tier.', { params: { reason: 'tier' } });
    }
    const choice: TierChoice = tier;
    const d = discordTexts(i.locale);
    let scope: TierScope;
    let label: string;
    if (i.options.getSubcommand(true) === 'user') {
      const user = i.options.getUser('user', true);
      scope = { kind: 'user', platform: 'discord', userId: user.id };
      label = d.userLabel(user.id);
    } else {
      const channelId = i.options.getChannel('channel')?.id ?? i.channelId;
      scope = { kind: 'chat', platform: 'discord', chatId: channelId };
      label = d.channelLabel(channelId);
    }
    await settings.setTier(scope, choice);
    await i.reply({ content: t.tierSet(label, choice), flags: ephemeral, allowedMentions: noMentions });
  }

  let unsubscribe: (() => void) | undefined;
  let started = false;
  let stopped = false;
  const stopping = new AbortController();
  let commandsRegistered: Promise<BackgroundOutcome> = Promise.resolve('stopped');
  let fatalReported = false;
  const fatal = (error: ReelforgeError): void => {
    if (fatalReported || stopped) return;
    fatalReported = true;
    if (options.onFatal) options.onFatal(error);
    else log('discord bot stopped', { code: error.code, error: error.message });
  };
  // A gateway close that discord.js will not reconnect from (4004 bad token, 4013/4014 intents).
  client.on(Events.ShardDisconnect, (event) => {
    fatal(
      event.code === 4004
        ? tokenRefused(new Error(`gateway closed with ${event.code}`))
        : new ReelforgeError('config', `Discord closed the gateway connection for good (code ${event.code}); check the bot's token and intents.`),
    );
  });
  return {
    notifier,
    get commandsRegistered() {
      return commandsRegistered;
    },
    async start(): Promise<void> {
      if (started) return;
      started = true;
      client.rest.setToken(options.token);
      const route = options.guildId
        ? Routes.applicationGuildCommands(applicationId, options.guildId)
        : Routes.applicationCommands(applicationId);
      // The commands are registered in the background: a slow or failing registration never holds start-up
      // (commands registered before keep working); a refused token is fatal.
      commandsRegistered = retryInBackground({
        what: 'register the Discord slash commands',
        attempt: (signal) => client.rest.put(route, { body: commandDefinitions(), signal }).then(() => undefined),
        signal: stopping.signal,
        log,
        ...options.commandsRetry,
        unrecoverable: (error) => (isDiscordError(error, 401) ? tokenRefused(error) : undefined),
        onUnrecoverable: fatal,
      });
      // Places in line, and cancels or failures of jobs that are not running, reach the message too.
      unsubscribe = relayQueueEvents(queue, notifierRegistry([notifier]), log);
      try {
        // Both together, so a login failure does not leave the wait for READY unobserved.
        await Promise.all([once(client, Events.ClientReady), client.login(options.token)]);
      } catch (error: unknown) {
        if (error instanceof Error && /TokenInvalid|invalid token/i.test(`${(error as { code?: string }).code ?? ''} ${error.message}`)) {
          throw tokenRefused(error);
        }
        throw toDiscordFailure(error);
      }
      log('discord bot ready', { user: client.user?.tag, guilds: client.guilds.cache.size });
    },
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      stopping.abort();
      unsubscribe?.();
      try {
        await commandsRegistered;
        await client.destroy();
      } finally {
        if (ownNotifier) notifier.close();
      }
    },
  };
}

function tokenRefused(error: unknown): ReelforgeError {
  return new ReelforgeError('config', 'Discord refused the bot token (401): check DISCORD_BOT_TOKEN; it may have been revoked.', {
    cause: new Error(describeDiscordError(error)),
  });
}
