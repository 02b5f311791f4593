// The `kiln` command: upload, list, get, watch, download, delete, alias, update, token, audit and webhook against a Kiln registry, and `contract`
// locally.
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable, Writable } from 'node:stream';
import { Command, Option } from 'commander';
import cliProgress from 'cli-progress';
import tar from 'tar-stream';
import { fromGrpcError, registryClient, type ClientTlsSettings, type RegistryClient } from '@kiln/api';
import { promiseClient } from '@kiln/api/client';
import { toProto3Json } from '@kiln/api/json';
import type { ModelVersion__Output } from '@kiln/api/generated/kiln/v1/ModelVersion';
import type { WatchModelVersionResponse__Output } from '@kiln/api/generated/kiln/v1/WatchModelVersionResponse';
import { inferContract, localModelFiles } from '@kiln/contract';
import { parseManifest } from '@kiln/manifest';
import { KilnError, invalidArgument } from '@kiln/errors';
import { EXIT, exitCodeFor } from './exit-codes';
import { usage, UsageError } from './usage';
import { contractText, modelRow, statusName, versionRow, versionText, WatchView } from './format';
import { upload, uploadSource } from './upload';
import { readFile } from 'node:fs/promises';
import { formatBytes } from '@kiln/std';
import { withBearerToken } from '@kiln/api/auth/bearer';
import { parseBinding, parseExpiry, parseMoment, tokenRow, TOKEN_HEADER } from './tokens';
import { AUDIT_HEADER, auditRow } from './audit';
import { DELIVERY_HEADER, deliveryRow, parseKind, WEBHOOK_HEADER, webhookRow } from './webhooks';
import { ALIAS_HEADER, aliasRow, diffText, MOVE_HEADER, moveRow } from './aliases';
import type { Contract } from '@kiln/contract/types';

const DEFAULT_ADDRESS = '127.0.0.1:50051';

interface GlobalOptions {
  address: string;
  token?: string;
  json?: boolean;
  tls?: boolean;
  ca?: string;
  cert?: string;
  key?: string;
}

const program = new Command()
  .name('kiln')
  .description('Kiln model registry: upload models, follow their builds, read their contracts.')
  .addOption(new Option('-a, --address <host:port>', 'registry address').env('KILN_ADDRESS').default(DEFAULT_ADDRESS))
  .addOption(new Option('-t, --token <token>', 'Kiln API token sent as "authorization: Bearer"').env('KILN_TOKEN'))
  .option('--json', 'print proto3 JSON (what grpcurl shows) instead of text')
  .option('--tls', 'connect over TLS, trusting the system\'s roots (implied by --ca, --cert)')
  .addOption(new Option('--ca <file>', 'PEM CA file the registry\'s certificate is checked against (TLS)').env('KILN_CA'))
  .addOption(new Option('--cert <file>', 'PEM client certificate, for a registry that requires one (mTLS; with --key)').env('KILN_CERT'))
  .addOption(new Option('--key <file>', 'PEM private key of --cert').env('KILN_KEY'))
  .showHelpAfterError()
  .exitOverride();

const globals = () => program.opts<GlobalOptions>();
let client: RegistryClient | undefined;
const registry = () => (client ??= registryClient(globals().address, { ...withBearerToken(globals().token), tls: tlsSettings(globals()) }));

/** TLS when any of its options is given, else plaintext. */
function tlsSettings({ tls, ca, cert, key }: GlobalOptions): ClientTlsSettings | undefined {
  if (!tls && !ca && !cert && !key) return undefined;
  if (!cert !== !key) throw usage('--cert and --key go together (a client certificate and its key)', '--cert');
  return { ca, cert, key };
}
const calls = () => promiseClient(registry());

function print(typeName: string, value: unknown, text: () => string): void {
  if (globals().json) process.stdout.write(`${JSON.stringify(toProto3Json(typeName, value), null, 2)}\n`);
  else process.stdout.write(`${text()}\n`);
}

/** NAME, NAME:VERSION or NAME@ALIAS; version 0 (and no alias) means the newest. */
function parseRef(ref: string): { model: string; version: number; alias: string } {
  const at = ref.lastIndexOf('@');
  if (at >= 0) {
    if (at === 0 || at === ref.length - 1) throw usage(`expected NAME@ALIAS, got ${ref}`, 'NAME@ALIAS');
    return { model: ref.slice(0, at), version: 0, alias: ref.slice(at + 1) };
  }
  const i = ref.lastIndexOf(':');
  if (i < 0) return { model: ref, version: 0, alias: '' };
  const version = Number(ref.slice(i + 1));
  // Past 2^53 - 1 a JS number is not the number typed (the server would refuse it too).
  if (!Number.isSafeInteger(version) || version < 1) {
    throw usage(`version in ${ref} must be a whole number from 1 to ${Number.MAX_SAFE_INTEGER}`, 'NAME:VERSION');
  }
  return { model: ref.slice(0, i), version, alias: '' };
}

/** What `kiln list --status` takes. */
const STATUS_CHOICES = ['building', 'released', 'failed', 'deleted'];

/** A --limit: a positive whole number. */
function parseLimit(text: string): number {
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit <= 0) throw usage(`expected a positive whole number, got ${text}`, '--limit');
  return limit;
}

/** A list call's pages, up to `limit` items (Infinity: every page; pages of at most 1,000); `next` resumes after them. */
async function collectPages<T>(limit: number, page: (pageSize: number, pageToken: string) => Promise<{ items: T[]; next: string }>): Promise<{ items: T[]; next: string }> {
  const items: T[] = [];
  let next = '';
  do {
    const got = await page(Math.min(1000, limit - items.length), next);
    items.push(...got.items);
    next = got.next;
  } while (next && items.length < limit);
  return { items, next };
}

/** NAME@ALIAS, for the alias commands. */
function parseAliasRef(ref: string): { model: string; alias: string } {
  const { model, alias } = parseRef(ref);
  if (!alias) throw usage(`expected NAME@ALIAS, got ${ref}`, 'NAME@ALIAS');
  return { model, alias };
}

function keyValues(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const i = value.indexOf('=');
  if (i <= 0) throw usage(`expected KEY=VALUE, got ${value}`);
  return { ...previous, [value.slice(0, i)]: value.slice(i + 1) };
}

program
  .command('upload <path>')
  .description('upload a directory, a .tar/.tar.gz archive or a single file as a new version')
  .option('-n, --name <name>', 'model name (default: the manifest\'s name)')
  .option('-l, --label <key=value>', 'label (repeatable)', keyValues)
  .option('-m, --metadata <key=value>', 'metadata (repeatable)', keyValues)
  .option('--manifest <file>', 'a kiln.yaml / serving.yaml to use instead of one in the upload')
  .option('-w, --wait', 'wait until the version is built (exit 9 if the build fails)')
  .option('-q, --quiet', 'no progress bar')
  .option('--skip-special', 'skip broken symlinks, symlink loops and special files (fifo, socket, device) in a folder, with a warning, instead of failing')
  .action(async (p: string, opts: { name?: string; label?: Record<string, string>; metadata?: Record<string, string>; manifest?: string; wait?: boolean; quiet?: boolean; skipSpecial?: boolean }) => {
    const source = await uploadSource(p, {
      onSkip: opts.skipSpecial ? (file, why) => process.stderr.write(`kiln: warning: skipped ${file}: ${why}\n`) : undefined,
    });
    const manifest = opts.manifest ? await readFile(opts.manifest, 'utf8') : '';
    const isFolder = (await stat(path.resolve(p))).isDirectory();
    const name = await modelNameFor(opts.name, manifest || (isFolder ? await manifestBeside(path.resolve(p)) : undefined));
    const showBar = !opts.quiet && !globals().json && process.stderr.isTTY;
    const bar = showBar
      ? new cliProgress.SingleBar(
          // {size}, not {total}: cli-progress fills {total} with its own raw number, which mixed units on one line.
          { format: ' {bar} {percentage}% | {sent} / {size} | {rate}/s | eta {eta_formatted}', stream: process.stderr, hideCursor: true },
          cliProgress.Presets.shades_classic,
        )
      : undefined;
    const started = Date.now();
    bar?.start(source.size || 1, 0, { sent: '0 B', size: formatBytes(source.size), rate: '0 B' });
    const abort = new AbortController();
    process.once('SIGINT', () => abort.abort());
    let version: ModelVersion__Output;
    try {
      version = await upload(registry(), source, {
        header: { model: name, manifest, labels: opts.label ?? {}, metadata: opts.metadata ?? {} },
        signal: abort.signal,
        onProgress: (sent) => {
          const seconds = Math.max((Date.now() - started) / 1000, 0.001);
          bar?.update(Math.min(sent, source.size || sent), { sent: formatBytes(sent), rate: formatBytes(Math.round(sent / seconds)) });
        },
      });
    } finally {
      bar?.stop();
    }
    if (!globals().json) {
      const seconds = (Date.now() - started) / 1000;
      process.stderr.write(`uploaded ${formatBytes(Number(version.totalSize))} in ${seconds.toFixed(1)} s\n`);
    }
    if (opts.wait) version = await follow({ model: version.model, version: Number(version.version) }, globals().json ? undefined : new WatchView(process.stderr));
    print('kiln.v1.ModelVersion', version, () => versionText(version));
    if (opts.wait && statusName(String(version.status)) === 'FAILED') process.exitCode = EXIT.BUILD_FAILED;
  });

program
  .command('list [name]')
  .description('list models, or the versions of one model (newest first)')
  .option('-s, --status <status...>', 'only versions with these statuses (building, released, failed, deleted)')
  .option('-l, --label <key=value>', 'only versions with this label (repeatable)', keyValues)
  .option('--limit <n>', 'at most this many rows', (v) => Number(v))
  .option('--namespace <namespace>', 'only the models of this namespace ("default" holds the names without a slash)')
  .action(async (name: string | undefined, opts: { status?: string[]; label?: Record<string, string>; limit?: number; namespace?: string }) => {
    const limit = opts.limit ?? Infinity;
    if (name && opts.namespace) throw usage('--namespace lists models: a model\'s versions are listed by its name (team/name)');
    if (!name && (opts.status || opts.label)) throw usage(`${opts.status ? '--status' : '--label'} filters a model's versions: give the model's name (kiln list NAME ${opts.status ? '--status' : '--label'} ...)`);
    const statuses = (opts.status ?? []).map((s) => {
      if (!STATUS_CHOICES.includes(s.toLowerCase())) throw usage(`unknown status ${s}: one of ${STATUS_CHOICES.join(', ')}`, '--status');
      return `MODEL_VERSION_STATUS_${s.toUpperCase()}`;
    });
    if (!name) {
      const models = [];
      let pageToken = '';
      do {
        const page = await calls().ListModels({ pageSize: Math.min(1000, limit), pageToken, namespace: opts.namespace ?? '' });
        models.push(...page.models);
        pageToken = page.nextPageToken;
      } while (pageToken && models.length < limit);
      const shown = models.slice(0, limit);
      print('kiln.v1.ListModelsResponse', { models: shown }, () =>
        [`${'MODEL'.padEnd(32)}  ${'VERSIONS'.padStart(8)}  ${'LATEST'.padStart(6)}  UPDATED`, ...shown.map(modelRow)].join('\n'));
      return;
    }
    const versions = [];
    let pageToken = '';
    do {
      const page = await calls().ListModelVersions({
        model: name, pageSize: Math.min(1000, limit), pageToken, statuses: statuses as never, labels: opts.label ?? {},
      });
      versions.push(...page.versions);
      pageToken = page.nextPageToken;
    } while (pageToken && versions.length < limit);
    const shown = versions.slice(0, limit);
    print('kiln.v1.ListModelVersionsResponse', { versions: shown }, () =>
      [`${'VERSION'.padStart(6)}  ${'STATUS'.padEnd(9)}  ${'CREATED'.padEnd(24)}  ${'SIZE'.padStart(10)}  IMAGE`, ...shown.map(versionRow)].join('\n'));
  });

program
  .command('get <ref>')
  .description('show a version (NAME for the newest, NAME:VERSION for one, NAME@ALIAS for an alias\'s)')
  .action(async (ref: string) => {
    const v = await calls().GetModelVersion(parseRef(ref));
    print('kiln.v1.ModelVersion', v, () => versionText(v));
  });

program
  .command('watch <ref>')
  .description('follow a version until its build ends, printing status changes and build log lines ' +
    '(--json: one WatchModelVersionResponse per line as it arrives, the last one the final version)')
  .action(async (ref: string) => {
    const { model, version, alias } = parseRef(ref);
    let final: ModelVersion__Output;
    if (globals().json) {
      // The registry ends every watch with the final version, so the last line is always it.
      final = await follow({ model, version, alias }, undefined, (event) => {
        process.stdout.write(`${JSON.stringify(toProto3Json('kiln.v1.WatchModelVersionResponse', event))}\n`);
      });
    } else {
      final = await follow({ model, version, alias }, new WatchView(process.stderr));
      process.stdout.write(`${versionText(final)}\n`);
    }
    if (statusName(String(final.status)) === 'FAILED') process.exitCode = EXIT.BUILD_FAILED;
  });

program
  .command('download <ref>')
  .description("download a version's files into a folder (default ./NAME-VERSION), or as tar to stdout with -o -")
  .option('-o, --output <dir>', "folder to write into, or '-' for a tar on stdout")
  .action(async (ref: string, opts: { output?: string }) => {
    if (opts.output === '-' && globals().json) throw usage('--json prints a summary on stdout, where -o - writes the tar: use one of them');
    const { model, version, alias } = parseRef(ref);
    // An alias is resolved once: the files are the version it pointed at then, even if it moves meanwhile.
    const v = await calls().GetModelVersion({ model, version, alias });
    const stream = calls().DownloadModelVersion({ model, version: Number(v.version) });
    const bytesOut = Readable.from((async function* () {
      for await (const msg of stream) yield msg.chunk;
    })());
    if (opts.output === '-') {
      await pipeline(bytesOut, process.stdout as unknown as Writable);
      return;
    }
    const dir = path.resolve(opts.output ?? `${model}-${v.version}`);
    const extract = tar.extract();
    const written: Array<{ path: string; size: number }> = [];
    const writing = (async () => {
      for await (const entry of extract) {
        const target = path.join(dir, entry.header.name);
        if (!target.startsWith(dir + path.sep)) throw invalidArgument(`entry ${entry.header.name} escapes ${dir}`);
        await mkdir(path.dirname(target), { recursive: true });
        await pipeline(entry, createWriteStream(target, { mode: entry.header.mode }));
        written.push({ path: entry.header.name, size: entry.header.size ?? 0 });
      }
    })();
    await Promise.all([pipeline(bytesOut, extract), writing]);
    const total = written.reduce((sum, f) => sum + f.size, 0);
    if (globals().json) {
      // Not a proto message: a summary of what landed on disk, with plain JSON numbers.
      const summary = { model, version: Number(v.version), path: dir, fileCount: written.length, bytes: total, files: written };
      process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    } else {
      process.stderr.write(`${written.length} file(s), ${formatBytes(total)} of ${model}:${v.version} written to ${dir}\n`);
    }
  });

program
  .command('delete <ref>')
  .description('delete a version (NAME:VERSION); its blobs go unless another version uses them')
  .action(async (ref: string) => {
    const { model, version, alias } = parseRef(ref);
    if (alias) throw usage('delete takes NAME:VERSION; an alias is deleted with kiln alias delete NAME@ALIAS');
    if (!version) throw usage('give the version to delete as NAME:VERSION');
    const v = await calls().DeleteModelVersion({ model, version });
    print('kiln.v1.ModelVersion', v, () => `deleted ${v.model}:${v.version}`);
  });

program
  .command('contract <path>')
  .description('infer the contract of a local model file or folder (no server)')
  .option('--manifest <file>', 'a kiln.yaml / serving.yaml whose contract refines the inferred one')
  .action(async (p: string, opts: { manifest?: string }) => {
    const manifest = opts.manifest ? await readFile(opts.manifest, 'utf8') : await manifestBeside(path.resolve(p));
    const result = await inferContract(await localModelFiles(path.resolve(p)), manifest);
    if (!result.contract) {
      if (globals().json) process.stdout.write('{}\n');
      else process.stdout.write('no contract: the files are of no known format and no manifest gives one\n');
      process.exitCode = EXIT.NOT_FOUND;
      return;
    }
    print('kiln.v1.Contract', result.contract, () =>
      `format: ${result.format || 'manifest'}\ncontract:\n${contractText(result.contract)}${Object.keys(result.metadata).length ? `\nmetadata:\n${Object.entries(result.metadata).map(([k, v]) => `  ${k}: ${v}`).join('\n')}` : ''}`);
  });

const token = program.command('token').description('Kiln API tokens (admin): create, list, revoke');

token
  .command('create')
  .description('create a token; its secret is printed once, on stdout')
  .requiredOption('-o, --owner <owner>', 'who the token is for')
  .requiredOption('-r, --role <namespace=role...>', 'a role in a namespace (`*` for every one): reader, writer, maintainer, admin', (v: string, prev: string[] = []) => [...prev, v])
  .option('-e, --expires <when>', 'expiry: a duration (30d, 12h, 90m) or an ISO date')
  .action(async (opts: { owner: string; role: string[]; expires?: string }) => {
    const created = await calls().CreateToken({
      owner: opts.owner,
      bindings: opts.role.map(parseBinding),
      expireTime: opts.expires ? parseExpiry(opts.expires, new Date()) : null,
    });
    if (globals().json) {
      process.stdout.write(`${JSON.stringify(toProto3Json('kiln.v1.CreateTokenResponse', created), null, 2)}\n`);
      return;
    }
    process.stderr.write(`created ${created.token!.id} for ${created.token!.owner}; its secret, shown this once:\n`);
    process.stdout.write(`${created.secret}\n`);
  });

token
  .command('list')
  .description('list tokens (never their secrets)')
  .option('--all', 'also revoked tokens')
  .action(async (opts: { all?: boolean }) => {
    const { items: tokens } = await collectPages(Infinity, async (pageSize, pageToken) => {
      const page = await calls().ListTokens({ pageSize, pageToken, showRevoked: Boolean(opts.all) });
      return { items: page.tokens, next: page.nextPageToken };
    });
    print('kiln.v1.ListTokensResponse', { tokens }, () => [TOKEN_HEADER, ...tokens.map(tokenRow)].join('\n'));
  });

token
  .command('revoke <id>')
  .description('revoke a token: every registry refuses it within a second')
  .action(async (id: string) => {
    const revoked = await calls().RevokeToken({ id });
    print('kiln.v1.Token', revoked, () => `revoked ${revoked.id} (${revoked.owner})`);
  });

const alias = program.command('alias').description('aliases (NAME@ALIAS): names deployments follow, each an image tag too');

alias
  .command('set <ref> <version>')
  .description('point NAME@ALIAS at a released version (maintainer; admin for a protected alias); its image tag follows')
  .option('--protect', 'protect the alias: only admin moves it, and only to a compatible contract')
  .option('--unprotect', 'stop protecting it')
  .option('--allow-breaking', 'move a protected alias to a version whose contract breaks the current one\'s (recorded)')
  .option('-r, --reason <text>', 'why (kept in the alias\'s history and the audit trail)', '')
  .action(async (ref: string, versionText: string, opts: { protect?: boolean; unprotect?: boolean; allowBreaking?: boolean; reason: string }) => {
    const { model, alias: name } = parseAliasRef(ref);
    const version = Number(versionText);
    if (!Number.isSafeInteger(version) || version < 1) throw usage(`expected a version number, got ${versionText}`, 'VERSION');
    if (opts.protect && opts.unprotect) throw usage('--protect and --unprotect contradict each other', '--protect');
    // Protection stays as it is unless a flag changes it.
    const current = opts.protect || opts.unprotect ? undefined : (await calls().ListModelAliases({ model }).catch(() => ({ aliases: [] }))).aliases.find((a) => a.alias === name);
    const set = await calls().SetModelAlias({
      model, alias: name, version, protected: opts.protect ? true : opts.unprotect ? false : Boolean(current?.protected),
      allowBreakingChanges: Boolean(opts.allowBreaking), reason: opts.reason,
    });
    print('kiln.v1.ModelAlias', set, () => `${set.model}@${set.alias} -> ${set.version}${set.protected ? ' (protected)' : ''}` +
      `${set.imageReference ? `\n  image tag: ${set.imageReference}${set.tagPending ? ` (pending: ${set.tagError || 'not moved yet'})` : ''}` : ''}`);
  });

alias
  .command('delete <ref>')
  .description('delete NAME@ALIAS (its history stays)')
  .option('-r, --reason <text>', 'why', '')
  .action(async (ref: string, opts: { reason: string }) => {
    const { model, alias: name } = parseAliasRef(ref);
    const deleted = await calls().DeleteModelAlias({ model, alias: name, reason: opts.reason });
    print('kiln.v1.ModelAlias', deleted, () => `deleted ${deleted.model}@${deleted.alias} (was ${deleted.version})`);
  });

alias
  .command('list <name>')
  .description('a model\'s aliases')
  .action(async (model: string) => {
    const { aliases } = await calls().ListModelAliases({ model });
    print('kiln.v1.ListModelAliasesResponse', { aliases }, () => [ALIAS_HEADER, ...aliases.map(aliasRow)].join('\n'));
  });

alias
  .command('history <ref>')
  .description('the moves of a model\'s aliases (NAME), or of one (NAME@ALIAS), newest first')
  .option('--limit <n>', 'at most this many moves', '50')
  .action(async (ref: string, opts: { limit: string }) => {
    const { model, alias: name } = parseRef(ref);
    const { items: moves, next: pageToken } = await collectPages(parseLimit(opts.limit), async (pageSize, token) => {
      const page = await calls().ListAliasHistory({ model, alias: name, pageSize, pageToken: token });
      return { items: page.moves, next: page.nextPageToken };
    });
    print('kiln.v1.ListAliasHistoryResponse', { moves, nextPageToken: pageToken }, () => [MOVE_HEADER, ...moves.map(moveRow)].join('\n'));
  });

program
  .command('update <ref>')
  .description('change a version\'s labels and description (maintainer); files, contract and image never change')
  .option('-l, --label <key=value>', 'set a label (repeatable)', keyValues)
  .option('--remove-label <key...>', 'remove labels')
  .option('-d, --description <text>', 'the description (\'\' clears it)')
  .action(async (ref: string, opts: { label?: Record<string, string>; removeLabel?: string[]; description?: string }) => {
    const { model, version, alias: name } = parseRef(ref);
    if (name || !version) throw usage('give the version to update as NAME:VERSION', 'NAME:VERSION');
    if (!opts.label && !opts.removeLabel && opts.description === undefined) throw usage('nothing to change: give --label, --remove-label or --description', '--label');
    const v = await calls().UpdateModelVersion({ model, version, setLabels: opts.label ?? {}, removeLabels: opts.removeLabel ?? [], description: opts.description });
    print('kiln.v1.ModelVersion', v, () => versionText(v));
  });

program
  .command('diff <candidate> <against>')
  .description('what changes for callers going from AGAINST\'s contract to CANDIDATE\'s (each NAME:VERSION, NAME@ALIAS or ' +
    'NAME; CANDIDATE may also be a local model folder or file); exits 12 when a change is breaking')
  .action(async (candidateRef: string, againstRef: string) => {
    const against = parseRef(againstRef);
    const local = await stat(path.resolve(candidateRef)).then(() => true, () => false);
    let candidate: { version: ReturnType<typeof parseRef> } | { contract: Contract };
    if (local) {
      const p = path.resolve(candidateRef);
      const inferred = await inferContract(await localModelFiles(p), await manifestBeside(p));
      if (!inferred.contract) throw invalidArgument(`${candidateRef} has no contract Kiln can read`, 'CANDIDATE');
      candidate = { contract: inferred.contract };
    } else {
      candidate = { version: parseRef(candidateRef) };
    }
    const diff = await calls().DiffContracts({ against, ...candidate });
    print('kiln.v1.DiffContractsResponse', diff, () => diffText(diff, againstRef, candidateRef));
    if (diff.breaking) process.exitCode = EXIT.BREAKING_CHANGES;
  });

program
  .command('audit')
  .description('the audit trail (admin), newest first: uploads, deletes, token changes and refused calls')
  .option('-m, --model <name>', 'only this model\'s records')
  .option('-n, --namespace <namespace>', 'only records of models in this namespace')
  .option('--caller <caller>', 'only this caller\'s records (token:tok_..., oidc:ISSUER#SUBJECT, service:NAME, anonymous)')
  .option('--rpc <method>', 'only this method\'s records (UploadModel, DeleteModelVersion, ...)')
  .option('--result <code>', 'only records with this result (OK, PERMISSION_DENIED, ...)')
  .option('--since <when>', 'only records since then: a duration back (30d, 12h, 90m) or an ISO date')
  .option('--until <when>', 'only records before then: a duration back or an ISO date')
  .option('--limit <n>', 'the most records to show', '50')
  .action(async (opts: { model?: string; namespace?: string; caller?: string; rpc?: string; result?: string; since?: string; until?: string; limit: string }) => {
    const now = new Date();
    const filter = {
      model: opts.model ?? '', namespace: opts.namespace ?? '', caller: opts.caller ?? '', rpc: opts.rpc ?? '', result: opts.result ?? '',
      startTime: opts.since ? parseMoment(opts.since, now, -1, '--since') : null,
      endTime: opts.until ? parseMoment(opts.until, now, -1, '--until') : null,
    };
    const { items: events, next: pageToken } = await collectPages(parseLimit(opts.limit), async (pageSize, token) => {
      const page = await calls().ListAuditEvents({ ...filter, pageSize, pageToken: token });
      return { items: page.events, next: page.nextPageToken };
    });
    print('kiln.v1.ListAuditEventsResponse', { events, nextPageToken: pageToken }, () => [AUDIT_HEADER, ...events.map(auditRow)].join('\n'));
  });

const webhook = program.command('webhook').description('webhooks (admin): the registry\'s events POSTed to a URL as signed CloudEvents, in order, retried');

webhook
  .command('create')
  .description('create a webhook: the events from now on that match are sent to --url, signed with the secret')
  .requiredOption('-u, --url <url>', 'where events are POSTed (http or https; beyond loopback, a host in the registry\'s KILN_WEBHOOK_ALLOWED_HOSTS)')
  .option('-n, --namespace <namespace>', 'only events of models in this namespace')
  .option('-m, --model <name>', 'only events of this model')
  .option('-k, --kind <kind...>', 'only events of these kinds (version-created, version-released, version-failed, version-deleted, alias-set, alias-moved, alias-deleted, labels-changed)')
  .addOption(new Option('--secret-file <file>', 'a file holding the signing secret (at least 32 characters); else KILN_WEBHOOK_SECRET'))
  .action(async (opts: { url: string; namespace?: string; model?: string; kind?: string[]; secretFile?: string }) => {
    const secret = opts.secretFile ? (await readFile(opts.secretFile, 'utf8')).trim() : process.env.KILN_WEBHOOK_SECRET ?? '';
    if (!secret) throw usage('give the signing secret in --secret-file or KILN_WEBHOOK_SECRET (make one with: openssl rand -hex 32)', '--secret-file');
    const created = await calls().CreateWebhook({
      url: opts.url, namespace: opts.namespace ?? '', model: opts.model ?? '', kinds: (opts.kind ?? []).map(parseKind), secret,
    });
    print('kiln.v1.Webhook', created, () => `created ${created.id} to ${created.url}`);
  });

webhook
  .command('list')
  .description('list webhooks, their filters and whether they deliver (never their secrets)')
  .action(async () => {
    const { items: webhooks } = await collectPages(Infinity, async (pageSize, pageToken) => {
      const page = await calls().ListWebhooks({ pageSize, pageToken });
      return { items: page.webhooks, next: page.nextPageToken };
    });
    print('kiln.v1.ListWebhooksResponse', { webhooks }, () => [WEBHOOK_HEADER, ...webhooks.map(webhookRow)].join('\n'));
  });

webhook
  .command('deliveries <id>')
  .description('a webhook\'s delivery attempts, newest first')
  .option('--limit <n>', 'the most attempts to show', '50')
  .action(async (id: string, opts: { limit: string }) => {
    const { items: deliveries, next: pageToken } = await collectPages(parseLimit(opts.limit), async (pageSize, token) => {
      const page = await calls().ListWebhookDeliveries({ webhookId: id, pageSize, pageToken: token });
      return { items: page.deliveries, next: page.nextPageToken };
    });
    print('kiln.v1.ListWebhookDeliveriesResponse', { deliveries, nextPageToken: pageToken }, () => [DELIVERY_HEADER, ...deliveries.map(deliveryRow)].join('\n'));
  });

webhook
  .command('delete <id>')
  .description('delete a webhook and its delivery log')
  .action(async (id: string) => {
    const deleted = await calls().DeleteWebhook({ id });
    print('kiln.v1.Webhook', deleted, () => `deleted ${deleted.id} (${deleted.url})`);
  });

webhook
  .command('enable <id>')
  .description('resume a disabled webhook from the event it failed on')
  .action(async (id: string) => {
    const enabled = await calls().EnableWebhook({ id });
    print('kiln.v1.Webhook', enabled, () => `enabled ${enabled.id} (${enabled.url})`);
  });

/** The name an upload goes under: --name, else the manifest's `name`; a --name that differs from it is said. */
async function modelNameFor(given: string | undefined, manifestText: string | undefined): Promise<string> {
  let named: string | undefined;
  try {
    named = manifestText ? parseManifest(manifestText, 'manifest').name || undefined : undefined;
  } catch {
    // A manifest the registry will refuse, with its reasons: not this function's to report.
  }
  if (given && named && given !== named) process.stderr.write(`kiln: uploading as ${given}; the manifest names ${named}\n`);
  const name = given ?? named;
  if (!name) throw usage('give the model\'s name with --name (no manifest here names it)', '--name');
  return name;
}

/** The kiln.yaml / serving.yaml at the root of a model folder, as an upload would find it. */
async function manifestBeside(p: string): Promise<string | undefined> {
  for (const name of ['kiln.yaml', 'kiln.yml', 'serving.yaml', 'serving.yml']) {
    const text = await readFile(path.join(p, name), 'utf8').catch(() => undefined);
    if (text !== undefined) return text;
  }
  return undefined;
}

/**
 * Streams WatchModelVersion until the version is final: shows it in `view` (when printing for people), hands each
 * event to `onEvent`, and returns the final version.
 */
async function follow(
  ref: { model: string; version: number; alias?: string },
  view?: WatchView,
  onEvent?: (event: WatchModelVersionResponse__Output) => void,
): Promise<ModelVersion__Output> {
  let last: ModelVersion__Output | undefined;
  view?.start();
  try {
    for await (const event of calls().WatchModelVersion({ model: ref.model, version: ref.version, alias: ref.alias ?? '' })) {
      onEvent?.(event);
      if (event.version) {
        last = event.version;
        view?.versionChanged(event.version);
      } else if (event.log) {
        view?.logLine(event.log.line);
      }
    }
  } finally {
    view?.stop();
  }
  if (!last) throw new KilnError('UNAVAILABLE', 'the watch ended before any event');
  return last;
}

/** What to say when the registry cannot be reached at all (grpc-js's own text names neither address nor setting). */
function unreachable(err: unknown): string | undefined {
  const details = (err as { code?: number; details?: string }).details ?? '';
  // grpc-js's own words for a channel that never connected; a server's UNAVAILABLE (its database down) keeps its own.
  if ((err as { code?: number }).code !== 14 || !/^(\w+: )?(No connection established|Failed to connect)/.test(details)) return undefined;
  // A TLS failure says what went wrong in its own words (a certificate, a handshake): keep them.
  if (/SSL|TLS|certificate|handshake|alert/i.test(details)) return undefined;
  const why = /ENOTFOUND|getaddrinfo|Name resolution/.test(details) ? 'no such host' : /ECONNREFUSED|No connection established|Failed to connect/.test(details) ? 'connection refused' : 'no connection';
  return `cannot reach the registry at ${globals().address} (${why}): is it running? (--address, KILN_ADDRESS)`;
}

async function main(): Promise<void> {
  try {
    await program.parseAsync(process.argv);
  } catch (err) {
    const e = err as { code?: string; exitCode?: number };
    if (typeof e.code === 'string' && e.code.startsWith('commander.')) {
      process.exitCode = e.exitCode === 0 ? 0 : EXIT.USAGE;
    } else if (err instanceof UsageError) {
      process.stderr.write(`kiln: ${err.message} (see kiln --help)\n`);
      process.exitCode = EXIT.USAGE;
    } else {
      const error = err instanceof KilnError ? err : fromGrpcError(err);
      process.stderr.write(`kiln: ${unreachable(err) ?? error.message}\n`);
      process.exitCode = exitCodeFor(error.code);
    }
  } finally {
    client?.close();
  }
}

await main();
