import { OPTIONS } from './options.ts';

/** The options table as Markdown, exactly as the README's configuration section holds it. */
export function optionsTable(): string {
  const rows = OPTIONS.map((o) => {
    const env = o.env.map((e) => `\`${e}\``).join(', ');
    const def = o.default === undefined ? '—' : o.default === '' ? '(empty)' : `\`${o.default.replaceAll(',', ', ')}\``;
    return `| \`${o.key}\` | ${env} | ${def} | ${o.help.replaceAll('|', '\\|')} |`;
  });
  return ['| key (YAML) | environment (first is canonical; others are aliases) | default | what it does |', '|---|---|---|---|', ...rows].join('\n');
}
