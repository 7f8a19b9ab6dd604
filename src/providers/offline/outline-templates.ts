/**
 * The offline script writer's text: an honest outline of what a real script about the topic should
 * cover, never invented facts. `{t}` stands for the topic. In each section the first sentence is its
 * lead and opens the section's first segment; the rest are picked to fill the spoken-length budget.
 */

export const SECTION_KEYS = ['intro', 'what', 'origins', 'moments', 'turning', 'people', 'legacy', 'questions', 'closing'] as const;
export type SectionKey = (typeof SECTION_KEYS)[number];

/** The middle of the outline, between the intro and the closing, in order. */
export const MIDDLE_SECTIONS = ['what', 'origins', 'moments', 'turning', 'people', 'legacy', 'questions'] as const satisfies readonly SectionKey[];

/** How many of the extra segments a long video gives each middle section. */
export const SECTION_WEIGHTS: Readonly<Record<(typeof MIDDLE_SECTIONS)[number], number>> = {
  what: 1,
  origins: 1.5,
  moments: 3,
  turning: 1,
  people: 1.5,
  legacy: 1,
  questions: 2,
};

/** What each section's picture is about, for image prompts (image models read English best). */
export const SECTION_IDEAS: Readonly<Record<SectionKey, string>> = {
  intro: 'An opening title scene introducing',
  what: 'A wide establishing view of the place and time of',
  origins: 'The earlier causes and beginnings of',
  moments: 'A key moment in the story of',
  turning: 'The decisive turning point of',
  people: 'The people involved in',
  legacy: 'The lasting legacy of',
  questions: 'Open questions and research notes about',
  closing: 'A closing scene summing up',
};

export interface OutlineLanguage {
  lang: 'en' | 'ru';
  /** The honest first sentence of every offline script (given the plain topic). */
  intro: (topic: string) => string;
  /** The same, for a video too short for the full sentence. */
  introShort: (topic: string) => string;
  /** How the topic is written inside a sentence. */
  mention: (topic: string) => string;
  sections: Readonly<Record<SectionKey, readonly string[]>>;
  /** Used when a section has run out of sentences. */
  filler: readonly string[];
  stopWords: ReadonlySet<string>;
}

const EN_STOP_WORDS = new Set(
  `a about above after again against all also am an and any are as at be because been before being below between both but by
  can could did do does doing down during each few for from further had has have having he her here hers him his how i if in
  into is it its itself just me more most my no nor not now of off on once only or other our out over own same she should so
  some such than that the their them then there these they this those through to too under until up very was we were what when
  where which while who whom why will with would you your one two three first next another still each every much many least
  made make makes say says said give show tell keep add pick list note find name check write describe explain mention include
  point connect replace look here thing things way ways well part sure real draft outline offline language model script video
  viewer viewers someone something without within`.split(/\s+/),
);

const RU_STOP_WORDS = new Set(
  `и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только ее её мне было вот от меня еще ещё нет
  о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам ведь там потом себя ничего ей
  может они тут где есть надо ней для мы тебя их чем была сам чтобы без будто чего раз тоже себе под будет ж тогда кто этот того
  потому этого какой совсем ним здесь этом один почти мой тем чтоб нее сейчас были куда зачем всех никогда можно при наконец два
  об другой хоть после над больше тот через эти нас про всего них какая много разве три эту моя впрочем хорошо свою этой перед
  иногда лучше чуть том нельзя такой им более всегда конечно всю между это эта эти также каждый каждая каждое который которая
  которые которое назовите опишите объясните укажите проверьте добавьте покажите скажите найдите выберите отметьте напишите
  замените стоит нужно черновой черновик план офлайн модели модель языковой ролик ролика зритель зрителя зрителю составленный офлайн тема темы теме тему темой происходило происходит произошло`.split(/\s+/),
);

/** "The fall of X" reads "about the fall of X"; names keep their capital. */
function englishMention(topic: string): string {
  return /^(The|A|An)\s+\p{Ll}/u.test(topic) ? topic.charAt(0).toLowerCase() + topic.slice(1) : topic;
}

export const ENGLISH: OutlineLanguage = {
  lang: 'en',
  intro: (topic) => `This is a draft outline about ${englishMention(topic)}, made offline without a language model.`,
  introShort: (topic) => `An offline draft outline about ${englishMention(topic)}.`,
  mention: englishMention,
  sections: {
    intro: [
      'Nothing here is a claimed fact.',
      'Think of it as a skeleton for your own script.',
      'Replace each line with real, checked facts before you publish.',
      'Every part below names what a finished script about {t} should cover.',
      'It follows a simple order: the setting, the origins, the key moments, the people and the legacy.',
    ],
    what: [
      'First, the setting: what {t} is, where it took place, and when.',
      'Name the place on a map and the year or the period.',
      'Describe what the world looked like at that time.',
      'Give the viewer one picture they can hold in mind.',
      'One clear sentence should say what {t} is about.',
      'Say who would have noticed it first, and where they stood.',
    ],
    origins: [
      'Next, the origins: what led up to {t}?',
      'List the causes that came long before the main events.',
      'Look for the earliest date that clearly belongs to this story.',
      'Explain which old tensions or ideas set things in motion.',
      'Note which causes the experts agree on, and which they still debate.',
      'A short background of two or three facts is enough here.',
      'Ask what people at the time expected to happen next.',
      'Show the situation just before everything started to move.',
    ],
    moments: [
      'Now the key moments, told in the order they happened.',
      'Start with the first event that made {t} impossible to ignore.',
      'Describe what was seen and heard, with a date for each step.',
      'Then a choice someone made that raised the stakes.',
      'Show how ordinary people lived through those days.',
      'Give the event that most sources describe in detail.',
      'Mention what it cost, in lives, money or time.',
      'Add how the news spread and who heard it first.',
      'Pick the single image that sums up this part of the story.',
      'Check where the sources disagree, and say so plainly.',
      'Keep each moment short: one fact, one picture.',
      'Another moment worth a line is a small detail that surprises people.',
      'Say what the weather, the season or the light was like.',
      'Describe a sound, an object or a place from that day.',
      'Count the days or years between the main events.',
      'Explain what the people on each side believed was happening.',
    ],
    turning: [
      'Then the turning point of {t}.',
      'Which single moment decided how it would end?',
      'Explain what changed in a day, an hour or one decision.',
      'Say what might have happened if it had gone the other way.',
      'This is the peak of the story, so give it the most vivid picture.',
      'Name the date and the place of the turning point.',
    ],
    people: [
      'Now the people involved in {t}.',
      'Name the leaders, and what each of them wanted.',
      'Find one person whose own words survive, and quote them exactly.',
      'Include someone ordinary: a worker, a soldier, a witness or a child.',
      'Say who gained, who lost, and who was forgotten.',
      'Check every name and title against a reliable source.',
      'Describe how the main figures were seen by the people around them.',
      'Mention the helpers and rivals behind the famous names.',
    ],
    legacy: [
      'Then the legacy: why {t} still matters.',
      'Name what changed afterwards, in borders, laws, habits or ideas.',
      'Point to something a viewer can still see or visit today.',
      'Explain how people remember it now, and how that memory has changed.',
      'Mention one popular myth about it that the evidence does not support.',
      'Connect it to something the viewer already knows.',
    ],
    questions: [
      'Here are questions to research before writing the real script.',
      'What are the three most reliable sources about {t}?',
      'Which dates and numbers need to be checked twice?',
      'What do most people get wrong about it?',
      'Which detail would surprise a curious viewer?',
      'Where do the experts still disagree?',
      'What happened just before, and just after?',
      'Which pictures, maps or objects could show it honestly?',
      'Who wrote the first account, and how close were they to the events?',
      'Which part of the story is best documented, and which is guesswork?',
      'What would a skeptic ask first?',
    ],
    closing: [
      'To close, sum up {t} in one memorable sentence.',
      'End with the question you most want the viewer to keep thinking about.',
      'This draft was made offline, so write the real story with checked facts.',
      'Then replace this outline with your finished script.',
      'Thanks for watching this outline.',
    ],
  },
  filler: [
    'Keep the language simple and the sentences short.',
    'One idea per picture works best in a short video.',
    'Use a date or a number wherever you can check it.',
    'Leave a short pause here.',
    'Read the finished lines aloud to hear their rhythm.',
    'Cut any sentence that does not help the story.',
  ],
  stopWords: EN_STOP_WORDS,
};

export const RUSSIAN: OutlineLanguage = {
  lang: 'ru',
  intro: (topic) => `Это черновой план ролика на тему «${topic}», составленный офлайн, без языковой модели.`,
  introShort: (topic) => `Офлайн-черновик плана: «${topic}».`,
  mention: (topic) => `«${topic}»`,
  sections: {
    intro: [
      'Здесь нет утверждённых фактов.',
      'Считайте его каркасом для вашего собственного сценария.',
      'Перед публикацией замените каждую строку проверенными фактами.',
      'Каждая часть ниже говорит, о чём должен рассказать готовый сценарий.',
      'Порядок простой: обстановка, истоки, ключевые моменты, люди и наследие.',
    ],
    what: [
      'Сначала обстановка: что такое {t}, где и когда это происходило.',
      'Назовите место на карте и год или эпоху.',
      'Опишите, как выглядел мир в то время.',
      'Дайте зрителю одну картину, которую легко запомнить.',
      'Одно ясное предложение должно сказать, о чём эта история.',
      'Скажите, кто первым мог это заметить и где он находился.',
    ],
    origins: [
      'Дальше истоки: что привело к событиям темы {t}?',
      'Перечислите причины, которые появились задолго до главных событий.',
      'Найдите самую раннюю дату, которая точно относится к этой истории.',
      'Объясните, какие старые противоречия или идеи запустили события.',
      'Отметьте, в каких причинах специалисты согласны, а о каких ещё спорят.',
      'Здесь достаточно короткой предыстории из двух или трёх фактов.',
      'Спросите, чего люди того времени ждали дальше.',
      'Покажите положение дел прямо перед началом событий.',
    ],
    moments: [
      'Теперь ключевые моменты, в том порядке, в каком они случились.',
      'Начните с первого события, которое нельзя было не заметить.',
      'Опишите, что было видно и слышно, с датой для каждого шага.',
      'Затем решение, которое кто-то принял и которое подняло ставки.',
      'Покажите, как обычные люди прожили те дни.',
      'Дайте событие, которое источники описывают подробнее всего.',
      'Упомяните, чего это стоило: жизней, денег или времени.',
      'Добавьте, как распространялись новости и кто узнал первым.',
      'Выберите одну картину, которая подводит итог этой части.',
      'Проверьте, где источники расходятся, и скажите об этом прямо.',
      'Каждый момент держите коротким: один факт, одна картинка.',
      'Ещё один момент стоит строки: небольшая деталь, которая удивляет.',
      'Скажите, какая была погода, время года или свет.',
      'Опишите звук, предмет или место из того дня.',
      'Посчитайте дни или годы между главными событиями.',
      'Объясните, что, по мнению каждой стороны, происходило.',
    ],
    turning: [
      'Затем поворотный момент истории {t}.',
      'Какой один момент решил, чем всё закончится?',
      'Объясните, что изменилось за день, за час или после одного решения.',
      'Скажите, что могло бы случиться, если бы всё пошло иначе.',
      'Это вершина истории, поэтому дайте ей самую яркую картинку.',
      'Назовите дату и место поворотного момента.',
    ],
    people: [
      'Теперь люди, связанные с темой {t}.',
      'Назовите лидеров и то, чего хотел каждый из них.',
      'Найдите человека, чьи собственные слова сохранились, и процитируйте их точно.',
      'Добавьте обычного человека: работника, солдата, свидетеля или ребёнка.',
      'Скажите, кто выиграл, кто проиграл и кого забыли.',
      'Проверьте каждое имя и титул по надёжному источнику.',
      'Опишите, какими главных героев видели окружающие.',
      'Упомяните помощников и соперников за известными именами.',
    ],
    legacy: [
      'Затем наследие: почему {t} важно до сих пор.',
      'Назовите, что изменилось потом: границы, законы, привычки или идеи.',
      'Укажите то, что зритель может увидеть или посетить сегодня.',
      'Объясните, как это помнят сейчас и как менялась эта память.',
      'Упомяните один популярный миф, который не подтверждают источники.',
      'Свяжите историю с тем, что зритель уже знает.',
    ],
    questions: [
      'Вот вопросы, которые стоит изучить перед настоящим сценарием.',
      'Какие три источника о теме {t} самые надёжные?',
      'Какие даты и числа нужно проверить дважды?',
      'В чём чаще всего ошибаются, рассказывая об этом?',
      'Какая деталь удивит любопытного зрителя?',
      'В чём специалисты до сих пор не согласны?',
      'Что случилось прямо перед этим и сразу после?',
      'Какие картины, карты или предметы покажут это честно?',
      'Кто написал первый рассказ об этом и насколько он был близок к событиям?',
      'Какая часть истории лучше всего задокументирована, а какая остаётся догадкой?',
      'О чём скептик спросил бы первым делом?',
    ],
    closing: [
      'В завершение подведите итог темы {t} одной запоминающейся фразой.',
      'Закончите вопросом, над которым зритель будет думать и дальше.',
      'Этот черновик сделан офлайн, поэтому напишите настоящую историю с проверенными фактами.',
      'Затем замените этот план готовым сценарием.',
      'Спасибо, что посмотрели этот план.',
    ],
  },
  filler: [
    'Пишите простым языком и короткими предложениями.',
    'В коротком ролике лучше всего работает одна мысль на картинку.',
    'Используйте даты и числа там, где их можно проверить.',
    'Здесь стоит сделать короткую паузу.',
    'Прочитайте готовый текст вслух, чтобы услышать его ритм.',
    'Уберите каждое предложение, которое не помогает истории.',
  ],
  stopWords: RU_STOP_WORDS,
};

export function outlineLanguage(lang: string): OutlineLanguage {
  return lang.trim().toLowerCase().startsWith('ru') ? RUSSIAN : ENGLISH;
}
