/**
 * The Discord bot: a discord.js client (Guilds intent only) that registers the slash commands,
 * turns /video into a job on the shared queue and answers the admin commands. Progress and the
 * video itself go through DiscordNotifier, which a worker process can run without this client.
 */
import { silentLogger } from '../../log.js';
import { once } from 'node:events';
import {
  Client,
  Events,
  GatewayIntentBits,
  Routes,
  type ChatInputCommandInteraction,
  type Interaction,
} from 'discord.js';
import { ReelforgeError, toReelforgeError } from '../../core/errors.js';
import { relayQueueEvents } from '../../jobs/queue-relay.js';
import { notifierRegistry } from '../../jobs/video-job.js';
import type { JobQueue } from '../../queue/types.js';
import type { SettingsStore } from '../../store/settings.js';
import { retryInBackground, type BackgroundOutcome, type RetryTiming } from '../shared/background-retry.js';
import { errorText } from '../shared/i18n.js';
import { ADMIN_COMMANDS, adminCommand } from './admin-commands.js';
import { cancelButton, cancelCommand } from './cancel.js';
import { commandDefinitions } from './commands.js';
import { ephemeral, noMentions, type DiscordBotDeps } from './deps.js';
import { helpCommand } from './help-command.js';
import { DiscordNotifier } from './notifier.js';
import { describeDiscordError, isDiscordError, toDiscordFailure, watchRateLimits, type DiscordLog } from './rest.js';
import { videoCommand } from './video-command.js';
import { isRemakeComponent, remakeButton, remakeModal } from './remake-buttons.js';
import { isStoryboardComponent, storyboardButton, storyboardCommand, storyboardModal } from './storyboard-command.js';
import type { StoryboardService } from '../shared/storyboard-drafts.js';

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
  /** /storyboard. */
  storyboards?: StoryboardService;
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

export function createDiscordBot(options: DiscordBotOptions): DiscordBot {
  const log: DiscordLog = options.log ?? silentLogger();
  const ownNotifier = !options.notifier;
  const notifier = options.notifier ?? new DiscordNotifier({ token: options.token, apiBase: options.apiBase, log });
  const { queue, applicationId } = options;
  const stopping = new AbortController();
  const deps: DiscordBotDeps = {
    ...(options.storyboards ? { storyboards: options.storyboards } : {}),
    stopping: stopping.signal,
    applicationId,
    queue,
    settings: options.settings,
    adminIds: options.adminIds,
    notifier,
    log,
  };
  const client = new Client({ intents: [GatewayIntentBits.Guilds], rest: { api: options.apiBase } });
  watchRateLimits(client.rest, log);
  client.on(Events.Error, (error) => log.error('discord client error', { error: describeDiscordError(error) }));
  client.on(Events.ShardDisconnect, (event, shardId) => log.warn('discord gateway disconnected', { code: event.code, shardId }));
  client.on(Events.InteractionCreate, (interaction) => {
    // Each interaction is handled on its own; failures are answered and logged inside.
    void handle(deps, interaction);
  });

  let unsubscribe: (() => void) | undefined;
  let started = false;
  let stopped = false;
  let commandsRegistered: Promise<BackgroundOutcome> = Promise.resolve('stopped');
  let fatalReported = false;
  const fatal = (error: ReelforgeError): void => {
    if (fatalReported || stopped) return;
    fatalReported = true;
    if (options.onFatal) options.onFatal(error);
    else log.warn('discord bot stopped', { code: error.code, error: error.message });
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
      log.info('discord bot ready', { user: client.user?.tag, guilds: client.guilds.cache.size });
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

/** One interaction: routed to its command module; a failure is logged and answered privately. */
async function handle(deps: DiscordBotDeps, interaction: Interaction): Promise<void> {
  try {
    if (interaction.isChatInputCommand()) await onCommand(deps, interaction);
    else if (interaction.isButton()) {
      if (isStoryboardComponent(interaction.customId)) await storyboardButton(deps, interaction);
      else if (isRemakeComponent(interaction.customId)) await remakeButton(deps, interaction);
      else await cancelButton(deps, interaction);
    } else if (interaction.isModalSubmit()) {
      if (isRemakeComponent(interaction.customId)) await remakeModal(deps, interaction);
      else await storyboardModal(deps, interaction);
    }
  } catch (thrown: unknown) {
    const error = toReelforgeError(thrown);
    deps.log.error('discord interaction failed', { interactionId: interaction.id, code: error.code, error: describeDiscordError(error.cause ?? thrown) });
    if (!interaction.isRepliable()) return;
    const content = errorText(error, interaction.locale);
    try {
      if (interaction.deferred || interaction.replied) await interaction.editReply({ content, components: [], allowedMentions: noMentions });
      else await interaction.reply({ content, flags: ephemeral, allowedMentions: noMentions });
    } catch (replyError: unknown) {
      deps.log.warn('discord error reply failed', { interactionId: interaction.id, error: describeDiscordError(replyError) });
    }
  }
}

async function onCommand(deps: DiscordBotDeps, i: ChatInputCommandInteraction): Promise<void> {
  if (i.commandName === 'video') return videoCommand(deps, i);
  if (i.commandName === 'storyboard') return storyboardCommand(deps, i);
  if (i.commandName === 'cancel') return cancelCommand(deps, i);
  if (ADMIN_COMMANDS.has(i.commandName)) return adminCommand(deps, i);
  return helpCommand(deps, i);
}
