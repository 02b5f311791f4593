// Prints the configuration table for the README from the one place settings are defined (libs/config).
import type { ZodType } from 'zod';
import { ENV_SCHEMA } from '@kiln/config';

const rows = Object.entries(ENV_SCHEMA.shape).map(([name, field]) => {
  const schema = field as unknown as ZodType & { description?: string };
  // The default is what the setting parses to when unset (through any transform, e.g. the metrics addresses).
  const parsed = schema.safeParse(undefined);
  const shown = parsed.success && parsed.data !== undefined ? `\`${String(parsed.data)}\`` : '';
  return `| \`${name}\` | ${shown} | ${schema.description ?? ''} |`;
});
console.log(['| Variable | Default | Meaning |', '|---|---|---|', ...rows].join('\n'));
