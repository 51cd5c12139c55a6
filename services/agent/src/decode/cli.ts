import { assertSite, assertToken } from '@mmm/schemas';
import { type Command, Option } from 'commander';
import { ChannelKeyring } from './keyring.js';
import { FORMATS, type InputFormat, JSON_B64_FIELDS } from './line.js';
import { InputReadError, runDecode } from './run.js';

const HELP_AFTER = `
Input: one base64 message per line on stdin; blank lines are ignored. A JSON line is accepted too, its base64 taken
from the first of the fields ${JSON_B64_FIELDS.join(', ')}.
  envelope   MQTT ServiceEnvelope, the payload of msh/<region>/2/e/<channel>/<gateway> (source "mqtt")
  packet     MeshPacket protobuf, e.g. from Mesh-via-UDP multicast or a replay (source "replay")
  fromradio  FromRadio protobuf, one frame of the serial/TCP stream API, with or without its 4-byte header (source
             "radio"); frames that are not packets (my_info, node_info, config, ...) are counted, not printed

Output: one line per input line, the reception event exactly as the agent publishes it on
mesh.v1.<site>.<agent>.rx.<port>, or {"error": "...", "line": N} for input that cannot be decoded. It never stops
on bad input. Encrypted packets are decrypted with the keys whose channel hash matches; the firmware's default key
(AQ==) is built in for every preset channel (LongFast, MediumFast, ...). Packets no key opens come out as port
"encrypted". A summary goes to stderr. Exit code 0, or 1 if stdin cannot be read, 2 for bad options.

Examples:
  mosquitto_sub -h mqtt.example -t 'msh/EU_868/2/e/#' -F %x | while read -r h; do echo "$h" | xxd -r -p | base64 -w0; echo; done | mmm decode
  echo 'CjENZTEcwRX/////IgkIARIFSGVsbG81oE1Edz3PgRBmRQAAGEFIBmC8//////////8BEghMb25nRmFzdBoJIWUyZTQ5Mzkw' | mmm decode
  mmm decode --format packet --key Secret=5xJ9Zq1bd0Hk7T3aV2mP8w== < capture.b64 | jq -c '{port, from: .packet.from}'
`;

const collect = (value: string, previous: string[]): string[] => [...previous, value];

/** Builds the keyring from --key NAME=BASE64 values; the error names the offending option. */
export function keyringFromOptions(values: readonly string[]): ChannelKeyring {
  const keys = new ChannelKeyring();
  for (const value of values) {
    const eq = value.indexOf('=');
    if (eq <= 0) throw new Error(`--key ${JSON.stringify(value)}: expected NAME=BASE64, e.g. --key LongFast=AQ==`);
    try {
      keys.add(value.slice(0, eq), value.slice(eq + 1));
    } catch (err) {
      throw new Error(`--key ${JSON.stringify(value)}: ${(err as Error).message}`, { cause: err });
    }
  }
  return keys;
}

interface DecodeCliOptions {
  format: InputFormat;
  key: string[];
  site: string;
  agent: string;
  source?: 'radio' | 'mqtt' | 'replay' | 'legacy-http';
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('decode')
    .description('decode base64 Meshtastic packets from stdin into contract events, one JSON line each')
    .addOption(new Option('-f, --format <format>', 'what each line holds').choices(FORMATS).default('envelope'))
    .addOption(
      new Option(
        '-k, --key <name=base64>',
        'channel key to decrypt with, repeatable (the default key AQ== is built in)',
      )
        .argParser(collect)
        .default([], 'none'),
    )
    .option('--site <id>', 'site id stamped on the events', 'decode')
    .option('--agent <id>', 'agent id stamped on the events', 'local')
    .addOption(
      new Option('--source <source>', 'override the event source (default: by format)').choices([
        'radio',
        'mqtt',
        'replay',
        'legacy-http',
      ]),
    )
    .option('-q, --quiet', 'no summary on stderr')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: DecodeCliOptions, cmd: Command) => {
      let keys: ChannelKeyring;
      try {
        assertSite(opts.site);
        assertToken('agent id', opts.agent);
        keys = keyringFromOptions(opts.key);
      } catch (err) {
        cmd.error(`mmm decode: ${(err as Error).message}`, { exitCode: 2 });
        return;
      }
      try {
        const s = await runDecode({
          input: process.stdin,
          output: process.stdout,
          format: opts.format,
          keys,
          site: opts.site,
          agent: opts.agent,
          source: opts.source,
        });
        if (!opts.quiet) {
          const skipped = Object.entries(s.skipped)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ');
          process.stderr.write(
            `mmm decode: ${s.lines} lines, ${s.events} events, ${s.errors} errors${skipped ? `, not packets: ${skipped}` : ''}\n`,
          );
        }
      } catch (err) {
        if (!(err instanceof InputReadError)) throw err;
        process.stderr.write(`mmm decode: ${err.message}\n`);
        process.exitCode = 1;
      }
    });
}
