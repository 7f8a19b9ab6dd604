/** The slash commands reelforge registers, with Russian names and descriptions for ru clients. */
import {
  ApplicationIntegrationType,
  InteractionContextType,
  PermissionFlagsBits,
  SlashCommandBuilder,
  type RESTPostAPIChatInputApplicationCommandsJSONBody,
} from 'discord.js';
import { MAX_DURATION_SEC, MAX_TOPIC_CHARS, MIN_DURATION_SEC } from '../../core/request.js';
import { TIERS } from '../../core/tiers.js';
import { CAPTION_STYLE_NAMES, CAPTION_STYLES, DEFAULT_CAPTION_STYLE } from '../../core/caption-style.js';

const tierChoices: Array<{ name: string; value: string }> = TIERS.map((tier) => ({ name: tier, value: tier }));
const captionChoices: Array<{ name: string; value: string }> = CAPTION_STYLES.map((style) => ({ name: CAPTION_STYLE_NAMES[style], value: style }));
const contexts = [InteractionContextType.Guild, InteractionContextType.BotDM];

/** Admin commands are hidden from members without Manage Server; the handler still checks ADMIN_IDS. */
const adminPermission = PermissionFlagsBits.ManageGuild;

export function commandDefinitions(): RESTPostAPIChatInputApplicationCommandsJSONBody[] {
  const video = new SlashCommandBuilder()
    .setName('video')
    .setDescription('Make a narrated vertical short video about a topic')
    .setDescriptionLocalizations({ ru: 'Сделать короткое вертикальное видео с озвучкой' })
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall)
    .setContexts(contexts)
    .addIntegerOption((o) =>
      o
        .setName('duration')
        .setDescription(`Length in seconds (${MIN_DURATION_SEC}-${MAX_DURATION_SEC})`)
        .setDescriptionLocalizations({ ru: `Длина в секундах (${MIN_DURATION_SEC}-${MAX_DURATION_SEC})` })
        .setMinValue(MIN_DURATION_SEC)
        .setMaxValue(MAX_DURATION_SEC)
        .setRequired(true),
    )
    .addStringOption((o) =>
      o
        .setName('topic')
        .setDescription('What the video is about')
        .setDescriptionLocalizations({ ru: 'О чём видео' })
        .setMaxLength(MAX_TOPIC_CHARS)
        .setRequired(true),
    )
    .addStringOption((o) =>
      o
        .setName('tier')
        .setDescription('Quality tier (chosen from the length when left out)')
        .setDescriptionLocalizations({ ru: 'Режим качества (по умолчанию — по длине)' })
        .addChoices(...tierChoices),
    )
    .addStringOption((o) =>
      o
        .setName('captions')
        .setDescription(`Caption style (default ${DEFAULT_CAPTION_STYLE})`)
        .setDescriptionLocalizations({ ru: `Стиль субтитров (по умолчанию ${DEFAULT_CAPTION_STYLE})` })
        .addChoices(...captionChoices),
    );

  // The same options as /video: the storyboard is that video's script, to approve or edit first.
  const storyboard = new SlashCommandBuilder()
    .setName('storyboard')
    .setDescription('See and edit the script before the video is made (only the script is paid)')
    .setDescriptionLocalizations({ ru: 'Сценарий на проверку до сборки (оплачивается только сценарий)' })
    .setIntegrationTypes(ApplicationIntegrationType.GuildInstall)
    .setContexts(contexts);
  for (const option of video.options) storyboard.options.push(option);

  const cancel = new SlashCommandBuilder()
    .setName('cancel')
    .setDescription('Cancel your latest video, or a job by id')
    .setDescriptionLocalizations({ ru: 'Отменить последнее видео или задачу по id' })
    .setContexts(contexts)
    .addStringOption((o) => o.setName('job').setDescription('Job id (admins: any job, see /queue)').setMaxLength(40));

  const help = new SlashCommandBuilder()
    .setName('help')
    .setDescription('How to use the bot, with examples')
    .setDescriptionLocalizations({ ru: 'Как пользоваться, с примерами' })
    .setContexts(contexts);

  const tierChoice = [...tierChoices, { name: 'auto', value: 'auto' }];
  const tier = new SlashCommandBuilder()
    .setName('tier')
    .setDescription('Admin: override the quality tier of a user or a channel')
    .setDefaultMemberPermissions(adminPermission)
    .setContexts([InteractionContextType.Guild])
    .addSubcommand((s) =>
      s
        .setName('user')
        .setDescription('Override the tier for one user')
        .addUserOption((o) => o.setName('user').setDescription('The user').setRequired(true))
        .addStringOption((o) => o.setName('tier').setDescription('Tier, or auto to remove the override').setRequired(true).addChoices(...tierChoice)),
    )
    .addSubcommand((s) =>
      s
        .setName('channel')
        .setDescription('Override the tier for a channel')
        .addStringOption((o) => o.setName('tier').setDescription('Tier, or auto to remove the override').setRequired(true).addChoices(...tierChoice))
        .addChannelOption((o) => o.setName('channel').setDescription('The channel (this one when left out)')),
    );

  const stats = new SlashCommandBuilder()
    .setName('stats')
    .setDescription('Admin: jobs, tokens, cost and failures')
    .setDefaultMemberPermissions(adminPermission)
    .setContexts([InteractionContextType.Guild]);

  const queue = new SlashCommandBuilder()
    .setName('queue')
    .setDescription('Admin: what runs and what waits')
    .setDefaultMemberPermissions(adminPermission)
    .setContexts([InteractionContextType.Guild]);

  return [video, storyboard, cancel, help, tier, stats, queue].map((c) => c.toJSON());
}
