// Prints the configuration table for the README from the one place settings are defined (libs/config).
import { ENV_SCHEMA } from '@kiln/config';

const rows = Object.entries(ENV_SCHEMA.shape).map(([name, schema]) => {
  const s = schema as { description?: string; def?: { defaultValue?: unknown }; _zod?: { def?: { defaultValue?: unknown } } };
  const def = s._zod?.def?.defaultValue ?? s.def?.defaultValue;
  const shown = def === undefined ? '' : `\`${typeof def === 'function' ? (def as () => unknown)() : def}\``;
  return `| \`${name}\` | ${shown} | ${s.description ?? ''} |`;
});
console.log(['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n'));
